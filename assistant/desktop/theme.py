"""The popup's colours, light or dark as the system is set.

Which one the system prefers is read where each system keeps it:

- **Linux:** the XDG desktop portal's Settings interface, ``org.freedesktop.appearance``
  ``color-scheme`` (1 prefers dark, 2 light, 0 no preference): GNOME 42+, KDE Plasma 5.24+ and
  the other portal backends answer it, on X11 and Wayland alike. Older portals have only ``Read``
  (whose answer is a variant inside a variant); without a portal, a ``GTK_THEME`` ending in
  ``:dark`` says dark.
- **macOS:** ``defaults read -g AppleInterfaceStyle`` prints ``Dark`` in dark mode and fails in
  light mode.
- **Windows:** the current user's ``AppsUseLightTheme`` (Explorer's Themes, Personalize key) is
  0 in dark mode.

Each probe is bounded (:data:`PROBE_TIMEOUT`); one that cannot tell leaves the light panel.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

logger = logging.getLogger(__name__)

ThemeChoice = Literal["system", "light", "dark"]

PROBE_TIMEOUT = 1.0
"""Seconds a probe of the system's preference may take (the popup opens after it)."""

_PORTAL = "org.freedesktop.portal.Desktop"
_PORTAL_PATH = "/org/freedesktop/portal/desktop"
_SETTINGS = "org.freedesktop.portal.Settings"
_APPEARANCE = "org.freedesktop.appearance"
# The portal's color-scheme values.
_PREFERS = {1: "dark", 2: "light"}


@dataclass(frozen=True)
class Palette:
    """The popup's colours (Tk colour strings).

    Attributes:
        name: "light" or "dark".
        bg: The window.
        card: The now-playing card, the talk row and the field.
        border: Lines around cards.
        text: Body text.
        muted: Secondary text (the artist, times, hints).
        accent: What is live (the level meter, the progress bar): Spotify green, as the tray.
        accent_soft: The working dots beside the one that is lit.
        accent_text: Green text and chips' text, readable on ``chip``.
        chip_border: The outline of an answer button.
        link: Clickable words.
        question: A question's text.
        error: A failed command's sentence.
        chip: The fill of "what you can say" and answer buttons.
        track: The empty part of the progress bar and the art's place.
        warm: The level meter's loudest part.
    """

    name: str
    bg: str
    card: str
    border: str
    text: str
    muted: str
    accent: str
    accent_soft: str
    accent_text: str
    chip_border: str
    link: str
    question: str
    error: str
    chip: str
    track: str
    warm: str


LIGHT = Palette(
    name="light",
    bg="#f3f4f6",
    card="#ffffff",
    border="#dcdfe4",
    text="#1f2328",
    muted="#656d76",
    accent="#1db954",
    accent_soft="#8fd9a8",
    accent_text="#168d40",
    chip_border="#b6e3c6",
    link="#0a58ca",
    question="#0a58ca",
    error="#b00020",
    chip="#e7f6ec",
    track="#e3e6ea",
    warm="#f5a524",
)

DARK = Palette(
    name="dark",
    bg="#1c1f24",
    card="#262a31",
    border="#3a3f47",
    text="#e6e8eb",
    muted="#9aa3ad",
    accent="#1db954",
    accent_soft="#2f8f57",
    accent_text="#5fd68a",
    chip_border="#2f6b45",
    link="#7ab4ff",
    question="#7ab4ff",
    error="#ff6b81",
    chip="#1f3a2a",
    track="#3a3f47",
    warm="#f5a524",
)

PALETTES = {"light": LIGHT, "dark": DARK}


def palette(choice: str, *, prefers: str | None = None) -> Palette:
    """The colours for the ``popup_theme`` setting.

    Args:
        choice: "light", "dark", or "system" (anything else counts as "system").
        prefers: The system's preference when already known; None asks the system.

    Returns:
        The chosen palette; "system" gives the system's, light when it cannot tell.
    """
    if choice in PALETTES:
        return PALETTES[choice]
    found = prefers if prefers is not None else system_preference()
    return DARK if found == "dark" else LIGHT


def system_preference(
    platform: str = sys.platform, environ: Mapping[str, str] | None = None
) -> str | None:
    """The system's light/dark appearance: "dark", "light", or None when it cannot tell.

    Args:
        platform: ``sys.platform``.
        environ: The environment (for the session bus and ``GTK_THEME``); ``os.environ`` by
            default.
    """
    env = os.environ if environ is None else environ
    try:
        if platform == "darwin":
            return _macos()
        if platform == "win32":
            return _windows()
        return _portal(env.get("DBUS_SESSION_BUS_ADDRESS", "")) or _gtk_theme(env)
    except Exception as err:  # a probe is a nicety: any failure leaves the light panel
        logger.info("Could not read the system's light/dark setting: %s", type(err).__name__)
        return None


def _portal(bus: str) -> str | None:
    """The portal's ``color-scheme``: "dark", "light", or None (no portal, no preference)."""
    if not bus:
        return None
    from jeepney import DBusAddress, MessageType, new_method_call
    from jeepney.io.blocking import open_dbus_connection

    settings = DBusAddress(_PORTAL_PATH, bus_name=_PORTAL, interface=_SETTINGS)
    with open_dbus_connection(bus, auth_timeout=PROBE_TIMEOUT) as connection:
        for method in ("ReadOne", "Read"):
            call = new_method_call(settings, method, "ss", (_APPEARANCE, "color-scheme"))
            reply = connection.send_and_get_reply(call, timeout=PROBE_TIMEOUT)
            if reply.header.message_type is MessageType.error:
                continue  # an older portal without ReadOne, or no such setting
            value = reply.body[0]
            # ReadOne answers the variant; Read a variant inside a variant.
            while isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
                value = value[1]
            return _PREFERS.get(value) if isinstance(value, int) else None
    return None


def _gtk_theme(env: Mapping[str, str]) -> str | None:
    theme = env.get("GTK_THEME", "")
    return "dark" if theme.lower().endswith(":dark") else None


def _macos() -> str:
    done = subprocess.run(
        ["defaults", "read", "-g", "AppleInterfaceStyle"],
        capture_output=True,
        text=True,
        timeout=PROBE_TIMEOUT,
        check=False,
    )
    # The key exists only in dark mode: light mode makes the command fail.
    return "dark" if done.returncode == 0 and done.stdout.strip() == "Dark" else "light"


def _windows() -> str | None:
    import winreg  # type: ignore[import-not-found, unused-ignore]

    key_path = r"Software\Microsoft\Windows\CurrentVersion\Themes\Personalize"
    with winreg.OpenKey(winreg.HKEY_CURRENT_USER, key_path) as key:  # type: ignore[attr-defined, unused-ignore]
        value, _kind = winreg.QueryValueEx(key, "AppsUseLightTheme")  # type: ignore[attr-defined, unused-ignore]
    return "light" if value else "dark"

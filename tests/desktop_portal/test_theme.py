"""The system's light/dark appearance, read from a desktop portal on a private session bus.

The portal answers as xdg-desktop-portal does (``tests.desktop_portal.fake_portal``): version 2
answers ``ReadOne``; older ones only ``Read``, with a variant inside the variant. What the popup
shows in each is checked on screen in ``tests/desktop_input/test_popup.py``.
"""

from __future__ import annotations

import time

import pytest

from assistant.desktop.theme import DARK, LIGHT, palette, system_preference
from assistant.sim.mpris import PrivateSessionBus
from tests.desktop_portal.fake_portal import FakePortal


def on(bus: PrivateSessionBus, **environ: str) -> dict[str, str]:
    return {"DBUS_SESSION_BUS_ADDRESS": bus.address, **environ}


@pytest.mark.parametrize(
    ("scheme", "version", "expected"),
    [(1, 2, "dark"), (2, 2, "light"), (1, 1, "dark"), (0, 2, None)],
    ids=["dark", "light", "dark-on-an-older-portal", "no-preference"],
)
def test_the_portal_says_which_appearance_the_person_chose(
    session_bus: PrivateSessionBus, scheme: int, version: int, expected: str | None
) -> None:
    with FakePortal(session_bus.address, color_scheme=scheme, settings_version=version):
        assert system_preference("linux", on(session_bus)) == expected


def test_without_a_portal_gtk_theme_may_say_dark_and_nothing_else_means_light(
    session_bus: PrivateSessionBus,
) -> None:
    started = time.monotonic()
    assert system_preference("linux", on(session_bus)) is None  # nothing owns the portal's name
    assert system_preference("linux", on(session_bus, GTK_THEME="Adwaita:dark")) == "dark"
    assert system_preference("linux", {}) is None  # no session bus at all
    assert time.monotonic() - started < 5  # answered, not waited out
    assert palette("system", prefers=None) in (LIGHT, DARK)
    assert palette("system", prefers="dark") is DARK


def test_the_setting_overrides_the_system(session_bus: PrivateSessionBus) -> None:
    with FakePortal(session_bus.address, color_scheme=1):
        assert palette("light") is LIGHT
        assert palette("dark") is DARK

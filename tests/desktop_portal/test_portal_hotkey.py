"""Hold-to-talk under Wayland through the GlobalShortcuts portal, against a fake portal on a bus.

Segue's portal client (jeepney) talks to ``FakePortal`` (dbus-fast) over a private
``dbus-daemon``: the real interface, request and session object paths, Response signals with
their results, and Activated/Deactivated sent to Segue's connection alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

import pytest

from assistant.desktop.hotkey import XWAYLAND_REASON, DesktopHotkey, HotkeyUnavailable
from assistant.desktop.portal_hotkey import (
    CLOSED_REASON,
    DECLINED_REASON,
    NO_BUS_REASON,
    NO_PORTAL_REASON,
    PortalHotkey,
    portal_trigger,
)
from assistant.sim.mpris import PrivateSessionBus
from tests.desktop_portal.conftest import Talk
from tests.desktop_portal.fake_portal import FakePortal
from tests.support.desktop import VirtualDesktop

HOTKEY = "<ctrl>+<alt>+space"


@pytest.fixture
def portal(session_bus: PrivateSessionBus) -> Iterator[FakePortal]:
    with FakePortal(session_bus.address) as fake:
        yield fake


@contextmanager
def running(
    bus: PrivateSessionBus, talk: Talk, mode: Literal["hold", "toggle"] = "hold"
) -> Iterator[PortalHotkey]:
    """Segue's portal hotkey on ``bus`` reporting to ``talk``: started, and stopped at the end."""
    hotkey = PortalHotkey(
        HOTKEY,
        mode=mode,
        on_start=talk.start,
        on_stop=talk.stop,
        on_status=talk.status,
        bus=bus.address,
    )
    hotkey.start()
    try:
        yield hotkey
    finally:
        hotkey.stop()


def test_holding_the_bound_keys_starts_and_stops_talking(
    session_bus: PrivateSessionBus, portal: FakePortal, talk: Talk
) -> None:
    with running(session_bus, talk) as hotkey:
        # The setting became the preferred trigger; the sentence names the keys bound.
        assert talk.next() == "Hold Ctrl+Alt+Space to talk to Segue."
        assert portal.registered == ["segue"]
        (bound,) = portal.binds
        assert bound.shortcuts == {
            "talk": {
                "description": "Talk to Segue (hold while speaking)",
                "preferred_trigger": "CTRL+ALT+space",
            }
        }
        assert bound.session == portal.session().path
        assert hotkey.trigger == "Ctrl+Alt+Space"

        portal.press()
        assert talk.next() == "start"
        portal.press()  # activated again while held (a portal repeating): nothing new
        portal.press("another-shortcut")
        portal.release()
        assert talk.next() == "stop"
        portal.release()  # a second release: nothing
        portal.press()
        assert talk.next() == "start"
        portal.release()
        assert talk.next() == "stop"
    # Stopping closes the session, so the desktop releases the shortcut.
    portal.wait_for(lambda: not portal.sessions, "the session closed")
    assert talk.pending() == []


def test_toggle_mode_starts_on_one_press_and_stops_on_the_next(
    session_bus: PrivateSessionBus, portal: FakePortal, talk: Talk
) -> None:
    with running(session_bus, talk, "toggle"):
        assert talk.next() == "Press Ctrl+Alt+Space to start talking to Segue, and again to stop."
        assert portal.binds[0].shortcuts["talk"]["description"] == (
            "Talk to Segue (press to start, again to stop)"
        )
        portal.press()
        portal.release()
        assert talk.next() == "start"
        portal.press()
        assert talk.next() == "stop"


def test_keys_the_person_chose_in_the_dialog_are_the_ones_named(
    session_bus: PrivateSessionBus, talk: Talk
) -> None:
    with (
        FakePortal(session_bus.address, chosen_trigger="ALT+SHIFT+t") as portal,
        running(session_bus, talk),
    ):
        assert talk.next() == "Hold Alt+Shift+T to talk to Segue."
        assert portal.binds[0].shortcuts["talk"]["preferred_trigger"] == "CTRL+ALT+space"
        portal.press()
        assert talk.next() == "start"


def test_declining_the_shortcut_is_one_sentence_and_ends_the_session(
    session_bus: PrivateSessionBus, talk: Talk
) -> None:
    with (
        FakePortal(session_bus.address, answer="decline") as portal,
        running(session_bus, talk),
    ):
        assert talk.next() == DECLINED_REASON
        portal.wait_for(lambda: not portal.sessions, "the useless session closed")
        assert len(portal.binds) == 1
    assert talk.pending() == []


def test_quitting_while_the_dialog_is_open_ends_at_once(
    session_bus: PrivateSessionBus, talk: Talk
) -> None:
    with FakePortal(session_bus.address, answer="wait") as portal:
        with running(session_bus, talk) as hotkey:
            portal.wait_for(lambda: len(portal.binds) == 1, "the bind dialog opened")
            assert hotkey.running
        assert not hotkey.running
        portal.wait_for(lambda: not portal.sessions, "the session closed")
    assert talk.pending() == []


def test_the_desktop_closing_the_session_while_held_stops_talking_and_says_so(
    session_bus: PrivateSessionBus, portal: FakePortal, talk: Talk
) -> None:
    with running(session_bus, talk):
        assert talk.next().startswith("Hold ")
        portal.press()
        assert talk.next() == "start"
        portal.close_session()
        assert talk.next() == "stop"  # the recording ends rather than running on
        assert talk.next() == CLOSED_REASON


def test_the_portal_leaving_the_bus_is_said_as_a_closed_session(
    session_bus: PrivateSessionBus, talk: Talk
) -> None:
    portal = FakePortal(session_bus.address).start()
    try:
        with running(session_bus, talk):
            assert talk.next().startswith("Hold ")
            portal.stop()  # xdg-desktop-portal exits or restarts
            assert talk.next() == CLOSED_REASON
    finally:
        portal.stop()


@pytest.mark.parametrize("portal_kind", ["none", "no GlobalShortcuts", "no bus"])
def test_a_missing_portal_is_a_sentence_pointing_elsewhere(
    session_bus: PrivateSessionBus, talk: Talk, portal_kind: str, tmp_path: Path
) -> None:
    address = session_bus.address
    if portal_kind == "no bus":
        address = f"unix:path={tmp_path / 'no-bus-here'}"
    hotkey = PortalHotkey(HOTKEY, on_start=talk.start, on_stop=talk.stop, bus=address)
    if portal_kind == "no GlobalShortcuts":
        with FakePortal(session_bus.address, global_shortcuts=False) as older:
            with pytest.raises(HotkeyUnavailable) as raised:
                hotkey.start()
            assert older.registered == ["segue"]
    else:
        with pytest.raises(HotkeyUnavailable) as raised:
            hotkey.start()
    expected = NO_BUS_REASON if portal_kind == "no bus" else NO_PORTAL_REASON
    assert raised.value.reason == expected
    assert "Talk item" in expected and "segue listen" in expected
    assert not hotkey.running


def test_wayland_sessions_use_the_portal(
    session_bus: PrivateSessionBus,
    portal: FakePortal,
    talk: Talk,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    hotkey = DesktopHotkey(
        HOTKEY,
        on_start=talk.start,
        on_stop=talk.stop,
        on_status=talk.status,
        environ={"XDG_SESSION_TYPE": "wayland"},
        platform="linux",
        bus=session_bus.address,
    )
    hotkey.start()
    try:
        assert hotkey.path == "portal"
        assert talk.next() == "Hold Ctrl+Alt+Space to talk to Segue."
        portal.press()
        assert talk.next() == "start"
        assert hotkey.active
        portal.release()
        assert talk.next() == "stop"
    finally:
        hotkey.stop()


def test_wayland_without_a_portal_or_x_display_says_what_to_do(
    session_bus: PrivateSessionBus, talk: Talk, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    hotkey = DesktopHotkey(
        HOTKEY,
        on_start=talk.start,
        on_stop=talk.stop,
        environ={"WAYLAND_DISPLAY": "wayland-0"},
        platform="linux",
        bus=session_bus.address,
    )
    with pytest.raises(HotkeyUnavailable) as raised:
        hotkey.start()
    assert raised.value.reason == NO_PORTAL_REASON
    assert hotkey.path is None


def test_wayland_without_a_portal_falls_back_to_xwayland_and_says_so(
    session_bus: PrivateSessionBus, talk: Talk, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with VirtualDesktop(tmp_path / "x", tray=False, notifications=False) as desk:
        monkeypatch.setenv("DISPLAY", desk.display)  # XWayland's display, for pynput
        hotkey = DesktopHotkey(
            HOTKEY,
            on_start=talk.start,
            on_stop=talk.stop,
            on_status=talk.status,
            environ={"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": desk.display},
            platform="linux",
            bus=session_bus.address,
        )
        hotkey.start()
        try:
            assert hotkey.path == "xwayland"
            assert talk.next() == XWAYLAND_REASON
            assert "segue listen" in XWAYLAND_REASON
        finally:
            hotkey.stop()


@pytest.mark.parametrize(
    ("combo", "trigger"),
    [
        ("<ctrl>+<alt>+space", "CTRL+ALT+space"),
        ("ctrl+alt+space", "CTRL+ALT+space"),
        ("<cmd>+<shift>+s", "SHIFT+LOGO+s"),
        ("f9", "F9"),
        ("<ctrl>+<alt>+<enter>", "CTRL+ALT+Return"),
        ("<ctrl>++", "CTRL+plus"),
        ("<ctrl>+<alt>", None),  # no key: the desktop asks the person
        ("<ctrl>+<nosuchkey>", None),
        ("", None),
    ],
)
def test_the_hotkey_setting_in_the_portals_notation(combo: str, trigger: str | None) -> None:
    assert portal_trigger(combo) == trigger

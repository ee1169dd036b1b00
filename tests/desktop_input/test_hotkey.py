"""The global hotkey on a real X server (Xvfb), pressed with xdotool.

Each ``Hotkey`` runs in ``hotkey_probe.py`` (see conftest) and reports start/stop lines; xdotool
presses keys through XTEST exactly as a keyboard would, so pynput sees ordinary key events.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from assistant.desktop.hotkey import (
    NO_DISPLAY_REASON,
    WAYLAND_REASON,
    Hotkey,
    HotkeyUnavailable,
    normalise_combo,
)
from tests.desktop_input.conftest import HotkeyProbe
from tests.support.desktop import ARTIFACTS, VirtualDesktop

ProbeFactory = Callable[[str, str], HotkeyProbe]

# Xvfb's keyboard auto-repeat starts 660 ms after a press.
HOLD_PAST_AUTO_REPEAT = 1.0


def _nothing() -> None:
    return None


def test_holding_the_combo_starts_once_and_releasing_it_stops_once(
    desktop: VirtualDesktop, hotkey_probe: ProbeFactory
) -> None:
    probe = hotkey_probe("<ctrl>+<alt>+space", "hold")
    probe.expect("ready")

    pressed_at = time.monotonic()
    desktop.xdotool("keydown", "ctrl+alt+space")
    start = probe.expect("start")
    latency = start["t"] - pressed_at
    # Held like a person talking: longer than the X server's auto-repeat delay (660 ms), so
    # the server repeats space (more presses, no releases).
    time.sleep(HOLD_PAST_AUTO_REPEAT)
    released_at = time.monotonic()
    desktop.xdotool("keyup", "space")
    stop = probe.expect("stop")
    desktop.xdotool("keyup", "ctrl+alt")

    rest, stopped = probe.finish()
    assert rest == [], f"more callbacks than one start and one stop: {probe.seen}"
    assert stopped["raw_presses"] > 3, "the X server sent no auto-repeat presses"
    assert stopped["join_s"] < 1.0 and not stopped["running"]
    assert stopped["threads"] == [], "the listener thread outlived stop()"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "hotkey-latency.txt").write_text(
        f"xdotool keydown -> on_start: {latency * 1000:.0f} ms\n"
        f"xdotool keyup -> on_stop: {(stop['t'] - released_at) * 1000:.0f} ms\n"
        f"stop() -> listener joined: {stopped['join_s'] * 1000:.0f} ms\n",
        encoding="utf-8",
    )
    assert latency < 1.0


def test_releasing_any_key_of_the_combo_stops_and_pressing_it_again_restarts(
    desktop: VirtualDesktop, hotkey_probe: ProbeFactory
) -> None:
    probe = hotkey_probe("<ctrl>+<alt>+space", "hold")
    probe.expect("ready")

    desktop.xdotool("keydown", "ctrl+alt+space")
    probe.expect("start")
    desktop.xdotool("keyup", "ctrl")
    probe.expect("stop")
    desktop.xdotool("keyup", "alt")  # nothing more: talking already stopped
    desktop.xdotool("keydown", "ctrl+alt")
    probe.expect("start")
    desktop.xdotool("keyup", "ctrl+alt+space")
    probe.expect("stop")

    rest, _ = probe.finish()
    assert rest == []


def test_toggle_mode_starts_on_one_press_and_stops_on_the_next(
    desktop: VirtualDesktop, hotkey_probe: ProbeFactory
) -> None:
    probe = hotkey_probe("<ctrl>+<alt>+space", "toggle")
    probe.expect("ready")

    desktop.xdotool("keydown", "ctrl+alt+space")
    probe.expect("start")
    time.sleep(HOLD_PAST_AUTO_REPEAT)  # auto-repeat while held must not toggle again
    desktop.xdotool("keyup", "ctrl+alt+space")
    desktop.xdotool("key", "ctrl+alt+space")
    probe.expect("stop")
    desktop.xdotool("key", "ctrl+alt+space")
    probe.expect("start")

    rest, stopped = probe.finish()
    assert rest == []
    assert stopped["raw_presses"] > 9, "the X server sent no auto-repeat presses"


def test_stopping_right_after_starting_ends_the_listener_at_once(
    desktop: VirtualDesktop, hotkey_probe: ProbeFactory
) -> None:
    probe = hotkey_probe("<ctrl>+<alt>+space", "hold")
    probe.expect("ready")

    rest, stopped = probe.finish()

    assert rest == []
    assert stopped["join_s"] < 1.0 and not stopped["running"] and stopped["threads"] == []


@pytest.mark.parametrize(
    ("combo", "keys"),
    [
        # Right-hand modifiers count as the modifier; Shift turns "s" into "S".
        ("<cmd>+<shift>+s", "Super_R+Shift_R+s"),
        # With Shift down, X reports the Alt key as Meta_L.
        ("<shift>+<alt>+x", "Shift_L+Alt_L+x"),
        ("ctrl+alt+space", "Control_R+Alt_L+space"),
        ("f9", "F9"),
    ],
)
def test_combinations_match_whichever_hand_presses_them(
    desktop: VirtualDesktop, hotkey_probe: ProbeFactory, combo: str, keys: str
) -> None:
    probe = hotkey_probe(combo, "hold")
    probe.expect("ready")

    desktop.xdotool("keydown", keys)
    probe.expect("start")
    desktop.xdotool("keyup", keys)
    probe.expect("stop")


def test_a_combination_that_is_no_key_is_refused_naming_the_setting(
    desktop: VirtualDesktop, hotkey_probe: ProbeFactory
) -> None:
    probe = hotkey_probe("<ctrl>+<hyperspace>", "hold")
    event = probe.expect("unavailable")
    assert "hotkey setting “<ctrl>+<hyperspace>”" in event["reason"]
    assert "segue listen" in event["reason"]


def test_wayland_without_an_x_display_says_why_and_what_to_use_instead(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    monkeypatch.setenv("XDG_SESSION_TYPE", "wayland")
    hotkey = Hotkey(on_start=_nothing, on_stop=_nothing)

    with pytest.raises(HotkeyUnavailable) as caught:
        hotkey.start()

    assert caught.value.reason == (
        "Global hotkeys don't work under Wayland; use the tray's Talk item, or bind "
        "`segue listen` to a shortcut in your desktop settings."
    )
    assert caught.value.reason == WAYLAND_REASON
    assert not hotkey.running


def test_no_display_at_all_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_SESSION_TYPE", "tty")

    with pytest.raises(HotkeyUnavailable) as caught:
        Hotkey(on_start=_nothing, on_stop=_nothing).start()

    assert caught.value.reason == NO_DISPLAY_REASON


def test_an_x_server_that_is_not_there_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    # A display number with no server behind it (the socket path does not exist).
    monkeypatch.setenv("DISPLAY", ":4093")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)

    with pytest.raises(HotkeyUnavailable) as caught:
        Hotkey(on_start=_nothing, on_stop=_nothing).start()

    assert "could not connect to the X display" in caught.value.reason
    assert "Talk item" in caught.value.reason


@pytest.mark.parametrize(
    ("written", "pynput"),
    [
        ("<ctrl>+<alt>+space", "<ctrl>+<alt>+<space>"),
        ("Ctrl+Alt+Space", "<ctrl>+<alt>+<space>"),
        ("<cmd>+<shift>+S", "<cmd>+<shift>+s"),
        ("f9", "<f9>"),
        ("super+return", "<cmd>+<enter>"),
        ("<ctrl>++", "<ctrl>++"),
    ],
)
def test_combinations_are_written_the_way_people_write_them(written: str, pynput: str) -> None:
    assert normalise_combo(written) == pynput


@pytest.mark.parametrize("written", ["", "ctrl+", "ctrl++alt+"])
def test_empty_parts_are_refused(written: str) -> None:
    with pytest.raises(HotkeyUnavailable, match="hotkey setting"):
        normalise_combo(written)

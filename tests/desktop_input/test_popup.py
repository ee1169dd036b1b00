"""The typed-command popup on a real X server (Xvfb), typed into and clicked with xdotool.

The popup is its own process (``python -m assistant.desktop.popup``) started by
``PopupProcess``; the tests act as the tray process: they receive its commands and send replies.
Besides the screen itself, the popup answers a ``{"type": "state"}`` message with what its widgets
show, which the tests read back.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from typing import Any

import pytest
from PIL import ImageChops

from assistant.desktop.popup import PopupProcess
from tests.desktop_input.conftest import PopupDriver, process_gone, wait_until
from tests.support.desktop import ARTIFACTS, DesktopError, VirtualDesktop

SCREEN_WIDTH = 1024


def _box(state: dict[str, Any]) -> tuple[int, int, int, int]:
    x, y, width, height = (int(v) for v in state["geometry"])
    return x, y, x + width, y + height


def test_typed_command_runs_and_the_reply_shows_what_was_done(
    desktop: VirtualDesktop, popup: PopupDriver
) -> None:
    popup.show()
    state = popup.state()
    _, y, right, _ = _box(state)
    assert SCREEN_WIDTH - right < 40 and y < 100, f"not near the tray (top right): {state}"

    popup.type_line("next")
    assert popup.command() == "next"
    busy = popup.wait_state(lambda s: s["busy"])
    assert busy["reply"] == "…" and busy["entry"] == ""
    before = desktop.grab(_box(busy))

    popup.popup.send_reply(
        "Skipped to “Clair de Lune”.",
        True,
        [{"name": "next_track", "ok": True, "result": "Now playing Clair de Lune by Debussy"}],
        options=["Deep Work", "Deep Work II"],
    )
    shown = popup.wait_state(lambda s: not s["busy"] and s["options"])
    assert shown["reply"] == "Skipped to “Clair de Lune”."
    assert shown["calls"] == ["✓ next_track — Now playing Clair de Lune by Debussy"]
    assert shown["options"] == ["Deep Work", "Deep Work II"]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    left, top, right, bottom = _box(shown)
    desktop.screenshot(ARTIFACTS / "popup.png", crop=(left - 8, top - 8, right + 8, bottom + 8))
    after = desktop.grab(_box(shown)).crop((0, 0, *before.size))
    assert ImageChops.difference(before, after).getbbox() is not None, "the reply was not drawn"

    # A clarifying question: clicking an answer sends it as the next command.
    bx, by, bw, bh = shown["option_boxes"][1]
    desktop.xdotool("mousemove", str(bx + bw // 2), str(by + bh // 2), "click", "1")
    assert popup.command() == "Deep Work II"
    assert popup.wait_state(lambda s: s["busy"])["options"] == []


def test_a_failed_command_shows_the_sentence_and_the_failed_call(
    desktop: VirtualDesktop, popup: PopupDriver
) -> None:
    popup.show()
    popup.type_line("play something by nobody")
    assert popup.command() == "play something by nobody"

    popup.popup.send_reply(
        "Nothing on Spotify matched that.",
        False,
        [{"name": "play", "ok": False, "result": {"error": "not found"}}],
    )
    state = popup.wait_state(lambda s: not s["busy"])
    assert state["ok"] is False
    assert state["reply"] == "Nothing on Spotify matched that."
    assert state["calls"] == ["✗ play — {'error': 'not found'}"]
    # Drawn in red: the reply area has reddish pixels.
    shot = desktop.grab(_box(state))
    colors = [color for _, color in shot.getcolors(shot.width * shot.height) or []]
    assert any(r > 150 and g < 80 and b < 80 for r, g, b in colors), "no red reply"  # type: ignore[misc]


def test_up_and_down_recall_earlier_commands(desktop: VirtualDesktop, popup: PopupDriver) -> None:
    popup.show()
    for text in ("next", "pause", "volume 30"):
        popup.type_line(text)
        assert popup.command() == text
    desktop.xdotool("type", "half typed")

    desktop.xdotool("key", "Up")
    assert popup.wait_state(lambda s: s["entry"] == "volume 30")["history"] == [
        "next",
        "pause",
        "volume 30",
    ]
    desktop.xdotool("key", "Up", "Up")
    popup.wait_state(lambda s: s["entry"] == "next")
    desktop.xdotool("key", "Up")  # nothing older: stays
    desktop.xdotool("key", "Down")
    popup.wait_state(lambda s: s["entry"] == "pause")
    desktop.xdotool("key", "Down", "Down")
    popup.wait_state(lambda s: s["entry"] == "half typed")  # back to what was being typed

    desktop.xdotool("key", "Up", "Return")
    assert popup.command() == "volume 30"


def test_escape_hides_the_popup_and_show_brings_it_back_with_the_focus(
    desktop: VirtualDesktop, popup: PopupDriver
) -> None:
    window = popup.show()

    desktop.xdotool("key", "Escape")
    assert popup.hidden.wait(5), "the popup did not report it was hidden"
    assert not popup.wait_state(lambda s: not s["visible"])["focus"]
    with pytest.raises(DesktopError):
        desktop.xdotool("search", "--onlyvisible", "--name", "^Segue$")

    assert popup.show() == window
    popup.type_line("pause")
    assert popup.command() == "pause"


def test_close_ends_the_popup_process_within_a_second(
    desktop: VirtualDesktop, popup: PopupDriver
) -> None:
    popup.show()
    pid = popup.popup.pid
    assert pid is not None

    began = time.monotonic()
    popup.popup.close()
    took = time.monotonic() - began

    assert took < 1.0
    assert process_gone(pid)
    assert not popup.popup.running


def test_the_popup_ends_when_its_parent_dies(desktop: VirtualDesktop) -> None:
    parent_code = textwrap.dedent(
        """
        import sys, time
        from assistant.desktop.popup import PopupProcess
        popup = PopupProcess(lambda text: None)
        popup.show()
        assert popup.wait_ready(10)
        print(popup.pid, flush=True)
        time.sleep(60)
        """
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", parent_code], stdout=subprocess.PIPE, text=True
    )
    try:
        assert parent.stdout is not None
        popup_pid = int(parent.stdout.readline())
        desktop.wait_for_window("^Segue$")

        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=5)

        took = wait_until(lambda: process_gone(popup_pid), 5, "the orphaned popup exiting")
        assert took < 2.0
        with pytest.raises(DesktopError):  # xdotool finds no such window any more
            desktop.xdotool("search", "--name", "^Segue$")
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait(timeout=5)


def test_without_a_display_the_popup_says_it_cannot_open(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    errors: list[str] = []
    popup = PopupProcess(lambda text: None, on_error=errors.append)
    try:
        popup.show()
        wait_until(lambda: bool(errors), 10, "the popup reporting it cannot open")
        assert errors[0].startswith("The popup window cannot open")
        wait_until(lambda: not popup.running, 5, "the popup process exiting")
    finally:
        popup.close()

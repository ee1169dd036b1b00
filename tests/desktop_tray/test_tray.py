"""The tray icon on a real (virtual) desktop: docked in trayer, its picture, its menu, Quit.

Each test starts its own Xvfb + trayer + dunst and a tray process (tray_app.py) in demo mode;
the menu is opened with a real click and driven with the keyboard through xdotool. Screenshots
go to tests/artifacts/ (tray-idle.png, tray-listening.png, tray-menu.png).
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from assistant.desktop.icons import STATE_COLOURS
from assistant.desktop.state import UiState
from assistant.desktop.tray import NO_DESKTOP_MESSAGE
from tests.support.desktop import ARTIFACTS, VirtualDesktop
from tests.support.tray_screen import (
    BADGE,
    changed_pixels,
    colour_pixels,
    menu_labels,
    open_menu,
    wait_docked,
    wait_for_label,
    wait_for_picture,
    wait_menu_closed,
)

REPO = Path(__file__).resolve().parents[2]
TRAY_APP = Path(__file__).with_name("tray_app.py")


class TrayProcess:
    """tray_app.py on the virtual desktop: send it commands, wait for its JSON events."""

    def __init__(
        self, desk: VirtualDesktop, *, backend: str | None = None, demo: bool = True
    ) -> None:
        env = {**os.environ, **desk.env, "PYTHONUNBUFFERED": "1"}
        env.pop("PYSTRAY_BACKEND", None)
        if backend is not None:
            env["PYSTRAY_BACKEND"] = backend
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self.started = time.monotonic()
        with open(desk.tmp / "tray-app.log", "ab") as log:  # the child keeps its own copy
            self.proc = subprocess.Popen(
                [sys.executable, str(TRAY_APP), *([] if demo else ["--no-demo"])],
                cwd=REPO,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.events.put({**json.loads(line), "at": time.monotonic()})
        self.events.put({"event": "eof"})

    def wait_for(self, event: str, timeout: float = 10) -> dict[str, Any]:
        """Return the next event named ``event``; fail on a timeout or when the process ends."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {event!r} event within {timeout} s")
            try:
                got = self.events.get(timeout=remaining)
            except queue.Empty:
                continue
            if got["event"] == event:
                return got
            if got["event"] == "eof":
                raise AssertionError(f"the tray process ended before {event!r}")

    def send(self, cmd: str, value: Any = None, *, reply: str | None = None) -> dict[str, Any]:
        """Send a command and wait until it was handed to the tray; return its ``reply``."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"cmd": cmd, "value": value}) + "\n")
        self.proc.stdin.flush()
        answer = self.wait_for(reply) if reply is not None else {}
        if cmd != "stop":  # after stop the process may end before it acknowledges
            self.wait_for("ack")
        return answer

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[VirtualDesktop]:
    with VirtualDesktop(tmp_path / "desktop") as desktop:
        yield desktop


@pytest.fixture
def tray_process(desk: VirtualDesktop) -> Iterator[TrayProcess]:
    tray = TrayProcess(desk)
    yield tray
    tray.close()


def test_the_tray_docks_and_its_picture_follows_the_state(
    desk: VirtualDesktop, tray_process: TrayProcess
) -> None:
    running = tray_process.wait_for("running")
    shown = tray_process.wait_for("shown")
    assert shown["backend"] == "appindicator"  # pystray's first choice; it falls back to XEmbed
    assert shown["has_menu"] is True
    box = wait_docked(desk)
    idle = wait_for_picture(desk, box, UiState.IDLE)
    now = time.monotonic()
    print(
        f"\ntray icon docked and drawn {now - running['at']:.2f} s after Tray.run() "
        f"({now - tray_process.started:.2f} s after the process started)"
    )
    assert now - running["at"] < 5

    ARTIFACTS.mkdir(exist_ok=True)
    idle.save(ARTIFACTS / "tray-idle.png")
    trayer_background = Image.new("RGB", idle.size, idle.getpixel((0, 0)))
    assert changed_pixels(idle, trayer_background) >= 200  # a picture, not an empty tray
    assert colour_pixels(idle, BADGE) >= 4  # the demo badge

    pictures = {UiState.IDLE: idle}
    assert menu_labels(desk)[0] == "Talk"
    for state in (UiState.LISTENING, UiState.THINKING, UiState.SPEAKING, UiState.ERROR):
        tray_process.send("state", state.value)
        pictures[state] = wait_for_picture(desk, box, state)
        # The Talk item says what its next click does.
        wait_for_label(desk, 0, "Stop listening" if state is UiState.LISTENING else "Talk")
        assert colour_pixels(pictures[state], STATE_COLOURS[UiState.IDLE]) == 0, state
    pictures[UiState.LISTENING].save(ARTIFACTS / "tray-listening.png")
    assert changed_pixels(pictures[UiState.IDLE], pictures[UiState.LISTENING]) >= 200

    tray_process.send("now_playing", "Bohemian Rhapsody by Queen")
    tooltip = tray_process.send("tooltip", reply="tooltip")["value"]
    assert tooltip == "Segue (demo): Something went wrong\nNow playing: Bohemian Rhapsody by Queen"


def test_the_menu_types_a_command_picks_a_device_toggles_speech_and_quits(
    desk: VirtualDesktop, tray_process: TrayProcess
) -> None:
    tray_process.wait_for("shown")
    box = wait_docked(desk)
    wait_for_picture(desk, box, UiState.IDLE)
    tray_process.send("now_playing", "Bohemian Rhapsody by Queen")
    devices = [
        {"id": "computer-id", "name": "Computer", "active": True},
        {"id": "pixel-id", "name": "Pixel 8", "active": False},
    ]
    tray_process.send("devices", devices)

    menu = open_menu(desk, box)
    desk.screenshot(
        ARTIFACTS / "tray-menu.png",
        crop=(max(0, menu[0] - 24), 0, min(box[2] + 8, 1024), menu[3] + 24),
    )
    desk.xdotool("key", "Down", "Down", "Return")  # Talk, Type a command...
    tray_process.wait_for("type")
    wait_menu_closed(desk, menu)

    # Now playing is a label: the keyboard skips it. Devices opens to the left (screen edge).
    menu = open_menu(desk, box)
    desk.xdotool("key", "Down", "Down", "Down", "Right", "Down", "Return")
    assert tray_process.wait_for("device")["id"] == "pixel-id"
    wait_menu_closed(desk, menu)

    for expected in (False, True):
        menu = open_menu(desk, box)
        desk.xdotool("key", "Down", "Down", "Down", "Down", "Return")  # Speak replies
        assert tray_process.wait_for("speak_replies")["value"] is expected
        wait_menu_closed(desk, menu)

    menu = open_menu(desk, box, button="3")  # a right click opens the same menu
    desk.xdotool("key", "Up", "Return")  # the last item: Quit
    tray_process.wait_for("quit")
    quit_at = time.monotonic()
    tray_process.wait_for("stopped")
    assert tray_process.proc.wait(5) == 0
    assert time.monotonic() - quit_at < 2


def test_the_gtk_backend_opens_the_menu_on_a_left_click_too(desk: VirtualDesktop) -> None:
    tray = TrayProcess(desk, backend="gtk")
    try:
        assert tray.wait_for("shown")["backend"] == "gtk"
        box = wait_docked(desk)
        wait_for_picture(desk, box, UiState.IDLE)
        tray.send("state", UiState.SPEAKING.value)
        wait_for_picture(desk, box, UiState.SPEAKING)
        open_menu(desk, box, button="1")
        desk.xdotool("key", "Down", "Return")
        tray.wait_for("talk")
        tray.send("stop")
        tray.wait_for("stopped")
        assert tray.proc.wait(5) == 0
    finally:
        tray.close()


def _docks_follows_the_state_and_stops(desk: VirtualDesktop, tray: TrayProcess) -> None:
    """The icon docks in trayer, shows idle then listening, and the tray stops when asked."""
    box = wait_docked(desk)
    wait_for_picture(desk, box, UiState.IDLE)
    tray.send("state", UiState.LISTENING.value)
    wait_for_picture(desk, box, UiState.LISTENING)
    tray.send("stop")
    tray.wait_for("stopped")


def test_the_xorg_backend_docks_but_says_it_has_no_menu(desk: VirtualDesktop) -> None:
    tray = TrayProcess(desk, backend="xorg")
    try:
        shown = tray.wait_for("shown")
        assert shown["backend"] == "xorg"
        assert shown["has_menu"] is False
        _docks_follows_the_state_and_stops(desk, tray)
    finally:
        tray.close()


def test_the_xorg_icon_docks_when_the_tray_host_comes_up_after_segue(tmp_path: Path) -> None:
    # At login Segue may start before the panel: pystray's xorg backend asks to be docked once,
    # finds no tray host, and (left alone) never shows its icon.
    with VirtualDesktop(tmp_path / "desktop", tray=False) as desk:
        tray = TrayProcess(desk, backend="xorg")
        try:
            tray.wait_for("shown")
            desk.start_tray()
            _docks_follows_the_state_and_stops(desk, tray)
        finally:
            tray.close()


def test_the_tray_notifies_through_pystray_where_it_is_the_fallback(
    desk: VirtualDesktop, tray_process: TrayProcess
) -> None:
    tray_process.wait_for("shown")
    tray_process.send("notify", {"title": "Paused", "body": "Paused on Computer"})
    shown = desk.wait_for_notification(lambda n: n["summary"] == "Paused")
    assert shown["body"] == "Paused on Computer"


def test_without_a_display_the_tray_says_what_to_do(tmp_path: Path) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DISPLAY", "WAYLAND_DISPLAY", "PYSTRAY_BACKEND")
    }
    done = subprocess.run(
        [sys.executable, str(TRAY_APP)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 3
    assert json.loads(done.stdout.splitlines()[0]) == {
        "event": "unavailable",
        "message": NO_DESKTOP_MESSAGE,
    }


def test_signed_out_the_menu_offers_sign_in_then_sign_out(desk: VirtualDesktop) -> None:
    tray = TrayProcess(desk, demo=False)
    try:
        tray.wait_for("shown")
        box = wait_docked(desk)
        picture = wait_for_picture(desk, box, UiState.IDLE)
        assert colour_pixels(picture, BADGE) == 0  # no demo badge on the real thing

        menu = open_menu(desk, box)
        desk.xdotool("key", "Up", "Up", "Return")  # the item above Quit: Sign in to Spotify...
        tray.wait_for("sign_in")
        wait_menu_closed(desk, menu)

        tray.send("signed_in", True)
        menu = open_menu(desk, box)
        desk.xdotool("key", "Up", "Up", "Return")  # now: Sign out
        tray.wait_for("sign_out")
        wait_menu_closed(desk, menu)

        menu = open_menu(desk, box)
        desk.xdotool("key", "Up", "Up", "Up", "Return")
        tray.wait_for("settings")
    finally:
        tray.close()

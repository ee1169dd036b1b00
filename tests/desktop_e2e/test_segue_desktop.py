"""`segue --demo` as a person uses it, on a virtual desktop with a virtual microphone.

Xvfb + trayer + dunst + a private session bus + PulseAudio (tests/support/desktop.py) host the
real `segue` process; xdotool clicks its tray icon, types into its popup and holds its hotkey
while `paplay` speaks a command into the virtual microphone. What changed is read back from the
demo's simulated Spotify (its /_sim/state endpoint), from dunst, from the tray menu as the
desktop's panel reads it (D-Bus), from what the popup says it shows (observed_segue.py), and from
screenshots (saved to tests/artifacts/).
"""

from __future__ import annotations

import json
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image

from assistant.desktop.state import UiState
from tests.support.desktop import ARTIFACTS, VirtualDesktop
from tests.support.env import isolated_env
from tests.support.speech import speak_to_file
from tests.support.tray_screen import (
    changed_pixels,
    menu_labels,
    open_menu,
    wait_docked,
    wait_for_label,
    wait_for_picture,
    wait_menu_closed,
)

REPO = Path(__file__).resolve().parents[2]
HOTKEY = "ctrl+alt+space"
OBSERVED = Path(__file__).with_name("observed_segue.py")


class SegueProcess:
    """A `segue --demo` process on the virtual desktop, with its stdout lines as events.

    ``observed=True`` runs it through observed_segue.py, whose popup answers ``popup_state``;
    ``settings`` are more ``SEGUE_*`` variables.
    """

    def __init__(
        self,
        desk: VirtualDesktop,
        home: Path,
        *args: str,
        observed: bool = False,
        settings: dict[str, str] | None = None,
    ) -> None:
        env = isolated_env(home)
        env.update(desk.env)
        env.update(
            {
                "PYTHONUNBUFFERED": "1",
                # Spoken replies would go into the same virtual sink the microphone hears.
                "SEGUE_TTS": "off",
                **(settings or {}),
            }
        )
        self.env = env
        self.lines: queue.Queue[str] = queue.Queue()
        self.started = time.monotonic()
        entry = [str(OBSERVED)] if observed else ["-m", "assistant"]
        self.proc = subprocess.Popen(
            [sys.executable, *entry, "--demo", *args],
            cwd=REPO,
            env=env,
            stdin=subprocess.PIPE if observed else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=open(desk.tmp / "segue.stderr", "ab"),  # the child keeps its own copy
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()
        self.sim_url = ""

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put("<eof>")

    def wait_for_line(self, pattern: str, timeout: float = 30) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        seen = []
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            seen.append(line)
            if line == "<eof>":
                break
            found = re.search(pattern, line)
            if found:
                return found
        raise AssertionError(f"segue printed no line matching {pattern!r}; it printed {seen}")

    def wait_ready(self) -> None:
        self.sim_url = self.wait_for_line(r"simulated Spotify at (http://\S+)").group(1)
        self.wait_for_line(r"Segue is running in the tray")

    def state(self) -> dict[str, Any]:
        answer = requests.get(f"{self.sim_url}/_sim/state", timeout=5)
        answer.raise_for_status()
        result: dict[str, Any] = answer.json()
        return result

    def wait_state(self, check: Any, what: str, timeout: float = 20) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            state = self.state()
            if check(state):
                return state
            if time.monotonic() > deadline:
                raise AssertionError(f"the simulated Spotify never showed {what}: {state}")
            time.sleep(0.1)

    def popup_state(self, check: Any, what: str, timeout: float = 20) -> dict[str, Any]:
        """The popup's state once ``check`` holds (observed processes only)."""
        assert self.proc.stdin is not None, "start it with observed=True"
        deadline = time.monotonic() + timeout
        while True:
            self.proc.stdin.write("state\n")
            self.proc.stdin.flush()
            state = json.loads(self.wait_for_line(r"^POPUP (.*)$").group(1))
            if state is not None and check(state):
                return dict(state)
            if time.monotonic() > deadline:
                raise AssertionError(f"the popup never showed {what}: {state}")
            time.sleep(0.1)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[VirtualDesktop]:
    with VirtualDesktop(tmp_path / "desktop", audio=True) as desktop:
        yield desktop


@pytest.fixture
def segue(desk: VirtualDesktop, tmp_path: Path) -> Iterator[SegueProcess]:
    process = SegueProcess(desk, tmp_path / "home")
    yield process
    process.close()


@pytest.fixture
def spoken(tmp_path: Path) -> Any:
    """``spoken("pause")`` -> a WAV of espeak-ng saying it, 16 kHz mono."""
    if shutil.which("espeak-ng") is None:
        pytest.fail("espeak-ng is missing: installer/test.sh installs it")

    def make(text: str) -> Path:
        return speak_to_file(tmp_path / f"{text.replace(' ', '-')}.wav", text)

    return make


def popup_box(desk: VirtualDesktop) -> tuple[int, int, int, int]:
    window = desk.wait_for_window("^Segue$", timeout=15)
    x, y, width, height = desk.window_geometry(window)
    return x, y, x + width, y + height


def wait_changed(
    desk: VirtualDesktop, box: tuple[int, int, int, int], before: Image.Image, what: str
) -> Image.Image:
    deadline = time.monotonic() + 20
    while True:
        now = desk.grab(box)
        if changed_pixels(before, now) > 100:
            return now
        if time.monotonic() > deadline:
            raise AssertionError(f"the screen never showed {what}")
        time.sleep(0.1)


def type_into_popup(desk: VirtualDesktop, text: str) -> None:
    window = desk.wait_for_window("^Segue$")
    desk.xdotool("windowfocus", "--sync", window)
    desk.xdotool("type", "--delay", "20", text)
    desk.xdotool("key", "Return")


def segue_popup_command(desk: VirtualDesktop, tray: tuple[int, int, int, int], text: str) -> None:
    """Open the popup from the tray menu and run ``text`` in it."""
    menu = open_menu(desk, tray)
    desk.xdotool("key", "Down", "Down", "Return")  # Talk, Type a command...
    wait_menu_closed(desk, menu)
    type_into_popup(desk, text)


def test_a_day_with_segue_tray_popup_voice_and_quit(
    desk: VirtualDesktop, segue: SegueProcess, spoken: Any
) -> None:
    # It starts in demo mode, says so once, and docks its icon in the tray.
    segue.wait_ready()
    tray = wait_docked(desk)
    idle = wait_for_picture(desk, tray, UiState.IDLE)
    print(f"\nsegue --demo: icon docked {time.monotonic() - segue.started:.2f} s after start")
    assert desk.wait_for_notification(lambda n: "Demo mode" in n["body"])

    # Type a command... from the tray menu opens the popup; "play creep by radiohead" plays.
    menu = open_menu(desk, tray)
    desk.xdotool("key", "Down", "Down", "Return")  # Talk, Type a command...
    wait_menu_closed(desk, menu)
    box = popup_box(desk)
    empty = desk.grab(box)
    type_into_popup(desk, "play creep by radiohead")
    playing = segue.wait_state(lambda s: s["is_playing"], "music playing")
    creep = playing["track_uri"]
    shown = wait_changed(desk, box, empty, "the reply in the popup")

    # "next" skips, and the reply replaces the last one in the window.
    type_into_popup(desk, "next")
    segue.wait_state(lambda s: s["track_uri"] != creep, "a skip")
    wait_changed(desk, box, shown, "the reply to next")
    ARTIFACTS.mkdir(exist_ok=True)
    desk.screenshot(ARTIFACTS / "segue-popup.png", crop=box)
    desk.xdotool("key", "Escape")
    desk.xdotool("mousemove", "500", "500", "click", "1")  # focus the desktop, not the tray

    # Hold the hotkey, say "pause" into the microphone, let go: the music pauses. While Segue
    # listens the music plays quieter, and afterwards at its old volume again.
    volume = segue.state()["volume_percent"]
    desk.xdotool("keydown", HOTKEY)
    listening = wait_for_picture(desk, tray, UiState.LISTENING)
    assert changed_pixels(idle, listening) >= 200  # the icon shows that Segue listens
    desk.screenshot(ARTIFACTS / "segue-listening.png", crop=tray)
    segue.wait_state(lambda s: s["volume_percent"] < volume, "the volume ducked")
    desk.play(spoken("pause"))
    desk.xdotool("keyup", HOTKEY)
    state = segue.wait_state(lambda s: not s["is_playing"], "the music paused", timeout=30)
    assert state["volume_percent"] == volume
    # The notification says what was heard, then what was done.
    paused = desk.wait_for_notification(lambda n: n["body"].endswith(" — Paused."), timeout=20)
    assert paused["body"].casefold().startswith("heard: “pause”"), paused["body"]
    assert paused["appname"] == "Segue"
    # The replies shown in the popup while it had the focus came as no notification.
    assert not [n for n in desk.notifications() if "Creep" in n["body"] or "Skipped" in n["body"]]
    desk.screenshot(ARTIFACTS / "segue-notification.png", crop=(300, 0, 1024, 420))

    # The microphone vanishes mid-command (a headset unplugged): one sentence, volume restored.
    segue_popup_command(desk, tray, "resume")
    segue.wait_state(lambda s: s["is_playing"], "the music playing again")
    desk.xdotool("key", "Escape")  # a popup with the focus would show the sentence instead
    desk.xdotool("mousemove", "500", "500", "click", "1")
    desk.xdotool("keydown", HOTKEY)
    segue.wait_state(lambda s: s["volume_percent"] < volume, "the volume ducked")
    assert desk.microphone is not None
    earlier = len(desk.notifications())
    desk.microphone.remove_sink()
    desk.xdotool("keyup", HOTKEY)
    deadline = time.monotonic() + 20
    while len(desk.notifications()) == earlier and time.monotonic() < deadline:
        time.sleep(0.1)
    unplugged = desk.notifications()[earlier]
    print(f"after the microphone vanished: {unplugged['body']!r}")
    assert unplugged["urgency"] == "CRITICAL"
    assert "microphone" in unplugged["body"].lower() or "didn't hear" in unplugged["body"]
    segue.wait_state(lambda s: s["volume_percent"] == volume, "the volume restored")

    # A second `segue` hands over to the first (which opens its popup) and exits 0.
    second = subprocess.run(
        [sys.executable, "-m", "assistant", "--demo"],
        cwd=REPO,
        env=segue.env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert second.returncode == 0, second.stderr
    assert "already running" in second.stdout
    window = desk.wait_for_window("^Segue$", timeout=15)
    desk.xdotool("windowfocus", "--sync", window)
    desk.xdotool("key", "Escape")

    # Quit from the menu ends the process within 2 seconds.
    open_menu(desk, tray)
    desk.xdotool("key", "Up", "Return")  # Quit is the last item
    quit_at = time.monotonic()
    assert segue.proc.wait(10) == 0
    assert time.monotonic() - quit_at < 2.5  # 2 s, plus xdotool's own round trip


def said(state: dict[str, Any]) -> list[tuple[str, str]]:
    return [(line["role"], line["text"]) for line in state["conversation"]]


def choose_talk(desk: VirtualDesktop, tray: tuple[int, int, int, int]) -> None:
    """Click the tray icon and choose its first item (Talk, or Stop listening)."""
    menu = open_menu(desk, tray)
    desk.xdotool("key", "Down", "Return")
    wait_menu_closed(desk, menu)


def test_talk_listens_until_the_person_stops_and_the_popup_shows_what_was_heard(
    desk: VirtualDesktop, tmp_path: Path, spoken: Any
) -> None:
    # A recording that did not end at the end of speech would outlast every wait below.
    segue = SegueProcess(
        desk, tmp_path / "home", observed=True, settings={"SEGUE_MAX_RECORDING_SECONDS": "120"}
    )
    try:
        segue.wait_ready()
        tray = wait_docked(desk)
        wait_for_picture(desk, tray, UiState.IDLE)
        assert menu_labels(desk)[0] == "Talk"
        segue_popup_command(desk, tray, "play creep by radiohead")
        segue.wait_state(lambda s: s["is_playing"], "music playing")
        state = segue.popup_state(lambda s: s["now_playing"] is not None, "what plays")
        card = state["now_playing"]
        assert (card["title"], card["art"], card["device"]) == ("Creep", True, "this computer")
        assert card["time_line"].endswith("on this computer"), card

        # One click on Talk starts listening (and shows the popup with its level meter); the
        # item now says what the next click does.
        choose_talk(desk, tray)
        wait_for_label(desk, 0, "Stop listening")
        segue.popup_state(lambda s: s["live"], "the microphone's first sound")
        desk.play(spoken("pause"))
        # No second click: the end of speech ends the recording and the command runs.
        segue.wait_state(lambda s: not s["is_playing"], "the music paused", timeout=30)
        state = segue.popup_state(lambda s: s["reply"] == "Paused.", "the reply")
        heard, reply = said(state)[-2:]
        assert (heard[0], heard[1].casefold(), reply) == (
            "heard",
            "heard: “pause”",
            ("reply", "Paused."),
        )
        assert state["level_peak"] > 0.3, "the level meter never showed the speech"
        wait_for_label(desk, 0, "Talk")
        ARTIFACTS.mkdir(exist_ok=True)
        window = desk.wait_for_window("^Segue$")
        x, y, width, height = desk.window_geometry(window)
        desk.screenshot(ARTIFACTS / "segue-popup-voice.png", crop=(x, y, x + width, y + height))

        # Talk, then Stop listening: the second click ends the recording.
        choose_talk(desk, tray)
        wait_for_label(desk, 0, "Stop listening")
        segue.popup_state(lambda s: s["live"], "listening again")
        choose_talk(desk, tray)
        wait_for_label(desk, 0, "Talk")
        state = segue.popup_state(lambda s: not s["busy"], "the end of listening")
        assert said(state)[-1] == ("error", "I didn't hear anything.")
    finally:
        segue.close()

"""`segue --demo` in a Wayland session: hold-to-talk through the portal, and a quiet terminal.

The virtual desktop (Xvfb + trayer + dunst + PulseAudio, tests/support/desktop.py) hosts the real
`segue` process with ``XDG_SESSION_TYPE=wayland`` and ``WAYLAND_DISPLAY`` set, so it takes the
Wayland path; ``FakePortal`` serves GlobalShortcuts on the desktop's session bus. Pressing the
shortcut through the portal opens the microphone (the tray icon shows it, the music ducks), a
spoken "pause" goes in, and releasing it closes the microphone and runs the command: the music
pauses, and the notification says what was heard.

``XDG_RUNTIME_DIR`` is unset, as in a bare ``su`` or ssh session, and the tray runs the
AppIndicator backend falling back to an XEmbed icon: neither platformdirs' warning nor GTK's
``Gdk-CRITICAL`` may reach the terminal, both land in the log file.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from assistant.desktop.state import UiState
from tests.desktop_portal.fake_portal import FakePortal
from tests.support.desktop import VirtualDesktop
from tests.support.env import isolated_env
from tests.support.speech import speak_to_file
from tests.support.tray_screen import wait_docked, wait_for_picture

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[VirtualDesktop]:
    with VirtualDesktop(tmp_path / "desktop", audio=True) as desktop:
        yield desktop


def wait_for_text(path: Path, text: str, timeout: float = 20) -> str:
    """Wait until the file at ``path`` holds ``text``; return the file's text."""
    deadline = time.monotonic() + timeout
    while True:
        content = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
        if text in content:
            return content
        if time.monotonic() > deadline:
            raise AssertionError(f"{path.name} never held {text!r}; it holds:\n{content[-3000:]}")
        time.sleep(0.1)


def wait_state(url: str, check: Callable[[dict[str, Any]], bool], what: str) -> None:
    """Wait until the demo's simulated Spotify shows ``what``."""
    deadline = time.monotonic() + 20
    while True:
        state = requests.get(f"{url}/_sim/state", timeout=5).json()
        if check(state):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"the simulated Spotify never showed {what}: {state}")
        time.sleep(0.1)


def test_hold_to_talk_through_the_portal_with_a_quiet_terminal(
    desk: VirtualDesktop, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    env = isolated_env(home)
    env.update(desk.env)
    env.update(
        {
            "XDG_SESSION_TYPE": "wayland",
            "WAYLAND_DISPLAY": "wayland-0",  # no such compositor: GTK stays on X (GDK_BACKEND)
            "PYTHONUNBUFFERED": "1",
            "SEGUE_TTS": "off",
            "PYSTRAY_BACKEND": "appindicator",
        }
    )
    env.pop("XDG_RUNTIME_DIR", None)
    stderr_path = tmp_path / "segue.stderr"
    log_path = home / "state" / "segue" / "log" / "segue.log"
    command = speak_to_file(tmp_path / "pause.wav", "pause")

    with FakePortal(desk.env["DBUS_SESSION_BUS_ADDRESS"]) as portal:
        with open(stderr_path, "wb") as stderr:
            segue = subprocess.Popen(
                [sys.executable, "-m", "assistant", "--demo"],
                cwd=REPO,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
            )
        lines: list[str] = []
        assert segue.stdout is not None
        reader = threading.Thread(target=lambda: lines.extend(segue.stdout or ()), daemon=True)
        reader.start()
        try:
            # The desktop's dialog accepts the preferred keys; Segue says which were bound.
            bound = desk.wait_for_notification(
                lambda n: n["body"] == "Hold Ctrl+Alt+Space to talk to Segue.", timeout=30
            )
            assert bound["urgency"] == "NORMAL"
            assert portal.registered == ["segue"]
            assert portal.binds[0].shortcuts["talk"]["preferred_trigger"] == "CTRL+ALT+space"
            tray = wait_docked(desk)
            wait_for_picture(desk, tray, UiState.IDLE)

            announced = next(line for line in lines if "simulated Spotify at" in line)
            sim = re.search(r"(http://\S+)", announced)
            assert sim is not None, announced
            # Music plays (one demo world: `segue say` and the tray share it), so the
            # volume ducking shows when the microphone is open.
            play = subprocess.run(
                [sys.executable, "-m", "assistant", "say", "play creep by radiohead"],
                cwd=REPO,
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert play.returncode == 0, play
            assert "Warning" not in play.stderr, play.stderr  # only Segue's demo sentence
            state = requests.get(f"{sim.group(1)}/_sim/state", timeout=5).json()
            assert state["is_playing"], state
            volume = state["volume_percent"]

            portal.press()
            wait_for_picture(desk, tray, UiState.LISTENING)
            # The volume ducks once the microphone is open: then speak.
            wait_state(sim.group(1), lambda s: s["volume_percent"] < volume, "the volume ducked")
            desk.play(command)
            portal.release()
            wait_state(sim.group(1), lambda s: not s["is_playing"], "the music paused")
            heard = desk.wait_for_notification(
                lambda n: n["body"].casefold().startswith("heard:"), timeout=30
            )
            assert "pause" in heard["body"].casefold(), heard["body"]

            # The library warning went to the log rather than the terminal (GTK's own
            # messages, which it prints on some starts only, are routed there too: see
            # tests/test_logs.py).
            wait_for_text(log_path, "RuntimeDirWarning")
        finally:
            segue.terminate()
            segue.wait(10)
    terminal = stderr_path.read_text(encoding="utf-8", errors="replace")
    for noise in ("Warning", "CRITICAL", "Gdk-", "Gtk-", "GLib"):
        assert noise not in terminal, terminal

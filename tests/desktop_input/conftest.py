"""Fixtures for the hotkey and popup tests: a virtual X desktop, a hotkey probe, a popup.

Everything runs on a fresh Xvfb from ``tests.support.desktop.VirtualDesktop`` (no tray host, no
notification daemon: these tests need neither). Its ``DISPLAY`` is put into this process's
environment for the length of a test so that the programs the tests start (the hotkey probe, the
popup) open their windows and connections there; this process itself never imports pynput or
tkinter.
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.desktop.popup import PopupProcess
from tests.support.desktop import VirtualDesktop

PROBE = Path(__file__).with_name("hotkey_probe.py")


@pytest.fixture
def desktop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[VirtualDesktop]:
    """A bare virtual desktop (Xvfb and a session bus) whose DISPLAY children inherit."""
    with VirtualDesktop(tmp_path / "desktop", tray=False, notifications=False) as desk:
        monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
        for name, value in desk.env.items():
            monkeypatch.setenv(name, value)
        yield desk


class HotkeyProbe:
    """A ``Hotkey`` running in ``hotkey_probe.py``; its reports arrive in order on a queue."""

    def __init__(self, combo: str, mode: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(PROBE), combo, mode],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self.seen: list[dict[str, Any]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.events.put(json.loads(line))
        self.events.put({"event": "<exited>"})

    def next(self, timeout: float = 5.0) -> dict[str, Any]:
        """The next report; fails the test if none arrives within ``timeout`` seconds."""
        try:
            event = self.events.get(timeout=timeout)
        except queue.Empty:
            pytest.fail(f"the hotkey probe reported nothing within {timeout} s")
        self.seen.append(event)
        return event

    def expect(self, name: str, timeout: float = 5.0) -> dict[str, Any]:
        """The next report, which must be ``name``."""
        event = self.next(timeout)
        assert event["event"] == name, f"expected {name!r}, got {event} (after {self.seen[:-1]})"
        return event

    def finish(self) -> tuple[list[str], dict[str, Any]]:
        """Close the probe's stdin (it stops its hotkey); return the reports left, and the last.

        The first item is the names of the reports before the final ``stopped`` one, the second
        that report.
        """
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        rest: list[str] = []
        while True:
            event = self.next(timeout=5)
            if event["event"] in ("stopped", "<exited>"):
                self.proc.wait(timeout=5)
                return rest, event
            rest.append(event["event"])

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)


@pytest.fixture
def hotkey_probe(desktop: VirtualDesktop) -> Iterator[Callable[[str, str], HotkeyProbe]]:
    """Start hotkey probes on the virtual desktop: ``hotkey_probe(combo, mode)``."""
    probes: list[HotkeyProbe] = []

    def start(combo: str, mode: str = "hold") -> HotkeyProbe:
        probe = HotkeyProbe(combo, mode)
        probes.append(probe)
        return probe

    yield start
    for probe in probes:
        probe.kill()


class PopupDriver:
    """A ``PopupProcess`` whose commands and "hidden" reports land on queues."""

    def __init__(self, desk: VirtualDesktop) -> None:
        self.desk = desk
        self.commands: queue.Queue[str] = queue.Queue()
        self.hidden = threading.Event()
        self.errors: queue.Queue[str] = queue.Queue()
        self.popup = PopupProcess(
            self.commands.put, on_hidden=self.hidden.set, on_error=self.errors.put
        )

    def command(self, timeout: float = 5.0) -> str:
        """The next command the popup sent; fails the test after ``timeout`` seconds."""
        try:
            return self.commands.get(timeout=timeout)
        except queue.Empty:
            pytest.fail(f"the popup sent no command within {timeout} s")

    def state(self) -> dict[str, Any]:
        state = self.popup.request_state()
        assert state is not None, "the popup did not answer a state request"
        return state

    def wait_state(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 5.0
    ) -> dict[str, Any]:
        """Ask for the popup's state until ``predicate`` holds; fail after ``timeout`` seconds.

        The popup applies key presses asynchronously, so a test waits for their effect.
        """
        deadline = time.monotonic() + timeout
        while True:
            state = self.state()
            if predicate(state):
                return state
            if time.monotonic() > deadline:
                pytest.fail(f"the popup never reached the expected state; last: {state}")
            time.sleep(0.05)

    def show(self) -> str:
        """Show the popup and return its X window id once it is on screen with the focus."""
        self.popup.show()
        window = self.desk.wait_for_window("^Segue$")
        self.wait_state(lambda s: s["visible"] and s["focus"])
        return window

    def type_line(self, text: str) -> None:
        self.desk.xdotool("type", "--delay", "5", text)
        self.desk.xdotool("key", "Return")


@pytest.fixture
def popup(desktop: VirtualDesktop) -> Iterator[PopupDriver]:
    """A popup on the virtual desktop (its process starts on the first ``show``)."""
    driver = PopupDriver(desktop)
    yield driver
    driver.popup.close()


def process_gone(pid: int) -> bool:
    """Whether process ``pid`` has exited (a zombie waiting to be reaped counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> float:
    """Poll ``condition`` until it holds; return how long that took, or fail the test."""
    began = time.monotonic()
    while not condition():
        if time.monotonic() - began > timeout:
            pytest.fail(f"{what} did not happen within {timeout} s")
        time.sleep(0.02)
    return time.monotonic() - began

"""Fixtures for the Wayland hotkey tests: a private session bus and a fake desktop portal on it.

The bus is a ``dbus-daemon --session`` of its own (never the desktop's); the portal is
``tests.desktop_portal.fake_portal.FakePortal``, started per test so each test scripts its own
dialog. ``talk`` records what the hotkey asked for (start, stop) and the sentences it reported, in
the order they came.
"""

from __future__ import annotations

import queue
from collections.abc import Iterator

import pytest

from assistant.sim.mpris import PrivateSessionBus


@pytest.fixture(scope="module")
def session_bus() -> Iterator[PrivateSessionBus]:
    """One private session bus for the module's tests."""
    with PrivateSessionBus() as bus:
        yield bus


class Talk:
    """The hotkey's callbacks: each call becomes one event, "start", "stop" or a sentence."""

    def __init__(self) -> None:
        self._events: queue.Queue[str] = queue.Queue()

    def start(self) -> None:
        self._events.put("start")

    def stop(self) -> None:
        self._events.put("stop")

    def status(self, sentence: str) -> None:
        self._events.put(sentence)

    def next(self, timeout: float = 10) -> str:
        """The next event; fails when none comes within ``timeout`` seconds."""
        try:
            return self._events.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no hotkey event within {timeout} s") from None

    def pending(self) -> list[str]:
        """The events that came and were not read yet."""
        out = []
        while not self._events.empty():
            out.append(self._events.get_nowait())
        return out


@pytest.fixture
def talk() -> Talk:
    return Talk()

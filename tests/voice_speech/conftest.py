"""Fixtures for the speech tests: espeak-ng commands, the local Whisper model, speaker processes.

Figures measured along the way (model load time, real-time factor, spoken-command success rates)
are collected in the session's stash and printed in the terminal summary.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant.sim import SimulatedSpotify
from assistant.sim.catalog import Catalog
from tests.support.pulse import SINK, VirtualMicrophone

REPO = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("speaker_driver.py")

_FIGURES = pytest.StashKey[dict[str, str]]()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    figures = terminalreporter.config.stash.get(_FIGURES, {})
    for name, text in sorted(figures.items()):
        terminalreporter.write_line(f"voice speech: {name}: {text}")


@pytest.fixture
def report(request: pytest.FixtureRequest) -> Callable[[str, str], None]:
    """``report(name, text)`` adds a line to the terminal summary (and prints it)."""
    figures = request.config.stash.setdefault(_FIGURES, {})

    def add(name: str, text: str) -> None:
        figures[name] = text
        print(f"{name}: {text}")

    return add


@pytest.fixture(scope="session")
def sim_vocabulary() -> list[str]:
    """The simulator user's vocabulary: playlist names, then artist names, then device names."""
    with SimulatedSpotify() as sim:
        playlists = [p["name"] for p in sim.snapshot()["playlists"].values()]
        devices = [d["name"] for d in sim.devices]
    artists = [artist.name for artist in Catalog.load().artists.values()]
    return [*playlists, *artists, *devices]


# --------------------------------------------------------------------------------------------
# Listening to the virtual sink
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mic() -> Iterator[VirtualMicrophone]:
    """A private PulseAudio server: its null sink is the default output, its monitor the input."""
    with VirtualMicrophone() as virtual:
        yield virtual


class SinkListener:
    """Records the virtual sink's monitor with ``parec``, 20 ms at a time, with arrival times."""

    RATE = 16_000
    BLOCK_BYTES = 640  # 20 ms of 16-bit mono at 16 kHz

    def __init__(self, mic: VirtualMicrophone) -> None:
        self._proc = subprocess.Popen(
            [
                "parec",
                "--raw",
                "--format=s16le",
                f"--rate={self.RATE}",
                "--channels=1",
                "--latency-msec=20",
                "-d",
                f"{SINK}.monitor",
            ],
            env=mic.environ(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self._blocks: list[tuple[float, float]] = []  # (monotonic time, RMS 0..1)
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._read, name="sink-listener", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self._proc.stdout is not None
        fd = self._proc.stdout.fileno()
        pending = b""
        while True:
            try:
                data = os.read(fd, 4096)
            except OSError:
                return
            if not data:
                return
            pending += data
            arrived = time.monotonic()
            while len(pending) >= self.BLOCK_BYTES:
                block, pending = pending[: self.BLOCK_BYTES], pending[self.BLOCK_BYTES :]
                samples = np.frombuffer(block, dtype="<i2").astype(np.float64) / 32768.0
                with self._changed:
                    self._blocks.append((arrived, float(np.sqrt(np.mean(samples**2)))))
                    self._changed.notify_all()

    def wait_for(
        self, condition: Callable[[list[tuple[float, float]]], bool], timeout: float
    ) -> bool:
        """Wait until ``condition(blocks)`` holds for the blocks heard so far."""
        with self._changed:
            return self._changed.wait_for(lambda: condition(self._blocks), timeout)

    def wait_for_sound(self, *, after: float, timeout: float, level: float = 0.01) -> float | None:
        """Wait for a block louder than ``level`` that arrived after ``after``; its time."""
        found: list[float] = []

        def heard(blocks: list[tuple[float, float]]) -> bool:
            for t, rms in blocks:
                if t > after and rms > level:
                    found.append(t)
                    return True
            return False

        return found[0] if self.wait_for(heard, timeout) else None

    def wait_for_silence(
        self, *, after: float, lasting: float, timeout: float, level: float = 0.002
    ) -> float | None:
        """Wait until the sink was quiet for ``lasting`` s after ``after``; when the quiet began."""
        found: list[float] = []

        def quiet(blocks: list[tuple[float, float]]) -> bool:
            start: float | None = None
            for t, rms in blocks:
                if t <= after:
                    continue
                if rms > level:
                    start = None
                elif start is None:
                    start = t
                if start is not None and t - start >= lasting:
                    found.append(start)
                    return True
            return False

        return found[0] if self.wait_for(quiet, timeout) else None

    def loud_seconds(self, start: float, end: float, level: float = 0.01) -> float:
        """Seconds of blocks louder than ``level`` that arrived between ``start`` and ``end``."""
        with self._changed:
            blocks = list(self._blocks)
        return sum(0.02 for t, rms in blocks if start < t <= end and rms > level)

    def close(self) -> None:
        self._proc.terminate()
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(timeout=5)
        self._thread.join(timeout=5)
        if self._proc.stdout is not None:
            self._proc.stdout.close()


@pytest.fixture
def sink(mic: VirtualMicrophone) -> Iterator[SinkListener]:
    listener = SinkListener(mic)
    try:
        # parec's first block shows the stream is running.
        assert listener.wait_for(lambda blocks: len(blocks) > 0, 5), "parec heard nothing"
        yield listener
    finally:
        listener.close()


class SpeakerProcess:
    """``speaker_driver.py`` running a speaker in its own process; its events read as they come."""

    def __init__(self, env: dict[str, str], config: dict[str, Any]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(DRIVER), json.dumps(config)],
            cwd=REPO,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self._stderr: list[str] = []
        self._readers = [
            threading.Thread(target=self._read_stdout, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.events.put(json.loads(line))

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._stderr.append(line)

    @property
    def stderr(self) -> str:
        return "".join(self._stderr)

    def send(self, command: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def expect(self, event: str, timeout: float = 20.0) -> dict[str, Any]:
        """Wait for the next event called ``event`` (skipping others)."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                got = self.events.get(timeout=max(0.0, remaining))
            except queue.Empty:
                raise AssertionError(
                    f"no {event!r} event from the speaker within {timeout} s; "
                    f"stderr:\n{self.stderr}"
                ) from None
            if got["event"] == event:
                return got

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.send("quit")
                self.proc.wait(timeout=10)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait(timeout=5)
        for reader in self._readers:
            reader.join(timeout=5)  # they end at EOF, now that the process has exited
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def speaker_process(mic: VirtualMicrophone) -> Iterator[Callable[[dict[str, Any]], SpeakerProcess]]:
    """``speaker_process(config)`` starts ``speaker_driver.py`` on the virtual sink."""
    started: list[SpeakerProcess] = []

    def start(config: dict[str, Any]) -> SpeakerProcess:
        process = SpeakerProcess(mic.environ(), config)
        started.append(process)
        return process

    yield start
    for process in started:
        process.close()

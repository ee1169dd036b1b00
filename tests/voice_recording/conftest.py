"""Fixtures for the recording tests: spoken commands, the virtual microphone, recorder processes.

Measurements (upload bytes per second, hands-free end-of-speech latency) are collected in the
session's stash and printed in the terminal summary.
"""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from tests.support.pulse import VirtualMicrophone

REPO = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("mic_driver.py")

_MEASUREMENTS = pytest.StashKey[dict[str, str]]()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    measured = terminalreporter.config.stash.get(_MEASUREMENTS, {})
    if measured:
        terminalreporter.write_line(
            "voice recording: " + "; ".join(f"{k} {v}" for k, v in sorted(measured.items()))
        )


@pytest.fixture
def report(request: pytest.FixtureRequest) -> Any:
    """``report(name, text)`` adds a line to the terminal summary (and prints it)."""
    stash = request.config.stash
    measured = stash.setdefault(_MEASUREMENTS, {})

    def add(name: str, text: str) -> None:
        measured[name] = text
        print(f"{name}: {text}")

    return add


class Speech:
    """Spoken commands made with espeak-ng: 22050 Hz as spoken, and 16 kHz mono via sox."""

    def __init__(self, directory: Path) -> None:
        for command in ("espeak-ng", "sox"):
            if shutil.which(command) is None:
                raise RuntimeError(f"{command} is missing: apt-get install espeak-ng sox")
        self.directory = directory
        self._made: dict[str, tuple[Path, Path]] = {}

    def raw(self, text: str) -> Path:
        """The espeak-ng output as it comes (22050 Hz mono)."""
        return self._make(text)[0]

    def __call__(self, text: str) -> Path:
        """The spoken text as a 16 kHz mono 16-bit WAV."""
        return self._make(text)[1]

    def _make(self, text: str) -> tuple[Path, Path]:
        if text not in self._made:
            stem = f"speech{len(self._made)}"
            raw = self.directory / f"{stem}-22k.wav"
            wav = self.directory / f"{stem}.wav"
            subprocess.run(
                ["espeak-ng", "-v", "en-us", "-s", "140", "-w", str(raw), text],
                check=True,
                capture_output=True,
                timeout=30,
            )
            subprocess.run(
                ["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(wav)],
                check=True,
                capture_output=True,
                timeout=30,
            )
            self._made[text] = (raw, wav)
        return self._made[text]


@pytest.fixture(scope="session")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Speech:
    return Speech(tmp_path_factory.mktemp("speech"))


@pytest.fixture(scope="session")
def sounds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Sounds that are not speech, as 16 kHz mono WAVs: silence, a key click, white noise."""
    directory = tmp_path_factory.mktemp("sounds")
    rng = np.random.default_rng(7)
    rate = 16_000
    silence = np.zeros(2 * rate)
    click = np.zeros(2 * rate)
    # A key click: 0.15 s of a decaying 2 kHz ring with a sharp noisy attack.
    t = np.arange(int(0.15 * rate)) / rate
    click[rate : rate + t.size] = 0.5 * np.sin(2 * np.pi * 2000 * t) * np.exp(-t / 0.02)
    click[rate : rate + 40] += rng.normal(0, 0.4, 40)
    noise = rng.normal(0, 0.15, 2 * rate)
    made = {}
    for name, signal in {"silence": silence, "click": click, "white_noise": noise}.items():
        path = directory / f"{name}.wav"
        sf.write(path, np.clip(signal, -1, 1), rate, subtype="PCM_16")
        made[name] = path
    return made


@pytest.fixture(scope="module")
def mic() -> Iterator[VirtualMicrophone]:
    """A private PulseAudio server with a null sink as the default microphone."""
    with VirtualMicrophone() as virtual:
        yield virtual


class RecorderProcess:
    """``mic_driver.py`` running a Recorder in its own process; its events read as they come.

    Another driver script that speaks the same JSON lines (the tray's controller, in
    tests/reliability_seams) can be given as ``driver``.
    """

    def __init__(self, env: dict[str, str], config: dict[str, Any], driver: Path = DRIVER) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(driver), json.dumps(config)],
            cwd=REPO,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._events: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._stderr: list[str] = []
        self._threads = [
            threading.Thread(target=self._read_events, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def expect(self, event: str, timeout: float = 10.0) -> dict[str, Any]:
        """Wait for the next event named ``event`` (others in between are skipped)."""
        while True:
            try:
                item = self._events.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(
                    f"no {event!r} event within {timeout} s; stderr:\n{self.stderr}"
                ) from None
            if item is None:
                self.proc.wait(timeout=5)
                raise AssertionError(
                    f"the recorder process ended (exit {self.proc.returncode}) before {event!r};"
                    f" stderr:\n{self.stderr}"
                )
            if item["event"] == event:
                return item

    def send(self, command: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def finish(self, timeout: float = 10.0) -> int:
        """Close its stdin, wait for it to exit, and return its exit status."""
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            self.proc.stdin.close()
        code = self.proc.wait(timeout=timeout)
        for thread in self._threads:
            thread.join(timeout=5)
        return code

    @property
    def stderr(self) -> str:
        return "".join(self._stderr)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)

    def _read_events(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("{"):
                self._events.put(json.loads(line))
        self._events.put(None)

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._stderr.append(line)


@pytest.fixture
def run_recorder() -> Iterator[Any]:
    """``run_recorder(env, **config)`` starts a recorder process; it is killed at teardown."""
    started: list[RecorderProcess] = []

    def start(env: dict[str, str], **config: Any) -> RecorderProcess:
        process = RecorderProcess(env, config)
        started.append(process)
        return process

    yield start
    for process in started:
        process.kill()

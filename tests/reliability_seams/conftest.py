"""Fixtures for the seam tests: the tray's controller in its own process on a virtual microphone."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from assistant.sim import SimulatedSpotify
from tests.support.pulse import VirtualMicrophone
from tests.voice_recording.conftest import RecorderProcess

TRAY_DRIVER = Path(__file__).with_name("tray_driver.py")


@pytest.fixture(scope="module")
def mic() -> Iterator[VirtualMicrophone]:
    """A private PulseAudio server with a null sink as the default microphone."""
    with VirtualMicrophone() as virtual:
        yield virtual


@pytest.fixture
def tray(mic: VirtualMicrophone, sim: SimulatedSpotify) -> Iterator[Callable[[], RecorderProcess]]:
    """``tray()`` starts the controller process against ``sim``; it ends at teardown.

    Answers a test's fault holds are let go first, so nothing waits on them after the test.
    """
    started: list[RecorderProcess] = []

    def start() -> RecorderProcess:
        config = {
            "api_url": sim.api_url,
            "accounts_url": sim.accounts_url,
            "refresh_token": sim.sign_in()["refresh_token"],
        }
        process = RecorderProcess(mic.environ(), config, driver=TRAY_DRIVER)
        started.append(process)
        process.expect("ready", timeout=30)
        return process

    yield start
    sim.clear_faults()
    for process in started:
        if process.proc.poll() is None:
            process.send("quit")
            try:
                process.finish(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()

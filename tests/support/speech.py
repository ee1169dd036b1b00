"""Spoken commands for tests: espeak-ng speech as 16 kHz recordings, and the local model.

Registered as a plugin in tests/conftest.py, so any test can ask for ``spoken`` (a session
fixture: ``spoken("pause")`` -> Recording) and ``whisper`` (the bundled tiny.en model, loaded
once per session).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from assistant.voice.audio import Recording
from assistant.voice.stt import LocalWhisper

# Silence around each spoken command, as between pressing the hotkey and speaking.
LEAD_SILENCE_S = 0.5


def speak_to_file(path: Path, text: str) -> Path:
    """Write ``text`` spoken by espeak-ng (US English, 140 words a minute) to the WAV ``path``."""
    subprocess.run(
        ["espeak-ng", "-v", "en-us", "-s", "140", "-w", str(path), text],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return path


class SpokenCommands:
    """Commands spoken by espeak-ng, as 16 kHz recordings padded with a little silence."""

    def __init__(self, directory: Path) -> None:
        if shutil.which("espeak-ng") is None:
            raise RuntimeError("espeak-ng is missing: apt-get install espeak-ng")
        self.directory = directory
        self._made: dict[str, Recording] = {}

    def __call__(self, text: str) -> Recording:
        if text not in self._made:
            path = speak_to_file(self.directory / f"command{len(self._made)}.wav", text)
            spoken = Recording.from_wav(path)
            pad = bytes(2 * int(LEAD_SILENCE_S * spoken.sample_rate))
            self._made[text] = Recording(pad + spoken.pcm + pad, spoken.sample_rate)
        return self._made[text]


@pytest.fixture(scope="session")
def spoken(tmp_path_factory: pytest.TempPathFactory) -> SpokenCommands:
    return SpokenCommands(tmp_path_factory.mktemp("spoken"))


@pytest.fixture(scope="session")
def whisper() -> LocalWhisper:
    """The bundled tiny.en model, loaded once for the session."""
    model = LocalWhisper()
    model.warm()
    return model

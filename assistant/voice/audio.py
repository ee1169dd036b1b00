"""Audio values and helpers: recordings, compact encodings for upload, and speech detection.

Everything here works on whole recordings held in memory; nothing is written to disk. This module
does not import sounddevice (PortAudio): reading a WAV file, encoding and detecting speech work on a
machine without a sound system. numpy, soundfile and webrtcvad are imported when first used, not
with the module: the tray imports these types at start and may idle for hours before a recording
(numpy alone is about 12 MB resident).

Measured on espeak-ng speech (16 kHz mono): FLAC about 17 kB per second of speech (lossless),
Ogg/Opus about 3.4 kB per second (libsndfile's default Opus bitrate).
"""

from __future__ import annotations

import io
import logging
import math
import os
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from assistant.errors import SpeechNotUnderstood, VoiceError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import webrtcvad  # type: ignore[import-untyped, unused-ignore]

logger = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
"""The rate of every ``Recording`` Segue makes: what recognisers want and webrtcvad takes."""

FRAME_SECONDS = 0.03
"""The speech detector judges audio in 30 ms frames (webrtcvad takes 10, 20 or 30 ms)."""

FRAME_SAMPLES = int(SAMPLE_RATE * FRAME_SECONDS)

AudioFormat = Literal["flac", "ogg"]

# Opus in libsndfile encodes only these rates.
_OPUS_RATES = frozenset({8_000, 12_000, 16_000, 24_000, 48_000})

# A level meter spans this many decibels below full scale: quieter reads 0, full scale reads 1.
_LEVEL_FLOOR_DB = 60.0


@dataclass(frozen=True)
class Recording:
    """A mono recording as 16-bit little-endian PCM.

    Attributes:
        pcm: The samples, two bytes each (signed, little-endian).
        sample_rate: Samples per second; ``SAMPLE_RATE`` for everything the recorder makes.
    """

    pcm: bytes
    sample_rate: int = SAMPLE_RATE

    @property
    def duration_s(self) -> float:
        """Length of the recording in seconds."""
        return (len(self.pcm) // 2) / self.sample_rate

    @property
    def is_digital_silence(self) -> bool:
        """Whether every sample is exactly zero: nothing reached the input, not even its hiss.

        A microphone in a room always sends some noise; exact zeros come from an input the
        system keeps closed (on macOS, one Segue has not been allowed to use) or a muted one.
        """
        return not self.pcm.strip(b"\x00")

    def samples(self) -> npt.NDArray[np.int16]:
        """The samples as a read-only int16 array (no copy)."""
        import numpy as np

        return np.frombuffer(self.pcm, dtype="<i2")

    @classmethod
    def from_wav(cls, source: str | os.PathLike[str] | bytes) -> Recording:
        """Read a sound file (WAV, FLAC, Ogg... whatever libsndfile reads) into a Recording.

        Several channels are averaged to one and any sample rate is converted to ``SAMPLE_RATE``.

        Args:
            source: A file path, or the file's bytes.

        Returns:
            The recording at ``SAMPLE_RATE``.

        Raises:
            VoiceError: The file is missing or is not audio libsndfile understands.
        """
        import soundfile as sf  # type: ignore[import-untyped, unused-ignore]

        name = "the audio data" if isinstance(source, bytes) else os.fspath(source)
        try:
            if isinstance(source, bytes):
                data, rate = sf.read(io.BytesIO(source), dtype="float64", always_2d=True)
            else:
                data, rate = sf.read(os.fspath(source), dtype="float64", always_2d=True)
        except (RuntimeError, OSError, TypeError) as err:
            # soundfile raises LibsndfileError (a RuntimeError) for unreadable and missing files.
            raise VoiceError(
                f"Segue could not read {name} as audio; give it a WAV or FLAC file."
            ) from err
        mono: npt.NDArray[np.float64] = data.mean(axis=1)
        if int(rate) != SAMPLE_RATE:
            mono = resample(mono, int(rate), SAMPLE_RATE)
        return cls(float_to_pcm16(mono), SAMPLE_RATE)

    def to_wav(self) -> bytes:
        """The recording as the bytes of a 16-bit PCM WAV file."""
        import soundfile as sf  # type: ignore[import-untyped, unused-ignore]

        buffer = io.BytesIO()
        sf.write(buffer, self.samples(), self.sample_rate, format="WAV", subtype="PCM_16")
        return buffer.getvalue()


@dataclass(frozen=True)
class EncodedAudio:
    """A recording encoded for upload.

    Attributes:
        data: The file's bytes.
        filename: A name with the extension speech-to-text services use to tell the format.
        mime: The media type of ``data``.
    """

    data: bytes
    filename: str
    mime: str


def opus_available() -> bool:
    """Whether the installed libsndfile can write Ogg/Opus (1.0.29 and later can)."""
    import soundfile as sf  # type: ignore[import-untyped, unused-ignore]

    return "OPUS" in sf.available_subtypes("OGG")


def encode(rec: Recording, fmt: AudioFormat = "flac") -> EncodedAudio:
    """Encode a recording compactly for upload.

    FLAC is lossless and about half the size of WAV for speech; Ogg/Opus is lossy and about a
    sixth of FLAC. Where libsndfile cannot write Opus, FLAC is sent instead (and logged).

    Args:
        rec: The recording.
        fmt: ``"flac"`` or ``"ogg"`` (Opus in an Ogg container).

    Returns:
        The encoded bytes with a filename and media type.

    Raises:
        SpeechNotUnderstood: The recording is empty (libsndfile writes no FLAC file for it).
    """
    import numpy as np
    import soundfile as sf  # type: ignore[import-untyped, unused-ignore]

    if not rec.pcm:
        raise SpeechNotUnderstood()
    if fmt == "ogg" and not opus_available():
        logger.warning("This libsndfile cannot write Ogg/Opus; sending FLAC instead")
        fmt = "flac"
    buffer = io.BytesIO()
    if fmt == "ogg":
        samples = rec.samples()
        rate = rec.sample_rate
        if rate not in _OPUS_RATES:
            samples = np.frombuffer(
                float_to_pcm16(resample(samples / 32768.0, rate, SAMPLE_RATE)), dtype="<i2"
            )
            rate = SAMPLE_RATE
        sf.write(buffer, samples, rate, format="OGG", subtype="OPUS")
        return EncodedAudio(buffer.getvalue(), "speech.ogg", "audio/ogg")
    sf.write(buffer, rec.samples(), rec.sample_rate, format="FLAC", subtype="PCM_16")
    return EncodedAudio(buffer.getvalue(), "speech.flac", "audio/flac")


def resample(
    samples: npt.NDArray[np.floating] | npt.NDArray[np.integer], from_rate: int, to_rate: int
) -> npt.NDArray[np.float64]:
    """Change the sample rate of a mono signal, band-limited (no aliasing).

    Works in the frequency domain: the spectrum is cut (or zero-padded) at the new Nyquist
    frequency. The signal is padded with 0.1 s of silence at each end first, so the wrap-around an
    FFT implies joins silence to silence.

    Args:
        samples: The signal (any numeric dtype; returned in the same units).
        from_rate: Its sample rate.
        to_rate: The wanted sample rate.

    Returns:
        ``round(len(samples) * to_rate / from_rate)`` samples as float64.
    """
    import numpy as np

    signal = np.asarray(samples, dtype=np.float64)
    if from_rate == to_rate:
        return signal.copy()
    if from_rate <= 0 or to_rate <= 0:
        raise ValueError(f"sample rates must be positive, not {from_rate} and {to_rate}")
    out_len = round(len(signal) * to_rate / from_rate)
    if len(signal) == 0 or out_len == 0:
        return np.zeros(out_len, dtype=np.float64)
    pad = from_rate // 10
    padded = np.concatenate([np.zeros(pad), signal, np.zeros(pad)])
    padded_out = round(len(padded) * to_rate / from_rate)
    spectrum = np.fft.rfft(padded)
    kept = np.zeros(padded_out // 2 + 1, dtype=np.complex128)
    bins = min(len(spectrum), len(kept))
    kept[:bins] = spectrum[:bins]
    result = np.fft.irfft(kept, n=padded_out) * (padded_out / len(padded))
    start = round(pad * to_rate / from_rate)
    return np.asarray(result[start : start + out_len], dtype=np.float64)


def float_to_pcm16(samples: npt.NDArray[np.float64]) -> bytes:
    """Convert samples in -1..1 to 16-bit little-endian PCM bytes (clipping what is outside)."""
    import numpy as np

    scaled = np.clip(np.round(samples * 32768.0), -32768, 32767)
    return scaled.astype("<i2").tobytes()


def level(pcm: bytes) -> float:
    """How loud a block of 16-bit PCM is, for a level meter: 0 (-60 dBFS or quieter) to 1.

    Args:
        pcm: 16-bit little-endian mono samples.

    Returns:
        The RMS level on a decibel scale, mapped to 0..1.
    """
    import numpy as np

    samples = np.frombuffer(pcm, dtype="<i2")
    if samples.size == 0:
        return 0.0
    rms = math.sqrt(float(np.mean(np.square(samples, dtype=np.float64)))) / 32768.0
    if rms <= 0.0:
        return 0.0
    decibels = 20.0 * math.log10(rms)
    return min(1.0, max(0.0, (decibels + _LEVEL_FLOOR_DB) / _LEVEL_FLOOR_DB))


class SpeechDetector:
    """Finds speech in 16 kHz audio with webrtcvad, 30 ms at a time.

    A frame counts as speech when all three agree:

    - it is louder than ``min_level_dbfs`` (webrtcvad alone calls faint hiss speech now and then);
    - webrtcvad says speech at the given aggressiveness;
    - its spectrum is not flat like noise (webrtcvad calls white noise and hiss speech at every
      aggressiveness; voiced speech has a spectral flatness near 0, white noise about 0.55).

    A key click or a short cue gives a few speech frames at most, so ``has_speech`` asks for
    ``min_speech_s`` (0.3 s) in total.

    ``is_speech_frame`` may be called from one thread at a time per detector (the recorder's
    worker); ``speech_seconds`` and ``has_speech`` are safe from any thread.
    """

    def __init__(
        self,
        *,
        aggressiveness: int = 2,
        min_level_dbfs: float = -55.0,
        max_flatness: float = 0.4,
    ) -> None:
        """Create a detector.

        Args:
            aggressiveness: webrtcvad's mode, 0 (lets most through) to 3 (strictest).
            min_level_dbfs: Frames quieter than this (RMS, dB below full scale) are not speech.
            max_flatness: Frames with a spectral flatness above this (0..1) are noise, not speech.

        Raises:
            ValueError: ``aggressiveness`` is not 0, 1, 2 or 3.
        """
        if aggressiveness not in (0, 1, 2, 3):
            raise ValueError(f"aggressiveness must be 0, 1, 2 or 3, not {aggressiveness!r}")
        self.aggressiveness = aggressiveness
        self._min_rms = 32768.0 * 10.0 ** (min_level_dbfs / 20.0)
        self._max_flatness = max_flatness
        # Made on first use (numpy and webrtcvad load then, not when Segue starts).
        self._window: npt.NDArray[np.float64] | None = None
        self._frame_vad: webrtcvad.Vad | None = None
        self._frame_lock = threading.Lock()

    def is_speech_frame(self, frame: bytes) -> bool:
        """Judge one frame: 30 ms (480 samples) of 16 kHz, 16-bit mono PCM.

        Args:
            frame: Exactly ``FRAME_SAMPLES`` samples (960 bytes).

        Returns:
            Whether the frame holds speech.
        """
        with self._frame_lock:
            if self._frame_vad is None:
                self._frame_vad = _vad(self.aggressiveness)
            return self._judge(self._frame_vad, frame)

    def speech_frames(self, rec: Recording) -> list[bool]:
        """Judge every whole 30 ms frame of a recording, in order."""
        pcm = rec.pcm
        if rec.sample_rate != SAMPLE_RATE:
            pcm = float_to_pcm16(resample(rec.samples() / 32768.0, rec.sample_rate, SAMPLE_RATE))
        vad = _vad(self.aggressiveness)
        frame_bytes = FRAME_SAMPLES * 2
        return [
            self._judge(vad, pcm[start : start + frame_bytes])
            for start in range(0, len(pcm) - frame_bytes + 1, frame_bytes)
        ]

    def speech_seconds(self, rec: Recording) -> float:
        """How many seconds of a recording are speech.

        Args:
            rec: The recording (converted to 16 kHz first if it is at another rate).

        Returns:
            The number of speech frames times 30 ms.
        """
        return sum(self.speech_frames(rec)) * FRAME_SECONDS

    def has_speech(self, rec: Recording, min_speech_s: float = 0.3) -> bool:
        """Whether a recording holds enough speech to be worth transcribing.

        Args:
            rec: The recording.
            min_speech_s: Seconds of speech needed; silence, a key click or a cough stay below.

        Returns:
            True when ``speech_seconds(rec) >= min_speech_s``.
        """
        return self.speech_seconds(rec) >= min_speech_s

    def _judge(self, vad: webrtcvad.Vad, frame: bytes) -> bool:
        import numpy as np

        if self._window is None:
            self._window = np.hanning(FRAME_SAMPLES)
        samples = np.frombuffer(frame, dtype="<i2").astype(np.float64)
        if samples.size != FRAME_SAMPLES:
            raise ValueError(f"a frame is {FRAME_SAMPLES} samples, not {samples.size}")
        if math.sqrt(float(np.mean(samples * samples))) < self._min_rms:
            return False
        if not vad.is_speech(frame, SAMPLE_RATE):
            return False
        return _spectral_flatness(samples * self._window) <= self._max_flatness


def _spectral_flatness(frame: npt.NDArray[np.float64]) -> float:
    """Geometric over arithmetic mean of the power spectrum from 100 Hz up: 0 tonal, ~0.56 white."""
    import numpy as np

    power = np.abs(np.fft.rfft(frame))[3:] ** 2 + 1e-9
    return float(np.exp(np.mean(np.log(power))) / np.mean(power))


def _vad(aggressiveness: int) -> webrtcvad.Vad:
    import webrtcvad  # type: ignore[import-untyped, unused-ignore]

    return webrtcvad.Vad(aggressiveness)

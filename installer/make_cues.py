"""Generate the start and stop cues in resources/sounds/ (the generated files are committed).

Usage: python installer/make_cues.py [OUTPUT_DIR]

Each cue is two short sine tones, 60 ms each with 8 ms fades (no clicks), 16-bit mono at 22.05 kHz:
``cue_start.wav`` rises (A5 then E6), ``cue_stop.wav`` falls (E6 then A5). The output is the same
byte for byte on every run and every machine (only the standard library is used).
"""

from __future__ import annotations

import math
import struct
import sys
import wave
from pathlib import Path

RATE = 22_050
TONE_S = 0.06
FADE_S = 0.008
LEVEL = 0.35  # peak amplitude (about -9 dBFS): audible, not startling
LOW_HZ = 880.0
HIGH_HZ = 1318.5

DEFAULT_DIR = Path(__file__).resolve().parents[1] / "resources" / "sounds"


def tone(freq_hz: float) -> list[float]:
    """One tone with raised-cosine fades at both ends."""
    count = round(TONE_S * RATE)
    fade = round(FADE_S * RATE)
    samples = []
    for n in range(count):
        gain = 1.0
        if n < fade:
            gain = 0.5 - 0.5 * math.cos(math.pi * n / fade)
        elif n >= count - fade:
            gain = 0.5 - 0.5 * math.cos(math.pi * (count - 1 - n) / fade)
        samples.append(LEVEL * gain * math.sin(2.0 * math.pi * freq_hz * n / RATE))
    return samples


def cue(freqs: tuple[float, float]) -> bytes:
    """Two tones in a row as 16-bit little-endian PCM."""
    samples = tone(freqs[0]) + tone(freqs[1])
    return b"".join(struct.pack("<h", round(s * 32767)) for s in samples)


def write_wav(path: Path, pcm: bytes) -> None:
    """Write mono 16-bit PCM as a WAV file."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(pcm)


def main(argv: list[str]) -> int:
    """Write both cues into the given folder (default: resources/sounds)."""
    folder = Path(argv[1]) if len(argv) > 1 else DEFAULT_DIR
    folder.mkdir(parents=True, exist_ok=True)
    write_wav(folder / "cue_start.wav", cue((LOW_HZ, HIGH_HZ)))
    write_wav(folder / "cue_stop.wav", cue((HIGH_HZ, LOW_HZ)))
    print(f"wrote cue_start.wav and cue_stop.wav in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

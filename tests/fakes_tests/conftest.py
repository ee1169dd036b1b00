from __future__ import annotations

import io
import math
import struct
import wave

import pytest

from tests.fakes.pytest_plugin import fake_openai  # noqa: F401


@pytest.fixture
def wav_bytes() -> bytes:
    """A 0.5 s, 16 kHz, mono 16-bit 440 Hz sine as a WAV file."""
    rate = 16_000
    frames = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate)))
        for i in range(rate // 2)
    )
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(frames)
    return buffer.getvalue()

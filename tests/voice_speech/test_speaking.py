"""Spoken replies and cues: what comes out of the (virtual) speakers, and barge-in.

Tests that listen run the speaker in ``speaker_driver.py`` under a private PulseAudio server and
record the null sink's monitor with ``parec``: sound there is sound a person would hear.
"""

from __future__ import annotations

import logging
import math
import time
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import openai
import pytest

from assistant.voice.audio import Recording
from assistant.voice.cues import CUE_FILES, SOUNDS_DIR, Cues
from assistant.voice.stt import LocalWhisper
from assistant.voice.tts import OPENAI_PCM_RATE, OpenAIVoice, SilentVoice, SystemVoice
from tests.fakes.openai_server import FakeOpenAI
from tests.voice_speech.conftest import REPO, SinkListener, SpeakerProcess

LONG_REPLY = (
    "Playing Deep Work, a playlist of forty two calm pieces for concentrating, starting with "
    "Clair de Lune by Claude Debussy, then Gymnopedie number one by Erik Satie."
)

StartSpeaker = Callable[[dict[str, Any]], SpeakerProcess]


# --------------------------------------------------------------------------------------------
# The system voice
# --------------------------------------------------------------------------------------------


def test_the_system_voice_speaks_without_blocking_and_stops_at_once(
    speaker_process: StartSpeaker, sink: SinkListener, report: Callable[[str, str], None]
) -> None:
    speaker = speaker_process({"speaker": "system"})
    assert speaker.expect("ready")["available"] is True

    speaker.send(f"say {LONG_REPLY}")
    said = speaker.expect("said")
    assert said["seconds"] < 0.05  # say() hands the reply to the speaker's thread and returns
    assert said["speaking"] is True
    began = sink.wait_for_sound(after=said["t"], timeout=5)
    assert began is not None, f"the reply never reached the speakers; {speaker.stderr}"
    assert began - said["t"] < 1.5

    # Barge-in: the hotkey is pressed while Segue speaks (the reply lasts about 9 s).
    assert sink.wait_for(lambda blocks: blocks[-1][0] > began + 0.5, 5)
    speaker.send("stop")
    stopped = speaker.expect("stopped")
    assert stopped["speaking"] is False
    quiet = sink.wait_for_silence(after=stopped["t"], lasting=1.0, timeout=5)
    assert quiet is not None
    assert quiet - stopped["t"] < 0.3, "speech went on after stop()"
    assert sink.loud_seconds(began, stopped["t"]) > 0.3
    report(
        "system voice",
        f"first sound {1000 * (began - said['t']):.0f} ms after say(); silent "
        f"{1000 * max(0.0, quiet - stopped['t']):.0f} ms after stop()",
    )


def test_a_short_reply_is_spoken_to_the_end(
    speaker_process: StartSpeaker, sink: SinkListener
) -> None:
    speaker = speaker_process({"speaker": "system"})
    speaker.expect("ready")

    speaker.send("say Paused.")
    said = speaker.expect("said")
    idle = speaker.expect("idle", timeout=10)
    assert sink.loud_seconds(said["t"], idle["t"] + 0.3) > 0.2


def test_a_sentence_said_after_waits_for_the_one_being_said(
    speaker_process: StartSpeaker, sink: SinkListener
) -> None:
    # A reply read while the model writes it: the next sentence follows, it does not cut in.
    speaker = speaker_process({"speaker": "system"})
    speaker.expect("ready")

    speaker.send("say Radiohead formed in Abingdon, Oxfordshire, in nineteen eighty five.")
    said = speaker.expect("said")
    speaker.send("after Paused.")
    assert speaker.expect("said")["speaking"] is True
    idle = speaker.expect("idle", timeout=20)

    # The long sentence alone lasts about 3 s, "Paused." under 1 s: both were heard in full.
    assert sink.loud_seconds(said["t"], idle["t"] + 0.3) > 2.5


def test_the_system_voice_renders_intelligible_speech(
    tmp_path: Path, whisper: LocalWhisper
) -> None:
    voice = SystemVoice()
    try:
        path = tmp_path / "reply.wav"
        assert voice.synthesize("Skipped to the next song.", path)
    finally:
        voice.close()
    with wave.open(str(path)) as wav:
        assert wav.getnframes() / wav.getframerate() > 0.8
    heard = whisper.transcribe(Recording.from_wav(path)).text
    assert "next song" in heard.lower()


def test_no_voice_engine_means_one_warning_and_silence(caplog: pytest.LogCaptureFixture) -> None:
    voice = SystemVoice(driver="no-such-driver")  # as on a system without espeak-ng
    try:
        with caplog.at_level(logging.WARNING, logger="assistant.voice.tts"):
            voice.say("Paused.")  # never raises
            assert voice.wait(timeout=20)
            voice.say("Skipped.")
            assert voice.wait(timeout=5)
    finally:
        voice.close()
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert warnings[0].startswith("No system voice is available")
    assert warnings[0].endswith("Replies will not be spoken.")
    assert not voice.speaking


def test_no_sound_output_means_one_warning_and_silence(caplog: pytest.LogCaptureFixture) -> None:
    voice = SystemVoice(device="no such output device")
    try:
        with caplog.at_level(logging.WARNING, logger="assistant.voice.tts"):
            voice.say("Paused.")
            assert voice.wait(timeout=20)
            voice.say("Skipped.")
            assert voice.wait(timeout=5)
    finally:
        voice.close()
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith("Segue cannot play sound")


def test_the_silent_voice_says_nothing() -> None:
    voice = SilentVoice()
    voice.say("Paused.")
    assert not voice.speaking
    assert voice.wait(0)
    voice.stop()


# --------------------------------------------------------------------------------------------
# OpenAI voices
# --------------------------------------------------------------------------------------------


def _tone(seconds: float, rate: int = OPENAI_PCM_RATE) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * 32767 * np.sin(2 * math.pi * 440 * t)).astype("<i2").tobytes()


def test_an_openai_voice_reaches_the_speakers(
    fake_openai: FakeOpenAI, speaker_process: StartSpeaker, sink: SinkListener
) -> None:
    def check(body: dict[str, Any]) -> None:
        assert body == {
            "model": "gpt-4o-mini-tts",
            "voice": "coral",
            "input": "Playing Deep Work.",
            "response_format": "pcm",
        }

    fake_openai.speech(_tone(1.0), check=check)
    speaker = speaker_process(
        {
            "speaker": "openai",
            "base_url": fake_openai.base_url,
            "model": "gpt-4o-mini-tts",
            "voice": "coral",
        }
    )
    speaker.expect("ready")

    speaker.send("say Playing Deep Work.")
    said = speaker.expect("said")
    assert said["seconds"] < 0.05
    began = sink.wait_for_sound(after=said["t"], timeout=5)
    assert began is not None
    idle = speaker.expect("idle", timeout=10)
    assert 0.7 < sink.loud_seconds(said["t"], idle["t"] + 0.3) < 1.5


def test_a_failing_openai_voice_logs_one_line(
    fake_openai: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    fake_openai.error(503, endpoint="speech")
    client = openai.OpenAI(api_key="sk-test", base_url=fake_openai.base_url)
    voice = OpenAIVoice(client, timeout_s=5)
    try:
        with caplog.at_level(logging.WARNING, logger="assistant.voice.tts"):
            voice.say("Paused.")
            fake_openai.wait_for_requests(1)
            assert voice.wait(timeout=5)
    finally:
        voice.close()
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == [
        "OpenAI's speech service did not speak the reply (InternalServerError); "
        "it was shown instead."
    ]


def test_stop_drops_an_openai_reply_still_on_its_way(fake_openai: FakeOpenAI) -> None:
    fake_openai.speech(_tone(1.0), delay=0.5)
    client = openai.OpenAI(api_key="sk-test", base_url=fake_openai.base_url)
    voice = OpenAIVoice(client, timeout_s=5, device="no such output device")
    try:
        voice.say("Playing Deep Work.")
        fake_openai.wait_for_requests(1)
        voice.stop()
        assert not voice.speaking
        assert voice.wait(0)
    finally:
        voice.close()


# --------------------------------------------------------------------------------------------
# Cues
# --------------------------------------------------------------------------------------------


def test_cues_play_into_the_speakers(speaker_process: StartSpeaker, sink: SinkListener) -> None:
    speaker = speaker_process({"speaker": "cues", "enabled": True})
    speaker.expect("ready")

    for name in ("start", "stop"):
        asked = time.monotonic()
        speaker.send(f"cue {name}")
        cue = speaker.expect("cue")
        assert cue["played"] is True
        assert cue["returned"] - asked < 0.2  # play() returns before the cue is over
        assert cue["duration_s"] == pytest.approx(0.12, abs=0.01)
        assert sink.wait_for_sound(after=asked, timeout=3) is not None
        quiet = sink.wait_for_silence(after=cue["t"], lasting=0.3, timeout=3)
        assert quiet is not None
        assert 0.04 < sink.loud_seconds(asked, quiet) < 0.3


def test_cues_turned_off_play_nothing(speaker_process: StartSpeaker, sink: SinkListener) -> None:
    speaker = speaker_process({"speaker": "cues", "enabled": False})
    speaker.expect("ready")
    asked = time.monotonic()

    speaker.send("cue start")
    assert speaker.expect("cue")["played"] is False

    quiet = sink.wait_for_silence(after=asked, lasting=0.5, timeout=3)
    assert quiet is not None
    assert sink.loud_seconds(asked, quiet + 0.5) == 0


def _dominant_hz(samples: np.ndarray[Any, Any], rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.argmax(spectrum) * rate / len(samples))


@pytest.mark.parametrize(("name", "rising"), [("start", True), ("stop", False)])
def test_the_committed_cues_are_what_make_cues_generates(
    tmp_path: Path, name: str, rising: bool
) -> None:
    import subprocess
    import sys

    subprocess.run(
        [sys.executable, str(REPO / "installer" / "make_cues.py"), str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=30,
    )
    committed = SOUNDS_DIR / CUE_FILES[name]
    assert committed.read_bytes() == (tmp_path / CUE_FILES[name]).read_bytes()
    assert committed.stat().st_size < 10_000
    with wave.open(str(committed)) as wav:
        rate = wav.getframerate()
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2") / 32768.0
    half = len(samples) // 2
    first, second = _dominant_hz(samples[:half], rate), _dominant_hz(samples[half:], rate)
    assert (second > first * 1.3) if rising else (first > second * 1.3)
    assert 0.1 < np.abs(samples).max() < 0.5


def test_cues_without_sound_output_warn_once(caplog: pytest.LogCaptureFixture) -> None:
    cues = Cues(device="no such output device")
    with caplog.at_level(logging.DEBUG, logger="assistant.voice.cues"):
        assert cues.play_start() is None
        assert cues.play_stop() is None
    levels = [r.levelno for r in caplog.records]
    assert levels == [logging.WARNING, logging.DEBUG]

"""The real microphone path: PortAudio -> ALSA -> PulseAudio, fed by ``paplay`` into a null sink.

Each recorder runs in its own process (``mic_driver.py``) started with the virtual microphone's
environment, because PortAudio finds its devices once per process. Tests wait for the recorder's
events (first audio, recording over); the only waiting otherwise is the audio playing.
"""

from __future__ import annotations

import os
import time

import pytest

from assistant.voice.audio import FRAME_SECONDS, Recording, SpeechDetector
from tests.support.pulse import VirtualMicrophone

COMMAND = "play bohemian rhapsody by queen"


def spoken_extent(path) -> tuple[float, float]:
    """(seconds of speech, seconds of silence after the last speech) in a WAV file."""
    detector = SpeechDetector()
    rec = Recording.from_wav(path)
    frames = detector.speech_frames(rec)
    last = max(i for i, speech in enumerate(frames) if speech)
    return detector.speech_seconds(rec), rec.duration_s - (last + 1) * FRAME_SECONDS


def assert_no_traceback(process) -> None:
    assert "Traceback" not in process.stderr, process.stderr


def test_hands_free_recording_stops_by_itself_after_the_speech(
    mic, speech, run_recorder, report
) -> None:
    wav = speech(COMMAND)
    spoken_s, trailing_s = spoken_extent(wav)
    recorder = run_recorder(mic.environ(), mode="hands_free", end_silence_s=0.8)
    recorder.expect("live", timeout=10)
    mic.play(wav)
    played_at = time.monotonic()
    ended = recorder.expect("ended", timeout=10)
    result = recorder.expect("result")
    assert recorder.finish() == 0
    # The recording ended about end_silence_s after the last word, by itself.
    latency = ended["t"] - (played_at - trailing_s)
    report("hands-free end of speech -> recording over", f"{latency:.2f} s (end_silence_s 0.8)")
    assert 0.6 <= latency <= 1.5
    # It holds the whole command: as much speech as the file has.
    assert result["has_speech"]
    assert result["speech_seconds"] == pytest.approx(spoken_s, abs=0.3)
    assert result["last_recording"] == {k: result[k] for k in result["last_recording"]}
    # The UI's level meter moved while the command was spoken.
    assert result["levels"] > result["duration_s"] / FRAME_SECONDS * 0.9
    assert result["max_level"] > 0.5
    assert not result["recording"]
    assert_no_traceback(recorder)


def test_hold_to_talk_records_from_start_to_stop_on_the_hotkey_thread(
    mic, speech, run_recorder
) -> None:
    wav = speech(COMMAND)
    spoken_s, _ = spoken_extent(wav)
    # The device is chosen by name, case-insensitively ("pulse" is ALSA's PulseAudio device).
    recorder = run_recorder(mic.environ(), mode="hold", device="PULSE")
    recorder.send("start")
    recorder.expect("live")
    mic.play(wav)
    recorder.send("stop")
    result = recorder.expect("result")
    recorder.send("quit")
    assert recorder.finish() == 0
    assert result["device_name"] == "pulse"
    assert result["has_speech"]
    assert result["speech_seconds"] == pytest.approx(spoken_s, abs=0.3)
    assert result["duration_s"] >= spoken_s
    assert_no_traceback(recorder)


def test_cancel_drops_the_recording_and_keeps_the_previous_one(mic, speech, run_recorder) -> None:
    recorder = run_recorder(mic.environ(), mode="hold")
    recorder.send("start")
    recorder.expect("live")
    mic.play(speech("pause"))
    recorder.send("stop")
    first = recorder.expect("result")
    recorder.send("start")
    recorder.expect("live")
    recorder.send("cancel")
    cancelled = recorder.expect("result")
    recorder.send("quit")
    assert recorder.finish() == 0
    assert first["has_speech"]
    assert cancelled["duration_s"] is None
    assert not cancelled["recording"]
    # "Try again" still has the last real recording.
    assert cancelled["last_recording"]["duration_s"] == first["duration_s"]


def test_silence_and_a_key_click_are_nothing_heard(mic, sounds, run_recorder) -> None:
    recorder = run_recorder(mic.environ(), mode="hands_free", start_timeout_s=1.5)
    recorder.expect("live")
    mic.play(sounds["click"])  # 1 s of silence, a 0.15 s click, 1 s of silence
    result = recorder.expect("result", timeout=10)
    assert recorder.finish() == 0
    # No speech began, so the recording ended at the start timeout; the caller says
    # "I didn't hear anything" without calling any speech-to-text service.
    assert result["duration_s"] == pytest.approx(1.5, abs=0.1)
    assert not result["has_speech"]
    assert result["levels"] > 0


def test_recording_stops_at_max_seconds(mic, speech, run_recorder) -> None:
    recorder = run_recorder(mic.environ(), mode="hold", max_seconds=1.0)
    recorder.send("start")
    recorder.expect("live")
    mic.play(speech(COMMAND))  # 2.7 s of speech, longer than the cap
    recorder.expect("ended")  # before the key was let go
    recorder.send("stop")
    result = recorder.expect("result")
    recorder.send("quit")
    assert recorder.finish() == 0
    assert result["duration_s"] == pytest.approx(1.0, abs=1e-6)
    assert result["has_speech"]


def test_an_unknown_device_name_names_it_and_lists_the_microphones(mic, run_recorder) -> None:
    recorder = run_recorder(mic.environ(), mode="hands_free", device="Imaginary USB Mic")
    error = recorder.expect("error")
    assert recorder.finish() == 3
    assert error["type"] == "MicrophoneUnavailable"
    assert "“Imaginary USB Mic” was not found" in error["message"]
    assert "“pulse”" in error["message"]
    assert "“default”" in error["message"]
    assert_no_traceback(recorder)


@pytest.mark.parametrize(
    ("device", "expected"),
    [
        (None, "No microphone was found"),
        ("Desk Mic", "“Desk Mic” was not found and no other microphone is available"),
    ],
)
def test_no_input_device_is_reported_in_one_sentence(
    tmp_path, run_recorder, device, expected
) -> None:
    # No sound server to reach (and no sound card on a test machine): PortAudio lists nothing.
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    client_conf = tmp_path / "client.conf"
    client_conf.write_text("autospawn = no\n")
    env = {
        **os.environ,
        "XDG_RUNTIME_DIR": str(runtime),
        "PULSE_SERVER": f"unix:{runtime}/no-server",
        "PULSE_CLIENTCONFIG": str(client_conf),
        "PULSE_COOKIE": str(tmp_path / "cookie"),
    }
    recorder = run_recorder(env, mode="hands_free", device=device)
    error = recorder.expect("error")
    assert recorder.finish() == 3
    assert error["type"] == "MicrophoneUnavailable"
    assert expected in error["message"]
    assert error["last_recording"]["duration_s"] is None
    assert_no_traceback(recorder)


def test_missing_portaudio_says_what_to_install(mic, run_recorder) -> None:
    recorder = run_recorder(mic.environ(), mode="no_portaudio")
    error = recorder.expect("error")
    assert recorder.finish() == 3
    assert error["type"] == "MicrophoneUnavailable"
    assert "libportaudio2" in error["message"]
    assert_no_traceback(recorder)


def test_a_microphone_that_vanishes_keeps_what_was_heard(speech, run_recorder) -> None:
    wav = speech(COMMAND)
    spoken_s, _ = spoken_extent(wav)
    with VirtualMicrophone() as own_mic:  # its sink is removed: not shared with other tests
        recorder = run_recorder(own_mic.environ(), mode="hold")
        recorder.send("start")
        recorder.expect("live")
        own_mic.play(wav)
        own_mic.remove_sink()  # unplugged
        recorder.expect("ended", timeout=5)
        recorder.send("stop")
        error = recorder.expect("error")
        recorder.send("quit")
        assert recorder.finish() == 3
    assert error["type"] == "MicrophoneUnavailable"
    assert "stopped" in error["message"]
    assert "“default”" in error["message"]
    # Nothing lost: the command spoken before the microphone went is kept for "try again".
    assert error["last_recording"]["speech_seconds"] == pytest.approx(spoken_s, abs=0.3)
    assert_no_traceback(recorder)


def test_a_microphone_that_stalls_is_reported_and_keeps_what_was_heard(
    speech, run_recorder
) -> None:
    wav = speech("pause the music")
    spoken_s, _ = spoken_extent(wav)
    with VirtualMicrophone() as own_mic:
        recorder = run_recorder(own_mic.environ(), mode="hold", stall_timeout_s=1.0)
        recorder.send("start")
        recorder.expect("live")
        own_mic.play(wav)
        own_mic.suspend_sink()  # listed, but no more audio (a Bluetooth headset dropping out)
        recorder.expect("ended", timeout=5)  # by itself, before the key is let go
        recorder.send("stop")
        error = recorder.expect("error")
        recorder.send("quit")
        assert recorder.finish() == 3
    assert error["type"] == "MicrophoneUnavailable"
    assert "stopped sending sound" in error["message"]
    assert error["last_recording"]["speech_seconds"] == pytest.approx(spoken_s, abs=0.3)
    assert_no_traceback(recorder)


def test_a_microphone_that_sends_nothing_is_reported(run_recorder) -> None:
    with VirtualMicrophone() as own_mic:
        own_mic.suspend_sink()  # opens fine, never delivers audio (held by another program)
        recorder = run_recorder(own_mic.environ(), mode="hands_free", first_audio_timeout_s=1.0)
        error = recorder.expect("error", timeout=10)
        assert recorder.finish() == 3
    assert error["type"] == "MicrophoneUnavailable"
    assert "“default” sent no sound" in error["message"]
    assert error["last_recording"]["duration_s"] == 0.0
    assert_no_traceback(recorder)

"""Recordings, upload encodings and speech detection, on espeak-ng speech and made-up sounds."""

from __future__ import annotations

import io
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from assistant.errors import SpeechNotUnderstood, VoiceError
from assistant.voice.audio import SAMPLE_RATE, Recording, SpeechDetector, encode, level

COMMANDS = [
    "play bohemian rhapsody by queen",
    "pause",
    "skip this song",
    "set the volume to thirty",
    "add this to my deep focus playlist",
]


def test_flac_upload_is_lossless_and_half_the_size_of_wav(speech, report) -> None:
    recs = [Recording.from_wav(speech(text)) for text in COMMANDS]
    seconds = sum(r.duration_s for r in recs)
    sizes = 0
    for rec in recs:
        encoded = encode(rec)
        assert (encoded.filename, encoded.mime) == ("speech.flac", "audio/flac")
        assert Recording.from_wav(encoded.data) == rec  # decodes to exactly what was recorded
        sizes += len(encoded.data)
    per_second = sizes / seconds
    report("FLAC upload", f"{per_second:,.0f} bytes per second of speech")
    assert per_second < 0.7 * SAMPLE_RATE * 2  # raw 16-bit PCM is 32,000 bytes per second


def test_ogg_opus_upload_is_a_fraction_of_flac(speech, report) -> None:
    rec = Recording.from_wav(speech(COMMANDS[0]))
    encoded = encode(rec, "ogg")
    assert (encoded.filename, encoded.mime) == ("speech.ogg", "audio/ogg")
    data, rate = sf.read(io.BytesIO(encoded.data), dtype="int16")
    assert rate == SAMPLE_RATE
    assert abs(len(data) / rate - rec.duration_s) < 0.05
    # Lossy, but the words are still there: the decoded audio is as much speech as the original.
    detector = SpeechDetector()
    decoded = Recording(data.astype("<i2").tobytes())
    assert detector.speech_seconds(decoded) == pytest.approx(detector.speech_seconds(rec), abs=0.25)
    per_second = len(encoded.data) / rec.duration_s
    report("Ogg/Opus upload", f"{per_second:,.0f} bytes per second of speech")
    assert per_second < len(encode(rec).data) / rec.duration_s / 3


def test_an_empty_recording_is_nothing_heard() -> None:
    with pytest.raises(SpeechNotUnderstood, match="didn't hear anything"):
        encode(Recording(b""))
    assert not SpeechDetector().has_speech(Recording(b""))


@pytest.mark.parametrize("text", COMMANDS)
def test_spoken_commands_are_speech(speech, text) -> None:
    rec = Recording.from_wav(speech(text))
    detector = SpeechDetector()
    assert detector.has_speech(rec)
    # espeak pads each command with a little silence; most of the rest counts as speech.
    assert detector.speech_seconds(rec) > 0.5 * rec.duration_s


@pytest.mark.parametrize("name", ["silence", "click", "white_noise"])
def test_sounds_that_are_not_speech_are_not_heard(sounds, name) -> None:
    rec = Recording.from_wav(sounds[name])
    detector = SpeechDetector()
    assert not detector.has_speech(rec), detector.speech_seconds(rec)


def test_speech_over_quiet_noise_is_still_speech(speech) -> None:
    rec = Recording.from_wav(speech(COMMANDS[0]))
    rng = np.random.default_rng(3)
    noisy = np.clip(rec.samples() + rng.normal(0, 300, rec.samples().size), -32768, 32767)
    detector = SpeechDetector()
    assert detector.speech_seconds(Recording(noisy.astype("<i2").tobytes())) > 0.5 * rec.duration_s


def test_from_wav_resamples_espeak_22050_hz_like_sox(speech) -> None:
    raw = speech.raw(COMMANDS[0])
    assert sf.info(raw).samplerate == 22_050
    rec = Recording.from_wav(raw)
    reference = Recording.from_wav(speech(COMMANDS[0]))  # sox's resampling
    assert rec.sample_rate == SAMPLE_RATE
    assert len(rec.pcm) == len(reference.pcm)
    ours = rec.samples().astype(float)
    theirs = reference.samples().astype(float)
    assert np.corrcoef(ours, theirs)[0, 1] > 0.98
    assert SpeechDetector().has_speech(rec)


def test_from_wav_downmixes_stereo_44100_and_keeps_pitch(tmp_path) -> None:
    rate = 44_100
    t = np.arange(rate) / rate
    tone = 0.5 * np.sin(2 * np.pi * 440 * t)
    path = tmp_path / "stereo.wav"
    sf.write(path, np.stack([tone, tone], axis=1), rate, subtype="PCM_16")
    rec = Recording.from_wav(path)
    assert rec.duration_s == pytest.approx(1.0, abs=1 / SAMPLE_RATE)
    spectrum = np.abs(np.fft.rfft(rec.samples().astype(float)))
    assert np.argmax(spectrum) * SAMPLE_RATE / rec.samples().size == pytest.approx(440, abs=2)
    assert np.max(np.abs(rec.samples())) == pytest.approx(0.5 * 32768, rel=0.02)


def test_from_wav_rejects_a_file_that_is_not_audio(tmp_path) -> None:
    path = tmp_path / "notes.wav"
    path.write_text("not audio")
    with pytest.raises(VoiceError, match=r"notes\.wav"):
        Recording.from_wav(path)
    with pytest.raises(VoiceError):
        Recording.from_wav(tmp_path / "missing.wav")


def test_wav_round_trip(speech) -> None:
    rec = Recording.from_wav(speech(COMMANDS[1]))
    assert Recording.from_wav(rec.to_wav()) == rec


def test_level_meter_spans_silence_to_full_scale() -> None:
    full = (np.ones(480) * 32767).astype("<i2").tobytes()
    quiet = (np.ones(480) * 33).astype("<i2").tobytes()  # -60 dBFS
    speechy = (np.sin(np.arange(480) / 5) * 3000).astype("<i2").tobytes()
    assert level(b"") == 0.0
    assert level(bytes(960)) == 0.0
    assert level(quiet) == pytest.approx(0.0, abs=0.01)
    assert level(full) == pytest.approx(1.0, abs=0.01)
    assert 0.4 < level(speechy) < 0.8


def test_audio_module_does_not_load_portaudio() -> None:
    probe = (
        "import sys, assistant.voice.audio, assistant.voice.recorder; "
        "assert 'sounddevice' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", probe], check=True, timeout=30)


def test_speech_detector_hears_a_device_that_records_at_48_khz(speech) -> None:
    """Devices that cannot record at 16 kHz are captured at their own rate and converted."""
    from assistant.voice.recorder import _LinearResampler

    rec = Recording.from_wav(speech(COMMANDS[0]))
    at_48k = rec.samples().repeat(3)  # 16 -> 48 kHz by repetition; the resampler goes back
    to_16k = _LinearResampler(48_000, 16_000)
    blocks = [at_48k[i : i + 1440].tobytes() for i in range(0, at_48k.size, 1440)]
    back = Recording(b"".join(to_16k(block) for block in blocks))
    assert abs(back.duration_s - rec.duration_s) < 0.01
    n = min(back.samples().size, rec.samples().size)
    assert np.corrcoef(back.samples()[:n], rec.samples()[:n])[0, 1] > 0.95
    assert SpeechDetector().speech_seconds(back) == pytest.approx(
        SpeechDetector().speech_seconds(rec), abs=0.2
    )

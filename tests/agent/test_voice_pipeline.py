"""Spoken commands through Pipeline.handle: speech detection, speech to text, "try again".

Speech is espeak-ng's; it reaches the real recognisers: the scripted fake OpenAI server (over
real HTTP, requests checked against the OpenAI spec) and the bundled local Whisper model.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import openai
import pytest

from assistant.agent.agent import NOTHING_TO_RETRY, QUESTION_TTL
from assistant.agent.vocabulary import SpotifyVocabulary
from assistant.pipeline import (
    MICROPHONE_NOT_ALLOWED,
    NO_SPEECH_TO_TEXT,
    NOTHING_HEARD,
    RESEND_HINT,
    Pipeline,
    Utterance,
)
from assistant.sim import SimulatedSpotify
from assistant.voice.audio import Recording, SpeechDetector
from assistant.voice.stt import LocalWhisper, OpenAISpeechToText
from tests.agent.conftest import Clock, Segue
from tests.fakes.openai_server import FakeOpenAI
from tests.support.speech import SpokenCommands


def openai_stt(fake: FakeOpenAI) -> OpenAISpeechToText:
    sdk = openai.OpenAI(api_key="sk-test", base_url=fake.base_url, timeout=5, max_retries=0)
    return OpenAISpeechToText(sdk, model="gpt-transcribe", language="en")


def voice(segue: Segue, stt: object, **options: object) -> Pipeline:
    return Pipeline(
        segue.agent,
        stt=stt,  # type: ignore[arg-type]
        detector=SpeechDetector(),
        vocabulary=SpotifyVocabulary(segue.client),
        **options,  # type: ignore[arg-type]
    )


def said(pipeline: Pipeline, recording: Recording) -> object:
    return pipeline.handle(Utterance(text=None, audio=recording, source="voice"))


def test_a_spoken_command_goes_to_openai_with_the_persons_names(
    segue: Callable[..., Segue],
    sim: SimulatedSpotify,
    fake_openai: FakeOpenAI,
    spoken: SpokenCommands,
) -> None:
    def check(fields: dict[str, object]) -> None:
        assert fields["model"] == "gpt-transcribe" and fields["language"] == "en"
        assert "Deep Work" in fields["keywords"]  # type: ignore[operator]
        upload = fields["file"]
        assert isinstance(upload, dict) and upload["filename"].endswith(".flac")

    fake_openai.transcription("play Creep by Radiohead", check=check)
    pipeline = voice(segue(llm=False), openai_stt(fake_openai))
    reply = pipeline.handle(Utterance(text=None, audio=spoken("play creep by radiohead")))
    assert reply.ok and reply.transcript == "play Creep by Radiohead"
    assert reply.text == "Playing “Creep” by Radiohead."
    assert sim.snapshot()["is_playing"]
    uploaded = fake_openai.requests[0].body["file"]["size"]
    assert reply.timings.bytes_to_openai == uploaded > 0
    assert reply.timings.stt > 0 and reply.as_dict()["transcript"] == "play Creep by Radiohead"
    # Shown with what was heard; read aloud as it is (the words are on the screen).
    assert reply.shown_text() == "Heard: “play Creep by Radiohead” — Playing “Creep” by Radiohead."
    assert reply.spoken_text() == "Playing “Creep” by Radiohead."


def test_a_spoken_command_segue_cannot_do_says_what_it_heard(
    segue: Callable[..., Segue],
    sim: SimulatedSpotify,
    fake_openai: FakeOpenAI,
    spoken: SpokenCommands,
) -> None:
    fake_openai.transcription("See you next time.")
    pipeline = voice(segue(llm=False), openai_stt(fake_openai))
    before = sim.snapshot()
    reply = pipeline.handle(Utterance(text=None, audio=spoken("next song")))
    assert not reply.ok and sim.snapshot() == before
    assert reply.shown_text().startswith("Heard: “See you next time” — I can't do that")
    assert reply.spoken_text().startswith("I heard “See you next time”. I can't do that")


def test_silence_and_a_click_are_nothing_heard_without_an_upload(
    segue: Callable[..., Segue], fake_openai: FakeOpenAI
) -> None:
    pipeline = voice(segue(llm=False), openai_stt(fake_openai))
    silence = Recording(bytes(2 * 16_000))
    click = Recording(b"\x00\x40" * 800 + bytes(2 * 8000))  # 50 ms of noise, then quiet
    for recording in (silence, click):
        reply = pipeline.handle(Utterance(text=None, audio=recording))
        assert not reply.ok and reply.text == NOTHING_HEARD and reply.tool_calls == ()
    assert fake_openai.count() == 0


def test_on_macos_a_microphone_that_sends_only_zeros_is_said_to_be_not_allowed(
    segue: Callable[..., Segue], fake_openai: FakeOpenAI
) -> None:
    # macOS gives an app it has not allowed the microphone exact zeros and no error; a room's
    # quiet always has some hiss, and the first zeros after opening do not last a second.
    hiss = Recording(np.random.default_rng(7).integers(-3, 4, 16_000, dtype="<i2").tobytes())
    not_allowed = Recording(bytes(2 * 16_000))
    opening = Recording(bytes(2 * 4_000))
    on_mac = voice(segue(llm=False), openai_stt(fake_openai), platform="darwin")

    reply = on_mac.handle(Utterance(text=None, audio=not_allowed))

    assert not reply.ok and reply.urgent and reply.tool_calls == ()
    assert reply.text == MICROPHONE_NOT_ALLOWED
    assert "Privacy & Security, Microphone" in reply.text
    for recording in (hiss, opening):
        assert on_mac.handle(Utterance(text=None, audio=recording)).text == NOTHING_HEARD
    assert fake_openai.count() == 0


def test_after_a_failed_upload_try_again_resends_the_same_recording(
    segue: Callable[..., Segue],
    sim: SimulatedSpotify,
    fake_openai: FakeOpenAI,
    spoken: SpokenCommands,
) -> None:
    fake_openai.error(503, endpoint="transcription").error(503, endpoint="transcription")
    fake_openai.transcription("play Creep by Radiohead")
    pipeline = voice(segue(llm=False), openai_stt(fake_openai))
    recording = spoken("play creep by radiohead")
    failed = pipeline.handle(Utterance(text=None, audio=recording))
    assert not failed.ok and failed.text.endswith(RESEND_HINT)
    assert not sim.snapshot()["is_playing"]

    again = pipeline.handle(Utterance(text="try again"))
    assert again.ok and again.text == "Playing “Creep” by Radiohead."
    sizes = [r.body["file"]["size"] for r in fake_openai.requests]
    assert len(sizes) == 3 and len(set(sizes)) == 1  # the very same audio, nothing re-recorded


def test_the_kept_recording_expires_with_the_agents_try_again(
    segue: Callable[..., Segue],
    clock: Clock,
    sim: SimulatedSpotify,
    fake_openai: FakeOpenAI,
    spoken: SpokenCommands,
) -> None:
    fake_openai.error(503, endpoint="transcription").error(503, endpoint="transcription")
    said = segue(llm=False)
    pipeline = voice(said, openai_stt(fake_openai))
    failed = pipeline.handle(Utterance(text=None, audio=spoken("play creep by radiohead")))
    assert not failed.ok and failed.text.endswith(RESEND_HINT)
    uploads = fake_openai.count()

    clock.advance(QUESTION_TTL + 1)  # the agent's "try again" has expired by now: so has this
    again = pipeline.handle(Utterance(text="try again"))

    assert again.text == NOTHING_TO_RETRY
    assert fake_openai.count() == uploads  # the recording did not leave again
    assert not sim.snapshot()["is_playing"]


def test_the_kept_recording_is_sent_again_once(
    segue: Callable[..., Segue],
    clock: Clock,
    fake_openai: FakeOpenAI,
    spoken: SpokenCommands,
) -> None:
    fake_openai.error(503, endpoint="transcription").error(503, endpoint="transcription")
    fake_openai.transcription("play Creep by Radiohead")
    pipeline = voice(segue(llm=False), openai_stt(fake_openai))
    pipeline.handle(Utterance(text=None, audio=spoken("play creep by radiohead")))
    clock.advance(QUESTION_TTL - 1)  # still within the time "try again" lasts
    assert pipeline.handle(Utterance(text="try again")).ok
    uploads = fake_openai.count()

    assert pipeline.handle(Utterance(text="try again")).text == NOTHING_TO_RETRY
    assert fake_openai.count() == uploads


def test_a_refused_key_is_one_sentence_and_not_kept_for_try_again(
    segue: Callable[..., Segue], fake_openai: FakeOpenAI, spoken: SpokenCommands
) -> None:
    fake_openai.error(401, endpoint="transcription")
    pipeline = voice(segue(llm=False), openai_stt(fake_openai))
    reply = pipeline.handle(Utterance(text=None, audio=spoken("pause")))
    assert not reply.ok and "API key" in reply.text and RESEND_HINT not in reply.text
    again = pipeline.handle(Utterance(text="try again"))
    assert fake_openai.count() == 1 and again.transcript is None


def test_audio_without_speech_to_text_is_one_sentence(
    segue: Callable[..., Segue], spoken: SpokenCommands
) -> None:
    pipeline = Pipeline(segue(llm=False).agent, detector=SpeechDetector())
    reply = pipeline.handle(Utterance(text=None, audio=spoken("pause")))
    assert not reply.ok and reply.text == NO_SPEECH_TO_TEXT


@pytest.mark.parametrize(
    ("command", "expected"),
    [("pause", "Paused."), ("volume thirty", "Volume 30%."), ("next", "Skipped to")],
)
def test_the_local_model_understands_a_spoken_command(
    segue: Callable[..., Segue],
    sim: SimulatedSpotify,
    whisper: LocalWhisper,
    spoken: SpokenCommands,
    command: str,
    expected: str,
) -> None:
    s = segue(llm=False)
    assert s.say("play Bohemian Rhapsody by Queen").ok
    reply = voice(s, whisper).handle(Utterance(text=None, audio=spoken(command)))
    assert reply.ok, (reply.transcript, reply.text)
    assert reply.text.startswith(expected)
    assert reply.timings.bytes_to_openai == 0


def test_recordings_are_kept_on_disk_only_when_asked(
    segue: Callable[..., Segue],
    fake_openai: FakeOpenAI,
    spoken: SpokenCommands,
    tmp_path: Path,
) -> None:
    fake_openai.transcription("pause").transcription("pause")
    s = segue(llm=False)
    recording = spoken("pause")
    voice(s, openai_stt(fake_openai)).handle(Utterance(text=None, audio=recording))
    assert not any(tmp_path.rglob("*.wav"))
    kept = tmp_path / "recordings"
    voice(s, openai_stt(fake_openai), keep_recordings=kept).handle(
        Utterance(text=None, audio=recording)
    )
    saved = list(kept.glob("segue-*.wav"))
    assert len(saved) == 1 and Recording.from_wav(saved[0]).pcm == recording.pcm

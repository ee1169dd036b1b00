"""Speech to text through OpenAI's API, against the scripted fake server.

Every exchange is validated against the OpenAI spec when the ``fake_openai`` fixture ends
(``CreateTranscriptionRequest``: the multipart file, model, language, keywords or prompt).
"""

from __future__ import annotations

import socket
import time
from typing import Any

import openai
import pytest

from assistant.errors import (
    ModelKeyRefused,
    ModelRateLimited,
    ModelRequestRejected,
    ModelUnavailable,
    SpeechNotUnderstood,
)
from assistant.voice.audio import Recording
from assistant.voice.stt import OpenAISpeechToText
from tests.fakes.openai_server import FakeOpenAI
from tests.support.speech import SpokenCommands

VOCABULARY = [
    "Deep Work",
    "Café Lounge",
    "Friday Night Party 🎉",
    "Beyoncé",
    "Pixel 8",
    "deep work",
]
# What reaches the API: emoji dropped, repeats (ignoring case) dropped, order kept.
SENT_VOCABULARY = ["Deep Work", "Café Lounge", "Friday Night Party", "Beyoncé", "Pixel 8"]


def client_for(fake: FakeOpenAI) -> openai.OpenAI:
    return openai.OpenAI(api_key="sk-test", base_url=fake.base_url)


@pytest.fixture(scope="module")
def command(tmp_path_factory: pytest.TempPathFactory) -> Recording:
    return SpokenCommands(tmp_path_factory.mktemp("openai-stt"))("play my playlist Deep Work")


def test_the_upload_is_a_named_flac_file_with_model_language_and_keywords(
    fake_openai: FakeOpenAI, command: Recording
) -> None:
    def check(fields: dict[str, Any]) -> None:
        upload = fields["file"]
        assert upload["filename"] == "speech.flac"
        assert upload["content_type"] == "audio/flac"
        assert fields["model"] == "gpt-transcribe"
        assert fields["language"] == "en"
        assert fields["keywords"] == SENT_VOCABULARY
        assert "prompt" not in fields

    fake_openai.transcription("Play my playlist Deep Work.", check=check)
    stt = OpenAISpeechToText(client_for(fake_openai), timeout_s=5)

    transcript = stt.transcribe(command, vocabulary=VOCABULARY)

    assert transcript.text == "Play my playlist Deep Work."
    assert transcript.engine == "openai:gpt-transcribe"
    (request,) = fake_openai.requests
    assert transcript.bytes_sent == request.body["file"]["size"]
    # FLAC is much smaller than the 16-bit PCM it holds.
    assert 0 < transcript.bytes_sent < len(command.pcm) * 0.8
    assert 0 < transcript.seconds < 5


def test_older_models_get_the_vocabulary_as_a_prompt(
    fake_openai: FakeOpenAI, command: Recording
) -> None:
    def check(fields: dict[str, Any]) -> None:
        assert fields["model"] == "gpt-4o-mini-transcribe"
        assert fields["prompt"] == "Vocabulary: " + ", ".join(SENT_VOCABULARY) + "."
        assert "keywords" not in fields
        assert "language" not in fields

    fake_openai.transcription("Play my playlist Deep Work.", check=check)
    stt = OpenAISpeechToText(
        client_for(fake_openai), model="gpt-4o-mini-transcribe", language=None, timeout_s=5
    )

    assert stt.transcribe(command, vocabulary=VOCABULARY).text == "Play my playlist Deep Work."


def test_ogg_opus_uploads_are_named_ogg_and_smaller(
    fake_openai: FakeOpenAI, command: Recording
) -> None:
    def check(fields: dict[str, Any]) -> None:
        assert fields["file"]["filename"] == "speech.ogg"
        assert fields["file"]["content_type"] == "audio/ogg"

    fake_openai.transcription("Play my playlist Deep Work.")
    fake_openai.transcription("Play my playlist Deep Work.", check=check)
    flac = OpenAISpeechToText(client_for(fake_openai), timeout_s=5).transcribe(command)
    ogg = OpenAISpeechToText(client_for(fake_openai), fmt="ogg", timeout_s=5).transcribe(command)

    assert ogg.bytes_sent == fake_openai.requests[1].body["file"]["size"]
    assert ogg.bytes_sent < flac.bytes_sent / 2


def test_a_slow_service_gives_one_sentence_after_the_timeout(
    fake_openai: FakeOpenAI, command: Recording
) -> None:
    fake_openai.transcription("too late", delay=3.0)
    stt = OpenAISpeechToText(client_for(fake_openai), timeout_s=0.5)

    started = time.monotonic()
    with pytest.raises(ModelUnavailable) as caught:
        stt.transcribe(command)

    # One attempt: a timeout is not retried while the person waits.
    assert time.monotonic() - started < 2.0
    assert caught.value.user_message == (
        "OpenAI's speech service didn't answer within 0.5 seconds; try again."
    )
    assert caught.value.retryable
    assert fake_openai.count("transcription") == 1


def test_429_says_how_long_to_wait_without_waiting(
    fake_openai: FakeOpenAI, command: Recording
) -> None:
    fake_openai.error(429, endpoint="transcription", headers={"retry-after": "20"})
    stt = OpenAISpeechToText(client_for(fake_openai), timeout_s=5)

    started = time.monotonic()
    with pytest.raises(ModelRateLimited) as caught:
        stt.transcribe(command)

    assert time.monotonic() - started < 2.0
    assert caught.value.user_message == (
        "OpenAI's speech service asked Segue to slow down; try again in 20 seconds."
    )
    assert caught.value.retryable


def test_no_credit_left_is_not_a_wait(fake_openai: FakeOpenAI, command: Recording) -> None:
    fake_openai.error(
        429,
        "You exceeded your current quota, please check your plan and billing details.",
        endpoint="transcription",
        error_type="insufficient_quota",
        code="insufficient_quota",
    )
    stt = OpenAISpeechToText(client_for(fake_openai), timeout_s=5)

    with pytest.raises(ModelRateLimited) as caught:
        stt.transcribe(command)

    assert "no credit left" in caught.value.user_message
    assert not caught.value.retryable


def test_a_refused_key(fake_openai: FakeOpenAI, command: Recording) -> None:
    fake_openai.error(401, endpoint="transcription")
    stt = OpenAISpeechToText(client_for(fake_openai), timeout_s=5)

    with pytest.raises(ModelKeyRefused) as caught:
        stt.transcribe(command)

    assert caught.value.user_message.startswith("OpenAI refused the API key")
    assert not caught.value.retryable


def test_an_unknown_model(fake_openai: FakeOpenAI, command: Recording) -> None:
    fake_openai.error(404, endpoint="transcription")
    stt = OpenAISpeechToText(client_for(fake_openai), model="gpt-nonexistent", timeout_s=5)

    with pytest.raises(ModelRequestRejected) as caught:
        stt.transcribe(command)

    assert "“gpt-nonexistent”" in caught.value.user_message


def test_a_server_failure_is_tried_once_more(fake_openai: FakeOpenAI, command: Recording) -> None:
    fake_openai.error(503, endpoint="transcription")
    fake_openai.transcription("Play my playlist Deep Work.")
    stt = OpenAISpeechToText(client_for(fake_openai), timeout_s=5)

    assert stt.transcribe(command).text == "Play my playlist Deep Work."


def test_a_server_failing_twice_gives_one_sentence(
    fake_openai: FakeOpenAI, command: Recording
) -> None:
    fake_openai.error(500, endpoint="transcription")
    fake_openai.error(503, endpoint="transcription")
    stt = OpenAISpeechToText(client_for(fake_openai), timeout_s=5)

    with pytest.raises(ModelUnavailable) as caught:
        stt.transcribe(command)

    assert caught.value.user_message == (
        "OpenAI's speech service had a problem on its side; try again in a moment."
    )
    assert caught.value.retryable


def test_no_connection(command: Recording) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on the port now: connections are refused.
    client = openai.OpenAI(api_key="sk-test", base_url=f"http://127.0.0.1:{port}/v1")
    stt = OpenAISpeechToText(client, timeout_s=2)

    with pytest.raises(ModelUnavailable) as caught:
        stt.transcribe(command)

    assert caught.value.user_message == (
        "Segue couldn't reach OpenAI's speech service; check the internet connection "
        "(or the openai_base_url setting)."
    )


def test_an_empty_transcript_is_not_understood(fake_openai: FakeOpenAI, command: Recording) -> None:
    fake_openai.transcription("  ")
    stt = OpenAISpeechToText(client_for(fake_openai), timeout_s=5)

    with pytest.raises(SpeechNotUnderstood) as caught:
        stt.transcribe(command)

    assert caught.value.user_message == "I didn't hear anything."


def test_an_empty_recording_is_not_uploaded(fake_openai: FakeOpenAI) -> None:
    stt = OpenAISpeechToText(client_for(fake_openai), timeout_s=5)

    with pytest.raises(SpeechNotUnderstood):
        stt.transcribe(Recording(b""))

    assert fake_openai.count() == 0

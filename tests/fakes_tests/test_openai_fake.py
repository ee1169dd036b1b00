"""The scripted OpenAI fake, exercised through the real openai SDK over HTTP."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import openai
import pytest
from openai import OpenAI

from tests.fakes.openai_server import FakeOpenAI, tokens
from tests.support.openai_contract import openai_spec_path

PLAY_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "play",
        "description": "Play music matching a query.",
        "parameters": {
            "type": "object",
            "properties": {"query": {"type": "string"}},
            "required": ["query"],
            "additionalProperties": False,
        },
        "strict": True,
    },
}


def client_for(fake: FakeOpenAI, timeout: float = 5.0) -> OpenAI:
    return OpenAI(api_key="sk-test-secret", base_url=fake.base_url, timeout=timeout, max_retries=0)


def ask(client: OpenAI, text: str) -> Any:
    return client.chat.completions.create(
        model="gpt-4.1-mini",
        messages=[
            {"role": "system", "content": "You control Spotify."},
            {"role": "user", "content": text},
        ],
        tools=[PLAY_TOOL],  # type: ignore[list-item]
    )


def test_chat_tool_calls_round_trip_through_the_sdk(fake_openai: FakeOpenAI) -> None:
    def sent_play_tool_and_user_text(body: dict[str, Any]) -> None:
        assert [tool["function"]["name"] for tool in body["tools"]] == ["play"]
        assert body["messages"][-1] == {"role": "user", "content": "play queen then pause"}

    fake_openai.chat(
        tool_calls=[("play", {"query": "queen"}), ("pause", {})],
        usage=(120, 18),
        check=sent_play_tool_and_user_text,
    )
    fake_openai.chat("Playing Queen.")

    client = client_for(fake_openai)
    first = ask(client, "play queen then pause")
    message = first.choices[0].message
    assert first.choices[0].finish_reason == "tool_calls"
    assert message.content is None
    assert message.tool_calls is not None
    calls = [(c.id, c.function.name, json.loads(c.function.arguments)) for c in message.tool_calls]
    assert calls == [("call_1", "play", {"query": "queen"}), ("call_2", "pause", {})]
    assert first.model == "gpt-4.1-mini"
    assert first.usage is not None and (first.usage.prompt_tokens, first.usage.total_tokens) == (
        120,
        138,
    )

    second = ask(client, "thanks")
    assert second.choices[0].finish_reason == "stop"
    assert second.choices[0].message.content == "Playing Queen."

    recorded = fake_openai.requests
    assert [(r.endpoint, r.status, r.step) for r in recorded] == [
        ("chat", 200, 1),
        ("chat", 200, 2),
    ]
    assert "authorization" not in recorded[0].headers
    assert recorded[0].size > 0 and recorded[0].response_size > 0
    expected = "2 exchange(s) checked against the OpenAI spec" if openai_spec_path() else "skipped"
    assert expected in fake_openai.verify()


def test_transcription_of_a_wav_returns_the_scripted_text(
    fake_openai: FakeOpenAI, wav_bytes: bytes
) -> None:
    fake_openai.transcription(
        "play bohemian rhapsody",
        check=lambda fields: _assert_fields(fields, len(wav_bytes)),
    )

    result = client_for(fake_openai).audio.transcriptions.create(
        file=("utterance.wav", wav_bytes, "audio/wav"),
        model="gpt-transcribe",
        language="en",
        prompt="Spotify voice commands",
        keywords=["Bohemian Rhapsody", "Queen"],
    )

    assert result.text == "play bohemian rhapsody"
    (recorded,) = fake_openai.requests
    assert recorded.endpoint == "transcription"
    assert recorded.body["file"]["size"] == len(wav_bytes)
    assert recorded.size > len(wav_bytes)


def _assert_fields(fields: dict[str, Any], wav_size: int) -> None:
    assert fields["model"] == "gpt-transcribe"
    assert fields["language"] == "en"
    assert fields["prompt"] == "Spotify voice commands"
    assert fields["keywords"] == ["Bohemian Rhapsody", "Queen"]
    upload = fields["file"]
    assert (upload["filename"], upload["content_type"], upload["size"]) == (
        "utterance.wav",
        "audio/wav",
        wav_size,
    )
    assert upload["duration_s"] == pytest.approx(0.5)


def test_transcription_as_plain_text(fake_openai: FakeOpenAI, wav_bytes: bytes) -> None:
    fake_openai.transcription("next track")

    text = client_for(fake_openai).audio.transcriptions.create(
        file=("a.wav", wav_bytes), model="gpt-4o-mini-transcribe", response_format="text"
    )

    assert text == "next track"


def test_scripted_429_surfaces_as_rate_limit_error(fake_openai: FakeOpenAI) -> None:
    fake_openai.error(429, "Rate limit reached for gpt-4.1-mini", headers={"retry-after": "1"})

    with pytest.raises(openai.RateLimitError) as caught:
        ask(client_for(fake_openai), "play something")

    assert caught.value.status_code == 429
    assert caught.value.code == "rate_limit_exceeded"
    assert "Rate limit reached" in caught.value.message
    assert caught.value.response.headers["retry-after"] == "1"


def test_transcription_401_surfaces_as_authentication_error(
    fake_openai: FakeOpenAI, wav_bytes: bytes
) -> None:
    fake_openai.error(401, endpoint="transcription")

    with pytest.raises(openai.AuthenticationError):
        client_for(fake_openai).audio.transcriptions.create(
            file=("a.wav", wav_bytes), model="gpt-transcribe"
        )


def test_raw_answer_reaches_the_app_verbatim(fake_openai: FakeOpenAI) -> None:
    fake_openai.chat_raw(
        {
            "id": "chatcmpl-raw",
            "object": "chat.completion",
            "created": 1,
            "model": "gpt-4.1-mini",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "tool_calls",
                    "logprobs": None,
                    "message": {
                        "role": "assistant",
                        "content": None,
                        "refusal": None,
                        "tool_calls": [
                            {
                                "id": "call_x",
                                "type": "function",
                                "function": {"name": "launch_rockets", "arguments": '{"q": '},
                            }
                        ],
                    },
                }
            ],
        }
    )

    (call,) = ask(client_for(fake_openai), "play").choices[0].message.tool_calls or []

    assert (call.function.name, call.function.arguments) == ("launch_rockets", '{"q": ')


def test_unused_step_fails_verify() -> None:
    with FakeOpenAI() as fake:
        fake.chat("hello").transcription("never asked for")
        ask(client_for(fake), "hi")

        with pytest.raises(AssertionError, match=r"unused step #2: transcription\('never"):
            fake.verify()


def test_unexpected_request_is_answered_500_and_fails_verify() -> None:
    with FakeOpenAI() as fake:
        fake.transcription("wrong order")
        with pytest.raises(openai.InternalServerError, match="unexpected request"):
            ask(client_for(fake), "hi")

        with pytest.raises(AssertionError) as caught:
            fake.verify()

    report = str(caught.value)
    assert "unexpected request: #1 POST /v1/chat/completions (next step is #1" in report
    assert "unused step #1" in report
    assert "contract mismatch" not in report  # the 500 body is a proper OpenAI error


def test_exhausted_script_and_unknown_path_fail_verify() -> None:
    with FakeOpenAI() as fake:
        client = client_for(fake)
        with pytest.raises(openai.InternalServerError):
            ask(client, "hi")
        with pytest.raises(openai.NotFoundError):
            client.models.list()

        problems = fake.problems()

    assert problems == [
        "unexpected request: #1 POST /v1/chat/completions (script exhausted)",
        "unexpected request: #2 GET /v1/models: no such endpoint in the fake",
    ]


def test_failed_request_check_is_reported_at_verify() -> None:
    def wants_temperature_zero(body: dict[str, Any]) -> None:
        assert body.get("temperature") == 0, "the app must ask for temperature 0"

    with FakeOpenAI() as fake:
        fake.chat("ok", check=wants_temperature_zero)
        reply = ask(client_for(fake), "hi")
        assert reply.choices[0].message.content == "ok"  # the answer still goes out

        with pytest.raises(AssertionError, match="the app must ask for temperature 0") as caught:
            fake.verify()

    assert "failed check: step #1 chat('ok')" in str(caught.value)
    assert isinstance(caught.value.__cause__, AssertionError)


@pytest.mark.skipif(openai_spec_path() is None, reason="OpenAI spec not found (SEGUE_SPEC_DIR)")
def test_contract_check_rejects_a_malformed_response() -> None:
    with FakeOpenAI() as fake:
        fake.chat_raw({"id": "x", "object": "chat.completion", "created": 1, "model": "m"})
        # The SDK does not validate bodies: the app would meet the gap later, not here.
        ask(client_for(fake), "hi")

        with pytest.raises(AssertionError) as caught:
            fake.verify()

    report = str(caught.value)
    assert "contract mismatch: #1 raw(chat, 200) response 200" in report
    assert "'choices' is a required property" in report


@pytest.mark.skipif(openai_spec_path() is None, reason="OpenAI spec not found (SEGUE_SPEC_DIR)")
def test_contract_check_rejects_a_malformed_request_and_skips_opted_out_bodies() -> None:
    with FakeOpenAI() as fake:
        fake.chat_raw(b"<html>bad gateway</html>", status=502, check_contract=False)
        response = httpx2.post(
            f"{fake.base_url}/chat/completions",
            json={"model": "gpt-4.1-mini", "messages": [{"role": "robot", "content": "hi"}]},
            headers={"Authorization": "Bearer sk-test"},
            timeout=5,
        )
        assert response.status_code == 502

        problems = fake.problems()

    assert len(problems) == 1
    assert problems[0].startswith(
        "contract mismatch: #1 raw(chat, 502) request: InvalidRequestBody"
    )


def test_delay_beyond_the_client_timeout_raises_api_timeout_error(fake_openai: FakeOpenAI) -> None:
    fake_openai.chat("too late", delay=5)

    with pytest.raises(openai.APITimeoutError):
        ask(client_for(fake_openai, timeout=0.3), "hi")

    assert fake_openai.wait_for_requests(1)[0].status == 200


def test_stall_drops_the_connection(fake_openai: FakeOpenAI) -> None:
    fake_openai.stall(0.05)

    with pytest.raises(openai.APIConnectionError):
        ask(client_for(fake_openai), "hi")

    assert fake_openai.requests[0].status is None


def test_service_time_delays_successful_answers(fake_openai: FakeOpenAI) -> None:
    import time

    fake_openai.service_time_ms["chat"] = 200
    fake_openai.chat("slow").error(429)
    client = client_for(fake_openai)

    started = time.monotonic()
    ask(client, "hi")
    slow = time.monotonic() - started
    started = time.monotonic()
    with pytest.raises(openai.RateLimitError):
        ask(client, "hi")
    fast = time.monotonic() - started

    assert slow >= 0.2
    assert fast < 0.2


# --- streaming --------------------------------------------------------------------------------


def stream(client: OpenAI, text: str) -> list[Any]:
    return list(
        client.chat.completions.create(
            model="gpt-4.1-mini",
            messages=[{"role": "user", "content": text}],
            tools=[PLAY_TOOL],  # type: ignore[list-item]
            stream=True,
        )
    )


def test_a_streamed_answer_comes_as_chunks_of_tool_call_pieces(fake_openai: FakeOpenAI) -> None:
    arguments = {"query": "Bohemian Rhapsody by Queen"}
    fake_openai.chat(tool_calls=[("play", arguments)])

    chunks = stream(client_for(fake_openai), "play it")

    pieces = [c.choices[0].delta.tool_calls for c in chunks if c.choices[0].delta.tool_calls]
    opening = pieces[0][0]
    assert opening.id and opening.type == "function" and opening.function.name == "play"
    written = "".join(p[0].function.arguments or "" for p in pieces)
    assert json.loads(written) == arguments
    assert len(pieces) > 5  # the arguments arrive a token at a time
    assert chunks[-1].choices[0].finish_reason == "tool_calls"
    assert fake_openai.requests[0].body["stream"] is True


def test_tokens_join_back_into_the_text() -> None:
    text = '{"name": "Déjà Vu", "tracks": ["Song 2 by Blur", "1999 by Prince"]}'
    assert "".join(tokens(text)) == text
    assert len(tokens(text)) > len(text) // 6


def test_a_cut_stream_ends_without_its_last_chunk(fake_openai: FakeOpenAI) -> None:
    fake_openai.chat(tool_calls=[("play", {"query": "a long name to be cut"})], cut_after=3)

    with pytest.raises((httpx2.HTTPError, openai.APIError)):
        stream(client_for(fake_openai), "play it")


def test_a_server_that_ignores_stream_answers_json(fake_openai: FakeOpenAI) -> None:
    fake_openai.streaming = "json"
    fake_openai.chat("plain")
    response = httpx2.post(
        f"{fake_openai.base_url}/chat/completions",
        json={"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True},
        headers={"Authorization": "Bearer sk-test"},
    )
    assert response.headers["content-type"] == "application/json"
    assert response.json()["choices"][0]["message"]["content"] == "plain"


def test_a_server_that_refuses_stream_answers_400_and_keeps_the_step(
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.streaming = "refuse"
    fake_openai.chat("plain")
    client = client_for(fake_openai)

    with pytest.raises(openai.BadRequestError):
        stream(client, "hi")
    assert ask(client, "hi").choices[0].message.content == "plain"

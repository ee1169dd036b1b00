"""OpenAI failing in ways that are not HTTP errors.

Answers that are not JSON, text that is not UTF-8, an HTML page where an error body should be:
each is its own sentence; `--json` still prints a JSON object; a conversation on stdin goes on
after the line that failed.
"""

from __future__ import annotations

import json
from pathlib import Path

import openai
import pytest

from assistant.agent.llm import ChatModel
from assistant.errors import ModelRequestRejected
from tests.fakes.openai_server import FakeOpenAI
from tests.faults.conftest import FaultMatrix, FaultySpotify, Segue, one_sentence
from tests.support.speech import speak_to_file

HTML_PAGE = (
    b"<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"
)
CUT_JSON = b'{"id": "chatcmpl-1", "object": "chat.completion", "choices": [{"ind'
NOT_UTF8 = "That command is not UTF-8 text, so Segue did not run it; type it again."
NEEDS_MODEL = "play something calm for reading"
ANSWERS = {
    "html-page": (HTML_PAGE, "text/html"),
    "cut-json": (CUT_JSON, "application/json"),
}


@pytest.mark.parametrize("answer", list(ANSWERS))
def test_chat_answer_not_json(
    answer: str,
    model_env: dict[str, str],
    fake_openai: FakeOpenAI,
    segue: Segue,
) -> None:
    body, content_type = ANSWERS[answer]
    fake_openai.raw(body, content_type=content_type, check_contract=False)
    done = segue("say", "--json", NEEDS_MODEL, env=model_env, replies=1)
    said = one_sentence(done.stderr)
    assert said == (
        "OpenAI sent an answer Segue could not read (not JSON); check the openai_base_url setting."
    )
    assert json.loads(done.stdout) | {"timings": None} == {
        "ok": False,
        "reply": said,
        "used_llm": True,
        "tool_calls": [],
        "timings": None,
    }
    assert done.returncode == 1


@pytest.fixture(scope="module")
def spoken_command(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A spoken command that needs the model, as a WAV file."""
    return speak_to_file(tmp_path_factory.mktemp("spoken") / "command.wav", NEEDS_MODEL)


@pytest.mark.parametrize("answer", list(ANSWERS))
def test_transcription_answer_not_json(
    answer: str,
    spoken_command: Path,
    model_env: dict[str, str],
    spotify: FaultySpotify,
    fake_openai: FakeOpenAI,
    segue: Segue,
) -> None:
    body, content_type = ANSWERS[answer]
    fake_openai.raw(body, endpoint="transcription", content_type=content_type, check_contract=False)
    env = dict(model_env)
    env["SEGUE_STT"] = "openai"
    done = segue("listen", "--json", "--file", str(spoken_command), env=env, replies=1)
    said = one_sentence(done.stderr)
    assert said.startswith(
        "OpenAI's speech service sent an answer Segue could not read (not JSON); check the "
        "openai_base_url setting."
    )
    result = json.loads(done.stdout)
    assert result["ok"] is False and result["reply"] == said and result["tool_calls"] == []
    assert done.returncode == 1
    # The page never became the command: nothing was asked of the chat model or of Spotify.
    assert fake_openai.count("chat") == 0
    assert spotify.requests_to("GET", "/v1/search") == 0


def test_stdin_conversation_goes_on_after_a_line_that_is_not_utf8(
    model_env: dict[str, str],
    spotify: FaultySpotify,
    fake_openai: FakeOpenAI,
    segue: Segue,
) -> None:
    dialogue = b"volume 30\n\xff\xfe " + NEEDS_MODEL.encode() + b"\nvolume 40\n"
    done = segue("say", "--json", env=model_env, stdin=dialogue, replies=3)
    assert done.replies == ["Volume 30%.", NOT_UTF8, "Volume 40%."]
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert fake_openai.count() == 0  # the undecodable line went nowhere
    assert spotify.sim.snapshot()["volume_percent"] == 40


def test_stdin_conversation_goes_on_after_an_answer_that_is_not_json(
    model_env: dict[str, str],
    fake_openai: FakeOpenAI,
    segue: Segue,
) -> None:
    fake_openai.raw(CUT_JSON, check_contract=False)
    dialogue = f"volume 30\n{NEEDS_MODEL}\nvolume 40\n"
    done = segue("say", "--json", env=model_env, stdin=dialogue, replies=3)
    assert done.replies == [
        "Volume 30%.",
        "OpenAI sent an answer Segue could not read (not JSON); check the openai_base_url setting.",
        "Volume 40%.",
    ]
    assert done.returncode == 1 and "Traceback" not in done.stderr


def test_an_argument_that_is_not_utf8_is_not_sent(
    model_env: dict[str, str],
    fake_openai: FakeOpenAI,
    segue: Segue,
) -> None:
    done = segue("say", b"\xff\xfe " + NEEDS_MODEL.encode(), env=model_env)
    assert one_sentence(done.stderr) == NOT_UTF8
    assert done.returncode == 1 and done.stdout == ""
    assert fake_openai.count() == 0


def test_a_refusal_as_an_html_page_is_not_quoted(
    model_env: dict[str, str],
    fake_openai: FakeOpenAI,
    segue: Segue,
) -> None:
    fake_openai.raw(HTML_PAGE, status=400, content_type="text/html", check_contract=False)
    done = segue("say", NEEDS_MODEL, env=model_env)
    assert one_sentence(done.stderr) == "OpenAI refused Segue's request (HTTP 400)."
    assert done.returncode == 1


def test_text_that_is_not_unicode_never_reaches_the_model(
    fake_openai: FakeOpenAI, matrix: FaultMatrix
) -> None:
    # Whatever front end lets a lone surrogate through (the CLI refuses them first), the model
    # request is refused with a sentence instead of an encoding error.
    client = openai.OpenAI(api_key="sk-test", base_url=fake_openai.base_url, timeout=5)
    model = ChatModel(client, model="gpt-5.4-mini")
    with pytest.raises(ModelRequestRejected) as refused:
        model.complete([{"role": "user", "content": "play \udcff\udcfe"}])
    assert refused.value.user_message == (
        "That command holds characters that are not valid text, so nothing was sent to OpenAI; "
        "type or say it again."
    )
    assert fake_openai.count() == 0

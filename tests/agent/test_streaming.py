"""Acting while the model is still writing: a playlist's songs searched as their names arrive.

The model's answer streams from the scripted fake OpenAI server (server-sent events, as the
service sends them) over real HTTP; Spotify is the simulator. What the person notices: the songs
are looked up while the model still writes (the fake holds its answer part-way and the test waits
for the searches), each song once, the playlist made once and only from a finished, valid call;
a server that does not stream still works; an answer cut off midway changes nothing and says one
sentence.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from assistant.pipeline import Reply, Utterance
from assistant.sim import SimulatedSpotify
from tests.agent.conftest import Segue
from tests.agent.helpers import playlist
from tests.agent.test_llm import CALM_PIANO
from tests.fakes.openai_server import FakeOpenAI, tokens

COMMAND = "make a playlist called Calm with ten calm piano pieces"


def arguments(name: str = "Calm", tracks: list[str] | None = None) -> dict[str, Any]:
    return {"name": name, "tracks": tracks or CALM_PIANO, "description": None, "public": False}


def tokens_through(call: dict[str, Any], text: str) -> int:
    """How many tokens of the call's JSON the fake writes until ``text`` and its closing quote."""
    written = ""
    for count, token in enumerate(tokens(json.dumps(call)), 1):
        written += token
        if json.dumps(text) in written:
            return count + 1  # the call's opening (its name) is a token too
    raise AssertionError(f"{text!r} is not in the call")


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"no {what} within {timeout:g} s"
        time.sleep(0.01)


def searches(sim: SimulatedSpotify) -> list[str]:
    return [e.query["q"][0] for e in sim.exchanges if e.path == "/v1/search"]


def creates(sim: SimulatedSpotify) -> int:
    return sum(1 for e in sim.exchanges if e.method == "POST" and e.path == "/v1/me/playlists")


def test_songs_are_searched_while_the_model_still_writes_the_playlist(
    segue: Callable[..., Segue], sim: SimulatedSpotify, fake_openai: FakeOpenAI
) -> None:
    call = arguments()
    # The model stops writing after the third song's name, until the test lets it go on.
    fake_openai.chat(
        tool_calls=[("create_playlist", call)], hold_after=tokens_through(call, CALM_PIANO[2])
    )
    assistant = segue()
    replies: list[Reply] = []
    worker = threading.Thread(target=lambda: replies.append(assistant.say(COMMAND)))
    worker.start()
    try:
        # The first three songs are looked up while the rest is unwritten; nothing is made yet.
        wait_until(lambda: len(searches(sim)) >= 3, "three searches during the answer")
        assert creates(sim) == 0
    finally:
        fake_openai.release()
        worker.join(timeout=30)

    (reply,) = replies
    assert reply.ok, reply.text
    assert reply.text.startswith("Created “Calm” with 10 songs")
    made = playlist(sim, "Calm")["track_uris"]
    assert len(made) == 10 and len(set(made)) == 10
    sent = searches(sim)
    assert len(sent) == len(set(sent)), "a song was searched twice"
    assert creates(sim) == 1
    assert fake_openai.requests[-1].body["stream"] is True


@pytest.mark.parametrize("streaming", ["json", "refuse"])
def test_a_server_that_does_not_stream_still_makes_the_playlist(
    segue: Callable[..., Segue],
    sim: SimulatedSpotify,
    fake_openai: FakeOpenAI,
    streaming: Any,
) -> None:
    # Such a server answers in one piece anyway ("json"), or refuses `stream` with a 400.
    fake_openai.streaming = streaming
    fake_openai.chat(tool_calls=[("create_playlist", arguments())])
    fake_openai.chat(tool_calls=[("create_playlist", arguments("Calm Again"))])
    assistant = segue()

    first = assistant.say(COMMAND)
    second = assistant.say("and another one called Calm Again")

    assert first.ok and second.ok, (first.text, second.text)
    for name in ("Calm", "Calm Again"):
        made = playlist(sim, name)["track_uris"]
        assert len(made) == 10 and len(set(made)) == 10
    asked = [bool(r.body.get("stream")) for r in fake_openai.requests]
    # Found out on the first command; the second is asked plainly.
    assert asked == ([True, False] if streaming == "json" else [True, False, False])
    assert assistant.loop is not None and assistant.loop.model.streams is False


def test_an_answer_cut_off_midway_runs_nothing_and_says_one_sentence(
    segue: Callable[..., Segue], sim: SimulatedSpotify, fake_openai: FakeOpenAI
) -> None:
    call = arguments()
    fake_openai.chat(
        tool_calls=[("create_playlist", call)], cut_after=tokens_through(call, CALM_PIANO[5])
    )

    reply = segue().say(COMMAND)

    assert not reply.ok
    assert reply.text == "OpenAI stopped answering midway, so nothing was done; try again."
    assert creates(sim) == 0
    assert not [p for p in sim.snapshot()["playlists"].values() if p["name"] == "Calm"]
    assert fake_openai.count("chat") == 1  # not asked again: the person decides


def test_a_streamed_call_that_ends_invalid_runs_nothing(
    segue: Callable[..., Segue], sim: SimulatedSpotify, fake_openai: FakeOpenAI
) -> None:
    # The songs are searched as they come, but the last one is over the cap of 300 characters:
    # the finished call fails validation, and no playlist is made.
    fake_openai.chat(
        tool_calls=[("create_playlist", arguments(tracks=[*CALM_PIANO[:4], "la " * 120]))]
    )

    reply = segue().say(COMMAND)

    assert not reply.ok
    assert "too long" in reply.text and "300 characters" in reply.text
    assert creates(sim) == 0
    assert "la la" not in " ".join(searches(sim))


ANSWER = (
    "Radiohead formed in Abingdon in 1985. Their first single was “Creep”, in 1992. "
    "Mr. Brightside is by The Killers, not Radiohead."
)


def test_an_answer_in_words_is_given_sentence_by_sentence_while_the_model_writes(
    segue: Callable[..., Segue], fake_openai: FakeOpenAI
) -> None:
    # The model stops writing inside the second sentence; the first is there to be read aloud.
    first = "Radiohead formed in Abingdon in 1985."
    held = len(tokens(first)) + 3
    fake_openai.chat(content=ANSWER, hold_after=held)
    assistant = segue()
    sentences: list[str] = []
    replies: list[Reply] = []
    worker = threading.Thread(
        target=lambda: replies.append(
            assistant.pipeline.handle(
                Utterance("tell me about Radiohead"), on_sentence=sentences.append
            )
        )
    )
    worker.start()
    try:
        wait_until(lambda: len(sentences) >= 1, "the first sentence during the answer")
        assert sentences == [first]
    finally:
        fake_openai.release()
        worker.join(timeout=30)

    (reply,) = replies
    assert reply.ok and reply.text == ANSWER
    # Every sentence but the last came early ("Mr." did not end one); the reply begins with them.
    assert sentences == [first, "Their first single was “Creep”, in 1992."]
    assert reply.text.startswith(" ".join(sentences))


def test_an_aside_before_a_tool_call_is_given_only_up_to_the_call(
    segue: Callable[..., Segue], sim: SimulatedSpotify, fake_openai: FakeOpenAI
) -> None:
    fake_openai.chat(
        content="Sure. Let me find some calm piano for you. ",
        tool_calls=[("create_playlist", arguments())],
    )
    sentences: list[str] = []

    reply = segue().pipeline.handle(Utterance(COMMAND), on_sentence=sentences.append)

    assert reply.ok and reply.text.startswith("Created “Calm” with 10 songs")
    # "Sure." was complete before the call began (the controller then reads the reply in
    # full); the next sentence ended only where the call began, and is not given.
    assert sentences == ["Sure."]

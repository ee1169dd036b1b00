"""Pipeline.handle: the one entry for every command, and what its Reply reports."""

from __future__ import annotations

import json
from collections.abc import Callable

from assistant.pipeline import NOTHING_SAID
from assistant.sim import SimulatedSpotify
from assistant.spotify.auth import SpotifyAuth
from tests.agent.conftest import Segue
from tests.fakes.openai_server import FakeOpenAI


def test_nothing_said(segue: Callable[..., Segue]) -> None:
    reply = segue().say("   ")
    assert not reply.ok and reply.text == NOTHING_SAID


def test_reply_as_json(segue: Callable[..., Segue], sim: SimulatedSpotify) -> None:
    reply = segue().say("play Creep by Radiohead")
    data = json.loads(json.dumps(reply.as_dict()))
    assert set(data) == {"ok", "reply", "used_llm", "tool_calls", "timings"}
    assert data["tool_calls"] == [
        {
            "name": "play",
            "arguments": {"query": "Creep", "artist": "Radiohead"},
            "ok": True,
            "result": "Playing “Creep” by Radiohead.",
        }
    ]
    assert set(data["timings"]) == {
        "stt_ms",
        "agent_ms",
        "llm_ms",
        "spotify_ms",
        "llm_calls",
        "spotify_calls",
        "bytes_to_openai",
    }
    assert data["timings"]["spotify_calls"] == reply.timings.spotify_calls > 0


def test_not_signed_in_is_one_sentence_on_both_paths(
    segue: Callable[..., Segue], auth: SpotifyAuth, fake_openai: FakeOpenAI
) -> None:
    s = segue()
    auth.sign_out()
    reply = s.say("pause")  # fast path: the tool reports it
    assert not reply.ok
    assert reply.text == "Segue is not signed in to Spotify; run `segue login` or choose Sign in."
    reply = s.say("play something for a rainy day")  # model path: building the prompt needs it
    assert not reply.ok and reply.text.startswith("Segue is not signed in to Spotify")
    assert fake_openai.count() == 0

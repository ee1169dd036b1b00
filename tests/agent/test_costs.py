"""What a command costs: model calls, Spotify calls, bytes sent to OpenAI (printed, not timed).

The counts are asserted (they are the design: one model call for an action); the figures are
printed for the report. Run ``pytest tests/agent/test_costs.py -s`` to read them.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from assistant.pipeline import Reply
from assistant.sim import SimulatedSpotify
from tests.agent.conftest import Segue
from tests.agent.helpers import playing, playlist, system_prompt
from tests.agent.test_llm import CALM_PIANO, PLAY_ALL_NULL
from tests.fakes.openai_server import FakeOpenAI


def _line(what: str, reply: Reply) -> str:
    t = reply.timings
    return (
        f"{what:<44} llm_calls={t.llm_calls} spotify_calls={t.spotify_calls} "
        f"bytes_to_openai={t.bytes_to_openai}"
    )


def test_costs_of_typical_commands(
    segue: Callable[..., Segue],
    sim: SimulatedSpotify,
    fake_openai: FakeOpenAI,
    capsys: pytest.CaptureFixture[str],
) -> None:
    lines = []
    fast = segue().say("play Bohemian Rhapsody by Queen")
    assert fast.ok and fast.timings.llm_calls == 0
    lines.append(_line("play X by Y, fast path", fast))
    warm = segue().say("play Yellow by Coldplay")
    lines.append(_line("play X by Y, fast path (token warm)", warm))

    play = PLAY_ALL_NULL | {"query": "Bohemian Rhapsody", "artist": "Queen"}
    fake_openai.chat(tool_calls=[("play", play)])
    fake_openai.chat(tool_calls=[("play", play)])
    model_only = segue(fast_path=False)
    via_model = model_only.say("play Bohemian Rhapsody by Queen")
    assert via_model.ok and via_model.timings.llm_calls == 1
    assert playing(sim) == "Bohemian Rhapsody — Queen"
    lines.append(_line("play X by Y, model path (first command)", via_model))
    again = model_only.say("play Bohemian Rhapsody by Queen")
    lines.append(_line("play X by Y, model path (prompt facts cached)", again))

    arguments = {"name": "Calm", "tracks": CALM_PIANO, "description": None, "public": False}
    fake_openai.chat(tool_calls=[("create_playlist", arguments)])
    made = segue().say("make a playlist of 10 calm piano songs")
    assert made.ok and made.timings.llm_calls == 1
    assert len(playlist(sim, "Calm")["track_uris"]) == 10
    lines.append(_line("make a playlist of 10 songs", made))

    first = fake_openai.requests[0].body
    tools = json.dumps(first["tools"], separators=(",", ":"), ensure_ascii=False).encode()
    prompt = system_prompt(first).encode()
    assert model_only.loop is not None
    lines.append(
        f"one request: {fake_openai.requests[0].size} bytes, of which tools {len(tools)} "
        f"({len(first['tools'])} tools) + system prompt {len(prompt)} "
        f"= {len(tools) + len(prompt)}; ToolLoop.overhead_bytes() = "
        f"{model_only.loop.overhead_bytes()}"
    )
    with capsys.disabled():
        print("\n" + "\n".join(lines))

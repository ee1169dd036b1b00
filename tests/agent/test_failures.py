"""Every way the model can fail ends in one sentence, saying what was already done."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from assistant.sim import SimulatedSpotify
from tests.agent.conftest import Segue
from tests.agent.helpers import last_tool_result, playing
from tests.fakes.openai_server import FakeOpenAI

VOLUME_40 = ("set_volume", {"percent": 40, "relative": False})
PLAY = {"kind": "any", "artist": None, "result_number": None, "device": None, "shuffle": None}


def nonsense(n: int) -> tuple[str, dict[str, Any]]:
    return ("play", PLAY | {"query": f"Qwxzzv {n}"})


def test_a_timeout_is_one_sentence_and_not_retried(
    segue: Callable[..., Segue], fake_openai: FakeOpenAI
) -> None:
    fake_openai.chat("too late", delay=1.0)
    reply = segue(timeout=0.3).say("play something cheerful")
    assert not reply.ok and reply.text == "OpenAI didn't answer within 0.3 seconds; try again."
    assert reply.timings.llm_calls == 1 and fake_openai.count() == 1


def test_rate_limited_twice_is_one_sentence(
    segue: Callable[..., Segue], fake_openai: FakeOpenAI
) -> None:
    fake_openai.error(429).error(429)
    s = segue()
    reply = s.say("play something cheerful")
    assert not reply.ok and reply.text == "OpenAI asked Segue to slow down; try again in a minute."
    assert s.waits == [0.5] and reply.timings.llm_calls == 2


def test_rate_limited_once_waits_the_short_retry_after_and_goes_on(
    segue: Callable[..., Segue], sim: SimulatedSpotify, fake_openai: FakeOpenAI
) -> None:
    fake_openai.error(429, headers={"retry-after": "1"})
    fake_openai.chat(tool_calls=[("play", PLAY | {"query": "Yellow", "artist": "Coldplay"})])
    s = segue()
    reply = s.say("something by Coldplay, the yellow one")
    assert reply.ok and reply.text == "Playing “Yellow” by Coldplay."
    assert s.waits == [1.0] and playing(sim) == "Yellow — Coldplay"


def test_a_long_retry_after_is_not_waited_out(
    segue: Callable[..., Segue], fake_openai: FakeOpenAI
) -> None:
    fake_openai.error(429, headers={"retry-after": "30"})
    s = segue()
    reply = s.say("play something cheerful")
    assert reply.text == "OpenAI asked Segue to slow down; try again in 30 seconds."
    assert s.waits == [] and fake_openai.count() == 1


def test_no_credit_left_is_said_plainly(
    segue: Callable[..., Segue], fake_openai: FakeOpenAI
) -> None:
    fake_openai.error(
        429,
        "You exceeded your current quota.",
        error_type="insufficient_quota",
        code="insufficient_quota",
    )
    reply = segue().say("play something cheerful")
    assert reply.text == "Your OpenAI account has no credit left; check its plan and billing."


def test_server_errors_are_retried_once_then_one_sentence(
    segue: Callable[..., Segue], fake_openai: FakeOpenAI
) -> None:
    fake_openai.error(500).error(503)
    reply = segue().say("play something cheerful")
    assert not reply.ok
    assert reply.text == "OpenAI had a problem on its side; try again in a moment."


def test_a_refused_key_is_one_sentence(
    segue: Callable[..., Segue], fake_openai: FakeOpenAI
) -> None:
    fake_openai.error(401)
    reply = segue(api_key="sk-wrong").say("play something cheerful")
    assert not reply.ok and reply.text.startswith("OpenAI refused the API key;")
    assert fake_openai.count() == 1


def test_an_unknown_model_names_the_setting(
    segue: Callable[..., Segue], fake_openai: FakeOpenAI
) -> None:
    fake_openai.error(404)
    reply = segue().say("play something cheerful")
    assert reply.text == (
        "OpenAI has no model called “gpt-5.4-mini”; change the openai_model setting."
    )


def test_invalid_json_arguments_are_sent_back_and_the_retry_works(
    segue: Callable[..., Segue], sim: SimulatedSpotify, fake_openai: FakeOpenAI
) -> None:
    def told_the_json_was_bad(request: dict[str, Any]) -> None:
        assert last_tool_result(request) == {
            "ok": False,
            "result": "The arguments for play were not valid JSON; send a JSON object.",
        }

    fake_openai.chat(tool_calls=[("play", '{"query": "Yellow", "artist": ')])
    fake_openai.chat(
        tool_calls=[("play", PLAY | {"query": "Yellow", "artist": "Coldplay"})],
        check=told_the_json_was_bad,
    )
    reply = segue().say("the yellow song by Coldplay please")
    assert reply.ok and reply.text == "Playing “Yellow” by Coldplay."
    assert [c.ok for c in reply.tool_calls] == [False, True]


def test_an_unknown_tool_is_sent_back(
    segue: Callable[..., Segue], sim: SimulatedSpotify, fake_openai: FakeOpenAI
) -> None:
    def told_there_is_no_such_tool(request: dict[str, Any]) -> None:
        result = last_tool_result(request)
        assert result["ok"] is False
        assert result["result"].startswith("There is no tool called delete_all_playlists.")

    before = sim.snapshot()
    fake_openai.chat(tool_calls=[("delete_all_playlists", {})])
    fake_openai.chat("I can't delete playlists.", check=told_there_is_no_such_tool)
    reply = segue().say("delete all my playlists")
    assert reply.text == "I can't delete playlists." and not reply.ok
    assert sim.snapshot() == before


def test_the_step_limit_says_what_was_done(
    segue: Callable[..., Segue], sim: SimulatedSpotify, fake_openai: FakeOpenAI
) -> None:
    fake_openai.chat(tool_calls=[VOLUME_40, nonsense(1)])
    for n in range(2, 7):
        fake_openai.chat(tool_calls=[nonsense(n)])
    s = segue()
    assert s.say("play Creep by Radiohead").ok
    reply = s.say("set the volume to 40 and play that song I like")
    assert not reply.ok and reply.timings.llm_calls == 6
    assert reply.text == "I couldn't finish that in 6 steps; here's what I did: Volume 40%."
    assert sim.snapshot()["volume_percent"] == 40
    assert len(reply.tool_calls) == 7


def test_the_step_limit_with_nothing_done(
    segue: Callable[..., Segue], fake_openai: FakeOpenAI
) -> None:
    for n in range(1, 3):
        fake_openai.chat(tool_calls=[nonsense(n)])
    reply = segue(max_steps=2).say("play that song I like")
    assert reply.text == "I couldn't finish that in 2 steps, and nothing was changed."


def test_a_failure_after_some_actions_says_what_was_done(
    segue: Callable[..., Segue], sim: SimulatedSpotify, fake_openai: FakeOpenAI
) -> None:
    fake_openai.chat(tool_calls=[VOLUME_40, nonsense(1)])
    fake_openai.error(500).error(500)
    s = segue()
    assert s.say("play Creep by Radiohead").ok
    reply = s.say("set the volume to 40 and play that song I like")
    assert not reply.ok
    assert reply.text == (
        "Volume 40%. Then I had to stop: OpenAI had a problem on its side; try again in a moment."
    )
    assert sim.snapshot()["volume_percent"] == 40


def test_an_error_only_the_person_can_fix_stops_the_batch(
    segue: Callable[..., Segue], sim: SimulatedSpotify, fake_openai: FakeOpenAI
) -> None:
    fake_openai.chat(
        tool_calls=[
            ("play", PLAY | {"query": "Yellow", "artist": "Coldplay"}),
            ("set_volume", {"percent": 70, "relative": False}),
            ("set_shuffle", {"on": True}),
        ]
    )
    s = segue()
    assert s.say("play Creep by Radiohead").ok
    sim.set_user_status("segue-demo", premium=False)
    reply = s.say("Yellow by Coldplay, loud, shuffled")
    assert not reply.ok and reply.text == "Controlling playback needs Spotify Premium."
    assert [c.name for c in reply.tool_calls] == ["play"]  # the rest was not attempted
    assert playing(sim) == "Creep — Radiohead"

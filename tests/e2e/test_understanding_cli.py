"""Acting only on what was understood, through `segue say` as a person runs it.

Each test runs `segue say` as a subprocess against this test's simulated Spotify (and, where a
model is involved, the scripted fake OpenAI server), and checks what a person would notice: the
reply, and whether anything changed in Spotify. A command Segue did not understand, or a name that
matches nothing closely, must change nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from assistant.sim import SimulatedSpotify
from tests.e2e.test_say_cli import say, sign_in, sim_env
from tests.fakes.openai_server import FakeOpenAI
from tests.intents.phrasings import TRAPS as GRAMMAR_TRAPS


def state(sim: SimulatedSpotify) -> dict[str, Any]:
    """What a person could notice in Spotify (the position moves by itself: left out)."""
    snapshot = sim.snapshot()
    snapshot.pop("progress_ms")
    return snapshot


@pytest.fixture
def signed_in(tmp_path: Path, sim: SimulatedSpotify, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    sign_in(home, sim, monkeypatch)
    return home


def with_model(home: Path, sim: SimulatedSpotify, fake_openai: FakeOpenAI) -> dict[str, str]:
    return sim_env(home, sim, SEGUE_OPENAI_BASE_URL=fake_openai.base_url, OPENAI_API_KEY="sk-t")


# The grammar's traps (text that starts like a command but is none), and a misheard name whose
# top search hit resembles nothing said.
TRAPS = [*GRAMMAR_TRAPS, "play for lomeo nell"]


@pytest.mark.parametrize("text", TRAPS)
def test_words_that_are_not_a_music_command_change_nothing(
    text: str, signed_in: Path, sim: SimulatedSpotify
) -> None:
    env = sim_env(signed_in, sim)  # no OpenAI key: the fast path and the tools only
    assert say("play Bohemian Rhapsody by Queen", env=env).returncode == 0
    before = state(sim)
    done = say(text, env=env)
    assert done.returncode == 1, done.stdout
    assert done.stdout == "" and done.stderr.count("\n") == 1  # one sentence
    assert state(sim) == before


def test_a_near_miss_asks_and_a_yes_plays_it(signed_in: Path, sim: SimulatedSpotify) -> None:
    env = sim_env(signed_in, sim)
    done = say(stdin="play rehap by amy winehouse\nyes\n", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "Did you mean “Rehab” by Amy Winehouse?",
        "Playing “Rehab” by Amy Winehouse.",
    ]
    playing = state(sim)
    rehab = {t.uri for t in sim.catalog.tracks.values() if t.name == "Rehab"}
    assert playing["is_playing"] and playing["track_uri"] in rehab


def test_a_near_miss_answered_no_changes_nothing(signed_in: Path, sim: SimulatedSpotify) -> None:
    env = sim_env(signed_in, sim)
    before = state(sim)
    done = say(stdin="play rehap by amy winehouse\nno\n", env=env)
    assert done.stdout.splitlines()[0] == "Did you mean “Rehab” by Amy Winehouse?"
    assert state(sim) == before


def test_a_new_command_instead_of_an_answer_drops_the_question(
    signed_in: Path, sim: SimulatedSpotify, fake_openai: FakeOpenAI
) -> None:
    env = with_model(signed_in, sim, fake_openai)
    relaxing = {
        "query": "Nuvole bianche",
        "kind": "track",
        "artist": None,
        "result_number": None,
        "device": None,
        "shuffle": None,
    }

    def sees_the_new_command(request: dict[str, Any]) -> None:
        assert request["messages"][-1] == {"role": "user", "content": "play something relaxing"}

    fake_openai.chat(tool_calls=[("play", relaxing)], check=sees_the_new_command)
    before = {p["name"]: p["track_uris"] for p in state(sim)["playlists"].values()}
    done = say(
        stdin="play Creep by Radiohead\nadd this to deep\nplay something relaxing\n", env=env
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[1] == "Which playlist? 1. Deep Work 2. Deep Work II"
    assert lines[2] == "Playing “Nuvole bianche” by Ludovico Einaudi."
    after = {p["name"]: p["track_uris"] for p in state(sim)["playlists"].values()}
    assert after == before  # no playlist got "play something relaxing" or Creep


def test_the_model_goes_on_after_reading_what_plays(
    signed_in: Path, sim: SimulatedSpotify, fake_openai: FakeOpenAI
) -> None:
    env = with_model(signed_in, sim, fake_openai)
    album = {
        "query": "A Night at the Opera",
        "kind": "album",
        "artist": "Queen",
        "result_number": None,
        "device": None,
        "shuffle": None,
    }

    def saw_what_plays(request: dict[str, Any]) -> None:
        assert "Bohemian Rhapsody" in request["messages"][-1]["content"]

    fake_openai.chat(tool_calls=[("now_playing", {})])
    fake_openai.chat(tool_calls=[("play", album)], check=saw_what_plays)
    done = say(stdin="play Bohemian Rhapsody by Queen\nplay the album this song is from\n", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1] == "Playing the album “A Night at the Opera” by Queen."
    now = state(sim)
    assert now["context_uri"] is not None and now["context_uri"].startswith("spotify:album:")
    assert fake_openai.count("chat") == 2

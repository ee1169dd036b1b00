"""The taste memory at work in the tools: feedback, more like this, the prompt, syncing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openai

from assistant import app
from assistant.agent.spotify_tools import SpotifyTools
from assistant.agent.taste_tools import TasteTools
from assistant.agent.tools import ToolCall, ToolRegistry
from assistant.config import Settings
from assistant.errors import NotFound
from assistant.pipeline import Utterance
from assistant.sim import SimulatedSpotify
from assistant.spotify.client import SpotifyClient
from assistant.spotify.devices import LocalPlayer
from assistant.taste import Song, TasteMemory
from tests.agent_tools.conftest import AskModel
from tests.agent_tools.helpers import activate_computer, playing, track_uri
from tests.fakes.openai_server import FakeOpenAI
from tests.taste.conftest import Listener


def song(sim: SimulatedSpotify, name: str, artist: str) -> Song:
    """The catalog's song, as the memory keeps it."""
    uri = track_uri(sim, name, artist)
    artist_id = sim.catalog.tracks[uri.rsplit(":", 1)[-1]].artist_ids[0]
    return Song(uri, name, artist_id, artist)


def test_what_the_person_says_about_what_plays_is_kept(listener: Listener) -> None:
    listener.say("play Creep by Radiohead")
    assert listener.say("I love this artist").text == "Noted: you like Radiohead."
    assert listener.say("I don't like this song").text == (
        "Noted: Segue won't pick “Creep” by Radiohead for you."
    )
    assert listener.say("I'm tired of this band").text == (
        "Noted: Segue will leave Radiohead out of what it picks for you."
    )
    assert [e.kind for e in listener.memory.evidence()] == [
        "artist_liked",
        "disliked",
        "artist_avoided",
    ]
    radiohead = listener.memory.beliefs().artists[0]
    assert radiohead.avoided and radiohead.word == "artist_avoided"  # the latest word counts
    assert playing(listener.sim) == "Creep — Radiohead"  # feedback plays nothing


def test_more_like_this_puts_liked_artists_first_and_leaves_avoided_ones_out(
    sim: SimulatedSpotify, client: SpotifyClient, player: LocalPlayer, tmp_path: Path
) -> None:
    memory = TasteMemory(tmp_path / "taste.sqlite3")
    memory.note("liked", [song(sim, "One More Time", "Daft Punk")])
    memory.note("artist_avoided", [song(sim, "Highway to Hell", "AC/DC")])
    memory.note("disliked", [song(sim, "Shiver", "Coldplay")])
    ask = AskModel(
        "Highway to Hell by AC/DC\nCome As You Are by Nirvana\nShiver by Coldplay\n"
        "Digital Love by Daft Punk\nRespect by Aretha Franklin"
    )
    registry = ToolRegistry(SpotifyTools(client, player, ask_model=ask, taste=memory))
    activate_computer(sim, client)
    assert registry.invoke(ToolCall("play", {"query": "Creep", "artist": "Radiohead"})).ok

    result = registry.invoke(ToolCall("more_like_this", {"count": 5}))

    assert result.ok, result.output
    assert result.output.summary == "Queued 3 songs like “Creep” by Radiohead."
    assert sim.snapshot()["queue"] == [
        track_uri(sim, "Digital Love", "Daft Punk"),  # a liked artist's first
        track_uri(sim, "Come As You Are", "Nirvana"),  # then the model's order
        track_uri(sim, "Respect", "Aretha Franklin"),
    ]


def test_the_models_prompt_names_the_artists_liked_and_avoided(
    sim: SimulatedSpotify,
    sim_settings: Settings,
    client: SpotifyClient,
    player: LocalPlayer,
    fake_openai: FakeOpenAI,
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    memory = app.build_taste(data_dir, demo=False)  # the file the agent below reads
    memory.note("liked", [song(sim, "Creep", "Radiohead")])
    memory.note("loved", [song(sim, "One More Time", "Daft Punk")])
    memory.note("artist_avoided", [song(sim, "Highway to Hell", "AC/DC")])
    assert app.build_taste(data_dir, demo=True).path != memory.path  # the demo's is its own
    prompts: list[str] = []

    def system_prompt(body: dict[str, Any]) -> None:
        prompts.append(body["messages"][0]["content"])

    fake_openai.chat(tool_calls=[("play_favourites", {"this_month": False})], check=system_prompt)
    sdk = openai.OpenAI(api_key="sk-test", base_url=fake_openai.base_url, timeout=5, max_retries=0)
    agent = app.build_agent(
        sim_settings,
        client,
        player,
        model=app.build_chat_model(sim_settings, sdk),
        data_dir=data_dir,
    )
    activate_computer(sim, client)

    result = agent.respond("play something for running")

    assert result.used_llm and result.ok, result.text
    (prompt,) = prompts
    assert (
        "Artists the person likes most, from Segue's memory of their listening (data): "
        '["Daft Punk", "Radiohead"]; for music asked for without names (a mood, an activity), '
        "lean to these and artists like them."
    ) in prompt
    assert 'Artists the person does not want suggested (data): ["AC/DC"].' in prompt
    assert result.text == "Playing 2 songs you like, starting with “One More Time” by Daft Punk."
    assert playing(sim) == "One More Time — Daft Punk"


def test_plays_are_learned_once_and_not_again_after_a_forget(listener: Listener) -> None:
    listener.hear_to_the_end("Creep", "Radiohead")
    listener.hear_to_the_end("One More Time", "Daft Punk")
    assert listener.tools.sync() == 2
    assert listener.tools.sync() == 0  # the same list again: each play kept once

    radiohead = next(a for a in listener.memory.beliefs().artists if a.name == "Radiohead")
    assert listener.memory.forget_artist(radiohead.key) == 1
    assert listener.tools.sync() == 0  # Spotify still lists Creep: it stays forgotten
    assert listener.memory.forget_all() == 1
    assert listener.tools.sync() == 0

    listener.hear_to_the_end("Airbag", "Radiohead")
    assert listener.tools.sync() == 1  # a play after the forget is learned
    assert [e.song.title for e in listener.memory.evidence()] == ["Airbag"]


def test_the_taste_tools_are_strict_and_change_nothing_in_spotify_on_their_own() -> None:
    unused: Any = object()
    registry = ToolRegistry(TasteTools(TasteMemory(None), unused, unused))
    found = {
        s["function"]["name"]: list(s["function"]["parameters"]["properties"])
        for s in registry.schemas()
    }
    assert found == {"play_favourites": ["this_month"], "taste_feedback": ["about", "liked"]}
    assert all(s["function"]["strict"] for s in registry.schemas())
    assert not any(t.destructive or t.read_only for t in registry)


def test_feedback_with_nothing_playing_keeps_nothing(listener: Listener) -> None:
    result = listener.registry.invoke(ToolCall("taste_feedback", {"liked": False}))
    assert isinstance(result.error, NotFound)
    reply = listener.pipeline.handle(Utterance(text="no more of this artist", source="test"))
    assert (reply.ok, reply.text) == (False, "Nothing is playing right now.")
    assert listener.memory.evidence() == []


def test_play_something_i_like_can_be_undone(listener: Listener) -> None:
    listener.say("play Creep by Radiohead")
    listener.say("I love this song")
    listener.say("play Bohemian Rhapsody by Queen")
    listener.say("I love this song")
    listener.say("play Creep by Radiohead")
    listener.say("go to 1:01")
    assert listener.say("play something I like").text.startswith("Playing 2 songs you like")

    reply = listener.say("undo")

    assert playing(listener.sim) == "Creep — Radiohead", reply.text
    assert listener.sim.snapshot()["progress_ms"] >= 61_000

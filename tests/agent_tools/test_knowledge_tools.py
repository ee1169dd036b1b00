"""about_music and more_like_this (the model's knowledge), and the SQLite answer cache."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from assistant.agent.knowledge import KnowledgeCache
from assistant.agent.spotify_tools import NEEDS_MODEL_MESSAGE, parse_song_lines
from assistant.errors import NotFound
from assistant.sim import SimulatedSpotify
from tests.agent_tools.conftest import AskModel, Run
from tests.agent_tools.helpers import album_uri, playlist_id, track_uri

# --- about_music -----------------------------------------------------------------------------


def test_about_the_current_song_is_cached(
    make_run: Callable[..., Run], sim: SimulatedSpotify, knowledge: KnowledgeCache
) -> None:
    ask = AskModel("It is a six-minute suite in three parts.")
    run = make_run(ask_model=ask)
    assert run("play", query="bohemian rhapsody").ok
    first = run("about_music")
    assert first.ok, first.output
    assert first.output.summary == "It is a six-minute suite in three parts."
    assert len(ask.prompts) == 1
    system, prompt = ask.prompts[0]
    assert "at most 3 short sentences" in system
    assert '"Bohemian Rhapsody"' in prompt and '"Queen"' in prompt
    assert '"A Night at the Opera"' in prompt

    second = run("about_music")
    assert second.output.summary == first.output.summary
    assert len(ask.prompts) == 1  # answered from the cache: no model call

    # The cache is a file: a new Segue (a new SpotifyTools) still has the answer.
    again = make_run(ask_model=ask, knowledge=KnowledgeCache(knowledge.path))
    assert again("about_music").output.summary == first.output.summary
    assert len(ask.prompts) == 1

    # Another question kind is another answer.
    assert run("about_music", question="history").ok
    assert len(ask.prompts) == 2


def test_about_a_named_artist_and_the_current_album(
    make_run: Callable[..., Run], sim: SimulatedSpotify
) -> None:
    ask = AskModel("Answer one.", "Answer two.")
    run = make_run(ask_model=ask)
    result = run("about_music", subject="artist", query="radiohead")
    assert result.output.summary == "Answer one."
    assert 'Artist: "Radiohead"' in ask.prompts[0][1]
    assert run("play", query="creep", artist="tlc").ok
    assert run("about_music", subject="album").output.summary == "Answer two."
    assert ask.prompts[1][1].startswith("Album: ")
    assert album_uri(sim, "CrazySexyCool").rsplit(":", 1)[-1] in (
        run("about_music", subject="album").output.detail or ""
    )


def test_about_music_with_nothing_playing(run: Run, ask_model: AskModel) -> None:
    result = run("about_music")
    assert not result.ok and isinstance(result.error, NotFound)
    assert result.output.summary == "Nothing is playing right now."
    assert ask_model.prompts == []


# --- more_like_this --------------------------------------------------------------------------

SUGGESTIONS = """Here are some songs you might like:
1. "Karma Police" by Radiohead
2. Hallelujah - Jeff Buckley
3) Qwxzzv Plugh by Nobody At All
- Zombie by The Cranberries (1994)
4. Bohemian Rhapsody by Queen
"""


def test_more_like_this_queues_what_was_found(
    make_run: Callable[..., Run], sim: SimulatedSpotify
) -> None:
    ask = AskModel(SUGGESTIONS)
    run = make_run(ask_model=ask)
    assert run("play", query="bohemian rhapsody").ok
    result = run("more_like_this", count=5)
    assert result.ok, result.output
    assert result.output.summary == "Queued 3 songs like “Bohemian Rhapsody” by Queen."
    assert sim.snapshot()["queue"] == [
        track_uri(sim, "Karma Police", "Radiohead"),
        track_uri(sim, "Hallelujah", "Jeff Buckley"),
        track_uri(sim, "Zombie", "The Cranberries"),
    ]
    (system, prompt), *_ = ask.prompts
    assert "Suggest 5 songs" in prompt and '"Bohemian Rhapsody"' in prompt
    assert "Title by Artist" in system
    # The removed recommendations endpoints were never called (the sim fixture checks too).
    assert sim.removed_endpoint_calls == []


def test_more_like_a_named_song_as_a_playlist(
    make_run: Callable[..., Run], sim: SimulatedSpotify
) -> None:
    run = make_run(ask_model=AskModel(SUGGESTIONS))
    result = run("more_like_this", action="playlist", query="creep", count=5)
    assert result.ok, result.output
    assert result.output.summary == "Created “More like Creep” with 4 songs."
    playlist = sim.snapshot()["playlists"][playlist_id(sim, "More like Creep")]
    assert playlist["public"] is False
    assert playlist["track_uris"][0] == track_uri(sim, "Karma Police", "Radiohead")


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [("about_music", {}), ("more_like_this", {}), ("more_like_this", {"query": "creep"})],
)
def test_without_a_model_the_answer_is_one_sentence(
    make_run: Callable[..., Run], sim: SimulatedSpotify, tool: str, arguments: dict[str, str]
) -> None:
    run = make_run(ask_model=None)
    before = len(sim.exchanges)
    result = run(tool, **arguments)
    assert not result.ok and result.needs_user
    assert result.output.summary == NEEDS_MODEL_MESSAGE
    assert len(sim.exchanges) == before  # nothing was asked of Spotify either


# --- parsing the model's lines ---------------------------------------------------------------


def test_parse_song_lines() -> None:
    text = (
        "Sure! Here are three:\n"
        "1. “Stand by Me” by Ben E. King\n"
        "2) 'Wonderwall' - Oasis\n"
        "  • Karma Police — Radiohead (1997)\n"
        "\n"
        "4. Stand by Me by Ben E. King\n"
        "Enjoy these songs\n"
    )
    assert parse_song_lines(text) == [
        "Stand by Me by Ben E. King",
        "Wonderwall by Oasis",
        "Karma Police by Radiohead",
    ]


# --- the cache -------------------------------------------------------------------------------


def test_cache_round_trip(tmp_path: Path) -> None:
    cache = KnowledgeCache(tmp_path / "deep" / "k.sqlite3", clock=lambda: 1234.5)
    assert cache.get("abc", "overview") is None
    cache.put("abc", "overview", "First.")
    cache.put("abc", "overview", "Second.")
    cache.put("abc", "trivia", "Other.")
    assert cache.get("abc", "overview") == "Second."
    with sqlite3.connect(cache.path) as db:
        rows = db.execute("SELECT spotify_id, question, created_at FROM answers").fetchall()
    assert sorted(rows) == [("abc", "overview", 1234.5), ("abc", "trivia", 1234.5)]


def test_a_broken_cache_file_is_a_miss(tmp_path: Path) -> None:
    path = tmp_path / "not-a-database"
    path.write_bytes(b"this is not sqlite" * 100)
    cache = KnowledgeCache(path)
    assert cache.get("abc", "overview") is None
    cache.put("abc", "overview", "Lost.")  # logged, not raised

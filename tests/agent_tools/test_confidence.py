"""Names the tools resolve, for the fast path and the model alike: act, ask, or say not found.

A search service answers every query with something; these tests check that Segue acts only on
results whose names are close to the words, asks about a near one, and otherwise changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from assistant.errors import NearMiss, NotFound
from assistant.sim import SimulatedSpotify
from assistant.spotify.client import SpotifyClient
from assistant.taste import Song, TasteMemory
from tests.agent_tools.conftest import Run
from tests.agent_tools.helpers import activate_computer, label, playing, track_uri


def unchanged(sim: SimulatedSpotify) -> dict[str, Any]:
    state = sim.snapshot()
    state.pop("progress_ms")
    return state


def test_a_top_hit_that_resembles_nothing_said_is_not_played(
    run: Run, sim: SimulatedSpotify
) -> None:
    before = unchanged(sim)
    for words in ("the news", "it at full volume", "for lomeo nell", "cubility gene"):
        result = run("play", query=words)
        assert not result.ok and isinstance(result.error, NotFound), words
        assert result.output.summary == f"Nothing on Spotify matched “{words}”."
        queued = run("add_to_queue", query=words)
        assert isinstance(queued.error, NotFound), words
    assert unchanged(sim) == before


def test_a_near_miss_is_a_question_with_the_close_match_ready(
    run: Run, sim: SimulatedSpotify
) -> None:
    before = unchanged(sim)
    result = run("play", query="rehap", artist="amy winehouse")
    assert isinstance(result.error, NearMiss)
    assert result.output.summary == "Did you mean “Rehab” by Amy Winehouse?"
    assert result.error.argument == "query" and result.error.clear == ("artist",)
    assert unchanged(sim) == before
    # The agent runs the call again with the match itself when the person says yes.
    assert run("play", query=result.error.value).ok
    assert playing(sim) == "Rehab — Amy Winehouse"


def test_close_matches_are_acted_on(run: Run, sim: SimulatedSpotify) -> None:
    assert run("play", query="billy jean").output.summary.startswith("Playing “Billie Jean”")
    assert run("play", query="smells like teen spirit", artist="nirvanna").ok
    assert playing(sim) == "Smells Like Teen Spirit — Nirvana"
    assert run("play", query="gymnopedie no 1").ok
    assert playing(sim).startswith("Gymnopédie No. 1")


def test_songs_in_a_list_that_only_nearly_match_are_not_added(
    run: Run, sim: SimulatedSpotify
) -> None:
    result = run("create_playlist", name="Mix", tracks=["Rehab by Amy Winehouse", "The News"])
    assert result.ok
    assert result.output.summary == "Created “Mix” with 1 song; couldn't find “The News”."
    mix = next(p for p in sim.snapshot()["playlists"].values() if p["name"] == "Mix")
    assert mix["track_uris"] == [track_uri(sim, "Rehab", "Amy Winehouse")]


def test_an_empty_playlist_by_name(run: Run, sim: SimulatedSpotify) -> None:
    result = run("create_playlist", name="Focus", tracks=[])
    assert result.output.summary == "Created the empty playlist “Focus”."
    focus = [p for p in sim.snapshot()["playlists"].values() if p["name"] == "Focus"]
    assert len(focus) == 1 and focus[0]["track_uris"] == [] and not focus[0]["public"]
    again = run("create_playlist", name="focus", tracks=[])  # said twice: not made twice
    assert not again.ok
    assert again.output.summary == (
        "You already have a playlist called “Focus”; say another name, or add songs to it."
    )
    assert len([p for p in sim.snapshot()["playlists"].values() if p["name"] == "Focus"]) == 1


def test_a_playlist_of_an_artists_songs_from_search(run: Run, sim: SimulatedSpotify) -> None:
    result = run("playlist_from_artist", artist="nina simone", count=8)
    assert result.ok, result.output
    assert result.output.summary == "Created “Songs by Nina Simone” with 8 songs."
    made = next(p for p in sim.snapshot()["playlists"].values() if p["name"].endswith("Simone"))
    labels = [label(sim, uri) for uri in made["track_uris"]]
    assert len(set(labels)) == 8 and all(label.endswith("— Nina Simone") for label in labels)
    assert not run("playlist_from_artist", artist="Nina Simone").ok  # no second copy
    assert sum(p["name"].endswith("Simone") for p in sim.snapshot()["playlists"].values()) == 1
    missing = run("playlist_from_artist", artist="the news")
    assert isinstance(missing.error, NotFound)


def test_a_near_miss_that_is_the_persons_own_song_by_the_artist_named_is_played(
    make_run: Callable[..., Run], sim: SimulatedSpotify, client: SpotifyClient, tmp_path: Path
) -> None:
    # "Creek by Radiohead" (a slip of the ear or the keys): a question for a new listener...
    run = make_run()
    before = unchanged(sim)
    assert isinstance(run("play", query="creek", artist="radiohead").error, NearMiss)
    assert unchanged(sim) == before
    # ...and "Creep" at once for one who played it lately (over 30 s, then the next song).
    creep = track_uri(sim, "Creep", "Radiohead")
    activate_computer(sim, client)
    client.play(uris=[creep, track_uri(sim, "Rehab", "Amy Winehouse")])
    client.seek(40_000)
    client.next_track()
    played = run("play", query="creek", artist="radiohead")
    assert played.ok and played.output.summary.startswith("Playing “Creep” by Radiohead")
    assert playing(sim) == "Creep — Radiohead"
    # Liked songs count too; the artist must be the one named, and a song the taste memory
    # says they dislike is asked about again.
    assert isinstance(run("play", query="mr right side", artist="the killers").error, NearMiss)
    client.save_to_library([track_uri(sim, "Mr. Brightside", "The Killers")])
    assert run("play", query="mr right side", artist="the killers").ok
    assert playing(sim) == "Mr. Brightside — The Killers"
    assert isinstance(run("play", query="creek", artist="adele").error, (NearMiss, NotFound))
    taste = TasteMemory(tmp_path / "taste.sqlite3")
    taste.note("disliked", [Song(creep, "Creep", "", "Radiohead")])
    disliked = make_run(taste=taste)("play", query="creek", artist="radiohead")
    assert isinstance(disliked.error, NearMiss)

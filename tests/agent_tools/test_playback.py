"""Playback tools through the registry, against the simulated Spotify."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from assistant.errors import NoDevice, NotFound, SpotifyRequestRejected
from assistant.sim import SimulatedSpotify
from assistant.spotify.client import SpotifyClient
from assistant.spotify.devices import LocalPlayer
from tests.agent_tools.conftest import Run
from tests.agent_tools.helpers import (
    activate_computer,
    album_uri,
    device_id,
    playing,
    playlist_id,
    track_uri,
)

# --- play ------------------------------------------------------------------------------------


def test_play_a_track_plays_it_in_its_album(run: Run, sim: SimulatedSpotify) -> None:
    result = run("play", query="bohemian rhapsody", kind="track")
    assert result.ok, result.output
    assert result.output.summary == "Playing “Bohemian Rhapsody” by Queen."
    assert playing(sim) == "Bohemian Rhapsody — Queen"
    assert sim.snapshot()["context_uri"] == album_uri(sim, "A Night at the Opera")
    # The album continues after the track.
    assert "spotify:album:" in (result.output.detail or "")


@pytest.mark.parametrize(
    ("title", "artist"),
    [
        ("Hallelujah", "Jeff Buckley"),
        ("Hallelujah", "Leonard Cohen"),
        ("Creep", "TLC"),
        ("Creep", "Radiohead"),
    ],
)
def test_play_x_by_y_picks_that_artists_song(
    run: Run, sim: SimulatedSpotify, client: SpotifyClient, title: str, artist: str
) -> None:
    activate_computer(sim, client)
    before = client.calls
    result = run("play", query=title.lower(), artist=artist.lower())
    assert result.ok, result.output
    assert playing(sim) == f"{title} — {artist}"
    assert result.output.summary == f"Playing “{title}” by {artist}."
    # One search and one play command, and beside the search one read of what played before
    # (for "undo"): no device list, no playlist list.
    assert client.calls - before == 3


def test_play_a_playlist_by_folded_name(run: Run, sim: SimulatedSpotify) -> None:
    result = run("play", query="cafe lounge", kind="playlist")
    assert result.ok, result.output
    assert result.output.summary == "Playing the playlist “Café Lounge”."
    state = sim.snapshot()
    assert state["is_playing"]
    assert state["context_uri"] == f"spotify:playlist:{playlist_id(sim, 'Café Lounge')}"


def test_play_any_prefers_the_persons_playlist(run: Run, sim: SimulatedSpotify) -> None:
    assert run("play", query="deep work").ok
    assert sim.snapshot()["context_uri"] == f"spotify:playlist:{playlist_id(sim, 'Deep Work')}"


def test_play_any_finds_an_artist_and_an_album(run: Run, sim: SimulatedSpotify) -> None:
    result = run("play", query="queen")
    assert result.output.summary == "Playing songs by Queen."
    queen = next(a for a in sim.catalog.artists.values() if a.name == "Queen")
    assert sim.snapshot()["context_uri"] == queen.uri
    result = run("play", query="abbey road")
    assert result.output.summary == "Playing the album “Abbey Road” by The Beatles."
    assert sim.snapshot()["context_uri"] == album_uri(sim, "Abbey Road")


def test_play_a_spotify_link(run: Run, sim: SimulatedSpotify) -> None:
    album = album_uri(sim, "Rumours")
    link = f"https://open.spotify.com/album/{album.rsplit(':', 1)[-1]}?si=abc"
    assert run("play", query=link).ok
    state = sim.snapshot()
    assert state["context_uri"] == album and state["is_playing"]


def test_a_linked_track_plays_in_its_album_and_is_named(run: Run, sim: SimulatedSpotify) -> None:
    album = album_uri(sim, "A Night at the Opera")
    track = next(t for t in sim.catalog.tracks.values() if t.name == "Bohemian Rhapsody")
    result = run("play", query=f"spotify:track:{track.id}")
    assert result.output.summary == "Playing “Bohemian Rhapsody” by Queen."
    state = sim.snapshot()
    assert state["context_uri"] == album
    assert state["track_uri"] == f"spotify:track:{track.id}"


def test_play_something_that_does_not_exist(run: Run, sim: SimulatedSpotify) -> None:
    result = run("play", query="xyzzy plugh", kind="track")
    assert not result.ok and isinstance(result.error, NotFound)
    assert result.output.summary == "Nothing on Spotify matched “xyzzy plugh”."
    assert not result.needs_user  # the model can try other words
    assert sim.snapshot()["is_playing"] is False


def test_play_with_shuffle_on_a_device(run: Run, sim: SimulatedSpotify) -> None:
    result = run("play", query="sunday jazz", kind="playlist", device="pixel", shuffle=True)
    assert result.ok, result.output
    assert result.output.summary == "Playing the playlist “Sunday Jazz” on “Pixel 8”, shuffled."
    state = sim.snapshot()
    assert state["active_device_id"] == device_id(sim, "Smartphone")
    assert state["shuffle"] is True and state["is_playing"]


def test_play_without_query_resumes(run: Run, sim: SimulatedSpotify) -> None:
    assert run("play", query="creep", artist="radiohead").ok
    assert run("pause").ok
    result = run("play")
    assert result.output.summary == "Resumed."
    assert playing(sim) == "Creep — Radiohead"


# --- no device -------------------------------------------------------------------------------


def test_play_with_no_device_starts_this_computers_spotify(
    make_run: Callable[..., Run], client: SpotifyClient, sim: SimulatedSpotify
) -> None:
    sim.set_device_online("Computer", False)
    launched: list[list[str]] = []

    def launch(command: Sequence[str]) -> None:
        # Stands in for the desktop app: once started, it comes online as a device.
        launched.append(list(command))
        sim.set_device_online("Computer", True)

    player = LocalPlayer(
        client, device_name=None, wait_seconds=3, poll_interval=0.05, launch=launch
    )
    run = make_run(player=player)
    result = run("play", query="bohemian rhapsody")
    assert result.ok, result.output
    assert launched, "the Spotify app was not started"
    assert sim.snapshot()["active_device_id"] == device_id(sim, "Computer")
    assert playing(sim) == "Bohemian Rhapsody — Queen"


def test_play_moves_to_this_computer_when_nothing_is_active(
    run: Run, sim: SimulatedSpotify, launched: list[list[str]]
) -> None:
    assert sim.snapshot()["active_device_id"] is None
    assert run("play", query="bohemian rhapsody").ok
    assert sim.snapshot()["active_device_id"] == device_id(sim, "Computer")
    assert launched == []  # listed already: nothing had to be started


def test_pause_with_no_device_is_nothing_playing(run: Run) -> None:
    result = run("pause")
    assert result.ok and result.output.summary == "Nothing is playing."


def test_next_with_no_device_moves_to_this_computer_first(run: Run, sim: SimulatedSpotify) -> None:
    # Spotify is open on this computer but inactive, with nothing loaded: the skip moves
    # playback here and then says there is nothing to skip, instead of a vague refusal.
    result = run("next_track")
    assert not result.ok and result.needs_user
    assert result.output.summary == "There is nothing to skip; say what to play."
    assert sim.snapshot()["active_device_id"] is not None


def test_volume_with_no_device_moves_to_this_computer(run: Run, sim: SimulatedSpotify) -> None:
    result = run("set_volume", percent=30)
    assert result.ok, result.output
    assert sim.snapshot()["volume_percent"] == 30


def test_next_with_the_computer_gone_says_what_to_do(
    run: Run, sim: SimulatedSpotify, launched: list[list[str]]
) -> None:
    sim.set_device_online("Computer", False)
    sim.set_device_online("Smartphone", False)
    result = run("next_track")
    assert not result.ok and isinstance(result.error, NoDevice) and result.needs_user


# --- transport -------------------------------------------------------------------------------


def test_pause_and_resume(run: Run, sim: SimulatedSpotify) -> None:
    assert run("play", query="bohemian rhapsody").ok
    assert run("pause").output.summary == "Paused."
    assert sim.snapshot()["is_playing"] is False
    assert run("pause").ok  # already paused: still fine
    assert run("resume").output.summary == "Resumed."
    assert sim.snapshot()["is_playing"] is True


def test_next_and_previous_say_what_plays(
    run: Run, sim: SimulatedSpotify, client: SpotifyClient
) -> None:
    assert run("play", query="you're my best friend", artist="queen").ok
    before = client.calls
    result = run("next_track")
    assert result.output.summary == "Skipped to “'39” by Queen."
    assert playing(sim) == "'39 — Queen"
    assert client.calls - before == 2  # the skip and one read of what plays now
    result = run("previous_track")
    assert result.output.summary == "Back to “You're My Best Friend” by Queen."
    assert playing(sim) == "You're My Best Friend — Queen"


def test_seek_absolute_and_relative(run: Run, sim: SimulatedSpotify) -> None:
    assert run("play", query="bohemian rhapsody").ok
    assert run("pause").ok  # a paused track keeps its position
    assert run("seek", seconds=60).output.summary == "Jumped to 1:00."
    assert sim.snapshot()["progress_ms"] == 60_000
    result = run("seek", seconds=30, relative=True)
    assert result.output.summary == "Jumped forward 30 seconds to 1:30."
    assert sim.snapshot()["progress_ms"] == 90_000
    assert run("seek", seconds=-200, relative=True).ok
    assert sim.snapshot()["progress_ms"] == 0


def test_volume(run: Run, sim: SimulatedSpotify, client: SpotifyClient) -> None:
    activate_computer(sim, client)
    before = client.calls
    result = run("set_volume", percent=30)
    assert result.output.summary == "Volume 30%."
    assert client.calls - before == 2  # the volume before (for "undo"), then the new one
    assert sim.snapshot()["volume_percent"] == 30
    assert run("set_volume", percent=15, relative=True).output.summary == "Volume 45%."
    assert run("set_volume", percent=-80, relative=True).output.summary == "Volume 0%."
    assert run("set_volume", percent=140).output.summary == "Volume 100%."
    assert sim.snapshot()["volume_percent"] == 100


def test_mute_and_unmute_restore_the_volume(
    run: Run, sim: SimulatedSpotify, client: SpotifyClient
) -> None:
    activate_computer(sim, client)
    assert run("set_volume", percent=35).ok
    assert run("mute").output.summary == "Muted."
    assert sim.snapshot()["volume_percent"] == 0
    assert run("mute", muted=False).output.summary == "Unmuted: volume 35%."
    assert sim.snapshot()["volume_percent"] == 35


def test_shuffle_and_repeat(run: Run, sim: SimulatedSpotify) -> None:
    assert run("play", query="abbey road", kind="album").ok
    assert run("set_shuffle", on=True).output.summary == "Shuffle on."
    assert sim.snapshot()["shuffle"] is True
    assert run("set_repeat", mode="track").output.summary == "Repeating this song."
    assert sim.snapshot()["repeat"] == "track"
    assert run("set_repeat", mode="off").ok
    assert sim.snapshot()["repeat"] == "off"


def test_a_bad_repeat_mode_goes_back_to_the_model(run: Run, sim: SimulatedSpotify) -> None:
    result = run("set_repeat", mode="forever")
    assert not result.ok and not result.needs_user
    assert "mode" in result.output.summary


# --- queue and what plays --------------------------------------------------------------------


def test_queue_a_track_and_an_album(run: Run, sim: SimulatedSpotify) -> None:
    assert run("play", query="bohemian rhapsody").ok
    result = run("add_to_queue", query="creep", artist="tlc")
    assert result.output.summary == "Queued “Creep” by TLC."
    assert sim.snapshot()["queue"] == [track_uri(sim, "Creep", "TLC")]
    result = run("add_to_queue", query="highway to hell", kind="album")
    assert result.ok, result.output
    album = sim.catalog.albums[album_uri(sim, "Highway to Hell").rsplit(":", 1)[-1]]
    assert result.output.summary == (
        f"Queued the album “Highway to Hell” by AC/DC ({len(album.track_ids)} songs)."
    )
    assert sim.snapshot()["queue"][1:] == [f"spotify:track:{t}" for t in album.track_ids]


def test_get_queue(run: Run, sim: SimulatedSpotify) -> None:
    assert run("play", query="bohemian rhapsody").ok
    assert run("add_to_queue", query="creep", artist="radiohead").ok
    result = run("get_queue")
    assert result.output.summary.startswith("Up next: “Creep” by Radiohead")
    assert track_uri(sim, "Creep", "Radiohead") in (result.output.detail or "")


def test_now_playing(run: Run, sim: SimulatedSpotify) -> None:
    assert run("now_playing").output.summary == "Nothing is playing right now."
    assert run("play", query="bohemian rhapsody").ok
    result = run("now_playing")
    # The simulator's Computer is named after this host: people call it "this computer".
    assert result.output.summary == (
        "Playing “Bohemian Rhapsody” by Queen from “A Night at the Opera” on this computer."
    )
    assert run("now_playing", about="artist").output.summary == "That's Queen."
    assert run("now_playing", about="album").output.summary == (
        "That's from “A Night at the Opera” by Queen."
    )
    assert run("pause").ok
    assert run("now_playing").output.summary.startswith("Paused: “Bohemian Rhapsody”")
    # Another device is named as its owner named it.
    assert run("transfer_playback", device="Pixel 8").output.summary == "Playing on “Pixel 8”."
    assert run("now_playing").output.summary.endswith(" on “Pixel 8”.")


def test_result_number_out_of_range_names_the_range(run: Run) -> None:
    result = run("play", result_number=2)
    assert not result.ok and isinstance(result.error, NotFound)
    assert run("search", query="creep").ok
    result = run("play", result_number=9)
    assert not result.ok and isinstance(result.error, SpotifyRequestRejected)
    assert not result.needs_user
    assert "choose 1-3" in result.output.summary

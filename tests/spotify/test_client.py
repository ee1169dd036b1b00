"""Every SpotifyClient operation against the simulated Spotify, over real HTTP."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from assistant.errors import NoDevice, NotFound, SpotifyError, SpotifyRequestRejected
from assistant.sim import Exchange, SimulatedSpotify
from assistant.spotify.client import SpotifyClient
from assistant.spotify.models import Track

Calls = Callable[..., list[Exchange]]


def bohemian(client: SpotifyClient) -> Track:
    track = client.search("bohemian rhapsody queen").tracks[0]
    assert track.label == "Bohemian Rhapsody — Queen"
    return track


def body(exchange: Exchange) -> Any:
    return json.loads(exchange.request_body)


# --- user and search --------------------------------------------------------------------------


def test_one_track_and_an_album_s_tracks(client: SpotifyClient, api_calls: Calls) -> None:
    found = bohemian(client)
    track = client.track(f"https://open.spotify.com/track/{found.id}?si=x")
    assert track.label == "Bohemian Rhapsody — Queen"
    assert track.album is not None and track.album.name == "A Night at the Opera"
    tracks = client.album_tracks(track.album.uri)
    assert [t.track_number for t in tracks] == list(range(1, len(tracks) + 1))
    assert found.uri in [t.uri for t in tracks]
    assert [e.path for e in api_calls()][-2:] == [
        f"/v1/tracks/{found.id}",
        f"/v1/albums/{track.album.id}/tracks",
    ]


def test_an_unknown_track_is_not_found(client: SpotifyClient) -> None:
    with pytest.raises(NotFound):
        client.track("spotify:track:0000000000000000000000")


def test_me(client: SpotifyClient) -> None:
    user = client.me()
    assert (user.id, user.display_name) == ("segue-demo", "Demo Listener")


def test_search_tracks(client: SpotifyClient, api_calls: Calls) -> None:
    results = client.search("bohemian rhapsody")
    assert results.tracks[0].label == "Bohemian Rhapsody — Queen"
    assert results.tracks[0].album is not None
    assert results.tracks[0].album.name == "A Night at the Opera"
    (search,) = api_calls("GET", "/v1/search")
    assert search.query["type"] == ["track"] and search.query["limit"] == ["5"]


def test_search_several_kinds(client: SpotifyClient) -> None:
    results = client.search("queen", kinds=("artist", "album"), limit=3)
    assert results.artists[0].name == "Queen"
    assert 0 < len(results.albums) <= 3
    assert results.tracks == ()


def test_search_kind_as_a_string(client: SpotifyClient) -> None:
    assert client.search("abbey road", kinds="album").albums[0].name == "Abbey Road"


def test_search_limit_is_clamped_to_what_spotify_accepts(
    client: SpotifyClient, api_calls: Calls
) -> None:
    results = client.search("love", limit=50)
    assert 0 < len(results.tracks) <= 10
    assert api_calls("GET", "/v1/search")[0].query["limit"] == ["10"]
    client.search("love", limit=0)
    assert api_calls("GET", "/v1/search")[1].query["limit"] == ["1"]


@pytest.mark.parametrize(
    ("query", "options"),
    [
        ("  ", {}),
        ("queen", {"kinds": ("podcast",)}),
        ("queen", {"kinds": ()}),
        ("queen", {"offset": 1001}),
        ("queen", {"offset": -1}),
    ],
)
def test_search_arguments_checked_before_sending(
    client: SpotifyClient, api_calls: Calls, query: str, options: dict[str, Any]
) -> None:
    with pytest.raises(SpotifyRequestRejected):
        client.search(query, **options)
    assert api_calls() == []


# --- player --------------------------------------------------------------------------------


def test_nothing_playing_at_first(client: SpotifyClient) -> None:
    assert client.playback() is None
    assert client.currently_playing() is None
    devices = client.devices()
    assert sorted(d.type for d in devices) == ["Computer", "Smartphone"]
    assert not any(d.is_active for d in devices)


def test_play_a_track_in_its_album_then_skip(
    client: SpotifyClient, sim: SimulatedSpotify, computer: dict[str, Any]
) -> None:
    track = bohemian(client)
    assert track.album is not None
    client.play(context_uri=track.album.uri, offset_uri=track.uri, device_id=computer["id"])

    state = client.playback()
    assert state is not None and state.is_playing
    assert state.item == track
    assert state.context_uri == track.album.uri
    assert state.device is not None and state.device.name == computer["name"]

    client.next_track()
    now = client.currently_playing()
    assert now is not None and now.item is not None
    assert now.item.album is not None and now.item.album.uri == track.album.uri
    assert now.item.track_number == track.track_number + 1

    client.previous_track()
    assert sim.snapshot()["track_uri"] == track.uri


def test_play_links_and_a_position(
    client: SpotifyClient, sim: SimulatedSpotify, computer: dict[str, Any], api_calls: Calls
) -> None:
    track = bohemian(client)
    link = f"https://open.spotify.com/track/{track.id}?si=abc"
    client.play(uris=[link], position_ms=60_000, device_id=computer["id"])
    snapshot = sim.snapshot()
    assert snapshot["track_uri"] == track.uri and snapshot["is_playing"]
    assert snapshot["progress_ms"] >= 60_000
    assert body(api_calls("PUT", "/v1/me/player/play")[0]) == {
        "uris": [track.uri],
        "position_ms": 60_000,
    }


def test_play_without_an_active_device(client: SpotifyClient) -> None:
    track = bohemian(client)
    with pytest.raises(NoDevice) as caught:
        client.play(uris=[track.uri])
    assert caught.value.retryable


@pytest.mark.parametrize(
    "options",
    [
        {
            "uris": ["spotify:track:4u7EnebtmKWzUH433cf5Qv"],
            "context_uri": "spotify:album:6i6folBtxKV28WX3msQ4FE",
        },
        {"uris": []},
        {"uris": ["bohemian rhapsody"]},
        {"uris": ["spotify:album:6i6folBtxKV28WX3msQ4FE"]},
        {"context_uri": "spotify:track:4u7EnebtmKWzUH433cf5Qv"},
        {"context_uri": "spotify:artist:6i6folBtxKV28WX3msQ4FE", "offset_position": 2},
        {"offset_uri": "spotify:track:4u7EnebtmKWzUH433cf5Qv"},
        {
            "context_uri": "spotify:album:6i6folBtxKV28WX3msQ4FE",
            "offset_uri": "spotify:track:4u7EnebtmKWzUH433cf5Qv",
            "offset_position": 1,
        },
        {"context_uri": "spotify:album:6i6folBtxKV28WX3msQ4FE", "offset_position": -1},
        {"uris": ["spotify:track:4u7EnebtmKWzUH433cf5Qv"], "position_ms": -5},
        {"uris": ["spotify:track:4u7EnebtmKWzUH433cf5Qv"], "device_id": "phone&volume=100"},
    ],
)
def test_play_arguments_checked_before_sending(
    client: SpotifyClient, api_calls: Calls, options: dict[str, Any]
) -> None:
    with pytest.raises(SpotifyRequestRejected):
        client.play(**options)
    assert api_calls() == []


def test_pause_and_resume_are_idempotent(
    client: SpotifyClient, sim: SimulatedSpotify, computer: dict[str, Any]
) -> None:
    client.play(uris=[bohemian(client).uri], device_id=computer["id"])
    client.pause()
    client.pause()  # Spotify: 403 "Restriction violated"; the user's wish holds
    assert sim.snapshot()["is_playing"] is False
    client.resume()
    client.resume()
    assert sim.snapshot()["is_playing"] is True


def test_resume_with_nothing_loaded(client: SpotifyClient, computer: dict[str, Any]) -> None:
    client.transfer(computer["id"], play=False)
    with pytest.raises(SpotifyError, match="nothing to resume"):
        client.resume()


def test_seek_volume_shuffle_repeat(
    client: SpotifyClient, sim: SimulatedSpotify, computer: dict[str, Any]
) -> None:
    track = bohemian(client)
    assert track.album is not None
    client.play(context_uri=track.album.uri, device_id=computer["id"])
    client.pause()
    client.seek(90_000)
    client.set_volume(35)
    client.set_shuffle(True)
    client.set_repeat("context")
    snapshot = sim.snapshot()
    assert snapshot["progress_ms"] == 90_000
    assert snapshot["volume_percent"] == 35
    assert snapshot["shuffle"] is True and snapshot["repeat"] == "context"
    state = client.playback()
    assert state is not None
    assert (state.progress_ms, state.shuffle, state.repeat) == (90_000, True, "context")
    assert state.device is not None and state.device.volume_percent == 35
    client.set_repeat("track")
    client.set_shuffle(False)
    client.set_volume(0)
    snapshot = sim.snapshot()
    assert (snapshot["repeat"], snapshot["shuffle"], snapshot["volume_percent"]) == (
        "track",
        False,
        0,
    )


@pytest.mark.parametrize(
    ("method", "value"),
    [
        ("set_volume", 101),
        ("set_volume", -1),
        ("set_volume", 50.5),
        ("set_volume", True),
        ("seek", -1),
        ("seek", 1.5),
        ("set_repeat", "all"),
        ("set_repeat", "one"),
        ("set_shuffle", "yes"),
        ("add_to_queue", "spotify:album:6i6folBtxKV28WX3msQ4FE"),
        ("transfer", ""),
    ],
)
def test_player_arguments_checked_before_sending(
    client: SpotifyClient, api_calls: Calls, method: str, value: Any
) -> None:
    # spotipy would log a warning and return None for most of these, sending nothing.
    with pytest.raises(SpotifyRequestRejected):
        getattr(client, method)(value)
    assert api_calls() == []


def test_queue(client: SpotifyClient, computer: dict[str, Any]) -> None:
    track = bohemian(client)
    come_together = client.search("come together beatles").tracks[0]
    client.play(uris=[track.uri], device_id=computer["id"])
    client.add_to_queue(come_together.uri)
    queue = client.queue()
    assert queue.current == track
    assert queue.upcoming[0] == come_together


def test_recently_played(client: SpotifyClient, computer: dict[str, Any]) -> None:
    track = bohemian(client)
    # Spotify lists a track once it stops, when it played for more than 30 s.
    client.play(uris=[track.uri], device_id=computer["id"], position_ms=40_000)
    client.next_track()
    played = client.recently_played(limit=5)
    assert track in played
    assert len(client.recently_played(limit=500)) <= 50


def test_transfer_to_the_phone(
    client: SpotifyClient, sim: SimulatedSpotify, computer: dict[str, Any], phone: dict[str, Any]
) -> None:
    client.play(uris=[bohemian(client).uri], device_id=computer["id"])
    client.transfer(phone["id"], play=True)
    snapshot = sim.snapshot()
    assert snapshot["active_device_id"] == phone["id"] and snapshot["is_playing"]
    devices = {d.name: d for d in client.devices()}
    assert devices[phone["name"]].is_active and not devices[computer["name"]].is_active


def test_unknown_album(client: SpotifyClient, computer: dict[str, Any]) -> None:
    with pytest.raises(NotFound):
        client.play(context_uri="spotify:album:0000000000000000000000", device_id=computer["id"])


def test_calls_are_counted(client: SpotifyClient, api_calls: Calls) -> None:
    client.me()
    client.devices()
    assert client.calls == 2 == len(api_calls())


# --- library -------------------------------------------------------------------------------


def test_library_in_batches_of_40(
    client: SpotifyClient, sim: SimulatedSpotify, api_calls: Calls, tracks: list[str]
) -> None:
    uris = tracks[:45]
    assert client.library_contains(uris) == [False] * 45
    client.save_to_library(uris)
    assert set(uris) <= set(sim.snapshot()["library"])
    assert client.library_contains([uris[0], tracks[100], uris[44]]) == [True, False, True]
    client.remove_from_library(uris[:41])
    assert client.library_contains(uris[39:]) == [False, False, True, True, True, True]

    saves = api_calls("PUT", "/v1/me/library")
    assert [len(e.query["uris"][0].split(",")) for e in saves] == [40, 5]
    removals = api_calls("DELETE", "/v1/me/library")
    assert [len(e.query["uris"][0].split(",")) for e in removals] == [40, 1]
    # /me/tracks is closed to new apps: never used.
    assert not [e for e in api_calls() if e.path.startswith("/v1/me/tracks")]


def test_library_takes_albums_and_links(client: SpotifyClient) -> None:
    track = bohemian(client)
    assert track.album is not None
    client.save_to_library([track.album.uri, f"https://open.spotify.com/track/{track.id}"])
    assert client.library_contains([track.uri, track.album.uri]) == [True, True]


def test_library_with_nothing_to_do(client: SpotifyClient, api_calls: Calls) -> None:
    client.save_to_library([])
    assert client.library_contains([]) == []
    assert api_calls() == []

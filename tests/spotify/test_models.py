"""Reading Spotify objects as they come today: removed fields absent, old and new key names."""

from __future__ import annotations

from typing import Any

from assistant.spotify.models import (
    Device,
    PlaybackState,
    Playlist,
    Queue,
    SearchResults,
    Track,
    User,
    playlist_item_track,
)

QUEEN = {
    "id": "1dfeR4HaWDbWqFHLkxsg1d",
    "uri": "spotify:artist:1dfeR4HaWDbWqFHLkxsg1d",
    "name": "Queen",
}
TRACK: dict[str, Any] = {
    "type": "track",
    "id": "4u7EnebtmKWzUH433cf5Qv",
    "uri": "spotify:track:4u7EnebtmKWzUH433cf5Qv",
    "name": "Bohemian Rhapsody",
    "artists": [QUEEN],
    "album": {
        "id": "6i6folBtxKV28WX3msQ4FE",
        "uri": "spotify:album:6i6folBtxKV28WX3msQ4FE",
        "name": "A Night at the Opera",
        "artists": [QUEEN],
        "release_date": "1975-11-21",
        "album_type": "album",
        "total_tracks": 12,
    },
    "duration_ms": 354320,
    "track_number": 11,
    "explicit": False,
    # No popularity, available_markets or external_ids: removed for development-mode apps.
}


def test_track_without_removed_fields() -> None:
    track = Track.from_api(TRACK)
    assert track.label == "Bohemian Rhapsody — Queen"
    assert track.album is not None and track.album.label == "A Night at the Opera — Queen"
    assert (track.duration_ms, track.track_number, track.explicit) == (354320, 11, False)


def test_track_with_several_artists_and_no_album() -> None:
    data = {**TRACK, "artists": [QUEEN, {"name": "David Bowie"}], "album": None}
    track = Track.from_api(data)
    assert track.label == "Bohemian Rhapsody — Queen, David Bowie"
    assert track.album is None


def test_episodes_and_nulls_are_not_tracks() -> None:
    assert Track.maybe_from_api({"type": "episode", "id": "x", "name": "A podcast"}) is None
    assert Track.maybe_from_api(None) is None


def test_playlist_item_under_item_or_track() -> None:
    assert playlist_item_track({"item": TRACK}) == Track.from_api(TRACK)
    assert playlist_item_track({"track": TRACK}) == Track.from_api(TRACK)
    assert playlist_item_track({"item": None, "track": None}) is None


def test_local_file_in_a_playlist_has_no_id() -> None:
    local = {
        "type": "track",
        "id": None,
        "uri": "spotify:local:::Demo+tape:180",
        "name": "Demo tape",
    }
    track = playlist_item_track({"item": local, "is_local": True})
    assert track is not None and track.id == "" and track.name == "Demo tape"


def test_playlist_counts_items_under_either_key() -> None:
    base = {
        "id": "UxgVvvk7I55myEdIocWB3X",
        "uri": "spotify:playlist:UxgVvvk7I55myEdIocWB3X",
        "name": "Deep Work",
        "description": "",
        "owner": {"id": "segue-demo", "display_name": "Demo Listener"},
        "public": None,
        "collaborative": False,
    }
    assert Playlist.from_api({**base, "items": {"total": 14}}).total_items == 14
    assert Playlist.from_api({**base, "tracks": {"total": 9}}).total_items == 9
    playlist = Playlist.from_api(base)
    assert (playlist.total_items, playlist.public, playlist.owner_name) == (
        0,
        None,
        "Demo Listener",
    )


def test_device_without_id_or_volume() -> None:
    device = Device.from_api(
        {
            "id": None,
            "name": "Kitchen",
            "type": "Speaker",
            "is_active": False,
            "is_restricted": True,
            "volume_percent": None,
        }
    )
    assert device == Device(None, "Kitchen", "Speaker", False, True, None, True)


def test_playback_after_playing_plain_uris_has_no_context() -> None:
    state = PlaybackState.from_api(
        {
            "device": None,
            "is_playing": True,
            "item": TRACK,
            "progress_ms": 1000,
            "shuffle_state": False,
            "repeat_state": "track",
            "context": None,
        }
    )
    assert state.context_uri is None and state.repeat == "track"
    assert state.item is not None and state.item.name == "Bohemian Rhapsody"


def test_queue_skips_episodes_and_tolerates_nothing_playing() -> None:
    queue = Queue.from_api({"currently_playing": None, "queue": [TRACK, {"type": "episode"}]})
    assert queue.current is None
    assert [t.name for t in queue.upcoming] == ["Bohemian Rhapsody"]


def test_search_results_skip_null_entries() -> None:
    results = SearchResults.from_api(
        {"tracks": {"items": [TRACK, None]}, "playlists": {"items": [None]}}
    )
    assert len(results.tracks) == 1 and results.playlists == () and results.albums == ()


def test_user_without_product_or_country() -> None:
    assert User.from_api({"id": "segue-demo", "display_name": None}) == User("segue-demo", None)

"""The playback state machine, driven through the Web API as a client would."""

from __future__ import annotations

import time
from typing import Any

import pytest

from assistant.sim import SimulatedSpotify
from assistant.sim.catalog import Catalog
from tests.support.sim_helpers import Api, album_named, error_of, track_named

OPERA = "A Night at the Opera"


def track_ids(catalog: Catalog, album: str) -> list[str]:
    return list(album_named(catalog, album).track_ids)


def play_album(api: Api, catalog: Catalog, *, offset: dict[str, Any] | None = None) -> str:
    """Play A Night at the Opera on the Computer; returns the album URI."""
    album = album_named(catalog, OPERA)
    body: dict[str, Any] = {"context_uri": album.uri}
    if offset is not None:
        body["offset"] = offset
    response = api.put("/me/player/play", body, device_id=api.device_id("Computer"))
    assert response.status_code == 204, response.text
    assert response.content == b""
    return album.uri


def current_id(api: Api) -> str:
    return str(api.playback()["item"]["id"])


def wait_for(condition: Any, timeout: float = 5.0) -> None:
    """Poll ``condition`` (an event in the simulator's clock) until it holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


def test_nothing_plays_and_no_device_is_active_at_first(api: Api, sim: SimulatedSpotify) -> None:
    assert api.get("/me/player").status_code == 204
    assert api.get("/me/player/currently-playing").status_code == 204
    devices = api.get("/me/player/devices").json()["devices"]
    assert [(d["type"], d["is_active"], d["volume_percent"]) for d in devices] == [
        ("Computer", False, 50),
        ("Smartphone", False, 50),
    ]
    assert devices[1]["name"] == "Pixel 8"
    assert sim.snapshot()["active_device_id"] is None


def test_commands_without_an_active_device_answer_no_active_device(api: Api) -> None:
    for response in (
        api.put("/me/player/pause"),
        api.post("/me/player/next"),
        api.put("/me/player/volume", volume_percent=30),
        api.put("/me/player/play", {"uris": ["spotify:track:nothing"]}),
    ):
        assert response.status_code == 404
        assert error_of(response) == {
            "status": 404,
            "message": "Player command failed: No active device found",
            "reason": "NO_ACTIVE_DEVICE",
        }


def test_an_unknown_device_is_not_found(api: Api) -> None:
    response = api.put("/me/player/play", device_id="0" * 40)

    assert response.status_code == 404
    assert error_of(response)["message"] == "Device not found"


def test_play_an_album_from_a_position_then_skip_both_ways(api: Api, catalog: Catalog) -> None:
    ids = track_ids(catalog, OPERA)
    album_uri = play_album(api, catalog, offset={"position": 2})

    state = api.playback()
    assert state["is_playing"] is True
    assert state["item"]["id"] == ids[2]
    assert state["context"]["uri"] == album_uri
    assert state["device"]["type"] == "Computer"
    assert state["device"]["is_active"] is True

    assert api.post("/me/player/next").status_code == 204
    assert current_id(api) == ids[3]
    assert api.post("/me/player/previous").status_code == 204
    assert api.post("/me/player/previous").status_code == 204
    assert current_id(api) == ids[1]


def test_play_from_a_track_uri_offset(api: Api, catalog: Catalog) -> None:
    ids = track_ids(catalog, OPERA)
    play_album(api, catalog, offset={"uri": f"spotify:track:{ids[5]}"})

    playing = api.get("/me/player/currently-playing").json()
    assert playing["item"]["id"] == ids[5]
    assert playing["currently_playing_type"] == "track"


def test_plain_track_uris_play_without_a_context(api: Api, catalog: Catalog) -> None:
    song = track_named(catalog, "Bohemian Rhapsody")
    computer = api.device_id("Computer")

    assert api.put("/me/player/play", {"uris": [song.uri]}, device_id=computer).status_code == 204

    state = api.playback()
    assert state["item"]["name"] == "Bohemian Rhapsody"
    assert state["context"] is None


def test_the_queue_plays_before_the_context_continues(api: Api, catalog: Catalog) -> None:
    ids = track_ids(catalog, OPERA)
    play_album(api, catalog)
    first = track_named(catalog, "Paranoid")
    second = track_named(catalog, "Hallelujah", "Jeff Buckley")
    assert api.post("/me/player/queue", uri=first.uri).status_code == 204
    assert api.post("/me/player/queue", uri=second.uri).status_code == 204

    queue = api.get("/me/player/queue").json()
    assert queue["currently_playing"]["id"] == ids[0]
    assert [t["id"] for t in queue["queue"][:3]] == [first.id, second.id, ids[1]]

    api.post("/me/player/next")
    assert current_id(api) == first.id
    upcoming = [t["id"] for t in api.get("/me/player/queue").json()["queue"][:2]]
    assert upcoming == [second.id, ids[1]]
    api.post("/me/player/next")
    assert current_id(api) == second.id
    api.post("/me/player/next")
    assert current_id(api) == ids[1]


def test_seek_sets_progress_and_progress_runs_while_playing(api: Api, catalog: Catalog) -> None:
    play_album(api, catalog)
    assert api.put("/me/player/seek", position_ms=60_000).status_code == 204

    start = api.playback()["progress_ms"]
    assert 60_000 <= start < 65_000
    wait_for(lambda: api.playback()["progress_ms"] > start)

    api.put("/me/player/pause")
    paused = api.playback()
    assert paused["is_playing"] is False
    assert api.playback()["progress_ms"] == paused["progress_ms"]


def test_pausing_twice_is_a_restriction_violation(api: Api, catalog: Catalog) -> None:
    play_album(api, catalog)
    assert api.put("/me/player/pause").status_code == 204

    again = api.put("/me/player/pause")

    assert again.status_code == 403
    assert error_of(again) == {
        "status": 403,
        "message": "Player command failed: Restriction violated",
        "reason": "UNKNOWN",
    }


def test_play_without_a_body_resumes(api: Api, catalog: Catalog) -> None:
    ids = track_ids(catalog, OPERA)
    play_album(api, catalog, offset={"position": 4})
    api.put("/me/player/pause")

    assert api.put("/me/player/play").status_code == 204

    state = api.playback()
    assert state["is_playing"] is True
    assert state["item"]["id"] == ids[4]


def test_a_track_that_ends_moves_on_by_itself(api: Api, catalog: Catalog) -> None:
    ids = track_ids(catalog, OPERA)
    first = catalog.tracks[ids[0]]
    computer = api.device_id("Computer")
    body = {"context_uri": album_named(catalog, OPERA).uri, "position_ms": first.duration_ms - 30}

    assert api.put("/me/player/play", body, device_id=computer).status_code == 204

    wait_for(lambda: current_id(api) == ids[1])
    assert api.playback()["is_playing"] is True
    history = api.get("/me/player/recently-played").json()["items"]
    assert history[0]["track"]["id"] == ids[0]


def test_shuffle_reorders_what_comes_next_and_keeps_the_current_track(
    api: Api, catalog: Catalog
) -> None:
    ids = track_ids(catalog, OPERA)
    play_album(api, catalog)

    assert api.put("/me/player/shuffle", state="true").status_code == 204
    shuffled = [t["id"] for t in api.get("/me/player/queue").json()["queue"]]
    assert api.playback()["shuffle_state"] is True
    assert current_id(api) == ids[0]
    assert sorted(shuffled) == sorted(ids[1:])
    assert shuffled != ids[1:]

    api.put("/me/player/shuffle", state="false")
    assert [t["id"] for t in api.get("/me/player/queue").json()["queue"]] == ids[1:]


@pytest.mark.parametrize(
    ("repeat", "wraps_playing"),
    [("context", True), ("off", False)],
)
def test_next_at_the_end_of_the_album(
    api: Api, catalog: Catalog, repeat: str, wraps_playing: bool
) -> None:
    ids = track_ids(catalog, OPERA)
    play_album(api, catalog, offset={"position": len(ids) - 1})
    assert api.put("/me/player/repeat", state=repeat).status_code == 204

    api.post("/me/player/next")

    state = api.playback()
    assert state["repeat_state"] == repeat
    assert state["item"]["id"] == ids[0]
    assert state["is_playing"] is wraps_playing


def test_repeat_track_replays_the_track_when_it_ends(api: Api, catalog: Catalog) -> None:
    ids = track_ids(catalog, OPERA)
    first = catalog.tracks[ids[0]]
    play_album(api, catalog)
    api.put("/me/player/repeat", state="track")
    api.put("/me/player/seek", position_ms=first.duration_ms - 30)

    wait_for(lambda: api.playback()["progress_ms"] < 1_000)
    assert current_id(api) == ids[0]


def test_volume_is_set_on_the_active_device(api: Api, catalog: Catalog) -> None:
    play_album(api, catalog)

    assert api.put("/me/player/volume", volume_percent=30).status_code == 204

    assert api.playback()["device"]["volume_percent"] == 30
    too_loud = api.put("/me/player/volume", volume_percent=101)
    assert too_loud.status_code == 400


def test_transfer_moves_playback_to_the_phone(api: Api, sim: SimulatedSpotify) -> None:
    phone = api.device_id("Smartphone")

    response = api.put("/me/player", {"device_ids": [phone], "play": False})

    assert response.status_code == 204
    assert api.playback()["device"]["name"] == "Pixel 8"
    assert sim.snapshot()["active_device_id"] == phone


def test_an_artist_context_plays_the_artists_tracks_and_takes_no_offset(
    api: Api, catalog: Catalog
) -> None:
    queen = next(a for a in catalog.artists.values() if a.name == "Queen")
    computer = api.device_id("Computer")

    played = api.put("/me/player/play", {"context_uri": queen.uri}, device_id=computer)
    assert played.status_code == 204
    assert api.playback()["item"]["artists"][0]["name"] == "Queen"

    with_offset = api.put("/me/player/play", {"context_uri": queen.uri, "offset": {"position": 1}})
    assert with_offset.status_code == 400


def test_recently_played_lists_what_played_newest_first(api: Api, catalog: Catalog) -> None:
    ids = track_ids(catalog, OPERA)
    play_album(api, catalog)
    api.put("/me/player/seek", position_ms=40_000)
    api.post("/me/player/next")
    api.put("/me/player/seek", position_ms=40_000)
    api.post("/me/player/next")

    items = api.get("/me/player/recently-played", limit=2).json()["items"]

    assert [i["track"]["id"] for i in items] == [ids[1], ids[0]]
    assert items[0]["context"]["type"] == "album"


def test_a_skip_within_30_seconds_is_no_play(api: Api, catalog: Catalog) -> None:
    ids = track_ids(catalog, OPERA)
    play_album(api, catalog)
    api.put("/me/player/seek", position_ms=20_000)
    api.post("/me/player/next")  # heard for 20 s: Spotify does not list it
    api.put("/me/player/seek", position_ms=31_000)
    api.post("/me/player/next")

    items = api.get("/me/player/recently-played").json()["items"]

    assert [i["track"]["id"] for i in items] == [ids[1]]


def test_an_unlisted_computer_comes_online_through_the_control_endpoint(
    api: Api, sim: SimulatedSpotify
) -> None:
    sim.set_device_online("Computer", False)
    assert [d["type"] for d in api.get("/me/player/devices").json()["devices"]] == ["Smartphone"]

    response = api.session.post(f"{sim.base_url}/_sim/devices/computer/online", timeout=5)

    assert response.status_code == 204
    assert [d["type"] for d in sim.devices] == ["Computer", "Smartphone"]


def test_unlisting_the_active_device_ends_the_session(
    api: Api, sim: SimulatedSpotify, catalog: Catalog
) -> None:
    play_album(api, catalog)

    sim.set_device_online("Computer", False)

    assert api.get("/me/player").status_code == 204
    assert api.post("/me/player/next").status_code == 404


def test_snapshot_reports_the_playback(api: Api, sim: SimulatedSpotify, catalog: Catalog) -> None:
    ids = track_ids(catalog, OPERA)
    album_uri = play_album(api, catalog)
    api.post("/me/player/queue", uri=f"spotify:track:{ids[3]}")
    api.put("/me/player/volume", volume_percent=70)

    snapshot = sim.snapshot()

    assert snapshot["track_uri"] == f"spotify:track:{ids[0]}"
    assert snapshot["context_uri"] == album_uri
    assert snapshot["is_playing"] is True
    assert snapshot["queue"] == [f"spotify:track:{ids[3]}"]
    assert snapshot["volume_percent"] == 70
    assert (snapshot["shuffle"], snapshot["repeat"]) == (False, "off")

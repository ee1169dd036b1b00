"""Development-mode refusals, token errors, injected faults, latency and removed endpoints."""

from __future__ import annotations

import time

import pytest
import requests

from assistant.sim import Fault, SimulatedSpotify
from assistant.sim.catalog import Catalog
from tests.support.sim_helpers import Api, album_named, error_of
from tests.support.spotify_contract import validate_exchanges


def test_player_commands_need_premium(api: Api, sim: SimulatedSpotify) -> None:
    sim.set_user_status("segue-demo", premium=False)

    response = api.put("/me/player/play", device_id=api.device_id("Computer"))

    assert response.status_code == 403
    assert error_of(response)["reason"] == "PREMIUM_REQUIRED"
    assert api.get("/me").status_code == 200  # reading still works


def test_an_app_owner_without_premium_blocks_everything(api: Api, sim: SimulatedSpotify) -> None:
    sim.set_user_status("segue-demo", owner_premium=False)

    for response in (api.get("/me"), api.get("/search", q="queen", type="track")):
        assert response.status_code == 403
        assert (
            error_of(response)["message"]
            == "Active premium subscription required for the owner of the app."
        )


def test_a_user_missing_from_the_allow_list_is_refused(api: Api, sim: SimulatedSpotify) -> None:
    sim.set_user_status("segue-demo", allow_listed=False)

    response = api.get("/me/playlists")

    assert response.status_code == 403
    assert error_of(response)["message"] == (
        "Check settings on developer.spotify.com/dashboard, the user may not be registered."
    )


def test_missing_unknown_and_expired_tokens_answer_401(api: Api, sim: SimulatedSpotify) -> None:
    missing = requests.get(f"{sim.api_url}/me", timeout=5)
    unknown = requests.get(f"{sim.api_url}/me", headers={"Authorization": "Bearer nope"}, timeout=5)
    assert (missing.status_code, error_of(missing)["message"]) == (401, "No token provided")
    assert (unknown.status_code, error_of(unknown)["message"]) == (401, "Invalid access token")
    assert api.get("/me").status_code == 200

    sim.expire_access_tokens()

    expired = api.get("/me")
    assert expired.status_code == 401
    assert error_of(expired)["message"] == "The access token expired"
    assert "invalid_token" in expired.headers["WWW-Authenticate"]


def test_a_429_fault_carries_retry_after_and_then_clears(api: Api, sim: SimulatedSpotify) -> None:
    sim.add_fault(Fault(path=r"/v1/search", status=429, headers={"Retry-After": "7"}))

    limited = api.get("/search", q="queen", type="artist")
    again = api.get("/search", q="queen", type="artist")

    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "7"
    assert error_of(limited)["message"] == "API rate limit exceeded"
    assert again.status_code == 200


def test_a_429_without_a_given_retry_after_says_one_second(api: Api, sim: SimulatedSpotify) -> None:
    sim.add_fault(Fault(path=r"/v1/me", method="GET", status=429))

    assert api.get("/me").headers["Retry-After"] == "1"


def test_faults_match_method_and_count(api: Api, sim: SimulatedSpotify, catalog: Catalog) -> None:
    computer = api.device_id("Computer")
    album = album_named(catalog, "Rumours")
    api.put("/me/player/play", {"context_uri": album.uri}, device_id=computer)
    sim.add_fault(Fault(path=r"/v1/me/player/next", method="POST", status=503, times=2))

    answers = [api.post("/me/player/next").status_code for _ in range(3)]

    assert answers == [503, 503, 204]
    assert api.get("/me/player/devices").status_code == 200


def test_a_fault_with_a_body_and_forever(api: Api, sim: SimulatedSpotify) -> None:
    body = {"error": {"status": 429, "message": "Quota exceeded", "reason": "QUOTA_EXCEEDED"}}
    sim.add_fault(Fault(path=r"/v1/.*", status=429, body=body, times=None))

    for _ in range(3):
        response = api.get("/me")
        assert response.status_code == 429
        assert error_of(response)["reason"] == "QUOTA_EXCEEDED"

    sim.clear_faults()
    assert api.get("/me").status_code == 200


def test_random_faults_hit_some_requests(api: Api, sim: SimulatedSpotify) -> None:
    sim.add_fault(Fault(path=r"/v1/me", status=502, times=None, probability=0.5))

    statuses = [api.get("/me").status_code for _ in range(40)]

    assert set(statuses) == {200, 502}


def test_latency_delays_every_answer(api: Api, sim: SimulatedSpotify) -> None:
    sim.latency_ms = 150

    started = time.monotonic()
    api.get("/me")
    elapsed = time.monotonic() - started

    assert elapsed >= 0.15


@pytest.mark.removed_endpoints_expected
def test_endpoints_closed_to_development_mode_apps(api: Api, sim: SimulatedSpotify) -> None:
    artist = "chxItmPjm2tSCGy5hVN5UN"
    calls = [
        ("GET", "/recommendations", {"seed_genres": "rock"}),
        ("GET", f"/artists/{artist}/top-tracks", {"market": "DE"}),
        ("GET", f"/artists/{artist}/related-artists", None),
        ("GET", "/tracks", {"ids": "a,b"}),
        ("GET", "/users/marta.k", None),
        ("GET", "/playlists/abc/tracks", None),
        ("GET", "/browse/new-releases", None),
    ]
    for method, path, params in calls:
        response = api.request(method, path, params=params)
        assert response.status_code == 403
        assert response.json() == {"error": {"status": 403, "message": "Forbidden"}}

    assert sim.removed_endpoint_calls == [f"{method} /v1{path}" for method, path, _ in calls]


def test_the_simulator_stops_answering_when_stopped() -> None:
    # Its own simulator (the fixture's stops only at teardown), checked like the fixture's.
    sim = SimulatedSpotify().start()
    session = requests.Session()
    token = sim.sign_in()["access_token"]
    session.headers["Authorization"] = f"Bearer {token}"
    assert session.get(f"{sim.api_url}/me", timeout=5).status_code == 200

    sim.stop()

    with pytest.raises(requests.ConnectionError):
        session.get(f"{sim.api_url}/me", timeout=5)
    validate_exchanges(sim.exchanges)


def test_an_answer_lost_after_the_request_was_carried_out(api: Api, sim: SimulatedSpotify) -> None:
    sim.add_fault(
        Fault(path=r"/v1/me/playlists", method="POST", apply=True, drop=True, status=None)
    )

    with pytest.raises(requests.ConnectionError):
        api.post("/me/playlists", json={"name": "Lost Answer"})

    # Spotify acted although the client never heard: the playlist is there, once.
    names = [p["name"] for p in sim.snapshot()["playlists"].values()]
    assert names.count("Lost Answer") == 1
    assert api.post("/me/playlists", json={"name": "Heard"}).status_code == 201


def test_a_held_answer_outlasts_the_client_and_goes_when_faults_clear(
    api: Api, sim: SimulatedSpotify
) -> None:
    sim.add_fault(Fault(path=r"/v1/me", method="GET", status=None, apply=True, hang_seconds=60))

    with pytest.raises(requests.Timeout):
        api.session.get(f"{sim.api_url}/me", timeout=0.2)
    sim.clear_faults()  # lets the held answer go at once

    assert api.get("/me").status_code == 200
    assert [e.status for e in sim.exchanges if e.path == "/v1/me"] == [200, 200]

"""How the client maps Spotify's failures, and the bounds on what it retries."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable
from typing import Any

import pytest

from assistant.errors import (
    EndpointGone,
    NoDevice,
    NotAllowListed,
    NotSignedIn,
    PremiumRequired,
    RateLimited,
    SignInExpired,
    SpotifyError,
    SpotifyRequestRejected,
    SpotifyUnavailable,
)
from assistant.sim import Exchange, Fault, SimulatedSpotify
from assistant.spotify.auth import SpotifyAuth
from assistant.spotify.client import SpotifyClient

Calls = Callable[..., list[Exchange]]

DEVICES = "/v1/me/player/devices"


def token_requests(sim: SimulatedSpotify) -> list[Exchange]:
    return [e for e in sim.exchanges if e.path == "/api/token"]


# --- 401 -------------------------------------------------------------------------------------


def test_expired_token_is_refreshed_once(
    client: SpotifyClient, sim: SimulatedSpotify, api_calls: Calls
) -> None:
    client.me()
    refreshes = len(token_requests(sim))
    sim.expire_access_tokens()
    assert client.me().id == "segue-demo"
    assert len(token_requests(sim)) == refreshes + 1
    assert [e.status for e in api_calls("GET", "/v1/me")] == [200, 401, 200]


def test_second_401_means_sign_in_again(
    client: SpotifyClient, sim: SimulatedSpotify, api_calls: Calls
) -> None:
    sim.add_fault(Fault(path="/v1/me", method="GET", status=401, times=2))
    with pytest.raises(NotSignedIn, match="sign in again"):
        client.me()
    assert len(api_calls("GET", "/v1/me")) == 2


def test_revoked_sign_in_surfaces_from_the_token_source(
    client: SpotifyClient, sim: SimulatedSpotify
) -> None:
    client.me()
    sim.revoke_grants()
    sim.expire_access_tokens()
    with pytest.raises(SignInExpired):
        client.me()


# --- 403 -------------------------------------------------------------------------------------


def test_player_needs_premium(client: SpotifyClient, sim: SimulatedSpotify) -> None:
    sim.set_user_status("segue-demo", premium=False)
    with pytest.raises(PremiumRequired) as caught:
        client.pause()
    assert caught.value.user_message == PremiumRequired.default_message
    assert client.me().id == "segue-demo"  # only the player is closed


def test_app_owner_lost_premium(client: SpotifyClient, sim: SimulatedSpotify) -> None:
    sim.set_user_status("segue-demo", owner_premium=False)
    with pytest.raises(PremiumRequired, match="owner has Premium"):
        client.me()


def test_user_not_on_the_allow_list(client: SpotifyClient, sim: SimulatedSpotify) -> None:
    sim.set_user_status("segue-demo", allow_listed=False)
    with pytest.raises(NotAllowListed, match="User Management"):
        client.search("queen")


def test_endpoint_closed_to_new_apps(client: SpotifyClient, sim: SimulatedSpotify) -> None:
    sim.add_fault(Fault(path=DEVICES, method="GET", status=403, body=_error(403, "Forbidden")))
    with pytest.raises(EndpointGone):
        client.devices()


def test_other_forbidden_keeps_spotifys_words(client: SpotifyClient, sim: SimulatedSpotify) -> None:
    sim.add_fault(
        Fault(path=DEVICES, method="GET", status=403, body=_error(403, "Insufficient client scope"))
    )
    with pytest.raises(SpotifyError, match="Insufficient client scope") as caught:
        client.devices()
    assert type(caught.value) is SpotifyError


def test_restriction_violated_on_a_skip(client: SpotifyClient, computer: dict[str, Any]) -> None:
    client.transfer(computer["id"], play=False)  # active, nothing loaded
    with pytest.raises(SpotifyError, match="There is nothing to skip"):
        client.next_track()


# --- 404 -------------------------------------------------------------------------------------


def test_no_active_device(client: SpotifyClient) -> None:
    with pytest.raises(NoDevice) as caught:
        client.set_volume(40)
    assert caught.value.retryable


def test_device_gone(client: SpotifyClient) -> None:
    with pytest.raises(NoDevice, match="not available any more") as caught:
        client.pause(device_id="0123456789abcdef0123456789abcdef01234567")
    assert not caught.value.retryable


# --- 400 -------------------------------------------------------------------------------------


def test_bad_request_keeps_spotifys_message(
    client: SpotifyClient, computer: dict[str, Any]
) -> None:
    client.play(uris=[client.search("yesterday").tracks[0].uri], device_id=computer["id"])
    with pytest.raises(SpotifyRequestRejected, match=r"Spotify refused the request: .+"):
        client.add_to_queue("spotify:track:0000000000000000000000")


# --- 429 -------------------------------------------------------------------------------------


def test_short_retry_after_is_waited_once(
    client: SpotifyClient, sim: SimulatedSpotify, sleeps: Any, api_calls: Calls
) -> None:
    sim.add_fault(Fault(path=DEVICES, method="GET", status=429, headers={"Retry-After": "2"}))
    assert len(client.devices()) == 2
    assert sleeps.calls == [2.0]
    assert [e.status for e in api_calls("GET", DEVICES)] == [429, 200]


def test_repeated_429_is_reported_after_one_wait(
    client: SpotifyClient, sim: SimulatedSpotify, sleeps: Any, api_calls: Calls
) -> None:
    sim.add_fault(
        Fault(path=DEVICES, method="GET", status=429, headers={"Retry-After": "3"}, times=None)
    )
    with pytest.raises(RateLimited) as caught:
        client.devices()
    assert caught.value.retry_after == 3.0 and caught.value.retryable
    assert sleeps.calls == [3.0]
    assert len(api_calls("GET", DEVICES)) == 2


def test_long_retry_after_is_reported_at_once(
    client: SpotifyClient, sim: SimulatedSpotify, sleeps: Any, api_calls: Calls
) -> None:
    sim.add_fault(
        Fault(path="/v1/me/player/next", method="POST", status=429, headers={"Retry-After": "3600"})
    )
    started = time.monotonic()
    with pytest.raises(RateLimited) as caught:
        client.next_track()
    assert time.monotonic() - started < 1.0
    assert caught.value.retry_after == 3600.0
    assert "1 hours" in caught.value.user_message or "60 minutes" in caught.value.user_message
    assert sleeps.calls == []
    assert len(api_calls("POST", "/v1/me/player/next")) == 1


def test_quota_exceeded_is_not_retried(
    client: SpotifyClient, sim: SimulatedSpotify, sleeps: Any, api_calls: Calls
) -> None:
    body = _error(429, "API rate limit exceeded", reason="QUOTA_EXCEEDED")
    sim.add_fault(
        Fault(path=DEVICES, method="GET", status=429, body=body, headers={"Retry-After": "1"})
    )
    with pytest.raises(RateLimited) as caught:
        client.devices()
    assert caught.value.retry_after is None and not caught.value.retryable
    assert sleeps.calls == []
    assert len(api_calls("GET", DEVICES)) == 1


# --- 5xx, timeouts, connection failures --------------------------------------------------------


def test_get_is_retried_on_server_errors(
    client: SpotifyClient, sim: SimulatedSpotify, sleeps: Any, api_calls: Calls
) -> None:
    sim.add_fault(Fault(path=DEVICES, method="GET", status=503, times=2))
    assert len(client.devices()) == 2
    assert sleeps.calls == [0.2, 0.6]
    assert [e.status for e in api_calls("GET", DEVICES)] == [503, 503, 200]


def test_server_errors_retried_at_most_twice(
    client: SpotifyClient, sim: SimulatedSpotify, api_calls: Calls
) -> None:
    sim.add_fault(Fault(path=DEVICES, method="GET", status=502, times=None))
    with pytest.raises(SpotifyUnavailable):
        client.devices()
    assert len(api_calls("GET", DEVICES)) == 3


def test_skip_is_never_resent(
    client: SpotifyClient, sim: SimulatedSpotify, sleeps: Any, api_calls: Calls
) -> None:
    sim.add_fault(Fault(path="/v1/me/player/next", method="POST", status=503))
    with pytest.raises(SpotifyUnavailable):
        client.next_track()
    assert len(api_calls("POST", "/v1/me/player/next")) == 1
    assert sleeps.calls == []


def test_adding_items_is_never_resent(
    client: SpotifyClient, sim: SimulatedSpotify, api_calls: Calls, tracks: list[str]
) -> None:
    playlist = client.create_playlist("Fragile")
    path = f"/v1/playlists/{playlist.id}/items"
    sim.add_fault(Fault(path=path, method="POST", status=500))
    sim.add_fault(Fault(path=path, method="POST", status=500))
    with pytest.raises(SpotifyUnavailable):
        client.add_to_playlist(playlist.id, tracks[:3])
    assert len(api_calls("POST", path)) == 1
    assert sim.snapshot()["playlists"][playlist.id]["track_uris"] == []


def test_partial_add_says_how_far_it_got(
    client: SpotifyClient, sim: SimulatedSpotify, tracks: list[str]
) -> None:
    playlist = client.create_playlist("Half")
    unknown = "spotify:track:0000000000000000000000"  # well-formed, but no such track
    with pytest.raises(SpotifyRequestRejected, match=r"^Added 100 of 101 tracks, then: Spotify"):
        client.add_to_playlist(playlist.id, [*tracks[:100], unknown])
    assert sim.snapshot()["playlists"][playlist.id]["track_uris"] == tracks[:100]


def test_timeout(
    make_client: Callable[..., SpotifyClient], sim: SimulatedSpotify, api_calls: Calls
) -> None:
    client = make_client(timeout=0.2)
    sim.latency_ms = 500
    try:
        with pytest.raises(SpotifyUnavailable):
            client.devices()  # a GET: sent twice
        assert client.calls == 2
        with pytest.raises(SpotifyUnavailable):
            client.next_track()  # a POST: sent once
        assert client.calls == 3
    finally:
        sim.latency_ms = 0


def test_connection_refused(auth: SpotifyAuth, sleeps: Any) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once closed
    client = SpotifyClient(auth, api_url=f"http://127.0.0.1:{port}/v1", timeout=2, sleep=sleeps)
    with client, pytest.raises(SpotifyUnavailable):
        client.devices()
    assert client.calls == 2


# --- logs ------------------------------------------------------------------------------------


def test_logs_name_the_call_never_the_token(
    client: SpotifyClient,
    auth: SpotifyAuth,
    sim: SimulatedSpotify,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    client.devices()
    sim.expire_access_tokens()
    client.devices()
    ours = [r for r in caplog.records if r.name.startswith("assistant.")]
    lines = [r.getMessage() for r in ours]
    assert "GET /v1/me/player/devices -> 401" in " ".join(lines)
    assert any(line.startswith("GET /v1/me/player/devices -> 200 in ") for line in lines)
    token = auth.get_access_token()
    assert all(token not in line for line in lines)


def _error(status: int, message: str, reason: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"status": status, "message": message}
    if reason is not None:
        error["reason"] = reason
    return {"error": error}

"""The token manager: refresh before expiry, rotation, invalid_grant, concurrency, outages."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from urllib.parse import parse_qs

import pytest

from assistant.errors import NotSignedIn, RateLimited, SignInExpired, SpotifyUnavailable
from assistant.secrets import SPOTIFY_REFRESH_TOKEN, MemoryKeyring, SecretStore
from assistant.sim import Fault, SimulatedSpotify
from assistant.spotify.auth import SpotifyAuth
from tests.auth.support import AuthFactory, FakeClock, free_port, get


def refreshes(sim: SimulatedSpotify) -> list[tuple[dict[str, list[str]], dict[str, object]]]:
    """Every refresh request the simulator saw, with the JSON it answered."""
    found = []
    for e in sim.exchanges:
        if e.method == "POST" and e.path == "/api/token":
            form = parse_qs(e.request_body.decode())
            if form.get("grant_type") == ["refresh_token"]:
                found.append((form, json.loads(e.response_body) if e.response_body else {}))
    return found


def works(sim: SimulatedSpotify, token: str) -> bool:
    """Whether the Web API accepts the access token."""
    response = get(f"{sim.api_url}/me", headers={"Authorization": f"Bearer {token}"})
    return response.status_code == 200


def signed_in(sim: SimulatedSpotify, secrets: SecretStore) -> str:
    """Store a sign-in granted by the simulator; return its refresh token."""
    refresh_token = sim.sign_in()["refresh_token"]
    secrets.save_spotify_refresh_token(refresh_token, new_sign_in=True)
    return str(refresh_token)


def test_nothing_stored_means_not_signed_in(sim: SimulatedSpotify, make_auth: AuthFactory) -> None:
    auth = make_auth(sim)

    assert not auth.signed_in
    assert auth.signed_in_at() is None
    with pytest.raises(NotSignedIn) as failed:
        auth.get_access_token()
    assert "segue login" in failed.value.user_message
    auth.warm_up()  # quietly does nothing
    assert refreshes(sim) == []


def test_the_first_call_refreshes_and_later_calls_reuse_the_token(
    sim: SimulatedSpotify, make_auth: AuthFactory, secrets: SecretStore
) -> None:
    old_refresh_token = signed_in(sim, secrets)
    auth = make_auth(sim)

    token = auth.get_access_token()
    assert auth.get_access_token() == token
    assert auth.get_access_token(as_dict=False) == token

    assert works(sim, token)
    ((form, answer),) = refreshes(sim)
    assert form == {
        "grant_type": ["refresh_token"],
        "refresh_token": [old_refresh_token],
        "client_id": [form["client_id"][0]],
    }
    # The rotated refresh token was stored at once.
    assert secrets.spotify_refresh_token() == answer["refresh_token"] != old_refresh_token


def test_the_token_is_refreshed_a_minute_before_it_expires(
    sim: SimulatedSpotify, make_auth: AuthFactory, secrets: SecretStore, clock: FakeClock
) -> None:
    signed_in(sim, secrets)
    auth = make_auth(sim, refresh_margin=60.0)
    first = auth.get_access_token()

    clock.advance(3600 - 61)
    assert auth.get_access_token() == first
    assert len(refreshes(sim)) == 1

    clock.advance(2)
    second = auth.get_access_token()
    assert second != first
    assert works(sim, second)
    assert len(refreshes(sim)) == 2
    assert secrets.spotify_refresh_token() == refreshes(sim)[-1][1]["refresh_token"]


def test_a_short_lived_token_from_the_service_is_refreshed_in_time(
    make_sim: Callable[..., SimulatedSpotify],
    make_auth: AuthFactory,
    secrets: SecretStore,
    clock: FakeClock,
) -> None:
    sim = make_sim(access_token_ttl=120)
    signed_in(sim, secrets)
    auth = make_auth(sim, refresh_margin=60.0)
    first = auth.get_access_token()

    clock.advance(59)
    assert auth.get_access_token() == first
    clock.advance(2)
    assert auth.get_access_token() != first


def test_a_refresh_without_a_new_refresh_token_keeps_the_old_one(
    make_sim: Callable[..., SimulatedSpotify],
    make_auth: AuthFactory,
    secrets: SecretStore,
    clock: FakeClock,
) -> None:
    sim = make_sim(rotate_refresh_tokens=False)
    refresh_token = signed_in(sim, secrets)
    auth = make_auth(sim)

    first = auth.get_access_token()
    clock.advance(3600)
    second = auth.get_access_token()

    assert first != second and works(sim, second)
    assert [("refresh_token" in answer) for _, answer in refreshes(sim)] == [False, False]
    assert secrets.spotify_refresh_token() == refresh_token
    assert auth.signed_in_at() is not None


def test_a_revoked_sign_in_is_cleared_and_the_user_told_to_sign_in(
    sim: SimulatedSpotify, make_auth: AuthFactory, secrets: SecretStore, clock: FakeClock
) -> None:
    signed_in(sim, secrets)
    auth = make_auth(sim)
    auth.get_access_token()

    sim.revoke_grants()
    clock.advance(3600)
    with pytest.raises(SignInExpired) as expired:
        auth.get_access_token()

    assert (
        expired.value.user_message == "Spotify sign-in expired; choose Sign in from the tray menu."
    )
    assert secrets.spotify_refresh_token() is None
    assert auth.signed_in_at() is None
    assert not auth.signed_in
    with pytest.raises(NotSignedIn):
        auth.get_access_token()
    # The date stays in the keyring: this person uses their own Spotify, so the next start
    # says the sign-in is needed instead of playing the demo.
    assert secrets.spotify_signed_in_at() is not None


def test_concurrent_callers_share_one_refresh(
    sim: SimulatedSpotify, make_auth: AuthFactory, secrets: SecretStore, clock: FakeClock
) -> None:
    signed_in(sim, secrets)
    auth = make_auth(sim)
    stale = auth.get_access_token()
    clock.advance(3600)
    sim.latency_ms = 100  # a slow refresh: the others arrive while it is in flight

    callers = 8
    start = threading.Barrier(callers)
    tokens: list[str] = []
    errors: list[BaseException] = []

    def call() -> None:
        try:
            start.wait(5)
            tokens.append(auth.get_access_token())
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=call) for _ in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert errors == []
    assert len(tokens) == callers and len(set(tokens)) == 1 and tokens[0] != stale
    # Exactly one refresh reached Spotify after the first, and its rotated token is the one kept.
    assert len(refreshes(sim)) == 2
    newest = refreshes(sim)[-1][1]["refresh_token"]
    assert secrets.spotify_refresh_token() == newest
    sim.latency_ms = 0
    assert works(sim, tokens[0])


def test_a_401_drops_the_token_once_however_many_callers_saw_it(
    sim: SimulatedSpotify, make_auth: AuthFactory, secrets: SecretStore
) -> None:
    signed_in(sim, secrets)
    auth = make_auth(sim)
    rejected = auth.get_access_token()
    sim.expire_access_tokens()
    assert not works(sim, rejected)

    # Two requests got the 401; the first caller refreshes, the second one's late
    # invalidate must not throw the fresh token away.
    auth.invalidate(rejected)
    fresh = auth.get_access_token()
    auth.invalidate(rejected)

    assert auth.get_access_token() == fresh
    assert works(sim, fresh)
    assert len(refreshes(sim)) == 2


def test_warm_up_refreshes_ahead_of_the_command(
    sim: SimulatedSpotify, make_auth: AuthFactory, secrets: SecretStore, clock: FakeClock
) -> None:
    signed_in(sim, secrets)
    auth = make_auth(sim)
    auth.warm_up()
    assert len(refreshes(sim)) == 1

    auth.warm_up()  # still fresh: nothing to do
    assert len(refreshes(sim)) == 1

    clock.advance(3600 - 30)
    auth.warm_up()
    assert len(refreshes(sim)) == 2
    auth.get_access_token()
    assert len(refreshes(sim)) == 2


def test_a_slow_accounts_service_is_reported_as_unavailable(
    sim: SimulatedSpotify, make_auth: AuthFactory, secrets: SecretStore
) -> None:
    signed_in(sim, secrets)
    auth = make_auth(sim, timeout=0.2)
    sim.latency_ms = 1000

    with pytest.raises(SpotifyUnavailable) as unavailable:
        auth.get_access_token()

    assert "did not answer within 0.2 seconds" in unavailable.value.user_message
    assert unavailable.value.retryable
    # An outage does not sign the user out.
    assert auth.signed_in


def test_a_failing_accounts_service_is_reported_and_the_next_call_recovers(
    sim: SimulatedSpotify, make_auth: AuthFactory, secrets: SecretStore
) -> None:
    signed_in(sim, secrets)
    auth = make_auth(sim)
    sim.add_fault(Fault(path=r"/api/token", method="POST", status=503, times=1))

    with pytest.raises(SpotifyUnavailable):
        auth.get_access_token()
    assert auth.signed_in

    assert works(sim, auth.get_access_token())


def test_an_unreachable_accounts_service_is_reported_as_unavailable(
    make_auth: AuthFactory, secrets: SecretStore
) -> None:
    secrets.save_spotify_refresh_token("a-refresh-token", new_sign_in=True)

    class Nowhere:
        accounts_url = f"http://127.0.0.1:{free_port()}"

    auth = make_auth(Nowhere)

    with pytest.raises(SpotifyUnavailable, match="cannot be reached"):
        auth.get_access_token()
    assert secrets.spotify_refresh_token() == "a-refresh-token"


def test_sign_out_forgets_everything(
    sim: SimulatedSpotify, make_auth: AuthFactory, secrets: SecretStore
) -> None:
    signed_in(sim, secrets)
    auth = make_auth(sim)
    auth.get_access_token()

    auth.sign_out()

    assert not auth.signed_in
    assert secrets.spotify_refresh_token() is None and auth.signed_in_at() is None
    with pytest.raises(NotSignedIn):
        auth.get_access_token()


class InterleavingKeyring(MemoryKeyring):
    """A keyring where another process acts right after the next read of one entry."""

    def __init__(self) -> None:
        super().__init__()
        self.after_next_read: tuple[str, Callable[[], object]] | None = None

    def get_password(self, service: str, username: str) -> str | None:
        value = super().get_password(service, username)
        if self.after_next_read is not None and self.after_next_read[0] == username:
            hook = self.after_next_read[1]
            self.after_next_read = None
            hook()
        return value


def test_a_refresh_racing_another_segue_process_keeps_the_user_signed_in(
    sim: SimulatedSpotify, make_auth: AuthFactory, clock: FakeClock
) -> None:
    # An older Segue that takes no lock shares the keyring. Here it refreshes (and rotates the
    # single-use refresh token) between our read of the token and our request with it.
    keyring = InterleavingKeyring()
    shared = SecretStore(keyring)
    signed_in(sim, shared)
    tray = make_auth(sim, secrets=shared)
    other = make_auth(sim, secrets=shared, clock=FakeClock())

    keyring.after_next_read = (SPOTIFY_REFRESH_TOKEN, other.get_access_token)
    token = tray.get_access_token()

    assert works(sim, token)
    assert tray.signed_in
    answers = [answer for _, answer in refreshes(sim)]
    # Ours was refused; the access token the other process stored was used, without a refresh.
    assert [a.get("error") for a in answers] == [None, "invalid_grant"]
    assert token == answers[0]["access_token"]
    assert shared.spotify_refresh_token() == answers[0]["refresh_token"]
    assert other.get_access_token() == token


def test_a_second_process_uses_the_stored_access_token_without_refreshing(
    sim: SimulatedSpotify, make_auth: AuthFactory, secrets: SecretStore, clock: FakeClock
) -> None:
    signed_in(sim, secrets)
    first = make_auth(sim).get_access_token()

    second = make_auth(sim)  # another process: nothing in memory, the same keyring
    assert second.get_access_token() == first
    assert len(refreshes(sim)) == 1

    clock.advance(3600 - 30)  # within the refresh margin: the stored one is not taken
    assert second.get_access_token() != first
    assert len(refreshes(sim)) == 2


def test_a_refused_access_token_is_dropped_from_the_keyring(
    sim: SimulatedSpotify, make_auth: AuthFactory, secrets: SecretStore
) -> None:
    signed_in(sim, secrets)
    one, two = make_auth(sim), make_auth(sim)
    rejected = one.get_access_token()
    assert two.get_access_token() == rejected
    sim.expire_access_tokens()

    one.invalidate(rejected)
    assert secrets.spotify_access_token() is None
    fresh = one.get_access_token()
    # The other process meets the 401 too: it takes the fresh token, never the refused one.
    two.invalidate(rejected)
    assert two.get_access_token() == fresh != rejected
    assert works(sim, fresh)
    assert len(refreshes(sim)) == 2


def test_as_dict_is_refused(sim: SimulatedSpotify, make_auth: AuthFactory) -> None:
    auth: SpotifyAuth = make_auth(sim)
    with pytest.raises(ValueError):
        auth.get_access_token(as_dict=True)


def test_a_refused_client_id_keeps_the_stored_sign_in(
    sim: SimulatedSpotify, make_auth: AuthFactory, secrets: SecretStore
) -> None:
    refresh_token = signed_in(sim, secrets)
    auth = make_auth(sim)
    sim.add_fault(
        Fault(
            path=r"/api/token",
            method="POST",
            status=400,
            body={"error": "invalid_client", "error_description": "Invalid client"},
        )
    )

    with pytest.raises(SignInExpired) as refused:
        auth.get_access_token()

    assert "(invalid_client); check spotify_client_id" in refused.value.user_message
    # Putting the right Client ID back must make the stored sign-in work again.
    assert secrets.spotify_refresh_token() == refresh_token


def test_a_rate_limited_refresh_says_how_long_to_wait(
    sim: SimulatedSpotify, make_auth: AuthFactory, secrets: SecretStore
) -> None:
    signed_in(sim, secrets)
    auth = make_auth(sim)
    sim.add_fault(
        Fault(path=r"/api/token", method="POST", status=429, headers={"Retry-After": "7"})
    )

    with pytest.raises(RateLimited) as limited:
        auth.get_access_token()

    assert limited.value.retry_after == 7
    assert "7 seconds" in limited.value.user_message
    assert works(sim, auth.get_access_token())

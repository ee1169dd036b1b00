"""The browser sign-in over real HTTP: consent page, loopback callback, token exchange."""

from __future__ import annotations

import base64
import hashlib
import logging
import socket
import string
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from assistant.errors import ConfigError, SignInFailed
from assistant.secrets import SecretStore
from assistant.sim import SIM_CLIENT_ID, Fault, SimulatedSpotify
from assistant.spotify.auth import SCOPES, SpotifyAuth, new_pkce, sign_in
from tests.auth.support import AuthFactory, FakeBrowser, can_listen, free_port, get, record


def token_requests(sim: SimulatedSpotify) -> list[dict[str, list[str]]]:
    return [
        parse_qs(e.request_body.decode())
        for e in sim.exchanges
        if e.method == "POST" and e.path == "/api/token"
    ]


def port_of(uri: str) -> int:
    port = urlsplit(uri).port
    assert port is not None
    return port


def test_pkce_pair_follows_rfc_7636() -> None:
    pair = new_pkce()
    assert 43 <= len(pair.verifier) <= 128
    assert set(pair.verifier) <= set(string.ascii_letters + string.digits + "-._~")
    digest = hashlib.sha256(pair.verifier.encode()).digest()
    assert pair.challenge == base64.urlsafe_b64encode(digest).decode().rstrip("=")
    assert new_pkce().verifier != pair.verifier
    assert pair.verifier not in repr(pair)


def test_authorization_url_asks_for_every_scope_with_pkce(
    sim: SimulatedSpotify, make_auth: AuthFactory, redirect_uri: str
) -> None:
    url = make_auth(sim).authorization_url(state="s1", code_challenge="c1")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{sim.accounts_url}/authorize"
    assert parse_qs(parts.query) == {
        "client_id": [SIM_CLIENT_ID],
        "response_type": ["code"],
        "redirect_uri": [redirect_uri],
        "code_challenge_method": ["S256"],
        "code_challenge": ["c1"],
        "state": ["s1"],
        "scope": [" ".join(SCOPES)],
    }


def test_sign_in_in_the_browser_stores_the_sign_in(
    sim: SimulatedSpotify,
    make_auth: AuthFactory,
    secrets: SecretStore,
    redirect_uri: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="assistant.spotify")
    auth = make_auth(sim)
    browser = FakeBrowser()
    lines: list[str] = []

    sign_in(auth, timeout=10, open_browser=browser, announce=lines.append)

    page = browser.result()
    assert page.status_code == 200
    assert "Signed in to Spotify. You can close this tab and return to Segue." in page.text
    # The address the browser was sent to is announced on a line of its own, ready to copy.
    assert browser.opened == [line for line in lines if line.startswith(sim.accounts_url)]
    assert auth.signed_in
    refresh_token = secrets.spotify_refresh_token()
    assert refresh_token
    signed_in_at = auth.signed_in_at()
    assert signed_in_at is not None
    assert datetime.now(UTC) - signed_in_at < timedelta(minutes=1)

    # The access token from the exchange works, without another trip to the accounts service.
    token = auth.get_access_token()
    me = get(f"{sim.api_url}/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    (exchange,) = token_requests(sim)
    assert exchange["grant_type"] == ["authorization_code"]
    assert exchange["redirect_uri"] == [redirect_uri]
    assert "client_secret" not in exchange

    # The port is free again for the next program.
    assert can_listen("127.0.0.1", port_of(redirect_uri))

    # Nothing secret reached the log.
    (authorize,) = [e for e in sim.exchanges if e.path == "/authorize" and e.method == "GET"]
    secret_values = [
        refresh_token,
        token,
        exchange["code"][0],
        exchange["code_verifier"][0],
        authorize.query["state"][0],
    ]
    ours = "\n".join(
        r.getMessage() for r in caplog.records if r.name.startswith("assistant.spotify")
    )
    assert "Callback received" in ours
    assert "Token exchange ok" in ours
    for value in secret_values:
        assert value not in ours


def test_sign_in_over_ipv6_loopback(
    sim: SimulatedSpotify, make_auth: AuthFactory, secrets: SecretStore
) -> None:
    redirect_uri = f"http://[::1]:{free_port('::1')}/callback"
    auth = make_auth(sim, redirect_uri=redirect_uri)
    browser = FakeBrowser()

    sign_in(auth, timeout=10, open_browser=browser, announce=lambda line: None)

    assert browser.result().status_code == 200
    assert secrets.spotify_refresh_token()


def test_a_forged_callback_is_refused_and_the_real_one_still_signs_in(
    sim: SimulatedSpotify, make_auth: AuthFactory, secrets: SecretStore, redirect_uri: str
) -> None:
    forged: list[requests.Response] = []

    def stale_tab() -> None:
        forged.append(get(f"{redirect_uri}?code=forged-code&state=not-this-sign-in"))
        forged.append(get(f"{redirect_uri}?code=forged-code"))
        forged.append(get(f"{redirect_uri}?error=access_denied&state=not-this-sign-in"))

    auth = make_auth(sim)
    browser = FakeBrowser(before=stale_tab)

    sign_in(auth, timeout=10, open_browser=browser, announce=lambda line: None)

    assert [r.status_code for r in forged] == [400, 400, 400]
    for response in forged:
        assert "This sign-in link is stale or was not started by Segue." in response.text
    assert browser.result().status_code == 200
    assert secrets.spotify_refresh_token()
    (exchange,) = token_requests(sim)
    assert exchange["code"] != ["forged-code"]


def test_odd_requests_do_not_disturb_a_running_sign_in(
    sim: SimulatedSpotify, make_auth: AuthFactory, secrets: SecretStore, redirect_uri: str
) -> None:
    port = port_of(redirect_uri)
    answers: dict[str, object] = {}
    idle = socket.socket()

    def garbage() -> bytes:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            raw.sendall(b"\x00\xffnot http at all\r\n\r\n")
            received = b""
            while chunk := raw.recv(4096):  # the server answers and hangs up
                received += chunk
            return received

    def post() -> int:
        with requests.Session() as session:
            session.trust_env = False
            return session.post(redirect_uri, data=b"x", timeout=5).status_code

    def odd_requests() -> None:
        # A browser's speculative connection that never sends a request.
        idle.connect(("127.0.0.1", port))
        requests_to_send = {
            "favicon": lambda: get(f"http://127.0.0.1:{port}/favicon.ico").status_code,
            "two states": lambda: get(f"{redirect_uri}?state=a&state=b&code=x").status_code,
            "bad escapes": lambda: get(f"{redirect_uri}?%zz=%ff&state=%ff%fe&code").status_code,
            "post": post,
            "garbage": lambda: b"Error code: 400" in garbage(),
        }
        for name, send in requests_to_send.items():
            try:
                answers[name] = send()
            except Exception as err:  # reported by the assertion below
                answers[name] = repr(err)

    auth = make_auth(sim)
    browser = FakeBrowser(before=odd_requests)
    try:
        sign_in(auth, timeout=10, open_browser=browser, announce=lambda line: None)
    finally:
        idle.close()

    assert answers == {
        "favicon": 404,
        "two states": 400,
        "bad escapes": 400,
        "post": 501,
        "garbage": True,
    }
    assert browser.result().status_code == 200
    assert secrets.spotify_refresh_token()


class HeldTokenRequests(requests.Session):
    """A session whose token requests wait until the test lets them through."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()

    def post(self, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        self.entered.set()
        assert self.release.wait(10)
        return super().post(url, *args, **kwargs)


def test_a_reloaded_callback_tab_is_told_the_sign_in_has_finished(
    sim: SimulatedSpotify, make_auth: AuthFactory, secrets: SecretStore
) -> None:
    session = HeldTokenRequests()
    auth = make_auth(sim, session=session)
    browser = FakeBrowser()
    reload: list[requests.Response] = []

    def reload_tab() -> None:
        # Once the first callback is being exchanged, the same URL comes in again.
        try:
            assert session.entered.wait(10)
            assert browser.callback_url is not None
            reload.append(get(browser.callback_url))
        finally:
            session.release.set()

    helper = threading.Thread(target=reload_tab)
    helper.start()
    sign_in(auth, timeout=10, open_browser=browser, announce=lambda line: None)
    helper.join(10)

    assert reload[0].status_code == 200
    assert "This sign-in has already finished." in reload[0].text
    assert "Signed in to Spotify" in browser.result().text
    assert len(token_requests(sim)) == 1
    assert secrets.spotify_refresh_token()


def test_cancelling_in_the_browser_fails_with_one_clear_sentence(
    sim: SimulatedSpotify, make_auth: AuthFactory, secrets: SecretStore, redirect_uri: str
) -> None:
    auth = make_auth(sim)
    browser = FakeBrowser(click="cancel")

    with pytest.raises(SignInFailed) as failed:
        sign_in(auth, timeout=10, open_browser=browser, announce=lambda line: None)

    assert failed.value.user_message == "Spotify sign-in was cancelled in the browser."
    page = browser.result()
    assert page.status_code == 200
    assert "cancelled" in page.text
    assert not auth.signed_in
    assert token_requests(sim) == []
    assert can_listen("127.0.0.1", port_of(redirect_uri))


def test_denied_consent_mode_fails_the_same_way(
    make_sim: Callable[..., SimulatedSpotify], make_auth: AuthFactory, secrets: SecretStore
) -> None:
    sim = make_sim(consent="deny")
    browser = FakeBrowser()

    with pytest.raises(SignInFailed, match="cancelled in the browser"):
        sign_in(make_auth(sim), timeout=10, open_browser=browser, announce=lambda line: None)

    assert secrets.spotify_refresh_token() is None


def test_no_answer_from_the_browser_times_out_and_frees_the_port(
    sim: SimulatedSpotify, make_auth: AuthFactory, secrets: SecretStore, redirect_uri: str
) -> None:
    lines: list[str] = []

    with pytest.raises(SignInFailed) as failed:
        sign_in(
            make_auth(sim),
            timeout=0.5,
            open_browser=lambda url: True,
            announce=lines.append,
        )

    assert failed.value.user_message == (
        "No answer from the browser within 0.5 seconds; run `segue login` again."
    )
    assert any(line.startswith(f"{sim.accounts_url}/authorize?") for line in lines)
    # No connection was made, so even a program without SO_REUSEADDR can take the port now.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port_of(redirect_uri)))
    assert secrets.spotify_refresh_token() is None


def test_a_browser_that_cannot_be_opened_is_reported_and_the_url_still_works(
    sim: SimulatedSpotify, make_auth: AuthFactory, secrets: SecretStore
) -> None:
    lines: list[str] = []
    browser = FakeBrowser()

    def no_browser(url: str) -> bool:
        # The user copies the announced address into a browser by hand.
        browser(url)
        return False

    sign_in(make_auth(sim), timeout=10, open_browser=no_browser, announce=lines.append)

    assert "No browser could be opened; open the address above yourself." in lines
    assert browser.result().status_code == 200
    assert secrets.spotify_refresh_token()


def test_a_port_in_use_is_named_before_any_browser_opens(
    sim: SimulatedSpotify, make_auth: AuthFactory, redirect_uri: str
) -> None:
    port = port_of(redirect_uri)
    opened: list[str] = []
    with socket.socket() as other_program:
        other_program.bind(("127.0.0.1", port))
        other_program.listen()

        with pytest.raises(SignInFailed) as failed:
            sign_in(make_auth(sim), timeout=5, open_browser=record(opened), announce=print)

    assert failed.value.user_message == (
        f"Port {port} is in use; close the other program or change spotify_redirect_uri "
        "(and the app's redirect URI in the Spotify dashboard)."
    )
    assert opened == []


def test_a_refused_token_exchange_fails_and_tells_the_browser(
    sim: SimulatedSpotify, make_auth: AuthFactory, secrets: SecretStore
) -> None:
    sim.add_fault(
        Fault(
            path=r"/api/token",
            method="POST",
            status=400,
            body={"error": "invalid_grant", "error_description": "Invalid authorization code"},
            times=1,
        )
    )
    browser = FakeBrowser()

    with pytest.raises(SignInFailed) as failed:
        sign_in(make_auth(sim), timeout=10, open_browser=browser, announce=lambda line: None)

    assert failed.value.user_message == (
        "Spotify refused the sign-in (invalid_grant); run `segue login` again."
    )
    assert "Segue could not finish signing in to Spotify" in browser.result().text
    assert secrets.spotify_refresh_token() is None


def test_a_localhost_redirect_uri_is_refused_before_listening(
    sim: SimulatedSpotify, make_auth: AuthFactory
) -> None:
    auth = make_auth(sim, redirect_uri=f"http://localhost:{free_port()}/callback")
    opened: list[str] = []

    with pytest.raises(ConfigError, match="refuses `localhost`"):
        sign_in(auth, timeout=5, open_browser=record(opened), announce=lambda line: None)

    assert opened == []


def test_signing_in_again_replaces_the_sign_in(
    sim: SimulatedSpotify, make_auth: AuthFactory, secrets: SecretStore
) -> None:
    auth: SpotifyAuth = make_auth(sim)
    sign_in(auth, timeout=10, open_browser=FakeBrowser(), announce=lambda line: None)
    first = secrets.spotify_refresh_token()

    sign_in(auth, timeout=10, open_browser=FakeBrowser(), announce=lambda line: None)

    second = secrets.spotify_refresh_token()
    assert second and second != first
    token = auth.get_access_token()
    assert get(f"{sim.api_url}/me", headers={"Authorization": f"Bearer {token}"}).ok

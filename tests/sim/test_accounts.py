"""The accounts service: the consent page, PKCE code exchange, refresh rotation and revocation."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import pytest
import requests

from assistant.sim import ALL_SCOPES, SIM_CLIENT_ID, SimulatedSpotify

REDIRECT = "http://127.0.0.1:8974/callback"


def challenge_of(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


class SignIn:
    """One browser sign-in against the simulator, done with plain HTTP."""

    def __init__(self, sim: SimulatedSpotify, redirect_uri: str = REDIRECT) -> None:
        self.sim = sim
        self.redirect_uri = redirect_uri
        self.verifier = secrets.token_urlsafe(64)[:64]
        self.state = secrets.token_urlsafe(16)

    def authorize_url(self, **overrides: str) -> str:
        params = {
            "client_id": SIM_CLIENT_ID,
            "response_type": "code",
            "redirect_uri": self.redirect_uri,
            "code_challenge_method": "S256",
            "code_challenge": challenge_of(self.verifier),
            "state": self.state,
            "scope": ALL_SCOPES,
            **overrides,
        }
        return f"{self.sim.accounts_url}/authorize?{urlencode(params)}"

    def consent_page(self) -> requests.Response:
        page = requests.get(self.authorize_url(), allow_redirects=False, timeout=5)
        assert page.status_code == 200
        return page

    def click(self, link_id: str) -> dict[str, str]:
        """Follow the consent page's link; returns the query Spotify redirects with."""
        page = self.consent_page()
        match = re.search(rf'<a id="{link_id}" href="([^"]+)"', page.text)
        assert match is not None, page.text
        answer = requests.get(
            urljoin(self.sim.accounts_url, match.group(1)), allow_redirects=False, timeout=5
        )
        assert answer.status_code == 302
        location = answer.headers["Location"]
        assert location.startswith(self.redirect_uri + "?")
        return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}

    def code(self) -> str:
        query = self.click("agree")
        assert query["state"] == self.state
        return query["code"]

    def exchange(self, code: str, **overrides: str) -> requests.Response:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect_uri,
            "client_id": SIM_CLIENT_ID,
            "code_verifier": self.verifier,
            **overrides,
        }
        return requests.post(f"{self.sim.accounts_url}/api/token", data=form, timeout=5)


def refresh(sim: SimulatedSpotify, refresh_token: str) -> requests.Response:
    form = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": SIM_CLIENT_ID,
    }
    return requests.post(f"{sim.accounts_url}/api/token", data=form, timeout=5)


def me(sim: SimulatedSpotify, token: str) -> requests.Response:
    return requests.get(
        f"{sim.api_url}/me", headers={"Authorization": f"Bearer {token}"}, timeout=5
    )


def oauth_error(response: requests.Response) -> str:
    assert response.status_code == 400
    body: dict[str, Any] = response.json()
    return str(body["error"])


def test_agreeing_signs_in_and_the_token_works(sim: SimulatedSpotify) -> None:
    flow = SignIn(sim)
    page = flow.consent_page()
    assert 'id="agree"' in page.text and 'id="cancel"' in page.text

    tokens = flow.exchange(flow.code())

    assert tokens.status_code == 200
    body = tokens.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == ALL_SCOPES
    assert body["refresh_token"]
    profile = me(sim, body["access_token"]).json()
    assert (profile["id"], profile["display_name"]) == ("segue-demo", "Demo Listener")


def test_cancelling_redirects_with_access_denied(sim: SimulatedSpotify) -> None:
    flow = SignIn(sim)

    query = flow.click("cancel")

    assert query == {"error": "access_denied", "state": flow.state}


def test_consent_modes_answer_at_once(sim: SimulatedSpotify) -> None:
    flow = SignIn(sim)
    sim.consent = "approve"
    approved = requests.get(flow.authorize_url(), allow_redirects=False, timeout=5)
    sim.consent = "deny"
    denied = requests.get(flow.authorize_url(), allow_redirects=False, timeout=5)

    assert approved.status_code == 302
    assert "code=" in approved.headers["Location"]
    assert "error=access_denied" in denied.headers["Location"]


def test_a_wrong_verifier_is_refused(sim: SimulatedSpotify) -> None:
    flow = SignIn(sim)

    response = flow.exchange(flow.code(), code_verifier=secrets.token_urlsafe(64)[:64])

    assert oauth_error(response) == "invalid_grant"
    assert response.json()["error_description"] == "code_verifier was incorrect"


def test_a_code_works_only_once(sim: SimulatedSpotify) -> None:
    flow = SignIn(sim)
    code = flow.code()
    assert flow.exchange(code).status_code == 200

    again = flow.exchange(code)

    assert oauth_error(again) == "invalid_grant"


def test_the_redirect_uri_must_match_the_authorize_one(sim: SimulatedSpotify) -> None:
    flow = SignIn(sim)

    response = flow.exchange(flow.code(), redirect_uri="http://127.0.0.1:9999/callback")

    assert oauth_error(response) == "invalid_grant"


def test_refresh_rotates_the_refresh_token(sim: SimulatedSpotify) -> None:
    first = sim.sign_in()

    rotated = refresh(sim, first["refresh_token"])

    assert rotated.status_code == 200
    body = rotated.json()
    assert body["refresh_token"] != first["refresh_token"]
    assert me(sim, body["access_token"]).status_code == 200
    assert oauth_error(refresh(sim, first["refresh_token"])) == "invalid_grant"
    assert refresh(sim, body["refresh_token"]).status_code == 200


def test_without_rotation_the_refresh_token_is_kept() -> None:
    with SimulatedSpotify(rotate_refresh_tokens=False) as other:
        grant = other.sign_in()
        first = refresh(other, grant["refresh_token"])
        second = refresh(other, grant["refresh_token"])

    assert "refresh_token" not in first.json()
    assert second.status_code == 200


def test_revoked_grants_answer_invalid_grant(sim: SimulatedSpotify) -> None:
    grant = sim.sign_in()

    sim.revoke_grants()

    response = refresh(sim, grant["refresh_token"])
    assert oauth_error(response) == "invalid_grant"


def test_an_expired_access_token_is_renewed_by_refresh(sim: SimulatedSpotify) -> None:
    grant = sim.sign_in()
    sim.expire_access_tokens()
    assert me(sim, grant["access_token"]).status_code == 401

    renewed = refresh(sim, grant["refresh_token"]).json()

    assert me(sim, renewed["access_token"]).status_code == 200


@pytest.mark.parametrize(
    "redirect_uri",
    ["http://localhost:8974/callback", "http://192.168.1.5:8974/callback", "http://127.0.0.1/cb"],
)
def test_insecure_redirect_uris_get_an_error_page(sim: SimulatedSpotify, redirect_uri: str) -> None:
    flow = SignIn(sim, redirect_uri)

    page = requests.get(flow.authorize_url(), allow_redirects=False, timeout=5)

    assert page.status_code == 400
    assert "Location" not in page.headers
    assert "INVALID_CLIENT" in page.text


def test_an_ipv6_loopback_redirect_is_accepted(sim: SimulatedSpotify) -> None:
    flow = SignIn(sim, "http://[::1]:8974/callback")

    assert flow.exchange(flow.code()).status_code == 200


def test_a_malformed_client_id_gets_an_error_page(sim: SimulatedSpotify) -> None:
    flow = SignIn(sim)

    page = requests.get(flow.authorize_url(client_id="not-a-client"), timeout=5)

    assert page.status_code == 400
    assert "INVALID_CLIENT: Invalid client" in page.text


def test_pkce_is_required(sim: SimulatedSpotify) -> None:
    flow = SignIn(sim)

    plain = requests.get(
        flow.authorize_url(code_challenge_method="plain"), allow_redirects=False, timeout=5
    )

    assert plain.status_code == 302
    assert "error=invalid_request" in plain.headers["Location"]


def test_a_token_request_must_be_form_encoded(sim: SimulatedSpotify) -> None:
    response = requests.post(
        f"{sim.accounts_url}/api/token", json={"grant_type": "refresh_token"}, timeout=5
    )

    assert oauth_error(response) == "invalid_request"

"""The simulated accounts service: the sign-in page, the token endpoint and token checks.

It follows Spotify's Authorization Code flow with PKCE as desktop apps use it:

- ``GET /authorize`` checks the client id (32 hex characters), the redirect URI (plain HTTP only
  for loopback IP literals; ``localhost`` is refused since 2025-11-27), ``response_type=code``, an
  S256 ``code_challenge`` and the scopes, then shows a consent page (links ``#agree`` and
  ``#cancel``), or answers at once when consent is "approve" or "deny".
- ``POST /api/token`` redeems a code once, within 10 minutes, for the same redirect URI and
  client, with a ``code_verifier`` whose S256 hash is the challenge; refreshing rotates the refresh
  token (the old one then answers ``invalid_grant``, as single-use PKCE refresh tokens do).
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

from assistant.sim.apierror import ApiError
from assistant.sim.wire import Reply, html_reply, json_reply, redirect_reply
from assistant.spotify.auth import SCOPES

SIM_CLIENT_ID = "5e9e0d0c1a55e5a1c0ffee5e9e5e9e01"
# What Segue asks for at sign-in: sim.sign_in() grants the same by default.
ALL_SCOPES = " ".join(SCOPES)
KNOWN_SCOPES = frozenset(
    (
        *ALL_SCOPES.split(),
        "user-read-email",
        "user-follow-read",
        "user-follow-modify",
        "user-top-read",
        "user-read-playback-position",
        "streaming",
        "app-remote-control",
        "ugc-image-upload",
    )
)
CODE_TTL_SECONDS = 600
_CLIENT_ID = re.compile(r"[0-9a-fA-F]{32}")
_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")
_VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")


@dataclass
class AccessToken:
    """An issued access token."""

    user_id: str
    client_id: str
    scopes: frozenset[str]
    expires_at: float  # monotonic seconds


@dataclass
class Grant:
    """A sign-in: the user's consent for a client and scope, alive while not revoked."""

    user_id: str
    client_id: str
    scope: str
    refresh_token: str
    revoked: bool = False


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    challenge: str
    scope: str
    user_id: str
    expires_at: float
    used: bool = False


@dataclass(frozen=True)
class _Request:
    """An authorization request waiting on the consent page."""

    client_id: str
    redirect_uri: str
    challenge: str
    scope: str
    state: str | None


def s256(verifier: str) -> str:
    """The PKCE S256 challenge of ``verifier``."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _oauth_error(error: str, description: str, status: int = 400) -> Reply:
    return json_reply(status, {"error": error, "error_description": description})


def _error_page(message: str) -> Reply:
    return html_reply(
        400,
        "<!doctype html><html><head><title>Error</title></head><body>"
        f'<h1>Oops! Something went wrong</h1><p id="error">{html.escape(message)}</p>'
        "</body></html>",
    )


def _with_query(uri: str, params: Mapping[str, str | None]) -> str:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return f"{uri}{'&' if '?' in uri else '?'}{query}"


def _loopback_redirect_ok(uri: str) -> bool:
    # Plain HTTP is allowed only for loopback IP literals with a port; `localhost` is refused
    # for every app since 2025-11-27. HTTPS URIs are allowed anywhere.
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return False
    if parts.scheme == "https":
        return bool(parts.hostname)
    return parts.scheme == "http" and parts.hostname in ("127.0.0.1", "::1") and port is not None


class Accounts:
    """Grants, codes and tokens, and the two accounts-service endpoints.

    Args:
        default_user: The user who signs in on the consent page.
        consent: "ask" (show the page), "approve" or "deny" (answer at once).
        access_token_ttl: Lifetime of access tokens, in seconds.
        rotate_refresh_tokens: Whether a refresh returns a new refresh token and retires the old.
        clock: Monotonic seconds.
    """

    def __init__(
        self,
        *,
        default_user: str,
        consent: str = "ask",
        access_token_ttl: int = 3600,
        rotate_refresh_tokens: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if consent not in ("ask", "approve", "deny"):
            raise ValueError("consent must be 'ask', 'approve' or 'deny'")
        self.default_user = default_user
        self.consent = consent
        self.access_token_ttl = access_token_ttl
        self.rotate_refresh_tokens = rotate_refresh_tokens
        self._clock = clock
        self._tokens: dict[str, AccessToken] = {}
        self._grants: dict[str, Grant] = {}  # by refresh token
        self._retired: set[str] = set()  # refresh tokens replaced by rotation
        self._codes: dict[str, _Code] = {}
        self._pending: dict[str, _Request] = {}

    # Tokens

    def issue(self, user_id: str, client_id: str, scope: str) -> dict[str, object]:
        """Sign ``user_id`` in directly and return the token response."""
        grant = Grant(user_id, client_id, scope, secrets.token_urlsafe(48))
        self._grants[grant.refresh_token] = grant
        return {**self._access(grant), "refresh_token": grant.refresh_token}

    def _access(self, grant: Grant) -> dict[str, object]:
        token = secrets.token_urlsafe(48)
        self._tokens[token] = AccessToken(
            grant.user_id,
            grant.client_id,
            frozenset(grant.scope.split()),
            self._clock() + self.access_token_ttl,
        )
        return {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": self.access_token_ttl,
            "scope": grant.scope,
        }

    def check_bearer(self, authorization: str | None) -> AccessToken:
        """The access token an ``Authorization`` header carries.

        Raises:
            ApiError: 401 when it is missing, unknown or expired.
        """
        if not authorization or not authorization.startswith("Bearer "):
            raise ApiError(401, "No token provided")
        token = self._tokens.get(authorization[len("Bearer ") :].strip())
        if token is None:
            raise ApiError(401, "Invalid access token", headers=_invalid_token("Invalid token"))
        if self._clock() >= token.expires_at:
            raise ApiError(
                401, "The access token expired", headers=_invalid_token("The access token expired")
            )
        return token

    def expire_access_tokens(self) -> None:
        """Make every issued access token answer 401 "The access token expired"."""
        now = self._clock()
        for token in self._tokens.values():
            token.expires_at = min(token.expires_at, now)

    def revoke_grants(self) -> None:
        """Make every refresh token answer ``invalid_grant``."""
        for grant in self._grants.values():
            grant.revoked = True

    # GET /authorize and the consent page

    def authorize(self, query: Mapping[str, list[str]]) -> Reply:
        """Answer ``GET /authorize``."""

        def one(name: str) -> str | None:
            values = query.get(name)
            return values[0] if values else None

        client_id = one("client_id")
        if client_id is None or not _CLIENT_ID.fullmatch(client_id):
            return _error_page("INVALID_CLIENT: Invalid client")
        redirect_uri = one("redirect_uri")
        if redirect_uri is None:
            return _error_page("INVALID_CLIENT: Invalid redirect URI")
        if not _loopback_redirect_ok(redirect_uri):
            return _error_page("INVALID_CLIENT: Insecure redirect URI")
        state = one("state")

        def fail(error: str, description: str) -> Reply:
            return redirect_reply(
                _with_query(
                    redirect_uri, {"error": error, "error_description": description, "state": state}
                )
            )

        if one("response_type") != "code":
            return fail("unsupported_response_type", "response_type must be code")
        if one("code_challenge_method") != "S256":
            return fail("invalid_request", "code_challenge_method must be S256")
        challenge = one("code_challenge")
        if challenge is None or not _CHALLENGE.fullmatch(challenge):
            return fail("invalid_request", "code_challenge must be a base64url S256 hash")
        scope = " ".join((one("scope") or "").replace(",", " ").split())
        unknown = [s for s in scope.split() if s not in KNOWN_SCOPES]
        if unknown:
            return fail("invalid_scope", f"Unknown scope: {unknown[0]}")
        request = _Request(client_id, redirect_uri, challenge, scope, state)
        if self.consent == "approve":
            return self._approve(request)
        if self.consent == "deny":
            return self._deny(request)
        request_id = secrets.token_urlsafe(16)
        self._pending[request_id] = request
        return html_reply(200, _consent_page(request_id, request))

    def answer_consent(self, query: Mapping[str, list[str]], *, agree: bool) -> Reply:
        """Answer the consent page's Agree or Cancel link."""
        request_id = (query.get("request") or [""])[0]
        request = self._pending.pop(request_id, None)
        if request is None:
            return _error_page("This sign-in request has expired; start again from the app.")
        return self._approve(request) if agree else self._deny(request)

    def _approve(self, request: _Request) -> Reply:
        code = secrets.token_urlsafe(48)
        self._codes[code] = _Code(
            client_id=request.client_id,
            redirect_uri=request.redirect_uri,
            challenge=request.challenge,
            scope=request.scope,
            user_id=self.default_user,
            expires_at=self._clock() + CODE_TTL_SECONDS,
        )
        return redirect_reply(
            _with_query(request.redirect_uri, {"code": code, "state": request.state})
        )

    @staticmethod
    def _deny(request: _Request) -> Reply:
        return redirect_reply(
            _with_query(request.redirect_uri, {"error": "access_denied", "state": request.state})
        )

    # POST /api/token

    def token(self, content_type: str | None, body: bytes) -> Reply:
        """Answer ``POST /api/token`` (form-encoded)."""
        if not content_type or not content_type.startswith("application/x-www-form-urlencoded"):
            return _oauth_error("invalid_request", "Content-Type must be form-encoded")
        try:
            form = {
                k: v[0] for k, v in parse_qs(body.decode("utf-8"), keep_blank_values=True).items()
            }
        except UnicodeDecodeError:
            return _oauth_error("invalid_request", "Malformed body")
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            return self._redeem_code(form)
        if grant_type == "refresh_token":
            return self._refresh(form)
        if grant_type is None:
            return _oauth_error("invalid_request", "grant_type must be provided")
        return _oauth_error("unsupported_grant_type", f"grant_type {grant_type} is not supported")

    def _redeem_code(self, form: Mapping[str, str]) -> Reply:
        for name in ("code", "redirect_uri", "code_verifier"):
            if not form.get(name):
                return _oauth_error("invalid_request", f"{name} must be provided")
        client_id = form.get("client_id")
        if not client_id or not _CLIENT_ID.fullmatch(client_id):
            return _oauth_error("invalid_client", "Invalid client")
        code = self._codes.get(form["code"])
        if code is None or code.used or self._clock() >= code.expires_at:
            return _oauth_error("invalid_grant", "Invalid authorization code")
        code.used = True  # single use, whatever the outcome
        if code.client_id != client_id:
            return _oauth_error("invalid_client", "Invalid client")
        if code.redirect_uri != form["redirect_uri"]:
            return _oauth_error("invalid_grant", "Invalid redirect URI")
        verifier = form["code_verifier"]
        if not _VERIFIER.fullmatch(verifier) or s256(verifier) != code.challenge:
            return _oauth_error("invalid_grant", "code_verifier was incorrect")
        return json_reply(200, self.issue(code.user_id, code.client_id, code.scope))

    def _refresh(self, form: Mapping[str, str]) -> Reply:
        refresh_token = form.get("refresh_token")
        if not refresh_token:
            return _oauth_error("invalid_request", "refresh_token must be supplied")
        client_id = form.get("client_id")
        if not client_id or not _CLIENT_ID.fullmatch(client_id):
            return _oauth_error("invalid_client", "Invalid client")
        if refresh_token in self._retired:
            return _oauth_error("invalid_grant", "Refresh token revoked")
        grant = self._grants.get(refresh_token)
        if grant is None:
            return _oauth_error("invalid_grant", "Invalid refresh token")
        if grant.revoked:
            return _oauth_error("invalid_grant", "Refresh token revoked")
        if grant.client_id != client_id:
            return _oauth_error("invalid_client", "Invalid client")
        payload = self._access(grant)
        if self.rotate_refresh_tokens:
            del self._grants[refresh_token]
            self._retired.add(refresh_token)
            grant.refresh_token = secrets.token_urlsafe(48)
            self._grants[grant.refresh_token] = grant
            payload["refresh_token"] = grant.refresh_token
        return json_reply(200, payload)


def _invalid_token(description: str) -> dict[str, str]:
    return {
        "WWW-Authenticate": (
            f'Bearer realm="spotify", error="invalid_token", error_description="{description}"'
        )
    }


def _consent_page(request_id: str, request: _Request) -> str:
    scopes = "".join(f"<li>{html.escape(s)}</li>" for s in request.scope.split())
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Spotify (simulated): "
        "Authorize</title></head><body><h1>Segue wants to use your Spotify account</h1>"
        f"<p>This is the simulated Spotify. It will be allowed to:</p><ul>{scopes}</ul>"
        f'<p><a id="agree" href="/authorize/accept?request={request_id}">Agree</a> '
        f'<a id="cancel" href="/authorize/cancel?request={request_id}">Cancel</a></p>'
        "</body></html>"
    )

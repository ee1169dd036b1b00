"""Spotify sign-in: Authorization Code with PKCE, a loopback callback server, and the token manager.

Segue is a desktop app, so it has no client secret: it signs in with PKCE (a random verifier, its
S256 challenge in the authorize URL, the verifier in the token request) and receives the
authorization code on a small HTTP server bound to the loopback address of the redirect URI.

``SpotifyAuth`` keeps the refresh token and the current access token (with its expiry) in the
``SecretStore`` (the OS keyring), refreshes shortly before expiry, and is what spotipy gets as its
``auth_manager``. ``sign_in`` runs the whole browser flow.

Several Segue processes share the sign-in (the tray, `segue say` run from a shell or a shortcut).
Under PKCE a refresh token may be single-use: two processes refreshing with the same one leave one
of them holding a dead token. So a refresh happens only under the keyring's lock across processes
(``SecretStore.exclusive``), after reading the keyring again under it: when another process has
just refreshed, its stored access token is used and no request is made. A command started while
the stored access token is good makes no refresh at all.

spotipy's own auth managers are not used: their token calls have no timeout by default, their
redirect server does not check ``state``, binds only 127.0.0.1 and falls back to ``input()``.
Nothing here logs a code, state, verifier or token.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import hmac
import logging
import queue
import socket
import threading
import time
import webbrowser
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from secrets import token_urlsafe
from typing import Any, NoReturn, cast
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import requests

from assistant import waits
from assistant.errors import (
    ConfigError,
    NotSignedIn,
    RateLimited,
    SecretStoreUnavailable,
    SignInExpired,
    SignInFailed,
    SpotifyUnavailable,
)
from assistant.secrets import SecretStore

logger = logging.getLogger(__name__)

SCOPES: tuple[str, ...] = (
    "user-read-playback-state",
    "user-modify-playback-state",
    "user-read-currently-playing",
    "user-read-recently-played",
    "playlist-read-private",
    "playlist-read-collaborative",
    "playlist-modify-private",
    "playlist-modify-public",
    "user-library-read",
    "user-library-modify",
    "user-read-private",
)

# Spotify's access tokens last an hour; used when a token response leaves out expires_in.
_DEFAULT_EXPIRES_IN = 3600.0
# How long a callback page waits for the token exchange before answering anyway.
_EXCHANGE_ANSWER_WAIT = 60.0
# How long sign_in waits for the browser to receive the final page before closing the server.
_PAGE_DELIVERY_WAIT = 2.0
# Idle browser connections (speculative preconnects) are dropped after this many seconds.
_CONNECTION_IDLE_TIMEOUT = 10.0


@dataclass(frozen=True)
class Pkce:
    """A PKCE pair: the secret verifier and its S256 challenge.

    Attributes:
        verifier: The code verifier, sent only with the token request.
        challenge: base64url(SHA-256(verifier)) without padding, sent in the authorize URL.
    """

    verifier: str
    challenge: str

    def __repr__(self) -> str:
        return "Pkce(<redacted>)"


def new_pkce() -> Pkce:
    """Make a fresh PKCE verifier (86 URL-safe characters) and its S256 challenge."""
    # 64 random bytes give 86 base64url characters; RFC 7636 allows 43 to 128.
    verifier = token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    return Pkce(verifier=verifier, challenge=challenge)


class _TokenRefused(Exception):
    """The accounts service answered a token request with a 4xx OAuth error."""

    def __init__(self, status: int, error: str) -> None:
        super().__init__(f"HTTP {status} {error}")
        self.status = status
        self.error = error


@dataclass(frozen=True)
class _TokenResponse:
    access_token: str
    expires_in: float
    refresh_token: str | None
    scope: str | None

    def __repr__(self) -> str:
        return f"_TokenResponse(<redacted>, expires_in={self.expires_in})"


class SpotifyAuth:
    """Holds the sign-in: the refresh and access tokens in the SecretStore, shared by processes.

    An instance is safe to share between threads. It is what spotipy gets as ``auth_manager``:
    spotipy calls ``get_access_token(as_dict=False)`` before every request.

    Args:
        client_id: The Client ID of the user's own Spotify app.
        redirect_uri: The redirect URI registered for that app (a loopback IP literal).
        accounts_url: Base URL of the accounts service (``https://accounts.spotify.com``).
        secrets: Where the tokens and the sign-in date are kept (and the lock every Segue
            process takes to refresh).
        timeout: Seconds every request to the accounts service may take.
        session: The HTTP session to use; a new one by default.
        clock: Wall-clock Unix seconds, used for token expiry (the stored expiry is read by
            other processes, so it cannot be a monotonic clock).
        refresh_margin: Refresh the access token when it expires within this many seconds.
    """

    def __init__(
        self,
        *,
        client_id: str,
        redirect_uri: str,
        accounts_url: str,
        secrets: SecretStore,
        timeout: float = 10.0,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
        refresh_margin: float = 60.0,
    ) -> None:
        self._client_id = client_id
        self._redirect_uri = redirect_uri
        self._accounts_url = accounts_url.rstrip("/")
        self._secrets = secrets
        self._timeout = timeout
        self._session = session if session is not None else requests.Session()
        self._clock = clock
        self._refresh_margin = refresh_margin
        # Guards the in-memory token within this process; refreshes also hold the keyring's lock
        # across processes.
        self._lock = threading.Lock()
        self._access_token: str | None = None
        self._expires_at = 0.0
        # The last token Spotify answered 401 to: never taken from the keyring again.
        self._rejected: str | None = None

    @property
    def redirect_uri(self) -> str:
        """The redirect URI the sign-in uses (and the callback server listens on)."""
        return self._redirect_uri

    @property
    def signed_in(self) -> bool:
        """Whether a refresh token is stored."""
        return self._secrets.spotify_refresh_token() is not None

    def signed_in_at(self) -> datetime | None:
        """When the stored sign-in was granted (refresh tokens expire six months later).

        None when no sign-in is stored, even if one Spotify refused left its date behind.
        """
        if self._secrets.spotify_refresh_token() is None:
            return None
        return self._secrets.spotify_signed_in_at()

    def get_access_token(self, as_dict: bool = False) -> str:
        """Return a valid access token, refreshing it first when missing or about to expire.

        Args:
            as_dict: Part of spotipy's auth-manager call; only ``False`` (a plain string) is
                supported.

        Returns:
            The access token.

        Raises:
            ValueError: ``as_dict`` was true.
            NotSignedIn: No refresh token is stored.
            SignInExpired: Spotify refused the refresh token; the stored sign-in was cleared.
            SpotifyUnavailable: The accounts service could not be reached, timed out or failed.
            RateLimited: The accounts service asked us to slow down.
        """
        if as_dict:
            raise ValueError("SpotifyAuth returns access tokens as strings only")
        with self._lock:
            if self._access_token is not None and not self._expiring(self._expires_at):
                return self._access_token
            # Under PKCE a refresh token may be single-use: refresh only while holding the lock
            # every Segue process takes, and only if no other process has just done it.
            with self._secrets.exclusive():
                if self._adopt_stored_locked():
                    assert self._access_token is not None
                    return self._access_token
                return self._refresh_locked()

    def invalidate(self, rejected_token: str) -> None:
        """Forget the in-memory access token after Spotify answered 401 to it.

        The token is dropped only if it is still ``rejected_token``: when several requests get a
        401 at once, the first caller's refresh is not thrown away by the others.

        Args:
            rejected_token: The access token the 401 answered.
        """
        with self._lock:
            self._rejected = rejected_token
            if self._access_token is not None and _same(self._access_token, rejected_token):
                logger.info("Dropped the access token Spotify rejected")
                self._access_token = None
                self._expires_at = 0.0
            # Other processes would pick the refused token up from the keyring: drop it there
            # too, unless a newer one was stored meanwhile.
            try:
                with self._secrets.exclusive():
                    stored = self._secrets.spotify_access_token()
                    if stored is not None and _same(stored[0], rejected_token):
                        self._secrets.forget_spotify_access_token()
            except SecretStoreUnavailable:
                logger.warning("Could not drop the refused access token from the keyring")

    def warm_up(self) -> None:
        """Refresh now if the access token is missing or expires within the refresh margin.

        Meant for the moment the user starts a command, so the refresh overlaps the recording.
        Does nothing when not signed in.

        Raises:
            SignInExpired: Spotify refused the refresh token; the stored sign-in was cleared.
            SpotifyUnavailable: The accounts service could not be reached, timed out or failed.
            RateLimited: The accounts service asked us to slow down.
        """
        try:
            self.get_access_token()
        except NotSignedIn:
            logger.debug("Warm-up skipped: not signed in")

    def authorization_url(self, *, state: str, code_challenge: str) -> str:
        """The URL of Spotify's consent page for a PKCE sign-in.

        Args:
            state: A random value the callback must carry back unchanged.
            code_challenge: The S256 challenge of the PKCE verifier.

        Returns:
            ``{accounts_url}/authorize?...`` with every parameter Spotify needs.
        """
        query = urlencode(
            {
                "client_id": self._client_id,
                "response_type": "code",
                "redirect_uri": self._redirect_uri,
                "code_challenge_method": "S256",
                "code_challenge": code_challenge,
                "state": state,
                "scope": " ".join(SCOPES),
            },
            quote_via=quote,
        )
        return f"{self._accounts_url}/authorize?{query}"

    def exchange_code(self, code: str, verifier: str) -> None:
        """Trade an authorization code for tokens and store the new sign-in.

        Args:
            code: The authorization code from the callback.
            verifier: The PKCE verifier whose challenge was in the authorize URL.

        Raises:
            SignInFailed: Spotify refused the code (expired, used, or the verifier does not match)
                or answered without a refresh token.
            SpotifyUnavailable: The accounts service could not be reached, timed out or failed.
            RateLimited: The accounts service asked us to slow down.
        """
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self._redirect_uri,
            "client_id": self._client_id,
            "code_verifier": verifier,
        }
        with self._lock:
            started = self._clock()
            try:
                tokens = self._post_token(form)
            except _TokenRefused as refused:
                logger.warning("Token exchange refused: %s", refused)
                raise SignInFailed(
                    f"Spotify refused the sign-in ({refused.error}); run `segue login` again."
                ) from None
            if tokens.refresh_token is None:
                raise SignInFailed(
                    "Spotify's answer to the sign-in had no refresh token; run `segue login` again."
                )
            with self._secrets.exclusive():
                self._secrets.save_spotify_refresh_token(tokens.refresh_token, new_sign_in=True)
                self._keep(tokens, started)
            _warn_about_missing_scopes(tokens.scope)
            logger.info("Token exchange ok; signed in to Spotify")

    def sign_out(self) -> None:
        """Forget the stored sign-in and the in-memory access token."""
        with self._lock:
            self._access_token = None
            self._expires_at = 0.0
            self._secrets.clear_spotify()
            logger.info("Signed out of Spotify")

    # Internals. Every method ending in _locked runs with self._lock held.

    def _expiring(self, expires_at: float) -> bool:
        return self._clock() >= expires_at - self._refresh_margin

    def _adopt_stored_locked(self) -> bool:
        """Use the access token in the keyring if it is good for a while; whether it was."""
        stored = self._secrets.spotify_access_token()
        if stored is None:
            return False
        token, expires_at = stored
        if self._expiring(expires_at) or (
            self._rejected is not None and _same(token, self._rejected)
        ):
            return False
        self._access_token, self._expires_at = token, expires_at
        logger.debug("Using the access token in the keyring")
        return True

    def _refresh_locked(self) -> str:
        refresh_token = self._secrets.spotify_refresh_token()
        if refresh_token is None:
            self._access_token = None
            raise NotSignedIn()
        started = self._clock()
        try:
            tokens = self._post_refresh(refresh_token)
        except _TokenRefused as refused:
            if refused.error != "invalid_grant":
                raise _refresh_refused_error(refused) from None
            # A process that does not take the keyring's lock (an older Segue) may have used the
            # single-use refresh token between our read and our request and stored a rotated one:
            # then ours is dead but the sign-in is not. Use what it stored, or try its token once.
            if self._adopt_stored_locked():
                assert self._access_token is not None
                return self._access_token
            current = self._secrets.spotify_refresh_token()
            if current is None or current == refresh_token:
                self._expire_sign_in_locked(refresh_token)
            logger.info("Refresh token was rotated by another process; retrying with the new one")
            try:
                tokens = self._post_refresh(current)
            except _TokenRefused as again:
                if again.error != "invalid_grant":
                    raise _refresh_refused_error(again) from None
                self._expire_sign_in_locked(current)
            refresh_token = current
        if tokens.refresh_token is not None and tokens.refresh_token != refresh_token:
            # Spotify rotated the refresh token; the old one is now dead, so store the new one
            # before anything else can fail.
            self._secrets.save_spotify_refresh_token(tokens.refresh_token)
            logger.info("Stored the rotated refresh token")
        # A response without refresh_token means the old one stays valid: keep it.
        self._keep(tokens, started)
        logger.info("Refreshed the access token (valid for %.0f s)", tokens.expires_in)
        return tokens.access_token

    def _expire_sign_in_locked(self, refused_token: str) -> NoReturn:
        self._access_token = None
        self._expires_at = 0.0
        # Clear only the sign-in that was refused, never a newer one stored meanwhile.
        if self._secrets.spotify_refresh_token() in (refused_token, None):
            self._secrets.forget_spotify_tokens()
        logger.warning("Spotify refused the refresh token (invalid_grant); sign-in cleared")
        raise SignInExpired()

    def _post_refresh(self, refresh_token: str) -> _TokenResponse:
        return self._post_token(
            {
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "client_id": self._client_id,
            }
        )

    def _keep(self, tokens: _TokenResponse, started: float) -> None:
        self._access_token = tokens.access_token
        # Measured from when the request was sent, so network time only makes us refresh early.
        self._expires_at = started + tokens.expires_in
        try:
            self._secrets.save_spotify_access_token(tokens.access_token, self._expires_at)
        except SecretStoreUnavailable:
            # The refresh token is stored; other processes will refresh for themselves.
            logger.warning("Could not keep the access token in the keyring")

    def _post_token(self, form: Mapping[str, str]) -> _TokenResponse:
        url = f"{self._accounts_url}/api/token"
        try:
            response = self._session.post(
                url, data=dict(form), headers={"Accept": "application/json"}, timeout=self._timeout
            )
        except requests.Timeout as err:
            logger.warning("Token request timed out after %.1f s", self._timeout)
            raise SpotifyUnavailable(
                f"Spotify's sign-in service did not answer within {self._timeout:g} seconds; "
                "try again in a moment."
            ) from err
        except requests.RequestException as err:
            logger.warning("Token request failed: %s", type(err).__name__)
            raise SpotifyUnavailable(
                "Spotify's sign-in service cannot be reached; check the connection and try again."
            ) from err

        status = response.status_code
        if status >= 500:
            logger.warning("Token request failed with HTTP %d", status)
            raise SpotifyUnavailable()
        if status == HTTPStatus.TOO_MANY_REQUESTS:
            retry_after = waits.retry_after(response.headers)
            logger.warning("Token request rate limited (Retry-After %s)", retry_after)
            if retry_after is None:
                raise SpotifyUnavailable()
            raise RateLimited(retry_after)
        body = _json_object(response)
        if status >= 400:
            error = body.get("error") if body is not None else None
            raise _TokenRefused(status, error if isinstance(error, str) else f"HTTP {status}")
        if body is None:
            raise _unreadable_answer()
        access_token = body.get("access_token")
        refresh_token = body.get("refresh_token")
        expires_in = body.get("expires_in", _DEFAULT_EXPIRES_IN)
        scope = body.get("scope")
        if (
            not isinstance(access_token, str)
            or not access_token
            or not isinstance(expires_in, int | float)
            or isinstance(expires_in, bool)
            or not (refresh_token is None or (isinstance(refresh_token, str) and refresh_token))
        ):
            raise _unreadable_answer()
        return _TokenResponse(
            access_token=access_token,
            expires_in=float(expires_in),
            refresh_token=refresh_token,
            scope=scope if isinstance(scope, str) else None,
        )


def _json_object(response: requests.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return cast(dict[str, Any], body) if isinstance(body, dict) else None


def _unreadable_answer() -> SpotifyUnavailable:
    logger.warning("Token response was not the expected JSON object")
    return SpotifyUnavailable(
        "Spotify's sign-in service gave an answer Segue cannot read; try again in a moment."
    )


def _same(token: str, other: str) -> bool:
    """Whether two tokens are equal (compared in constant time)."""
    return hmac.compare_digest(token.encode(), other.encode())


def _refresh_refused_error(refused: _TokenRefused) -> SignInExpired:
    # invalid_client and friends: the Client ID in the settings no longer matches the app that
    # issued the refresh token (or the app was deleted). The stored token is kept: putting the
    # old Client ID back makes it work again.
    logger.warning("Spotify refused the token refresh: %s", refused)
    return SignInExpired(
        f"Spotify refused to renew the sign-in ({refused.error}); check spotify_client_id, then "
        "choose Sign in from the tray menu."
    )


def _warn_about_missing_scopes(granted: str | None) -> None:
    if granted is None:
        return
    missing = sorted(set(SCOPES) - set(granted.split()))
    if missing:
        logger.warning("Spotify granted fewer scopes than asked; missing: %s", " ".join(missing))


# The loopback callback server.

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Segue</title>
<style>body{{font-family:system-ui,sans-serif;margin:4em auto;max-width:32em;text-align:center}}
</style></head>
<body><h1>{title}</h1><p>{text}</p></body></html>
"""
_SIGNED_IN = ("Signed in", "Signed in to Spotify. You can close this tab and return to Segue.")
_CANCELLED = ("Sign-in cancelled", "Spotify sign-in was cancelled. You can close this tab.")
_BROWSER_ERROR = (
    "Sign-in failed",
    "Spotify did not complete the sign-in. Return to Segue and try again.",
)
_EXCHANGE_FAILED = (
    "Sign-in failed",
    "Segue could not finish signing in to Spotify. Return to Segue to see why.",
)
_STALE = ("Sign-in link not valid", "This sign-in link is stale or was not started by Segue.")
_NO_CODE = ("Sign-in link not valid", "This sign-in link carries no authorization code.")
_FINISHED = ("Sign-in finished", "This sign-in has already finished.")
_NOT_FOUND = ("Not found", "There is nothing here.")
_SERVER_ERROR = ("Something went wrong", "Segue could not handle this page. Return to Segue.")


@dataclass(frozen=True)
class _Callback:
    """What the accepted callback carried: a code, or an OAuth error such as access_denied."""

    code: str | None
    error: str | None

    def __repr__(self) -> str:
        return f"_Callback(code={'<redacted>' if self.code else None}, error={self.error!r})"


@dataclass(frozen=True)
class _BrowserOpened:
    """The browser command returned; ``ok`` is what it reported."""

    ok: bool


_FlowEvent = _Callback | _BrowserOpened


@dataclass(frozen=True)
class _Answer:
    status: HTTPStatus
    page: tuple[str, str]
    final: bool = False  # the answer to the accepted callback


class _CallbackFlow:
    """The state of one sign-in as the callback server sees it."""

    def __init__(self, path: str, state: str, events: queue.Queue[_FlowEvent]) -> None:
        self._path = path
        self._state = state.encode("utf-8")
        self._events = events
        self._lock = threading.Lock()
        self._finished = False
        self._callback: _Callback | None = None
        self._outcome_ready = threading.Event()
        self._outcome_ok = False
        self._delivered = threading.Event()

    def answer(self, target: str) -> _Answer:
        """Decide the answer to ``GET target``; accepts at most one callback per flow."""
        parts = urlsplit(target)
        if parts.path != self._path:
            return _Answer(HTTPStatus.NOT_FOUND, _NOT_FOUND)
        params = parse_qs(parts.query, keep_blank_values=True)
        with self._lock:
            if self._finished:
                logger.info("Callback received after the sign-in finished; ignored")
                return _Answer(HTTPStatus.OK, _FINISHED)
            states = params.get("state", [])
            if len(states) != 1 or not hmac.compare_digest(states[0].encode("utf-8"), self._state):
                # A stale tab or a forged link: refuse it, but keep waiting for the real one.
                logger.warning("Callback refused: wrong or missing state")
                return _Answer(HTTPStatus.BAD_REQUEST, _STALE)
            errors = params.get("error", [])
            codes = [c for c in params.get("code", []) if c]
            if errors:
                self._callback = _Callback(code=None, error=errors[0])
            elif len(codes) == 1:
                self._callback = _Callback(code=codes[0], error=None)
            else:
                logger.warning("Callback refused: no authorization code")
                return _Answer(HTTPStatus.BAD_REQUEST, _NO_CODE)
            self._finished = True
            callback = self._callback
            self._events.put(callback)
        logger.info("Callback received")
        if callback.error == "access_denied":
            return _Answer(HTTPStatus.OK, _CANCELLED, final=True)
        if callback.error is not None:
            return _Answer(HTTPStatus.OK, _BROWSER_ERROR, final=True)
        # Answer only once sign_in has traded the code for tokens, so the page tells the truth.
        self._outcome_ready.wait(_EXCHANGE_ANSWER_WAIT)
        if self._outcome_ok:
            return _Answer(HTTPStatus.OK, _SIGNED_IN, final=True)
        return _Answer(HTTPStatus.OK, _EXCHANGE_FAILED, final=True)

    def finish(self) -> _Callback | None:
        """End the flow: later callbacks change nothing. Returns the accepted callback, if any."""
        with self._lock:
            self._finished = True
            return self._callback

    def report(self, ok: bool) -> None:
        """Tell the waiting callback page how the token exchange went (the first report counts)."""
        with self._lock:
            if self._outcome_ready.is_set():
                return
            self._outcome_ok = ok
            self._outcome_ready.set()

    def delivered(self) -> None:
        """Note that the accepted callback's page has been sent."""
        self._delivered.set()

    def wait_delivered(self, timeout: float) -> None:
        """Give the browser a moment to receive the final page, if a callback was accepted."""
        if self._callback is not None:
            self._delivered.wait(timeout)


class _CallbackHandler(BaseHTTPRequestHandler):
    server_version = "Segue"
    sys_version = ""
    timeout = _CONNECTION_IDLE_TIMEOUT

    def do_GET(self) -> None:
        """Answer one browser request."""
        flow = cast(_LoopbackServer, self.server).flow
        answer = _Answer(HTTPStatus.INTERNAL_SERVER_ERROR, _SERVER_ERROR)
        try:
            answer = flow.answer(self.path)
        finally:
            try:
                self._send_page(answer)
            finally:
                if answer.final:
                    flow.delivered()

    def _send_page(self, answer: _Answer) -> None:
        title, text = answer.page
        body = _PAGE.format(title=title, text=text).encode("utf-8")
        self.send_response(answer.status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        # The callback URL carries the authorization code: never pass it on as a Referer.
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Log the answer without the query string (it holds the code and state)."""
        # http.server calls this before `path` is set when the request line is malformed.
        path = urlsplit(getattr(self, "path", "")).path
        logger.debug("Callback server answered %s for %s", code, path or "a malformed request")

    def log_message(self, format: str, *args: Any) -> None:
        """Drop http.server's own messages: they quote the request line, code included."""
        logger.debug("Callback server could not handle a request")


class _LoopbackServer(ThreadingHTTPServer):
    """A threading HTTP server on one loopback address, owning one sign-in flow."""

    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], family: socket.AddressFamily, flow: _CallbackFlow
    ) -> None:
        self.address_family = family
        self.flow = flow
        super().__init__(address, _CallbackHandler)

    def server_bind(self) -> None:
        """Bind without the reverse DNS lookup HTTPServer does, and without port sharing."""
        exclusive = getattr(socket, "SO_EXCLUSIVEADDRUSE", None)
        if exclusive is not None:
            # Windows: SO_REUSEADDR there would let two programs share the port; refuse that.
            self.socket.setsockopt(socket.SOL_SOCKET, exclusive, 1)
        else:
            # POSIX: lets a second `segue login` bind while closed connections sit in TIME_WAIT;
            # a port another program listens on still fails with EADDRINUSE.
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind(self.server_address)
        self.server_address = self.socket.getsockname()
        self.server_name = str(self.server_address[0])
        self.server_port = int(self.server_address[1])

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Log a failed request (a browser that hung up, usually) instead of printing it."""
        logger.debug("Callback server: a request failed", exc_info=True)


class _CallbackServer:
    """Serves the redirect URI on its own thread until closed."""

    def __init__(self, redirect_uri: str, state: str, events: queue.Queue[_FlowEvent]) -> None:
        parts = urlsplit(redirect_uri)
        host = parts.hostname
        try:
            port = parts.port
        except ValueError:
            port = None
        if parts.scheme != "http" or host not in ("127.0.0.1", "::1") or port is None:
            raise ConfigError(
                "spotify_redirect_uri must be http://127.0.0.1:PORT/PATH or "
                "http://[::1]:PORT/PATH (Spotify refuses `localhost`)."
            )
        family = socket.AF_INET6 if host == "::1" else socket.AF_INET
        self.flow = _CallbackFlow(parts.path or "/", state, events)
        try:
            self._server = _LoopbackServer((host, port), family, self.flow)
        except OSError as err:
            if err.errno == errno.EADDRINUSE or getattr(err, "winerror", None) in (10013, 10048):
                raise SignInFailed(
                    f"Port {port} is in use; close the other program or change "
                    "spotify_redirect_uri (and the app's redirect URI in the Spotify dashboard)."
                ) from err
            raise SignInFailed(
                f"Segue cannot listen on {host} port {port} for the sign-in ({err.strerror})."
            ) from err
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="spotify-sign-in-callback",
            daemon=True,
        )
        self._thread.start()
        self.port = port

    def close(self) -> None:
        """Stop serving and release the port (after the final page went out, within a bound)."""
        self.flow.finish()
        self.flow.report(False)  # a page still waiting for an exchange that never ran
        self.flow.wait_delivered(_PAGE_DELIVERY_WAIT)
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


REMIND_EVERY_SECONDS = 60.0
"""How often the sign-in says how long it still waits for the browser."""


def sign_in(
    auth: SpotifyAuth,
    *,
    timeout: float,
    open_browser: Callable[[str], bool] = webbrowser.open,
    announce: Callable[[str], None] = print,
    remind_every: float = REMIND_EVERY_SECONDS,
) -> None:
    """Sign in to Spotify in the browser and store the new sign-in.

    Starts the callback server on the redirect URI's address, announces the consent page's URL on
    a line of its own (so the user can copy it), opens the browser and waits for one callback
    that carries this sign-in's ``state``; then trades the code for tokens. Callbacks with a wrong
    state (an old tab) are refused without ending the wait. The server is closed and the port
    released before this returns, whatever happens.

    ``open_browser`` runs on a thread of its own, because ``webbrowser`` waits for a ``BROWSER``
    command to exit (a terminal browser exits only after showing the final page, which is sent
    after the token exchange). ``announce`` is called only on the calling thread.

    Args:
        auth: The sign-in to fill in.
        timeout: Seconds to wait for the browser's callback.
        open_browser: Opens a URL in the user's browser; returns whether that worked.
        announce: Shows one line to the user (the address, how long Segue waits, and every
            ``remind_every`` seconds how long is left).
        remind_every: Seconds between the "Waiting up to ..." lines.

    Raises:
        SignInFailed: Consent was denied, no callback came in time, the port is in use, or
            Spotify refused the code.
        ConfigError: The redirect URI is not a loopback IP address with a port.
        SpotifyUnavailable: The accounts service could not be reached for the token exchange.
    """
    pkce = new_pkce()
    state = token_urlsafe(32)
    url = auth.authorization_url(state=state, code_challenge=pkce.challenge)
    deadline = time.monotonic() + timeout
    events: queue.Queue[_FlowEvent] = queue.Queue()
    server = _CallbackServer(auth.redirect_uri, state, events)
    opener: threading.Thread | None = None
    try:
        logger.info("Sign-in started; waiting for the browser on port %d", server.port)
        announce("Sign in to Spotify in your browser. If it does not open, open this address:")
        announce(url)
        announce(_waiting(timeout))
        opener = threading.Thread(
            target=_open_browser,
            args=(open_browser, url, events),
            name="spotify-sign-in-browser",
            daemon=True,
        )
        opener.start()
        callback = _wait_for_callback(events, deadline, announce, remind_every)
        # A callback accepted just as the wait ran out still counts; any later one is told the
        # sign-in has finished.
        callback = server.flow.finish() or callback
        if callback is None:
            logger.warning("Sign-in timed out after %g s", timeout)
            raise SignInFailed(
                f"No answer from the browser within {timeout:g} seconds; run `segue login` again."
            )
        if callback.error == "access_denied":
            logger.info("Sign-in cancelled in the browser")
            raise SignInFailed("Spotify sign-in was cancelled in the browser.")
        if callback.error is not None or callback.code is None:
            error = _error_code(callback.error)
            logger.warning("Sign-in failed in the browser: %s", error)
            raise SignInFailed(
                f"Spotify did not complete the sign-in ({error}); run `segue login` again."
            )
        ok = False
        try:
            auth.exchange_code(callback.code, pkce.verifier)
            ok = True
        finally:
            server.flow.report(ok)
    finally:
        server.close()
        logger.debug("Callback server closed")
        if opener is not None:
            # A BROWSER command usually exits once it has shown the final page; let it finish
            # so its output does not mix with ours. One that keeps running is left to itself.
            opener.join(_PAGE_DELIVERY_WAIT)


def _waiting(seconds: float) -> str:
    """How long the sign-in still waits, and how to stop it, as one line."""
    whole = max(0, round(seconds))
    left = (
        f"{whole // 60} minute{'s' if whole // 60 != 1 else ''}"
        if whole >= 120
        else f"{whole} second{'s' if whole != 1 else ''}"
    )
    return f"Waiting up to {left} for the browser (Ctrl-C cancels)."


def _wait_for_callback(
    events: queue.Queue[_FlowEvent],
    deadline: float,
    announce: Callable[[str], None],
    remind_every: float,
) -> _Callback | None:
    remind_at = time.monotonic() + remind_every
    while True:
        now = time.monotonic()
        remaining = deadline - now
        if remaining <= 0:
            return None
        if now >= remind_at:  # how long is left, now and then
            announce(_waiting(remaining))
            remind_at = now + remind_every
        try:
            event = events.get(timeout=min(remaining, remind_at - now))
        except queue.Empty:
            continue
        if isinstance(event, _Callback):
            return event
        if not event.ok:
            announce("No browser could be opened; open the address above yourself.")


def _open_browser(
    open_browser: Callable[[str], bool], url: str, events: queue.Queue[_FlowEvent]
) -> None:
    ok = False
    try:
        ok = bool(open_browser(url))
    except (webbrowser.Error, OSError) as err:
        logger.warning("Could not open a browser: %s", type(err).__name__)
    except Exception:
        # The top of this thread: whatever the browser hook raised, the user can still open
        # the announced address by hand.
        logger.exception("Opening the browser failed")
    finally:
        events.put(_BrowserOpened(ok))


def _error_code(error: str | None) -> str:
    # The error comes from the URL the browser was sent to: show it only if it looks like an
    # OAuth error code.
    if error and len(error) <= 40 and all(c.isascii() and (c.isalnum() or c == "_") for c in error):
        return error
    return "unknown error"

"""The HTTP side of the simulator: the server thread, routing, latency, faults and the log.

Every request is answered in this order: the configured latency (slept outside the lock), then a
matching fault, then the route: the accounts service (``/authorize``, ``/api/token``), the Web API
(``/v1/...``) or the control endpoints (``/_sim/...``). Each exchange is recorded.

A fault can also lose an answer the way networks do: the request is carried out (``apply``) and
then the answer is held past the client's timeout (``hang_seconds``), or the connection is closed
without one (``drop``). Held answers are let go when the faults are cleared or the server stops.
"""

from __future__ import annotations

import logging
import random
import re
import socket
import sys
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from assistant.sim.apierror import ApiError
from assistant.sim.wire import Reply, Request, json_reply

logger = logging.getLogger(__name__)

# Idle keep-alive connections are closed after this long, so handler threads do not pile up.
_IDLE_TIMEOUT_SECONDS = 30.0
_MAX_BODY = 10 * 1024 * 1024

_STATUS_MESSAGES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    429: "API rate limit exceeded",
    500: "Server error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
}


@dataclass(frozen=True)
class Fault:
    """A failure the simulator injects instead of answering normally.

    Attributes:
        path: A regex fullmatched against the request path (no query), e.g. ``/v1/me/player/.*``.
        method: The HTTP method it applies to; None for any.
        status: The status to answer; None (with ``apply``) keeps the real answer.
        body: The body: None for Spotify's standard error body for ``status``, a dict or list
            for JSON, str or bytes as they are.
        headers: Extra headers; a 429 without ``Retry-After`` gets ``Retry-After: 1``.
        times: How many requests it hits; None for every one.
        probability: When set (0-1), each matching request fails with this probability (seeded
            random source, so runs repeat).
        apply: Carry the request out first, as if the failure came after Spotify acted; the
            answer is then the real one (held or dropped) unless ``status`` replaces it.
        drop: Close the connection without any answer.
        hang_seconds: Hold the answer this long before sending (or dropping) it: longer than the
            client's timeout, the client gives up first.
        skip: Let this many matching requests through before the fault starts (the second
            batch of a long add, say).
    """

    path: str
    method: str | None = None
    status: int | None = 503
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    times: int | None = 1
    probability: float | None = None
    apply: bool = False
    drop: bool = False
    hang_seconds: float = 0.0
    skip: int = 0


@dataclass(frozen=True)
class Exchange:
    """One HTTP request and its answer, as the simulator saw them (header names lower-case)."""

    method: str
    path: str
    query: dict[str, list[str]]
    request_headers: dict[str, str]
    request_body: bytes
    status: int
    response_headers: dict[str, str]
    response_body: bytes


def error_reply(err: ApiError) -> Reply:
    """Spotify's JSON error body for ``err``."""
    return json_reply(err.status, err.body(), err.headers)


class _ActiveFault:
    def __init__(self, fault: Fault) -> None:
        self.fault = fault
        self.pattern = re.compile(fault.path)
        self.remaining = fault.times
        self.skip = fault.skip

    def reply(self, status: int) -> Reply:
        fault = self.fault
        headers = dict(fault.headers)
        if status == 429 and not any(k.lower() == "retry-after" for k in headers):
            headers["Retry-After"] = "1"
        body = fault.body
        if body is None:
            message = _STATUS_MESSAGES.get(status, "Error")
            return json_reply(status, {"error": {"status": status, "message": message}}, headers)
        if isinstance(body, dict | list):
            return json_reply(status, body, headers)
        raw = body.encode() if isinstance(body, str) else bytes(body)
        headers.setdefault("Content-Type", "application/json; charset=utf-8")
        return Reply(status, raw, headers)


class DropConnection(Exception):
    """Raised by the router to close the connection without an answer."""


class Faults:
    """The faults to inject, matched in the order added.

    Args:
        seed: Seed of the random source for probabilistic faults.
    """

    def __init__(self, seed: int = 0) -> None:
        self._faults: list[_ActiveFault] = []
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._release = threading.Event()

    def add(self, fault: Fault) -> None:
        """Start injecting ``fault``."""
        with self._lock:
            self._faults.append(_ActiveFault(fault))

    def clear(self) -> None:
        """Stop injecting every fault and let held answers go."""
        with self._lock:
            self._faults.clear()
            self._release.set()
            self._release = threading.Event()

    def hold(self, seconds: float) -> None:
        """Hold an answer for ``seconds``, or until the faults are cleared."""
        with self._lock:
            release = self._release
        release.wait(seconds)

    def match(self, method: str, path: str) -> _ActiveFault | None:
        """The fault that hits this request, if any."""
        with self._lock:
            if not self._faults:
                return None
            for active in list(self._faults):
                fault = active.fault
                if fault.method is not None and fault.method.upper() != method:
                    continue
                if not active.pattern.fullmatch(path):
                    continue
                if fault.probability is not None and self._rng.random() >= fault.probability:
                    continue
                if active.skip > 0:
                    active.skip -= 1
                    continue
                if active.remaining is not None:
                    active.remaining -= 1
                    if active.remaining <= 0:
                        self._faults.remove(active)
                return active
        return None


class SimHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server that knows its open connections, to cut them when stopping."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], dispatch: Callable[[Request], Reply]) -> None:
        self.dispatch = dispatch
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        self.closing = False
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Ignore clients that hung up (a client timeout shorter than the latency); log the rest."""
        error = sys.exc_info()[1]
        if isinstance(error, (BrokenPipeError, ConnectionResetError)):
            return
        logger.exception("Simulator failed on a request from %s", client_address)

    def close_connections(self) -> None:
        """Shut every open client connection (a stopped server must not answer kept-alive ones)."""
        with self.connections_lock:
            self.closing = True
            connections = list(self.connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = _IDLE_TIMEOUT_SECONDS
    server: SimHTTPServer
    server_version = "SimulatedSpotify"
    sys_version = ""

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without TCP_NODELAY, Nagle's algorithm and
        # the client's delayed ACK add 40 ms to every answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.connections_lock:
            if self.server.closing:
                self.close_connection = True
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:
        """Keep quiet: exchanges are recorded, not printed."""

    def _serve(self) -> None:
        if self.server.closing:
            self.close_connection = True
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > _MAX_BODY:
            self.send_error(413)
            return
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        try:
            reply = self.server.dispatch(request)
        except DropConnection:
            self.close_connection = True
            return
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if reply.body and self.command != "HEAD":
            self.wfile.write(reply.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _serve


class Router:
    """Sends each request to the accounts service, the Web API or the control endpoints.

    Args:
        api: Answers ``/v1/...`` (raises ``ApiError`` to answer with an error).
        authorize: Answers ``GET /authorize``.
        consent: Answers the consent page's links (request query, agree?).
        token: Answers ``POST /api/token`` (content type, body).
        control: Answers ``/_sim/...`` (method, path).
        lock: Held while a handler reads or changes state.
        faults: The faults to inject.
        on_exchange: Called with every exchange.
        latency: Returns the delay to add to each request, in milliseconds.
    """

    def __init__(
        self,
        *,
        api: Callable[[Request], Reply],
        authorize: Callable[[Mapping[str, list[str]]], Reply],
        consent: Callable[[Mapping[str, list[str]], bool], Reply],
        token: Callable[[str | None, bytes], Reply],
        control: Callable[[str, str], Reply],
        lock: AbstractContextManager[object],
        faults: Faults,
        on_exchange: Callable[[Exchange], None],
        latency: Callable[[], float],
    ) -> None:
        self._api = api
        self._authorize = authorize
        self._consent = consent
        self._token = token
        self._control = control
        self._lock = lock
        self._faults = faults
        self._on_exchange = on_exchange
        self._latency = latency
        self.server_errors: list[str] = []

    def __call__(self, request: Request) -> Reply:
        """Answer ``request`` and record the exchange."""
        delay = self._latency()
        if delay > 0:
            time.sleep(delay / 1000)
        fault = self._faults.match(request.method, request.path)
        if fault is None:
            reply = self._route(request)
        else:
            carried_out = self._route(request) if fault.fault.apply else None
            if fault.fault.status is not None or carried_out is None:
                reply = fault.reply(fault.fault.status or 503)
            else:
                reply = carried_out
        self._on_exchange(
            Exchange(
                method=request.method,
                path=request.path,
                query=request.query,
                request_headers=request.headers,
                request_body=request.body,
                status=reply.status,
                response_headers={k.lower(): v for k, v in reply.headers.items()},
                response_body=reply.body,
            )
        )
        if fault is not None:
            if fault.fault.hang_seconds > 0:
                self._faults.hold(fault.fault.hang_seconds)
            if fault.fault.drop:
                raise DropConnection()
        return reply

    def _route(self, request: Request) -> Reply:
        path, method = request.path, request.method
        try:
            with self._lock:
                if path.startswith("/v1/") or path == "/v1":
                    return self._api(request)
                if path == "/authorize" and method == "GET":
                    return self._authorize(request.query)
                if path in ("/authorize/accept", "/authorize/cancel") and method == "GET":
                    return self._consent(request.query, path.endswith("accept"))
                if path == "/api/token" and method == "POST":
                    return self._token(request.headers.get("content-type"), request.body)
                if path.startswith("/_sim/"):
                    return self._control(method, path)
            raise ApiError(404, "Service not found")
        except ApiError as err:
            return error_reply(err)
        except Exception:  # the top of a request: answer 500 and keep serving
            logger.exception("Simulator error answering %s %s", method, path)
            self.server_errors.append(f"{method} {path}")
            return json_reply(500, {"error": {"status": 500, "message": "Server error"}})

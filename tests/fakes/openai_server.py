"""A scripted fake of the OpenAI HTTP API, served over real HTTP on 127.0.0.1.

The fake answers ``POST /v1/chat/completions``, ``POST /v1/audio/transcriptions`` and
``POST /v1/audio/speech`` by following a script: an ordered list of steps, each answering exactly
one request. A request that finds no matching step (script exhausted, or the next step is for
another endpoint) gets a 500 with an OpenAI-shaped error body and is recorded as unexpected;
:meth:`FakeOpenAI.verify` then fails, as it does for unused steps, failed request checks and
contract mismatches. Every exchange is checked against the OpenAI OpenAPI spec (see
``tests/support/openai_contract.py``) at verify time, so the checks add no latency to the answers
(which matters for benchmarks).

A chat request with ``stream: true`` is answered as the service answers it: server-sent events of
``chat.completion.chunk`` objects over a chunked body, one token per event (text deltas, or tool
call pieces: the id and name first, then the arguments' JSON in fragments), the finish reason in
the last chunk, then ``data: [DONE]``. With a :class:`Pace`, the fake writes like a model: the
first token after ``first_token_s``, then ``tokens_per_s``; a non-streamed answer then waits for
its last token. ``streaming`` makes the fake a server that does not stream (it answers JSON, or
refuses ``stream`` with a 400), and ``chat(cut_after=N)`` drops the connection after N tokens.

Example::

    with FakeOpenAI() as fake:
        fake.transcription("play bohemian rhapsody")
        fake.chat(tool_calls=[("play", {"query": "bohemian rhapsody"})])
        client = OpenAI(api_key="test", base_url=fake.base_url, timeout=5, max_retries=0)
        ...
        fake.verify()
"""

from __future__ import annotations

import io
import itertools
import json
import logging
import re
import socket
import sys
import threading
import time
import wave
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal

from tests.support.openai_contract import (
    HttpExchange,
    openai_spec_path,
    spec_dir,
    validate_exchange,
)

logger = logging.getLogger(__name__)

Endpoint = Literal["chat", "transcription", "speech"]
Streaming = Literal["sse", "json", "refuse"]
"""How the fake answers ``stream: true``: server-sent events (as OpenAI does), plain JSON (a
server that ignores the parameter), or a 400 (a server that refuses it)."""
RequestCheck = Callable[[dict[str, Any]], None]
"""A callable given the parsed request body; it raises (e.g. ``assert``) to reject the request."""
ToolCall = tuple[str, Mapping[str, Any] | str]
"""A tool call to answer with: (function name, arguments as a dict or as the raw JSON string)."""

ENDPOINT_PATHS: dict[str, Endpoint] = {
    "/v1/chat/completions": "chat",
    "/v1/audio/transcriptions": "transcription",
    "/v1/audio/speech": "speech",
}
_PATHS_BY_ENDPOINT = {endpoint: path for path, endpoint in ENDPOINT_PATHS.items()}

# Default (type, code, message) of a scripted error, shaped like the service's error bodies.
_ERROR_DEFAULTS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Invalid request."),
    401: (
        "invalid_request_error",
        "invalid_api_key",
        "Incorrect API key provided. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
    ),
    403: ("invalid_request_error", None, "You are not allowed to use this model."),
    404: ("invalid_request_error", "model_not_found", "The model does not exist."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached. Please try again later."),
    500: (
        "server_error",
        None,
        "The server had an error while processing your request. Sorry about that!",
    ),
    503: ("server_error", None, "The engine is currently overloaded, please try again later."),
}


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake received, recorded on arrival.

    Attributes:
        seq: 1-based order of arrival.
        endpoint: ``"chat"``, ``"transcription"``, ``"speech"``, or ``"other"`` for any other path
            or method.
        method: HTTP method.
        path: Request path without the query.
        body: The parsed JSON body (chat), or the multipart fields (transcription) where the file
            is ``{"filename", "content_type", "size", "duration_s"}`` (``duration_s`` is None
            unless the upload is a readable WAV); ``{}`` for an empty body and
            ``{"_unparsed": "<first 200 chars>"}`` for a body that does not parse.
        headers: Request headers with lower-case names, without ``authorization``.
        size: Request body size in bytes.
        step: 1-based index of the script step that answered, or None when unexpected.
        status: Status answered, or None for a stall (the connection closed without an answer).
        response_size: Response body size in bytes.
    """

    seq: int
    endpoint: str
    method: str
    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    size: int
    step: int | None
    status: int | None
    response_size: int


@dataclass(frozen=True)
class Pace:
    """How fast the fake model writes its answer.

    Attributes:
        first_token_s: Seconds from the request to the first token.
        tokens_per_s: Tokens written per second after the first.
    """

    first_token_s: float = 0.5
    tokens_per_s: float = 60.0

    def seconds(self, tokens: int) -> float:
        """When the last of ``tokens`` tokens is written, from the request."""
        return self.first_token_s + max(0, tokens - 1) / self.tokens_per_s


_TOKEN = re.compile(r"\s*[A-Za-z]+|\s*\d{1,3}|\s*[^\sA-Za-z\d]{1,2}|\s+")


def tokens(text: str) -> list[str]:
    """``text`` cut into pieces about the size of a model's tokens.

    A piece is a word, one to three digits, or one or two marks, each with the spaces before it;
    joined, the pieces give ``text`` back.
    """
    return _TOKEN.findall(text)


@dataclass(frozen=True)
class _Reply:
    status: int | None  # None: close the connection without answering (a stall)
    body: bytes = b""
    content_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)
    # A streamed body: pieces, each written at its offset (seconds after the answer starts).
    pieces: tuple[tuple[float, bytes], ...] | None = None
    cut: bool = False  # drop the connection after the pieces, before the body's end
    hold_at: int | None = None  # wait for FakeOpenAI.release() before writing this piece


@dataclass
class _Step:
    number: int
    endpoint: Endpoint
    description: str
    respond: Callable[[dict[str, Any], int], _Reply]
    delay: float
    check: RequestCheck | None
    check_contract: bool
    service_time: bool
    tokens: int = 0  # tokens the answer holds (for the pace)
    used: bool = False


def _error_body(
    status: int, message: str | None, error_type: str | None, code: str | None
) -> dict[str, Any]:
    default_type, default_code, default_message = _ERROR_DEFAULTS.get(
        status,
        ("server_error" if status >= 500 else "invalid_request_error", None, f"Error {status}."),
    )
    return {
        "error": {
            "message": message if message is not None else default_message,
            "type": error_type if error_type is not None else default_type,
            "param": None,
            "code": code if code is not None else default_code,
        }
    }


def _json_reply(status: int, body: Any, headers: Mapping[str, str] | None = None) -> _Reply:
    return _Reply(status=status, body=json.dumps(body).encode(), headers=dict(headers or {}))


def _wav_duration(data: bytes) -> float | None:
    try:
        with wave.open(io.BytesIO(data), "rb") as wav:
            return wav.getnframes() / float(wav.getframerate())
    except (wave.Error, EOFError, ZeroDivisionError):
        return None


def _parse_multipart(body: bytes, content_type: str) -> dict[str, Any]:
    """Parse a multipart/form-data body into fields; the file becomes a small summary dict."""
    message = BytesParser(policy=policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    if not isinstance(message, EmailMessage) or not message.is_multipart():
        raise ValueError("not a multipart body")
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        value: Any
        if filename is not None:
            value = {
                "filename": filename,
                "content_type": part.get_content_type(),
                "size": len(data),
                "duration_s": _wav_duration(data),
            }
        else:
            value = data.decode("utf-8", errors="replace")
        if name.endswith("[]"):
            # The openai SDK sends arrays as repeated "name[]" parts.
            fields.setdefault(name[:-2], []).append(value)
        elif name in fields:
            previous = fields[name]
            fields[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            fields[name] = value
    return fields


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a stalled handler must not hold up stop()

    def __init__(self, fake: FakeOpenAI) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out and hung up is part of the script (delay > timeout).
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)

    def close_connections(self) -> None:
        """Shut every open client connection, so no handler thread outlives stop()."""
        with self.connections_lock:
            connections = list(self.connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed by the client


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Without TCP_NODELAY, Nagle plus delayed ACKs add ~40 ms to every exchange.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        super().finish()

    def do_POST(self) -> None:
        self._serve()

    def do_GET(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _read_body(self) -> bytes:
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length else b""

    def _serve(self) -> None:
        body = self._read_body()
        headers = {key.lower(): value for key, value in self.headers.items()}
        path = self.path.split("?", 1)[0]
        fake = self.server.fake
        reply, wait_s, seq = fake._handle(self.command, path, headers, body)
        if not fake._sleep(wait_s) or reply.status is None:
            self.close_connection = True  # stalled, or the fake is stopping: no answer
            return
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            if reply.pieces is None:
                self.send_header("Content-Length", str(len(reply.body)))
            else:
                self.send_header("Transfer-Encoding", "chunked")
                self.send_header("Cache-Control", "no-cache")
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if reply.pieces is None:
                self.wfile.write(reply.body)
                fake._wrote_last_token(seq)
            else:
                self._write_pieces(reply, seq)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (e.g. its timeout fired during a scripted delay).
            self.close_connection = True

    def _write_pieces(self, reply: _Reply, seq: int) -> None:
        """Write a streamed body as HTTP chunks, each at its time (or cut it short)."""
        fake = self.server.fake
        started = time.monotonic()
        for number, (at, data) in enumerate(reply.pieces or ()):
            if number == reply.hold_at:
                held = time.monotonic()
                if not fake._held():
                    self.close_connection = True
                    return
                started += time.monotonic() - held  # the pace resumes where it stopped
            if not fake._sleep(started + at - time.monotonic()):
                self.close_connection = True
                return
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            fake._wrote_last_token(seq)
        if reply.cut:
            self.close_connection = True  # no last chunk: the client sees a cut-off body
            return
        self.wfile.write(b"0\r\n\r\n")

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("fake openai: " + format, *args)


class FakeOpenAI:
    """A scripted OpenAI server for tests and benchmarks.

    Script steps are answered in order; each step method takes ``delay`` (seconds to wait before
    answering) and ``check`` (a callable given the parsed request body, which raises to reject the
    request; the failure is recorded and reported by :meth:`verify`).

    Args:
        service_time_ms: The initial ``service_time_ms``.
        pace: The initial ``pace``.
        streaming: The initial ``streaming``.

    Attributes:
        service_time_ms: Milliseconds each successful answer waits, per endpoint
            (``{"chat": 0.0, "transcription": 0.0, "speech": 0.0}``); settable at any time, for
            benchmarks. Error and stall steps do not wait for it.
        pace: How fast scripted chat answers are written (after the service time); None writes
            them at once. Settable at any time.
        streaming: How ``stream: true`` is answered: ``"sse"`` (events, as OpenAI does),
            ``"json"`` (a plain answer: a server that ignores it) or ``"refuse"`` (a 400 that
            uses no step: a server that does not take it). Settable at any time.
    """

    def __init__(
        self,
        *,
        service_time_ms: Mapping[str, float] | None = None,
        pace: Pace | None = None,
        streaming: Streaming = "sse",
    ) -> None:
        self.service_time_ms: dict[str, float] = {"chat": 0.0, "transcription": 0.0, "speech": 0.0}
        self.service_time_ms.update(service_time_ms or {})
        self.pace = pace
        self.streaming: Streaming = streaming
        self._last_token_at: dict[int, float] = {}
        self._released = threading.Event()
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._steps: list[_Step] = []
        self._next = 0
        self._requests: list[RecordedRequest] = []
        self._unexpected: list[str] = []
        self._check_failures: list[str] = []
        self._first_check_error: BaseException | None = None
        self._pending: list[HttpExchange] = []
        self._contract_problems: list[str] = []
        self._validated = 0
        self._tool_call_ids = itertools.count(1)
        self._completion_ids = itertools.count(1)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> FakeOpenAI:
        """Start serving on 127.0.0.1 on a free port (a daemon thread); returns self."""
        if self._server is None:
            self._stopping.clear()
            self._server = _Server(self)
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},  # stop() waits up to one poll interval
                name="fake-openai",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; requests still waiting out a delay or stall are dropped unanswered."""
        self._stopping.set()
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
            server.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """The OpenAI base URL of this fake, e.g. ``http://127.0.0.1:PORT/v1``."""
        if self._server is None:
            raise RuntimeError("FakeOpenAI is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    # -- script --------------------------------------------------------------------------------

    def chat(
        self,
        content: str | None = None,
        *,
        tool_calls: Sequence[ToolCall] = (),
        finish_reason: str | None = None,
        usage: tuple[int, int] | None = None,
        refusal: str | None = None,
        delay: float = 0.0,
        check: RequestCheck | None = None,
        cut_after: int | None = None,
        hold_after: int | None = None,
    ) -> FakeOpenAI:
        """Script a chat completion answer.

        Args:
            content: The assistant message text (None when it only calls tools).
            tool_calls: Tool calls as ``(name, arguments)``; a dict is sent as JSON, a str
                verbatim (for invalid JSON). Ids are ``call_1``, ``call_2``... across the fake.
            finish_reason: Defaults to ``tool_calls`` when there are tool calls, else ``stop``.
            usage: ``(prompt_tokens, completion_tokens)``; by default estimated from the sizes.
            refusal: The message's refusal text.
            delay: Seconds to wait before answering.
            check: Asserts on the parsed request body.
            cut_after: Drop the connection after this many tokens of the answer (streamed; a
                plain answer is then never sent).
            hold_after: Stop a streamed answer after this many tokens until :meth:`release`
                (what the app does while the model is still writing); at most 10 s.

        Returns:
            self, so steps can be chained.
        """
        calls = [
            (name, args if isinstance(args, str) else json.dumps(args)) for name, args in tool_calls
        ]
        reason = finish_reason or ("tool_calls" if calls else "stop")
        written = [tokens(content or "")] + [tokens(arguments) for _, arguments in calls]
        token_count = sum(len(t) for t in written) + len(calls)  # a call's name is one more

        def respond(request: dict[str, Any], request_size: int) -> _Reply:
            ids = [f"call_{next(self._tool_call_ids)}" for _ in calls]
            model = request.get("model")
            head = {
                "id": f"chatcmpl-fake{next(self._completion_ids)}",
                "created": int(time.time()),
                "model": model if isinstance(model, str) else "unknown",
            }
            if request.get("stream") and self.streaming == "sse":
                return self._streamed(
                    head,
                    content,
                    refusal,
                    list(zip(ids, calls, strict=True)),
                    reason,
                    cut_after,
                    hold_after,
                )
            if cut_after is not None:
                return _Reply(status=None)
            tool_call_objects = [
                {
                    "id": call_id,
                    "type": "function",
                    "function": {"name": name, "arguments": arguments},
                }
                for call_id, (name, arguments) in zip(ids, calls, strict=True)
            ]
            message: dict[str, Any] = {
                "role": "assistant",
                "content": content,
                "refusal": refusal,
                "annotations": [],
            }
            if tool_call_objects:
                message["tool_calls"] = tool_call_objects
            if usage is None:
                produced = len(content or "") + sum(len(n) + len(a) for n, a in calls)
                prompt_tokens, completion_tokens = max(1, request_size // 4), max(1, produced // 4)
            else:
                prompt_tokens, completion_tokens = usage
            return _json_reply(
                200,
                {
                    **head,
                    "object": "chat.completion",
                    "choices": [
                        {
                            "index": 0,
                            "message": message,
                            "logprobs": None,
                            "finish_reason": reason,
                        }
                    ],
                    "usage": {
                        "prompt_tokens": prompt_tokens,
                        "completion_tokens": completion_tokens,
                        "total_tokens": prompt_tokens + completion_tokens,
                    },
                },
            )

        summary = [repr(content)] if content is not None else []
        summary += [f"{name}({arguments})" for name, arguments in calls]
        return self._add(
            "chat",
            f"chat({', '.join(summary)})",
            respond,
            delay,
            check,
            True,
            True,
            tokens=token_count,
        )

    def _streamed(
        self,
        head: Mapping[str, Any],
        content: str | None,
        refusal: str | None,
        calls: Sequence[tuple[str, tuple[str, str]]],
        reason: str,
        cut_after: int | None,
        hold_after: int | None = None,
    ) -> _Reply:
        """A chat answer as server-sent events: one token per ``chat.completion.chunk``."""

        def event(delta: Mapping[str, Any], finish: str | None = None) -> bytes:
            chunk = {
                **head,
                "object": "chat.completion.chunk",
                "choices": [
                    {"index": 0, "delta": dict(delta), "logprobs": None, "finish_reason": finish}
                ],
            }
            return b"data: " + json.dumps(chunk).encode() + b"\n\n"

        first: dict[str, Any] = {"role": "assistant", "content": "" if content else None}
        first["refusal"] = refusal
        written: list[bytes] = []  # one event per token
        written += [event({"content": token}) for token in tokens(content or "")]
        for index, (call_id, (name, arguments)) in enumerate(calls):
            opening = {"index": index, "id": call_id, "type": "function"}
            opening["function"] = {"name": name, "arguments": ""}
            written.append(event({"tool_calls": [opening]}))
            written += [
                event({"tool_calls": [{"index": index, "function": {"arguments": token}}]})
                for token in tokens(arguments)
            ]
        cut = cut_after is not None and cut_after < len(written)
        if cut:
            written = written[:cut_after]
        pace = self.pace
        step = 1 / pace.tokens_per_s if pace is not None else 0.0
        start = pace.first_token_s if pace is not None else 0.0
        pieces = [(start, event(first))]
        pieces += [(start + n * step, data) for n, data in enumerate(written)]
        if not cut:
            end = pieces[-1][0]
            pieces += [(end, event({}, reason)), (end, b"data: [DONE]\n\n")]
        return _Reply(
            status=200,
            content_type="text/event-stream",
            pieces=tuple(pieces),
            cut=cut,
            hold_at=None if hold_after is None else hold_after + 1,  # after the opening event
        )

    def transcription(
        self,
        text: str,
        *,
        delay: float = 0.0,
        check: RequestCheck | None = None,
    ) -> FakeOpenAI:
        """Script a transcription answer.

        ``response_format`` ``json`` (the default) answers ``{"text": ...}`` with a duration usage
        when the upload is a WAV; ``text`` answers the plain text. Other formats are recorded as a
        failure and answered 400.

        Args:
            text: The transcript.
            delay: Seconds to wait before answering.
            check: Asserts on the multipart fields (see :class:`RecordedRequest`).

        Returns:
            self, so steps can be chained.
        """

        def respond(request: dict[str, Any], request_size: int) -> _Reply:
            response_format = request.get("response_format", "json")
            if response_format == "text":
                return _Reply(status=200, body=text.encode(), content_type="text/plain")
            if response_format != "json":
                raise _UnsupportedRequest(f"response_format {response_format!r} is not supported")
            answer: dict[str, Any] = {"text": text}
            upload = request.get("file")
            if isinstance(upload, dict) and upload.get("duration_s") is not None:
                answer["usage"] = {"type": "duration", "seconds": upload["duration_s"]}
            return _json_reply(200, answer)

        return self._add(
            "transcription", f"transcription({text!r})", respond, delay, check, True, True
        )

    def speech(
        self,
        audio: bytes,
        *,
        delay: float = 0.0,
        check: RequestCheck | None = None,
    ) -> FakeOpenAI:
        """Script a text-to-speech answer: ``audio`` as ``application/octet-stream``.

        The fake does not encode audio: the test passes bytes in the ``response_format`` it
        expects the client to ask for (e.g. raw 24 kHz 16-bit mono for ``pcm``). Streaming as
        server-sent events (``stream_format="sse"``) is recorded as a failure and answered 400.

        Args:
            audio: The audio bytes to answer with.
            delay: Seconds to wait before answering.
            check: Asserts on the parsed JSON request body.

        Returns:
            self, so steps can be chained.
        """

        def respond(request: dict[str, Any], request_size: int) -> _Reply:
            if request.get("stream_format") == "sse":
                raise _UnsupportedRequest("stream_format 'sse' is not supported by the fake")
            return _Reply(status=200, body=audio, content_type="application/octet-stream")

        return self._add("speech", f"speech({len(audio)} bytes)", respond, delay, check, True, True)

    def error(
        self,
        status: int = 500,
        message: str | None = None,
        *,
        endpoint: Endpoint = "chat",
        headers: Mapping[str, str] | None = None,
        error_type: str | None = None,
        code: str | None = None,
        delay: float = 0.0,
        check: RequestCheck | None = None,
    ) -> FakeOpenAI:
        """Script an error answer with an OpenAI error body.

        Args:
            status: HTTP status, e.g. 429, 401, 500, 503.
            message: ``error.message``; a service-like default per status.
            endpoint: ``"chat"``, ``"transcription"`` or ``"speech"``.
            headers: Extra response headers, e.g. ``{"retry-after": "1"}``.
            error_type: ``error.type``; defaults per status (429: ``requests``).
            code: ``error.code``; defaults per status (429: ``rate_limit_exceeded``).
            delay: Seconds to wait before answering.
            check: Asserts on the parsed request body.

        Returns:
            self, so steps can be chained.
        """
        body = _error_body(status, message, error_type, code)

        def respond(request: dict[str, Any], request_size: int) -> _Reply:
            return _json_reply(status, body, headers)

        return self._add(
            endpoint, f"error({status}, {endpoint})", respond, delay, check, True, False
        )

    def raw(
        self,
        body: Mapping[str, Any] | bytes,
        *,
        endpoint: Endpoint = "chat",
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        content_type: str = "application/json",
        check_contract: bool = True,
        delay: float = 0.0,
        check: RequestCheck | None = None,
    ) -> FakeOpenAI:
        """Script a verbatim answer: a dict is sent as JSON, bytes as they are.

        Args:
            body: The response body.
            endpoint: ``"chat"``, ``"transcription"`` or ``"speech"``.
            status: HTTP status.
            headers: Extra response headers.
            content_type: The response Content-Type.
            check_contract: False to leave this response out of the contract check (for tests of
                how the app copes with an off-spec body); the request is still checked.
            delay: Seconds to wait before answering.
            check: Asserts on the parsed request body.

        Returns:
            self, so steps can be chained.
        """
        data = bytes(body) if isinstance(body, bytes) else json.dumps(dict(body)).encode()
        reply = _Reply(
            status=status, body=data, content_type=content_type, headers=dict(headers or {})
        )

        def respond(request: dict[str, Any], request_size: int) -> _Reply:
            return reply

        return self._add(
            endpoint, f"raw({endpoint}, {status})", respond, delay, check, check_contract, True
        )

    def chat_raw(
        self,
        body: Mapping[str, Any] | bytes,
        *,
        status: int = 200,
        check_contract: bool = True,
        delay: float = 0.0,
        check: RequestCheck | None = None,
    ) -> FakeOpenAI:
        """Script a verbatim chat answer, e.g. tool calls with invalid JSON or unknown names.

        Args:
            body: The response body (dict as JSON, bytes verbatim).
            status: HTTP status.
            check_contract: False to leave this response out of the contract check.
            delay: Seconds to wait before answering.
            check: Asserts on the parsed request body.

        Returns:
            self, so steps can be chained.
        """
        return self.raw(
            body,
            endpoint="chat",
            status=status,
            check_contract=check_contract,
            delay=delay,
            check=check,
        )

    def stall(
        self,
        seconds: float,
        *,
        endpoint: Endpoint = "chat",
        check: RequestCheck | None = None,
    ) -> FakeOpenAI:
        """Script a request that is never answered: the fake holds it, then drops the connection.

        Args:
            seconds: How long to hold the connection before closing it without an answer.
            endpoint: ``"chat"``, ``"transcription"`` or ``"speech"``.
            check: Asserts on the parsed request body.

        Returns:
            self, so steps can be chained.
        """

        def respond(request: dict[str, Any], request_size: int) -> _Reply:
            return _Reply(status=None)

        return self._add(
            endpoint, f"stall({seconds}s, {endpoint})", respond, seconds, check, True, False
        )

    def _add(
        self,
        endpoint: Endpoint,
        description: str,
        respond: Callable[[dict[str, Any], int], _Reply],
        delay: float,
        check: RequestCheck | None,
        check_contract: bool,
        service_time: bool,
        *,
        tokens: int = 0,
    ) -> FakeOpenAI:
        if endpoint not in _PATHS_BY_ENDPOINT:
            raise ValueError(
                f"unknown endpoint {endpoint!r}; use 'chat', 'transcription' or 'speech'"
            )
        with self._lock:
            number = len(self._steps) + 1
            self._steps.append(
                _Step(
                    number,
                    endpoint,
                    description,
                    respond,
                    delay,
                    check,
                    check_contract,
                    service_time,
                    tokens,
                )
            )
        return self

    # -- observation ---------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, in order of arrival (a copy)."""
        with self._lock:
            return sorted(self._requests, key=lambda record: record.seq)

    def count(self, endpoint: str | None = None) -> int:
        """Return how many requests arrived, for one endpoint or all."""
        with self._lock:
            return sum(1 for r in self._requests if endpoint is None or r.endpoint == endpoint)

    def wait_for_requests(self, count: int, timeout: float = 5.0) -> list[RecordedRequest]:
        """Block until at least ``count`` requests arrived; returns them.

        Raises:
            TimeoutError: Fewer arrived within ``timeout`` seconds.
        """
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self._requests) >= count, timeout):
                raise TimeoutError(
                    f"expected {count} request(s) to the fake OpenAI, got {len(self._requests)}"
                )
            return sorted(self._requests, key=lambda record: record.seq)

    def release(self) -> None:
        """Let a streamed answer held by ``chat(hold_after=...)`` go on."""
        self._released.set()

    def _held(self) -> bool:
        """Wait for :meth:`release` (at most 10 s); False when the fake stops first."""
        deadline = time.monotonic() + 10.0
        while not self._released.wait(0.05):
            if self._stopping.is_set() or time.monotonic() > deadline:
                return False
        self._released.clear()
        return True

    def last_token_at(self, seq: int) -> float | None:
        """When the answer to request ``seq`` was written to its end (``time.monotonic()``).

        That is the last token of a streamed answer, or a plain answer's body; None before then.
        """
        with self._lock:
            return self._last_token_at.get(seq)

    @property
    def remaining_steps(self) -> int:
        """How many script steps are still waiting for their request."""
        with self._lock:
            return sum(1 for step in self._steps if not step.used)

    # -- verification --------------------------------------------------------------------------

    def problems(self) -> list[str]:
        """Check the contract of every exchange so far and list everything wrong.

        Returns:
            Lines naming unused steps, unexpected requests, failed checks and contract mismatches.
        """
        with self._lock:
            pending, self._pending = self._pending, []
        contract = [problem for exchange in pending for problem in validate_exchange(exchange)]
        with self._lock:
            self._validated += len(pending)
            self._contract_problems.extend(contract)
            lines = [
                f"unused step #{step.number}: {step.description}"
                for step in self._steps
                if not step.used
            ]
            lines += [f"unexpected request: {text}" for text in self._unexpected]
            lines += [f"failed check: {text}" for text in self._check_failures]
            lines += [f"contract mismatch: {text}" for text in self._contract_problems]
        return lines

    def contract_report(self) -> str:
        """Say how many exchanges of this fake were checked against the spec, or why none were."""
        if openai_spec_path() is None:
            return (
                f"OpenAI contract checks skipped: {spec_dir() / 'openai-openapi.yml'} not found "
                "(set SEGUE_SPEC_DIR)"
            )
        with self._lock:
            return (
                f"{self._validated} exchange(s) checked against the OpenAI spec, "
                f"{len(self._contract_problems)} mismatch(es)"
            )

    @property
    def validated_exchanges(self) -> int:
        """How many exchanges of this fake were checked against the spec so far."""
        with self._lock:
            return self._validated

    def verify(self) -> str:
        """Fail unless the script ran exactly as written and every exchange met the contract.

        Returns:
            The contract report (see :meth:`contract_report`).

        Raises:
            AssertionError: Listing unused steps, unexpected requests, failed request checks and
                contract mismatches.
        """
        lines = self.problems()
        report = self.contract_report()
        if lines:
            text = "\n  ".join(lines)
            raise AssertionError(f"fake OpenAI: {text}\n  ({report})") from self._first_check_error
        return report

    # -- serving (called on handler threads) ---------------------------------------------------

    def _handle(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[_Reply, float, int]:
        endpoint = ENDPOINT_PATHS.get(path) if method == "POST" else None
        parsed = _parse_body(headers.get("content-type", ""), body)
        # A server that does not stream refuses the parameter before any step is used.
        refused = endpoint == "chat" and bool(parsed.get("stream")) and self.streaming == "refuse"
        with self._lock:
            step = None
            why = "script exhausted"
            if refused:
                why = "stream refused"
            elif self._next < len(self._steps):
                upcoming = self._steps[self._next]
                if upcoming.endpoint == endpoint:
                    step = upcoming
                    step.used = True
                    self._next += 1
                else:
                    why = f"next step is #{upcoming.number} {upcoming.description}"
            seq = len(self._requests) + 1

        failure: str | None = None
        wait_s = 0.0
        if endpoint is None:
            reply = _json_reply(
                404,
                _error_body(404, f"Invalid URL ({method} {path})", "invalid_request_error", None),
            )
            failure = f"#{seq} {method} {path}: no such endpoint in the fake"
        elif refused:
            reply = _json_reply(
                400,
                _error_body(400, "Streaming is not supported by this server.", None, None),
            )
        elif step is None:
            reply = _json_reply(
                500, _error_body(500, f"FakeOpenAI: unexpected request ({why})", None, None)
            )
            failure = f"#{seq} {method} {path} ({why})"
        else:
            self._run_check(step, seq, parsed)
            try:
                reply = step.respond(parsed, len(body))
            except _UnsupportedRequest as exc:
                reply = _json_reply(400, _error_body(400, str(exc), None, None))
                self._record_check_failure(f"step #{step.number} {step.description}: {exc}", exc)
            wait_s = step.delay
            if step.service_time and reply.status == 200:
                wait_s += self.service_time_ms.get(step.endpoint, 0.0) / 1000.0
                pace = self.pace
                if pace is not None and step.tokens and reply.pieces is None:
                    wait_s += pace.seconds(step.tokens)  # a plain answer waits for its last token

        sent = reply.body if reply.pieces is None else b"".join(data for _, data in reply.pieces)
        redacted = dict(headers)
        if "authorization" in redacted:
            # The key never leaves this function; the contract check needs only its scheme.
            scheme = redacted["authorization"].split(" ", 1)[0]
            redacted["authorization"] = f"{scheme} redacted"
        record = RecordedRequest(
            seq=seq,
            endpoint=endpoint or "other",
            method=method,
            path=path,
            body=parsed,
            headers={k: v for k, v in headers.items() if k != "authorization"},
            size=len(body),
            step=step.number if step else None,
            status=reply.status,
            response_size=len(sent),
        )
        response_headers = {"content-type": reply.content_type, **reply.headers}
        exchange = HttpExchange(
            method=method,
            path=path,
            request_headers=redacted,
            request_body=body,
            status=reply.status,
            response_headers=response_headers,
            response_body=sent,
            label=f"#{seq} {step.description if step else method + ' ' + path}",
            check_response=step.check_contract if step else True,
        )
        with self._arrived:
            if failure is not None:
                self._unexpected.append(failure)
            self._requests.append(record)
            self._pending.append(exchange)
            self._arrived.notify_all()
        logger.debug("fake openai #%d %s %s -> %s", seq, method, path, reply.status)
        return reply, wait_s, seq

    def _wrote_last_token(self, seq: int) -> None:
        with self._lock:
            self._last_token_at[seq] = time.monotonic()

    def _run_check(self, step: _Step, seq: int, parsed: dict[str, Any]) -> None:
        if step.check is None:
            return
        try:
            step.check(parsed)
        except Exception as exc:  # AssertionError mostly; any exception rejects the request
            self._record_check_failure(
                f"step #{step.number} {step.description} (request #{seq}): "
                f"{type(exc).__name__}: {exc}",
                exc,
            )

    def _record_check_failure(self, text: str, exc: BaseException) -> None:
        with self._lock:
            self._check_failures.append(text)
            if self._first_check_error is None:
                self._first_check_error = exc

    def _sleep(self, seconds: float) -> bool:
        """Wait, unless the fake stops first; returns False when it is stopping."""
        if seconds > 0:
            return not self._stopping.wait(seconds)
        return not self._stopping.is_set()


class _UnsupportedRequest(Exception):
    """A request the fake cannot answer faithfully (e.g. an unsupported response_format)."""


def _parse_body(content_type: str, body: bytes) -> dict[str, Any]:
    if not body:
        return {}
    try:
        if content_type.startswith("multipart/form-data"):
            return _parse_multipart(body, content_type)
        parsed = json.loads(body)
    except ValueError:
        return {"_unparsed": body[:200].decode("utf-8", errors="replace")}
    return parsed if isinstance(parsed, dict) else {"_json": parsed}

"""What a simulator handler answers: a status, headers and body bytes."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

JSON_TYPE = "application/json; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"


@dataclass(frozen=True)
class Request:
    """An HTTP request as the handlers see it; header names are lower-case."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes = b""

    def arg(self, name: str) -> str | None:
        """The first value of query parameter ``name``."""
        values = self.query.get(name)
        return values[0] if values else None


@dataclass(frozen=True)
class Reply:
    """An HTTP answer."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def json_reply(status: int, payload: Any, headers: dict[str, str] | None = None) -> Reply:
    """A JSON answer (compact, UTF-8)."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return Reply(status, body, {"Content-Type": JSON_TYPE, **(headers or {})})


def empty_reply(status: int = 204) -> Reply:
    """An answer without a body (player commands answer 204)."""
    return Reply(status)


def html_reply(status: int, html: str) -> Reply:
    """An HTML page."""
    return Reply(status, html.encode(), {"Content-Type": HTML_TYPE})


def redirect_reply(location: str) -> Reply:
    """A 302 to ``location``."""
    return Reply(302, b"", {"Location": location})

"""Retry-After headers as servers send them, good and bad: one reading for Spotify and OpenAI."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from assistant.waits import retry_after

NOW = datetime(2026, 11, 30, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        pytest.param({"Retry-After": "7"}, 7.0, id="seconds"),
        pytest.param({"retry-after": " 2.5 "}, 2.5, id="fractional-any-case"),
        pytest.param({"retry-after-ms": "1500", "retry-after": "9"}, 1.5, id="milliseconds-first"),
        pytest.param({"Retry-After": "Mon, 30 Nov 2026 12:00:30 GMT"}, 30.0, id="http-date"),
        pytest.param({"Retry-After": "Mon, 30 Nov 2026 11:00:00 GMT"}, 0.0, id="date-in-the-past"),
        pytest.param({"Retry-After": "-5"}, 0.0, id="negative"),
        pytest.param({"Retry-After": "inf"}, None, id="infinite"),
        pytest.param({"Retry-After": "soon"}, None, id="garbage"),
        pytest.param({}, None, id="absent"),
        pytest.param(None, None, id="no-headers"),
    ],
)
def test_retry_after_header(headers: dict[str, str] | None, seconds: float | None) -> None:
    assert retry_after(headers, now=NOW) == seconds

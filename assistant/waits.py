"""How long a server asks Segue to wait, read one way for Spotify and OpenAI alike.

Spotify's 429s carry ``Retry-After`` in seconds; OpenAI's also carry ``retry-after-ms``; HTTP
allows a date in ``Retry-After`` too (RFC 9110, 10.2.3). Every caller decides itself whether the
wait is short enough to sit out; this module only reads the headers and words the wait.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

# Header names, most precise first, with the factor that turns their number into seconds.
_HEADERS = (("retry-after-ms", 0.001), ("retry-after", 1.0))


def retry_after(headers: Mapping[str, str] | None, *, now: datetime | None = None) -> float | None:
    """The seconds a response asks to wait, or None when it does not say (or says nonsense).

    Args:
        headers: The response headers (any mapping; names are compared without case).
        now: The current time, for a ``Retry-After`` given as an HTTP date.

    Returns:
        Seconds, 0 or more; None when no readable header is there.
    """
    if not headers:
        return None
    folded = {str(name).lower(): value for name, value in headers.items()}
    for name, scale in _HEADERS:
        value = folded.get(name)
        if value is None:
            continue
        seconds = _number(str(value), scale)
        if seconds is None and name == "retry-after":
            seconds = _date(str(value), now)
        if seconds is not None:
            return seconds
    return None


def wait_text(seconds: float) -> str:
    """A wait as a person says it: "1 second", "20 seconds", "3 minutes", "2 hours"."""
    whole = max(1, round(seconds))
    if whole < 120:
        return f"{whole} second{'s' if whole != 1 else ''}"
    minutes = round(whole / 60)
    if minutes < 120:
        return f"{minutes} minutes"
    return f"{round(minutes / 60)} hours"


def _number(text: str, scale: float) -> float | None:
    try:
        seconds = float(text.strip()) * scale
    except ValueError:
        return None
    return max(0.0, seconds) if math.isfinite(seconds) else None


def _date(text: str, now: datetime | None) -> float | None:
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())

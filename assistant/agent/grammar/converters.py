"""Converters: arguments computed from several slots, where the grammar's data cannot say how.

A block of the grammar names a converter in ``metadata.convert`` (``{seconds: duration}``); the
converter reads the slots it knows, and those slots are not passed on as arguments themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["CONVERTERS", "Converter"]

# The furthest a relative seek moves, and the latest position a seek goes to, in seconds.
MAX_SEEK_STEP = 3600
MAX_POSITION = 6 * 3600


@dataclass(frozen=True)
class Converter:
    """A named way to compute one argument.

    Attributes:
        reads: The slots it reads (left out of the arguments).
        compute: The slots -> the argument's value, or None when they make no sense.
    """

    reads: frozenset[str]
    compute: Callable[[Mapping[str, Any]], Any]


def _seconds(slots: Mapping[str, Any]) -> int:
    return int(slots.get("minutes", 0)) * 60 + int(slots.get("seconds", 0))


def _duration(slots: Mapping[str, Any]) -> int | None:
    """A move in seconds: "2 minutes and 10 seconds" -> 130, backwards when ``sign`` is -1."""
    seconds = _seconds(slots)
    if not 0 < seconds <= MAX_SEEK_STEP:
        return None
    return int(slots.get("sign", 1)) * seconds


def _position(slots: Mapping[str, Any]) -> int | None:
    """A position in seconds from the start: "1:30" or "minute 1 and 30 seconds" -> 90."""
    seconds = _seconds(slots)
    return seconds if seconds <= MAX_POSITION else None


CONVERTERS: dict[str, Converter] = {
    "duration": Converter(frozenset({"minutes", "seconds", "sign"}), _duration),
    "position": Converter(frozenset({"minutes", "seconds"}), _position),
}

"""The line protocol between the tray process and its Tk windows: one JSON object per line."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import IO, Any


def encode(message: Mapping[str, Any]) -> str:
    """Return ``message`` as one protocol line (ASCII JSON and a newline)."""
    return json.dumps(message, ensure_ascii=True, separators=(",", ":")) + "\n"


def decode(line: str) -> dict[str, Any] | None:
    """Return the message on one protocol line, or None for a line that is not a JSON object."""
    line = line.strip()
    if not line:
        return None
    try:
        message = json.loads(line)
    except json.JSONDecodeError:
        return None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        return None
    return message


def send(out: IO[str], message: Mapping[str, Any]) -> bool:
    """Write one message and flush; False when nobody reads any more (the other side is gone)."""
    try:
        out.write(encode(message))
        out.flush()
    except (OSError, ValueError):
        return False
    return True

"""Names from Spotify (songs, artists, playlists, devices) as Segue shows and hands them on.

A name is data, whatever it says: for the person it is one line in typographic quotes that its
own quotes cannot close; for the model it is a JSON string. Long names are cut at ``limit``.
"""

from __future__ import annotations

import json

NAME_MAX = 120
"""Characters of a name shown; longer ones are cut with an ellipsis."""


def one_line(text: str, limit: int = NAME_MAX) -> str:
    """The name on one line, at most ``limit`` characters ("…" ends a cut one)."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "\u2026"


def quoted(text: str, limit: int = NAME_MAX) -> str:
    """The name in typographic quotes for the person: “Creep”; quotes inside it become '."""
    inner = one_line(text, limit).replace("\u201c", "'").replace("\u201d", "'").replace('"', "'")
    return f"\u201c{inner}\u201d"


def as_data(text: str, limit: int = NAME_MAX) -> str:
    """The name as a JSON string for the model: clearly data, whatever it says."""
    return json.dumps(one_line(text, limit), ensure_ascii=False)

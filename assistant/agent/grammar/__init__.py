"""The command grammar: what Segue understands without the model, read from one YAML file.

``commands.yaml`` holds every command as sentence templates in Home Assistant's hassil format,
with the tool calls each makes; hassil's matcher reads it. From that one file come:

- :func:`understand` / :func:`parse`: text -> the :class:`~assistant.agent.tools.ToolCall` list
  the model would make (same tool and argument names; arguments that take their default left
  out), or None when the text is not fully understood (the model decides then);
- :func:`sentences`: candidate sentences for speech recognition, the fixed commands and the
  templates filled with the person's own names;
- :func:`examples`: the "what you can say" list for the README and the popup.

How a match becomes calls (blocks in file order, the most literal reading first, the name checks
of :mod:`assistant.agent.grammar.checks`) is described at the top of ``commands.yaml``.
Understanding takes a fraction of a millisecond and never touches the network.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from assistant.agent.tools import ToolCall

if TYPE_CHECKING:
    from assistant.agent.grammar.matcher import Grammar

__all__ = [
    "Names",
    "Understanding",
    "examples",
    "featured",
    "grammar",
    "parse",
    "sentences",
    "understand",
]


@dataclass(frozen=True)
class Understanding:
    """What a text was understood as.

    Attributes:
        calls: The tool calls to make, in order.
        quality: How sure the reading is, from 0 to 1: 1.0 for a full template match (names
            that passed their checks included); lower when the match relies on a recogniser's
            slip ("and this song to my X playlist" for "add ...").
        sentence: Which rule matched: the intent and the sentence template.
        names: The words the reading takes as names (a title, an artist, a playlist, a
            device), as written; empty for a command without names ("pause", "volume 30").
    """

    calls: tuple[ToolCall, ...]
    quality: float
    sentence: str
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Names:
    """The person's own names, to fill the grammar's templates with (see :func:`sentences`).

    Attributes:
        playlists: Playlist names.
        artists: Artist names.
        tracks: Tracks, each "Title by Artist" or (title, artist).
        devices: Device names.
        albums: Album names.
        current: The playing track, "Title by Artist" or (title, artist); None when nothing plays.
    """

    playlists: tuple[str, ...] = ()
    artists: tuple[str, ...] = ()
    tracks: tuple[str | tuple[str, str], ...] = ()
    devices: tuple[str, ...] = ()
    albums: tuple[str, ...] = ()
    current: str | tuple[str, str] | None = None


@functools.cache
def grammar() -> Grammar:
    """The bundled grammar, read once (on first use: the matcher is imported then too)."""
    from assistant.agent.grammar.matcher import Grammar

    return Grammar.load()


def understand(text: str) -> Understanding | None:
    """Understand a command without the model.

    Args:
        text: What the person said or typed.

    Returns:
        The calls with how sure the reading is, or None when the text is not a command the
        grammar fully understands (the model handles it then).
    """
    return grammar().understand(text)


def parse(text: str) -> list[ToolCall] | None:
    """The tool calls for ``text``, in order, or None when the model should decide.

    Args:
        text: What the person said or typed.
    """
    understood = understand(text)
    return None if understood is None else list(understood.calls)


def sentences(names: Names | None = None, *, limit: int | None = None) -> list[str]:
    """Candidate sentences for speech recognition.

    Every fixed command (no slot) in its shortest phrasings (``FIXED_PER_TEMPLATE`` per
    template, about 200 in all), then the grammar's ``speech`` templates filled with ``names``
    (one sentence per playlist, device, artist, track and so on) and "volume N" / "set the volume
    to N percent" for N from 0 to 100. A filled sentence the grammar would not act on with full
    confidence is left out, so every candidate parses back to calls with quality 1.0.

    Budget: the fixed part is constant (~200); the named part grows with the names given
    (about 2 per playlist, 1 per device, 2-3 per artist, 3 per track) plus 202 for the volume
    numbers. Scoring costs ~1-3 ms per candidate, so callers pass the names of this person
    (recent plays, the library) rather than a catalog, or a ``limit``.

    Args:
        names: The person's playlists, artists, tracks and devices; None for fixed ones only.
        limit: The most sentences to return (fixed commands first).

    Returns:
        A new list each call; the same names give the same list.
    """
    return list(_sentences(names, limit))


@functools.lru_cache(maxsize=8)
def _sentences(names: Names | None, limit: int | None) -> tuple[str, ...]:
    # Checking every filled sentence costs a parse each: the same names give the same list.
    return tuple(grammar().sentences(names, limit=limit))


def examples() -> list[tuple[str, str]]:
    """The "what you can say" list: (category, example) pairs taken from the grammar."""
    return grammar().examples()


def featured() -> list[str]:
    """The short "what you can say" list, in order (see ``featured`` in commands.yaml)."""
    return grammar().featured()

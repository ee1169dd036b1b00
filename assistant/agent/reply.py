"""What the person hears: replies composed from the tools' own sentences, without a model call.

Every tool returns a one-sentence ``summary`` for the person. An action command's reply is those
sentences, in the order the tools ran; a failure adds its one sentence after what was done, so a
half-done command is never left unexplained. Questions Segue asks (which playlist? remove this?)
are worded here too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from assistant.agent.tools import ToolCall, ToolResult
from assistant.text.names import one_line, quoted

CONFIRM_HINT = "Say yes to confirm."
CANCELLED = "OK, I left it as it is."
NEVER_MIND = "OK, never mind."
NOT_UNDERSTOOD = "Sorry, I couldn't work out what to do with that."


NEEDS_MODEL = "I can't do that without an OpenAI key."
HELP_HINT = "Say “help” to hear what I can do."


def without_model(suggestion: str | None = None) -> str:
    """What Segue says to a command that needs the model when none is configured.

    Short, since it is read aloud: the list of what works is the answer to "help"
    (:func:`what_you_can_say`), not part of every refusal.

    Args:
        suggestion: The command Segue can do that the words were closest to; asked about
            ("Did you mean “pause”?") instead of the hint.
    """
    if suggestion is not None:
        return f"{NEEDS_MODEL} Did you mean “{suggestion}”?"
    return f"{NEEDS_MODEL} {HELP_HINT}"


def what_you_can_say(*, model: bool) -> str:
    """The answer to "help": the grammar's featured examples (``featured`` in commands.yaml).

    Args:
        model: Whether a model takes what the grammar does not.
    """
    from assistant.agent.grammar import featured

    examples = [f"“{example}”" for example in featured()]
    listed = ", ".join(examples[:-1]) + f" and {examples[-1]}"
    if model:
        return f"Try {listed}, or ask for anything else about your music."
    return (
        f"Without an OpenAI key I understand simple commands like {listed}; "
        "add an OpenAI key (`segue setup`) for the rest."
    )


# What each tool does while it runs, as the popup's working line says it (never a tool's name).
STEP_WORDS: Mapping[str, str] = {
    "play": "Starting the music…",
    "pause": "Pausing…",
    "resume": "Starting the music…",
    "next_track": "Skipping…",
    "previous_track": "Going back…",
    "seek": "Moving in the song…",
    "set_volume": "Changing the volume…",
    "mute": "Changing the volume…",
    "set_shuffle": "Setting shuffle…",
    "set_repeat": "Setting repeat…",
    "add_to_queue": "Adding it to the queue…",
    "get_queue": "Reading the queue…",
    "now_playing": "Checking what plays…",
    "list_devices": "Looking at your devices…",
    "transfer_playback": "Moving the music…",
    "search": "Searching Spotify…",
    "list_playlists": "Reading your playlists…",
    "create_playlist": "Making the playlist…",
    "playlist_from_artist": "Making the playlist…",
    "add_to_playlist": "Adding songs to the playlist…",
    "remove_from_playlist": "Taking songs off the playlist…",
    "save_to_library": "Adding it to your liked songs…",
    "remove_from_library": "Taking it out of your library…",
    "about_music": "Looking that up…",
    "more_like_this": "Finding more like this…",
    "undo": "Putting it back…",
    "undo_new_playlist": "Deleting the playlist…",
    "taste_feedback": "Noting that…",
    "play_favourites": "Picking songs you like…",
}
WORKING = "Working on it…"


def step_words(tool: str) -> str:
    """What the popup says while ``tool`` runs ("Searching Spotify…")."""
    return STEP_WORDS.get(tool, WORKING)


NAME_MAX = 80  # characters of a name repeated back in a question


@dataclass(frozen=True)
class CallRecord:
    """One tool call made for a command, as the person (or ``segue say --json``) sees it.

    Attributes:
        name: The tool's name.
        arguments: The arguments it ran with.
        ok: Whether it succeeded.
        result: Its one short sentence: what was done, or why not.
        items: Every item of a list the sentence names only a few of ("... and 8 more"), as
            the popup lists them on request (“Deep Work”, “Creep” by Radiohead).
    """

    name: str
    arguments: Mapping[str, Any]
    ok: bool
    result: str
    items: tuple[str, ...] = ()

    @classmethod
    def of(cls, result: ToolResult) -> CallRecord:
        """The record of a finished call."""
        return cls(
            name=result.call.name,
            arguments=dict(result.call.arguments),
            ok=result.ok,
            result=result.output.summary,
            items=_listed(result.output.data),
        )

    def as_dict(self) -> dict[str, Any]:
        """The record as JSON-ready data."""
        return {
            "name": self.name,
            "arguments": dict(self.arguments),
            "ok": self.ok,
            "result": self.result,
        }


def _listed(data: object) -> tuple[str, ...]:
    """The items of a tool's list result (``ToolOutput.data`` of named items), for people."""
    if not isinstance(data, list) or not all(
        isinstance(i, Mapping) and i.get("name") for i in data
    ):
        return ()
    return tuple(
        f"“{item['name']}”"
        + (f" by {item['by']}" if item.get("by") and item.get("kind") in ("track", "album") else "")
        for item in data
    )


def sentence(text: str) -> str:
    """One line of text ending like a sentence (model text may span lines)."""
    line = " ".join(text.split())
    if line and line[-1] not in ".!?…”\"')":
        line += "."
    return line


def compose(records: Iterable[CallRecord], *, include: Iterable[str] | None = None) -> str:
    """The sentences of the calls that succeeded, in order, each once.

    Args:
        records: The calls of this command.
        include: Only these tools' sentences (all by default).
    """
    chosen = None if include is None else set(include)
    parts: list[str] = []
    for record in records:
        if not record.ok or (chosen is not None and record.name not in chosen):
            continue
        text = sentence(record.result)
        if text and text not in parts:
            parts.append(text)
    return " ".join(parts)


def done_then(records: Iterable[CallRecord], problem: str) -> str:
    """What was done, then the sentence that stopped the rest."""
    done = compose(records)
    problem = sentence(problem)
    if not done:
        return problem
    return f"{done} Then I had to stop: {problem}" if problem else done


def step_limit(records: Sequence[CallRecord], steps: int) -> str:
    """The reply when the model used all its steps without finishing."""
    done = compose(records)
    if done:
        return f"I couldn't finish that in {steps} steps; here's what I did: {done}"
    return f"I couldn't finish that in {steps} steps, and nothing was changed."


def step_capped(ran: int, asked: int, max_calls: int, max_repeats: int) -> str:
    """The note added when the model asked for more calls at once than one step runs."""
    return (
        f"I did {ran} of the {asked} things asked for at once: Segue does at most {max_calls} "
        f"in one go, and the same thing at most {max_repeats} times."
    )


def clarification(what: str, options: Sequence[str]) -> str:
    """A numbered question: "Which playlist? 1. Deep Work 2. Deep Work II"."""
    listed = " ".join(f"{n}. {_short(option)}" for n, option in enumerate(options, 1))
    return f"Which {what}? {listed}"


def confirmation(calls: Sequence[ToolCall], names: Mapping[int, str] | None = None) -> str:
    """Ask for a "yes" before destructive calls run.

    Args:
        calls: The destructive calls waiting for the person.
        names: Per call index, how the current track was named when it was pinned.
    """
    names = names or {}
    parts = [_describe(call, names.get(n)) for n, call in enumerate(calls)]
    text = parts[0] if len(parts) == 1 else "; ".join(parts[:-1]) + " and " + parts[-1]
    text = text[:1].upper() + text[1:]
    return f"{text}? {CONFIRM_HINT}"


def _describe(call: ToolCall, current: str | None) -> str:
    arguments = call.arguments
    what = current or _tracks(arguments.get("tracks"))
    if call.name == "remove_from_playlist":
        return f"remove {what} from {_q(str(arguments.get('playlist', '')))}"
    if call.name == "remove_from_library":
        return f"remove {what} from your library"
    if call.name == "undo_new_playlist":
        return f"delete {current or 'the playlist I just made'}"
    shown = ", ".join(f"{k}={v!r}" for k, v in arguments.items() if v is not None)
    return f"run {call.name.replace('_', ' ')}" + (f" ({shown})" if shown else "")


_URI = re.compile(r"^(spotify:|https?://open\.spotify\.com/)", re.IGNORECASE)


def _tracks(value: Any) -> str:
    if not value:
        return "the current song"
    if not isinstance(value, list):
        return _q(str(value))
    named = [_q(str(v)) for v in value if not _URI.match(str(v))]
    linked = len(value) - len(named)
    if linked:
        named.append(f"{linked} more song{'s' if linked != 1 else ''}" if named else _count(linked))
    if len(named) == 1:
        return named[0]
    return ", ".join(named[:-1]) + " and " + named[-1]


def _count(n: int) -> str:
    return "1 song" if n == 1 else f"{n} songs"


def _short(text: str) -> str:
    return one_line(text, NAME_MAX)


def _q(text: str) -> str:
    return quoted(text, NAME_MAX)

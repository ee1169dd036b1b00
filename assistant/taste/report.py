"""``segue taste``: what the memory believes, in words, and forgetting an artist or everything."""

from __future__ import annotations

from datetime import datetime

from assistant.taste.memory import TasteMemory
from assistant.text import match

SHOWN_ARTISTS = 10  # liked artists listed (avoided ones: all, up to SHOWN_AVOIDED)
SHOWN_AVOIDED = 20
SHOWN_SONGS = 5
FORGET_HINT = (
    "Forget an artist with `segue taste forget ARTIST`, or everything with "
    "`segue taste forget all`."
)


def describe(memory: TasteMemory, *, demo: bool = False) -> str:
    """What Segue believes the person likes and avoids, with the evidence counted.

    Args:
        memory: The taste memory.
        demo: Whether it is the demo's memory (the first line says so).

    Raises:
        SegueError: The memory cannot be read.
    """
    evidence = memory.evidence()
    whose = "the demo's taste memory" if demo else "its taste memory"
    where = f"kept in {memory.path}" if memory.path is not None else "kept in memory"
    if not evidence:
        return (
            f"Segue has not learned what you like yet ({whose} is empty, {where}). It learns "
            "from the songs you like, skip within 30 seconds or play through, and from what you "
            "say: “I love this”, “no more of this artist”."
        )
    beliefs = memory.beliefs()
    since = datetime.fromtimestamp(evidence[0].at)
    count = len(evidence)
    lines = [
        f"What Segue believes, from {count} piece{'s' if count != 1 else ''} of evidence since "
        f"{since.day} {since:%B %Y} ({whose}, {where}; nothing leaves this computer)."
    ]
    liked = beliefs.liked_artists[:SHOWN_ARTISTS]
    lines.append("Artists you like:" if liked else "Artists you like: none yet.")
    lines += [f"  {a.name}: {a.evidence_words()} (score {a.score:g})" for a in liked]
    avoided = beliefs.avoided_artists[:SHOWN_AVOIDED]
    lines.append("Artists Segue leaves out:" if avoided else "Artists Segue leaves out: none.")
    lines += [f"  {a.name}: {a.evidence_words()}" for a in avoided]
    songs = [t for t in beliefs.tracks if t.score > 0 and not beliefs.avoids(t.song)]
    if songs:
        lines.append("Songs you like most:")
        lines += [
            f"  “{t.song.title}” by {t.song.artist} (score {t.score:g})"
            for t in songs[:SHOWN_SONGS]
        ]
    lines.append(FORGET_HINT)
    return "\n".join(lines)


def forget(memory: TasteMemory, said: str) -> tuple[bool, str]:
    """Delete what the memory holds about one artist, matched by name, or (``all``) everything.

    A name that matches no artist closely (``assistant.text.match``'s ACT) deletes nothing.

    Args:
        memory: The taste memory.
        said: An artist's name as typed, or "all".

    Returns:
        Whether anything was deleted, and the sentence saying what happened.

    Raises:
        SegueError: The memory cannot be read or written.
    """
    if said.strip().casefold() == "all":
        deleted = memory.forget_all()
        return True, (
            f"Forgot everything: {_pieces(deleted)} deleted; Segue starts learning again from now."
        )
    found = memory.find_artist(said)
    if found is None or match.verdict(found[0]) is match.Verdict.NONE:
        return False, f"Nothing deleted: Segue's taste memory has no artist called “{said}”."
    score, artist = found
    if match.verdict(score) is match.Verdict.ASK:
        return False, (
            f"Nothing deleted: no artist called “{said}”; did you mean {artist.name}? "
            f'Run `segue taste forget "{artist.name}"`.'
        )
    deleted = memory.forget_artist(artist.key)
    return True, f"Forgot {artist.name}: {_pieces(deleted)} deleted."


def _pieces(count: int) -> str:
    return f"{count} piece{'s' if count != 1 else ''} of evidence"

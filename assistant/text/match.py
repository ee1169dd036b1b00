"""How closely what the person said matches a name, and what Segue does about it.

One policy for every name Segue resolves, whoever asked (the fast path or the model):

- ``ACT`` (85) and above: the name is what they meant ("billy jean" for "Billie Jean", a
  remaster's " - Remastered 2011" set aside): act on it;
- ``ASK`` (60) up to ``ACT``: a near miss ("halo" for "Hello"): ask "Did you mean ...?";
- below ``ASK``: nothing matched ("the news" for "We Are the Champions"): say so, change nothing.

Scores are 0-100 and strict about extra or missing words (rapidfuzz's token-sort ratio over
folded words without articles), because search services answer every query with *something*:
the top hit for "the news" is a song that merely contains "the".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import Enum

from rapidfuzz import fuzz, process

from assistant.text.fold import fold_words

__all__ = [
    "ACT",
    "ASK",
    "CHOICE",
    "DEVICE",
    "MARGIN",
    "Verdict",
    "best_choice",
    "name_core",
    "similarity",
    "verdict",
]

ACT = 85.0
ASK = 60.0
# An answer to "Which one?" or a name among a person's own few (playlists, devices) needs this
# much, and this lead over the next option, to pick one.
CHOICE = 75.0
MARGIN = 3.0
# A device name among the few online ones (WRatio, or word by word for a misheard word: "pixle"
# finds "Pixel 8"): a little lower, since the list is short and a device type word also counts.
DEVICE = 70.0

_ARTICLES = frozenset({"the", "a", "an"})
# Words after which a name goes on with an edition, not a title: "Rumours (Super Deluxe)",
# "Hey Jude - Remastered 2015", "Thriller 25 Super Deluxe Edition".
_EDITION_WORDS = frozenset(
    """remaster remastered remasters deluxe edition expanded anniversary version mono stereo
    bonus super special collectors collector legacy reissue anthology single radio edit
    explicit clean""".split()
)
_SUFFIX = re.compile(r"\s+[-\u2013\u2014]\s+.*$|\s*[(\[].*$")
# A subtitle after a colon: "Gymnopédie No. 1: Lent et douloureux".
_SUBTITLE = re.compile(r":\s.*$")
# Two names that differ in a number are different things ("No. 1" and "No. 3", "Deep Work" and
# "Deep Work 2"), however alike their letters: at best a near miss.
_NUMBER_MISMATCH_CAP = ACT - 5
# A classical catalogue mark after the title: "Clair de Lune, L. 32", "Op. 27 No. 2", "BWV 1007".
_CATALOGUE = re.compile(r",?\s+(?:l|op|bwv|k|kv|hob|d|s|rv|woo|hwv|sz)\.?\s*\d+.*$", re.IGNORECASE)


class Verdict(Enum):
    """What to do with a name's best match."""

    ACT = "act"
    ASK = "ask"
    NONE = "none"


def verdict(score: float) -> Verdict:
    """The policy above, for a score from :func:`similarity`."""
    if score >= ACT:
        return Verdict.ACT
    if score >= ASK:
        return Verdict.ASK
    return Verdict.NONE


def name_core(name: str) -> str:
    """``name`` without edition suffix or catalogue mark: "Hey Jude - Remastered" -> "Hey Jude"."""
    core = _CATALOGUE.sub("", _SUFFIX.sub("", name)).strip()
    words = core.split()
    edition = False
    # Edition words go from the end, and a number before them ("Thriller 25 Super Deluxe
    # Edition"); a number alone stays: "Deep Work 2" is not "Deep Work".
    while len(words) > 1:
        last = words[-1].casefold().strip(".,")
        if last in _EDITION_WORDS:
            edition = True
        elif not (edition and last.isdigit()):
            break
        words.pop()
    return " ".join(words) if words else name


def _words(text: str) -> str:
    words = fold_words(text)
    kept = [w for w in words if w not in _ARTICLES]
    return " ".join(kept or words)


def similarity(said: str, name: str, *, by: str = "") -> float:
    """How closely ``said`` names ``name`` (0-100), its edition suffix set aside.

    Args:
        said: The words the person (or the model) used.
        name: A name from Spotify.
        by: The artists of a track or album: "radiohead creep" names "Creep" by Radiohead.
    """
    wanted = _words(said)
    if not wanted:
        return 0.0
    variants = {_words(name), _words(name_core(name)), _words(_SUBTITLE.sub("", name))}
    if by:
        variants |= {f"{v} {_words(by)}" for v in list(variants)}
    numbers = _numbers(wanted)
    best = 0.0
    for variant in variants:
        if not variant:
            continue
        score = float(fuzz.token_sort_ratio(wanted, variant))
        if _numbers(variant) != numbers:
            score = min(score, _NUMBER_MISMATCH_CAP)
        best = max(best, score)
    return best


def _numbers(words: str) -> set[str]:
    return {w for w in words.split() if w.isdigit()}


def best_choice(said: str, options: Iterable[str]) -> int | None:
    """The index of the one option ``said`` clearly names, or None.

    Exact (folded) names win; otherwise the best score must reach ``CHOICE`` and lead the next
    option by ``MARGIN``.
    """
    names = [_words(o) for o in options]
    wanted = _words(said)
    if not wanted or not names:
        return None
    exact = [n for n, name in enumerate(names) if name == wanted]
    if len(exact) == 1:
        return exact[0]
    scored = process.extract(wanted, names, scorer=fuzz.WRatio, processor=None, limit=None)
    if scored[0][1] < CHOICE:
        return None
    if len(scored) > 1 and scored[0][1] - scored[1][1] < MARGIN:
        return None
    return int(scored[0][2])

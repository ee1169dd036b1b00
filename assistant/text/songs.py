"""Reading a song as "Title by Artist" (or "Title - Artist"), the one rule for every caller.

People say "play Stand by Me by Ben E. King"; the model writes "Hey Jude - The Beatles". The
last separator splits, so a "by" inside the title stays in it. A "by" does not split where what
follows cannot be an artist: a pronoun or possessive ("Stand by Me", "Stand by Your Man") or the
word before "by" again ("Side by Side", "Day by Day").
"""

from __future__ import annotations

import re

__all__ = ["QUOTES", "title_artist_readings"]

QUOTES = "\"'\u201c\u201d\u2018\u2019\u00ab\u00bb`"

# The space after the separator is looked ahead at, not taken, so "Drive By by Train" finds both.
_BY = re.compile(r"\s+by(?=\s)", re.IGNORECASE)
_DASH = re.compile(r"\s+[-\u2013\u2014](?=\s)")
_TRAILING_NOTE = re.compile(r"\s*[(\[].*$")
# What follows " by " in a title rather than an artist (followed by a space or the end, so
# "a-ha" is still an artist).
_NOT_AN_ARTIST = re.compile(
    r"^(?:me|you|him|her|us|them|it|myself|yourself|himself|herself|ourselves|themselves|"
    r"my|your|his|its|our|their|now|then|the\s+way|a|an|any|some|this|that)(?:\s|$)",
    re.IGNORECASE,
)


def _artist_can_follow(title: str, artist: str) -> bool:
    words_before, words_after = title.split(), artist.split()
    if not words_before or not words_after:
        return False
    if words_after[0].casefold() == words_before[-1].casefold():
        return False  # "Side by Side"
    return _NOT_AN_ARTIST.match(artist) is None


def title_artist_readings(text: str, *, dash: bool = True) -> list[tuple[str, str]]:
    """The ways to read ``text`` as (title, artist), most likely first; empty when none.

    Quotes around either part and a note in brackets after the artist ("(1994)") are dropped.

    Args:
        text: One song as a person said it or the model wrote it.
        dash: Also read "Title - Artist" (the model's lists); people's commands use "by" only.
    """
    stripped = text.strip()
    readings: list[tuple[str, str]] = []
    separators = (_BY, _DASH) if dash else (_BY,)
    for separator in separators:
        matches = list(separator.finditer(stripped))
        if not matches:
            continue
        last = matches[-1]
        title = stripped[: last.start()].strip(QUOTES + " ")
        artist = _TRAILING_NOTE.sub("", stripped[last.end() :]).strip(QUOTES + " .,;")
        if separator is _BY and not _artist_can_follow(title, artist):
            continue
        if title and artist and (title, artist) not in readings:
            readings.append((title, artist))
    return readings

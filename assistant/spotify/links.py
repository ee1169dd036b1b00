"""Recognise Spotify URIs and open.spotify.com links in text a user pasted or said."""

from __future__ import annotations

import re

from assistant.spotify.models import SpotifyRef

# The kinds Segue acts on; shows, episodes and audiobooks are not handled.
KINDS = ("track", "album", "artist", "playlist")

_KIND = "|".join(KINDS)
# Spotify IDs are 22 characters of base62.
_ID = r"[0-9A-Za-z]{22}"

_URI = re.compile(
    rf"spotify:(?:(?P<kind>{_KIND})|user:[^:\s]+:(?P<legacy>playlist)):(?P<id>{_ID})",
    re.IGNORECASE,
)
# https://open.spotify.com[/intl-de]/[user/NAME/]KIND/ID[/][?si=...][#...]; the scheme is optional
# (people paste "open.spotify.com/..."), the intl-xx segment is what shared links carry since 2023,
# and /user/NAME/playlist/ID is the legacy playlist link.
_URL = re.compile(
    rf"(?:https?://)?open\.spotify\.com/(?:intl-[a-z]{{2}}(?:[-_][a-z]{{2}})?/)?"
    rf"(?:user/[^/\s?#]+/)?(?P<kind>{_KIND})/(?P<id>{_ID})/?(?:[?#]\S*)?",
    re.IGNORECASE,
)


def parse_spotify_ref(text: str) -> SpotifyRef | None:
    """Read a Spotify URI or link.

    Accepts ``spotify:KIND:ID``, the legacy ``spotify:user:NAME:playlist:ID``, and
    ``https://open.spotify.com/[intl-xx/]KIND/ID`` with or without the scheme and with any query
    (``?si=...``), surrounded by whitespace or angle brackets. KIND is track, album, artist or
    playlist; ID is 22 base62 characters.

    Args:
        text: The text to read; it must be the URI or link alone.

    Returns:
        The reference, or None when ``text`` is not one of the forms above.
    """
    candidate = text.strip()
    if candidate.startswith("<") and candidate.endswith(">"):
        candidate = candidate[1:-1].strip()
    match = _URI.fullmatch(candidate) or _URL.fullmatch(candidate)
    if match is None:
        return None
    kind = match.group("kind") or match.group("legacy")
    return SpotifyRef(kind=kind.lower(), id=match.group("id"))

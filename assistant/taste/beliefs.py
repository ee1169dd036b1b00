"""What the evidence says: a score per song and per artist, and the artists to leave out.

Pure functions over evidence rows (no I/O): :class:`~assistant.taste.memory.TasteMemory` reads the
rows and :func:`derive` turns them into :class:`Beliefs`. The weights are one table
(:data:`POINTS`); for likes and for what the person said, only the latest word about a song (or
an artist) counts, so "like" then "unlike" is an unlike, and saying "I love this" twice is said
once. Plays and early skips add up: a song played five times is a favourite.

An artist's score is the sum of its songs' scores and of what the person said about the artist.
An artist is avoided when the person said so last ("no more of this artist"), or, without a word
from them either way, when its songs were skipped early at least :data:`AVOID_SKIPS` times and its
score is :data:`AVOID_AT` or below (two early skips and nothing in its favour). A song the person
dislikes is left out itself; its artist is not, for one song.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, TypeVar

from assistant.spotify.models import Track
from assistant.text.fold import fold

Kind = Literal[
    "played",  # Spotify's recently-played list: the song played for more than 30 s
    "skipped",  # Segue's own "next" within SKIP_MS of the song's start
    "liked",  # saved to the library through Segue
    "unliked",  # removed from the library through Segue
    "loved",  # "I love this song" (taste_feedback)
    "disliked",  # "I don't like this song"
    "artist_liked",  # "I love this artist"
    "artist_avoided",  # "no more of this artist", "I'm tired of this artist"
]
KINDS: tuple[Kind, ...] = (
    "played",
    "skipped",
    "liked",
    "unliked",
    "loved",
    "disliked",
    "artist_liked",
    "artist_avoided",
)
ARTIST_KINDS: frozenset[Kind] = frozenset({"artist_liked", "artist_avoided"})

# What one piece of evidence is worth to its song (and so to its artist).
POINTS: dict[Kind, float] = {
    "played": 1.0,
    "skipped": -2.0,
    "liked": 3.0,
    "unliked": -2.0,
    "loved": 5.0,
    "disliked": -5.0,
    "artist_liked": 5.0,
    "artist_avoided": -5.0,
}
# Kinds of which only the latest per song (or artist) counts, by group.
LATEST_OF: dict[Kind, str] = {
    "liked": "library",
    "unliked": "library",
    "loved": "word",
    "disliked": "word",
    "artist_liked": "artist",
    "artist_avoided": "artist",
}
SKIP_MS = 30_000  # a skip this early says "not this song"; a later one says little
AVOID_SKIPS = 2  # early skips that can make an artist avoided without a word from the person
AVOID_AT = -4.0  # ... when its score is at or below this


@dataclass(frozen=True)
class Song:
    """The song a piece of evidence is about, as Spotify named it then.

    Attributes:
        uri: The track's Spotify URI.
        title: Its name; empty when Segue had only a link.
        artist_id: Its first artist's Spotify ID; empty when not known.
        artist: Its first artist's name; empty when not known.
    """

    uri: str
    title: str = ""
    artist_id: str = ""
    artist: str = ""

    @classmethod
    def of(cls, track: Track) -> Song:
        """The song of a track read from Spotify."""
        first = track.artists[0] if track.artists else None
        return cls(
            uri=track.uri,
            title=track.name,
            artist_id=first.id if first is not None else "",
            artist=first.name if first is not None else "",
        )


@dataclass(frozen=True)
class Evidence:
    """One thing Segue saw or was told, with when (Unix seconds)."""

    kind: Kind
    song: Song
    at: float


class ByArtist(Protocol):
    """Anything with a track URI and its first artist (a found track, a :class:`Song`)."""

    @property
    def uri(self) -> str: ...  # noqa: D102

    @property
    def artist_id(self) -> str: ...  # noqa: D102

    @property
    def artist(self) -> str: ...  # noqa: D102


T = TypeVar("T", bound=ByArtist)


def artist_key(artist_id: str, artist: str) -> str:
    """How the memory tells artists apart: the Spotify ID, or the folded name without one."""
    if artist_id:
        return artist_id
    folded = fold(artist)
    return f"name:{folded}" if folded else ""


@dataclass(frozen=True)
class TrackBelief:
    """What Segue believes about one song.

    Attributes:
        song: The song (its latest names).
        score: The sum of its evidence (see :data:`POINTS`).
        plays: Times Spotify listed it as played.
        skips: Times Segue skipped it within 30 s.
        library: The latest of "liked" / "unliked", if any.
        word: The latest of "loved" / "disliked", if any.
        last_at: When its latest evidence came.
    """

    song: Song
    score: float
    plays: int
    skips: int
    library: Kind | None
    word: Kind | None
    last_at: float

    @property
    def key(self) -> str:
        """Its artist's key (see :func:`artist_key`)."""
        return artist_key(self.song.artist_id, self.song.artist)

    @property
    def unwanted(self) -> bool:
        """Never to be picked for the person: disliked, or more against it than for it."""
        return self.word == "disliked" or self.score < 0


@dataclass(frozen=True)
class ArtistBelief:
    """What Segue believes about one artist.

    Attributes:
        key: See :func:`artist_key`.
        name: The artist's latest name.
        score: Its songs' scores and what the person said about it.
        avoided: Whether to leave it out of what Segue picks.
        word: The latest of "artist_liked" / "artist_avoided", if any.
        plays, skips, likes, loved, disliked: Counts over its songs (likes: songs whose
            latest library word is a like).
        last_at: When its latest evidence came.
    """

    key: str
    name: str
    score: float
    avoided: bool
    word: Kind | None
    plays: int
    skips: int
    likes: int
    loved: int
    disliked: int
    last_at: float

    def evidence_words(self) -> str:
        """What the belief rests on, in words: "4 plays, 1 like, 2 early skips"."""
        parts = []
        if self.word == "artist_avoided":
            parts.append("you said no more of them")
        elif self.word == "artist_liked":
            parts.append("you said you like them")
        for count, one, many in (
            (self.plays, "play", "plays"),
            (self.likes, "like", "likes"),
            (self.loved, "song you love", "songs you love"),
            (self.skips, "early skip", "early skips"),
            (self.disliked, "song you don't like", "songs you don't like"),
        ):
            if count:
                parts.append(f"{count} {one if count == 1 else many}")
        return ", ".join(parts)


@dataclass(frozen=True)
class Beliefs:
    """Scores per song and per artist, best first.

    Attributes:
        tracks: Every song with evidence, by score (then the latest first).
        artists: Every artist with evidence, by score (then the latest first).
    """

    tracks: tuple[TrackBelief, ...] = ()
    artists: tuple[ArtistBelief, ...] = ()

    @functools.cached_property
    def _by_key(self) -> dict[str, ArtistBelief]:
        return {a.key: a for a in self.artists}

    @functools.cached_property
    def _by_uri(self) -> dict[str, TrackBelief]:
        return {t.song.uri: t for t in self.tracks}

    @property
    def liked_artists(self) -> list[ArtistBelief]:
        """Artists with more for them than against, not avoided, best first."""
        return [a for a in self.artists if a.score > 0 and not a.avoided]

    @property
    def avoided_artists(self) -> list[ArtistBelief]:
        """Artists Segue leaves out, the most disliked first."""
        return sorted((a for a in self.artists if a.avoided), key=lambda a: (a.score, -a.last_at))

    def artist(self, key: str) -> ArtistBelief | None:
        """The belief about the artist with this key, if any."""
        return self._by_key.get(key)

    def track(self, uri: str) -> TrackBelief | None:
        """The belief about this song, if any."""
        return self._by_uri.get(uri)

    def avoids(self, item: ByArtist) -> bool:
        """Whether ``item`` is a song to leave out: unwanted itself, or by an avoided artist."""
        track = self._by_uri.get(item.uri)
        if track is not None and track.unwanted:
            return True
        artist = self._by_key.get(artist_key(item.artist_id, item.artist))
        return artist is not None and artist.avoided

    def rank(self, items: Sequence[T]) -> list[T]:
        """``items`` without the ones to leave out, liked songs and artists first.

        Items Segue knows nothing about keep their order, after the ones it knows are liked
        and before the ones it knows little good of.
        """

        def score(item: T) -> float:
            track = self._by_uri.get(item.uri)
            artist = self._by_key.get(artist_key(item.artist_id, item.artist))
            return (track.score if track is not None else 0.0) + (
                artist.score if artist is not None else 0.0
            )

        kept = [item for item in items if not self.avoids(item)]
        return sorted(kept, key=lambda item: -score(item))


@dataclass
class _Tally:
    """One song's or one artist's evidence so far, oldest first."""

    song: Song
    score: float = 0.0
    plays: int = 0
    skips: int = 0
    latest: dict[str, Kind] = field(default_factory=dict)  # group -> kind
    last_at: float = 0.0

    def add(self, item: Evidence) -> None:
        self.last_at = max(self.last_at, item.at)
        if item.kind == "played":
            self.plays += 1
        elif item.kind == "skipped":
            self.skips += 1
        else:
            self.latest[LATEST_OF[item.kind]] = item.kind

    def total(self) -> float:
        counted = self.plays * POINTS["played"] + self.skips * POINTS["skipped"]
        return counted + sum(POINTS[kind] for kind in self.latest.values())


def derive(evidence: Iterable[Evidence]) -> Beliefs:
    """The beliefs the evidence supports (see the module docstring)."""
    songs: dict[str, _Tally] = {}
    said: dict[str, _Tally] = {}  # artist key -> what was said about the artist
    names: dict[str, str] = {}
    for item in sorted(evidence, key=lambda e: e.at):
        key = artist_key(item.song.artist_id, item.song.artist)
        if key and item.song.artist:
            names[key] = item.song.artist
        if item.kind in ARTIST_KINDS:
            if key:
                said.setdefault(key, _Tally(item.song)).add(item)
            continue
        tally = songs.setdefault(item.song.uri, _Tally(item.song))
        if item.song.title:
            tally.song = item.song  # the latest names
        tally.add(item)
    tracks = [
        TrackBelief(
            song=t.song,
            score=t.total(),
            plays=t.plays,
            skips=t.skips,
            library=t.latest.get("library"),
            word=t.latest.get("word"),
            last_at=t.last_at,
        )
        for t in songs.values()
    ]
    tracks.sort(key=lambda t: (-t.score, -t.last_at))
    by_artist: dict[str, list[TrackBelief]] = {}
    for track in tracks:
        if track.key:
            by_artist.setdefault(track.key, []).append(track)
    artists = [
        _artist(key, names.get(key, ""), by_artist.get(key, []), said.get(key))
        for key in dict.fromkeys([*by_artist, *said])
    ]
    artists.sort(key=lambda a: (-a.score, -a.last_at))
    return Beliefs(tracks=tuple(tracks), artists=tuple(artists))


def _artist(
    key: str, name: str, tracks: Sequence[TrackBelief], said: _Tally | None
) -> ArtistBelief:
    word = said.latest.get("artist") if said is not None else None
    score = sum(t.score for t in tracks) + (POINTS[word] if word is not None else 0.0)
    skips = sum(t.skips for t in tracks)
    if word is not None:
        avoided = word == "artist_avoided"
    else:
        avoided = skips >= AVOID_SKIPS and score <= AVOID_AT
    times = [t.last_at for t in tracks] + ([said.last_at] if said is not None else [])
    return ArtistBelief(
        key=key,
        name=name,
        score=score,
        avoided=avoided,
        word=word,
        plays=sum(t.plays for t in tracks),
        skips=skips,
        likes=sum(t.library == "liked" for t in tracks),
        loved=sum(t.word == "loved" for t in tracks),
        disliked=sum(t.word == "disliked" for t in tracks),
        last_at=max(times, default=0.0),
    )

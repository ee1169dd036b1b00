"""Free-text search over the catalog, ranked the way a listener expects.

Matching is case- and accent-insensitive ("motley crue" finds Mötley Crüe). The query may
carry Spotify's field filters ``artist:``, ``track:``, ``album:``, ``genre:`` and ``year:`` (a
value is one word or a quoted phrase; other words are free text that may match any field).

Ranking, best first: an exact title match; a query that holds the whole title plus words of the
artist or album; a title starting with the query; every word found; every word found as a prefix;
then fuzzy matches (rapidfuzz) for misspellings. Ties keep a stable order: albums before singles
before compilations, older releases first.

Indexes are built once; a search touches only the items sharing a word with the query, and runs
the fuzzy scorers (C code) over the whole catalog only when those are too few.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from assistant.sim.catalog import Catalog

SEARCH_TYPES = ("album", "artist", "playlist", "track", "show", "episode", "audiobook")
FILTER_FIELDS = ("artist", "track", "album", "genre", "year", "tag", "isrc", "upc")

_FUZZY_CUTOFF = 80.0
_APOSTROPHES = re.compile("['`\u2019\u00b4]")  # straight, grave, right quote, acute
_NON_WORD = re.compile(r"[\W_]+")
_FILTER = re.compile(r"\b(" + "|".join(FILTER_FIELDS) + r'):(?:"([^"]*)"|(\S+))', re.IGNORECASE)
_ALBUM_TYPE_RANK = {"album": 0, "single": 1, "compilation": 2}


def normalize(text: str) -> str:
    """Fold case, accents and punctuation: ``"Mötley Crüe!"`` -> ``"motley crue"``."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    stripped = _APOSTROPHES.sub("", stripped.replace("&", " and "))
    return " ".join(_NON_WORD.sub(" ", stripped).split())


@dataclass(frozen=True)
class Query:
    """A parsed search query: free text and field filters, all normalized."""

    text: str
    filters: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, raw: str) -> Query:
        """Split ``raw`` into free text and ``field:value`` filters."""
        filters: dict[str, str] = {}

        def take(match: re.Match[str]) -> str:
            value = match.group(2) if match.group(2) is not None else match.group(3)
            name = match.group(1).lower()
            key = normalize(value) if name != "year" else value.strip()
            filters[name] = f"{filters[name]} {key}".strip() if name in filters else key
            return " "

        text = _FILTER.sub(take, raw)
        return cls(normalize(text), filters)


@dataclass(frozen=True)
class _Entry:
    """One searchable item: its id, normalized title and other text, and tie-break key."""

    item_id: str
    title: str
    other: str
    tie: tuple[object, ...]
    title_tokens: frozenset[str] = frozenset()
    tokens: frozenset[str] = frozenset()
    compact: str = ""
    bare_title: str = ""
    names: frozenset[str] = frozenset()  # whole artist names (and variants)
    lead: str = ""  # the first artist of a track or album

    @classmethod
    def make(
        cls,
        item_id: str,
        title: str,
        artists: Iterable[str],
        tie: tuple[object, ...],
        extra: Iterable[str] = (),
    ) -> _Entry:
        """An entry whose words are its title's, its artists' and ``extra`` (an album name)."""
        title_n = normalize(title)
        others = [normalize(o) for o in artists if o]
        other_n = " ".join([*others, *(normalize(e) for e in extra if e)])
        return cls(
            item_id=item_id,
            title=title_n,
            other=other_n,
            tie=tie,
            title_tokens=frozenset(title_n.split()),
            tokens=frozenset(title_n.split()) | frozenset(other_n.split()),
            compact=title_n.replace(" ", ""),
            bare_title=title_n.removeprefix("the "),
            names=frozenset(
                variant
                for o in others
                for variant in (o, o.removeprefix("the "), o.replace(" ", ""))
            ),
            lead=others[0] if others else "",
        )


class _Index:
    """Entries of one type with a word index and the strings the fuzzy scorers read."""

    def __init__(self, entries: Sequence[_Entry]) -> None:
        self.entries = list(entries)
        self.by_token: dict[str, list[int]] = {}
        for n, entry in enumerate(self.entries):
            for token in entry.tokens:
                self.by_token.setdefault(token, []).append(n)
        self.vocabulary = sorted(self.by_token)
        self.titles = [e.title for e in self.entries]
        self.full_texts = [f"{e.title} {e.other}".strip() for e in self.entries]
        self.leads = [e.lead for e in self.entries]

    def candidates(self, tokens: Sequence[str]) -> set[int]:
        """Entries holding any query word, or a word the last query word begins."""
        found: set[int] = set()
        for token in tokens:
            found.update(self.by_token.get(token, ()))
        if tokens:
            last = tokens[-1]
            start = bisect.bisect_left(self.vocabulary, last)
            for word in self.vocabulary[start : start + 200]:
                if not word.startswith(last):
                    break
                found.update(self.by_token[word])
        return found

    def fuzzy(self, text: str, limit: int) -> dict[int, float]:
        """Entries whose title or whole text is close to ``text`` (scores 0-100)."""
        scores: dict[int, float] = {}
        for choices, scorer in (
            # Plain edit-distance similarity: WRatio's partial matching lets short titles
            # ("i") match any query holding their letters.
            (self.titles, fuzz.ratio),
            (self.leads, fuzz.ratio),  # a misspelt artist name finds the artist's tracks
            (self.full_texts, fuzz.token_set_ratio),
        ):
            for _, score, n in process.extract(
                text, choices, scorer=scorer, score_cutoff=_FUZZY_CUTOFF, limit=limit
            ):
                scores[n] = max(scores.get(n, 0.0), float(score))
        return scores


def text_score(entry: _Entry, text: str) -> float:
    """How well free ``text`` matches ``entry`` (0 = not at all; higher is better)."""
    if not text:
        return 1.0
    if text in (entry.title, entry.bare_title) or text.replace(" ", "") == entry.compact:
        return 1000.0
    if text in entry.names:
        # The whole name of the artist: "queen" finds Queen's tracks before tracks that merely
        # have the word in their title.
        return 850.0
    words = text.split()
    if all(w in entry.tokens for w in words):
        if entry.title_tokens <= set(words):
            # The whole title plus words of the artist or album ("bohemian rhapsody queen").
            return 900.0 - (len(words) - len(entry.title_tokens))
        if entry.title.startswith(text):
            return 800.0
        in_title = sum(1 for w in words if w in entry.title_tokens)
        return 600.0 + 100.0 * in_title / len(words)
    last_ok = any(t.startswith(words[-1]) for t in entry.tokens)
    if last_ok and all(w in entry.tokens for w in words[:-1]):
        if entry.title.startswith(text):
            return 550.0
        return 500.0
    return 0.0


def _matches_phrase(value: str, text: str) -> bool:
    if not value:
        return True
    if f" {value} " in f" {text} ":
        return True
    words = set(text.split())
    return all(w in words for w in value.split()) or fuzz.ratio(value, text) >= _FUZZY_CUTOFF


def _year_ok(value: str, year: int) -> bool:
    match = re.fullmatch(r"(\d{4})(?:-(\d{4}))?", value)
    if match is None:
        return False
    low = int(match.group(1))
    high = int(match.group(2) or low)
    return low <= year <= high


class SearchIndex:
    """Search over tracks, albums and artists of a catalog, and over given playlists.

    Args:
        catalog: The catalog to index.
    """

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog
        artists = catalog.artists
        track_entries = []
        for track in catalog.tracks.values():
            album = catalog.albums[track.album_id]
            track_entries.append(
                _Entry.make(
                    track.id,
                    track.name,
                    [artists[a].name for a in track.artist_ids],
                    (
                        _ALBUM_TYPE_RANK[album.album_type],
                        album.release_date,
                        album.name,
                        track.track_number,
                    ),
                    extra=[album.name],
                )
            )
        album_entries = [
            _Entry.make(
                album.id,
                album.name,
                [artists[a].name for a in album.artist_ids],
                (_ALBUM_TYPE_RANK[album.album_type], album.release_date, album.name),
            )
            for album in catalog.albums.values()
        ]
        artist_entries = [
            _Entry.make(artist.id, artist.name, [], (-len(catalog.tracks_by_artist[artist.id]),))
            for artist in artists.values()
        ]
        self.tracks = _Index(track_entries)
        self.albums = _Index(album_entries)
        self.artists = _Index(artist_entries)
        self._artist_names = {a.id: normalize(a.name) for a in artists.values()}
        self._artist_genres = {a.id: [normalize(g) for g in a.genres] for a in artists.values()}
        self._album_names = {a.id: normalize(a.name) for a in catalog.albums.values()}
        self._filter_cache: dict[tuple[str, str], bool] = {}

    # Filters

    def _artist_filter(self, artist_ids: Sequence[str], value: str) -> bool:
        return any(self._cached("artist", a, value) for a in artist_ids)

    def _cached(self, kind: str, item_id: str, value: str) -> bool:
        key = (f"{kind}:{value}", item_id)
        hit = self._filter_cache.get(key)
        if hit is None:
            if kind == "artist":
                hit = _matches_phrase(value, self._artist_names[item_id])
            elif kind == "album":
                hit = _matches_phrase(value, self._album_names[item_id])
            else:
                hit = any(_matches_phrase(value, g) for g in self._artist_genres[item_id])
            if len(self._filter_cache) < 100_000:
                self._filter_cache[key] = hit
        return hit

    def _track_ok(self, track_id: str, filters: dict[str, str]) -> bool:
        track = self._catalog.tracks[track_id]
        album = self._catalog.albums[track.album_id]
        if "artist" in filters and not self._artist_filter(track.artist_ids, filters["artist"]):
            return False
        if "album" in filters and not self._cached("album", album.id, filters["album"]):
            return False
        if "genre" in filters and not any(
            self._cached("genre", a, filters["genre"]) for a in track.artist_ids
        ):
            return False
        return "year" not in filters or _year_ok(filters["year"], album.release_year)

    def _album_ok(self, album_id: str, filters: dict[str, str]) -> bool:
        album = self._catalog.albums[album_id]
        if "artist" in filters and not self._artist_filter(album.artist_ids, filters["artist"]):
            return False
        if "genre" in filters and not any(
            self._cached("genre", a, filters["genre"]) for a in album.artist_ids
        ):
            return False
        return "year" not in filters or _year_ok(filters["year"], album.release_year)

    def _artist_ok(self, artist_id: str, filters: dict[str, str]) -> bool:
        if "genre" in filters and not self._cached("genre", artist_id, filters["genre"]):
            return False
        if "year" in filters:
            years = (
                self._catalog.albums[a].release_year
                for a in self._catalog.albums_by_artist.get(artist_id, ())
            )
            if not any(_year_ok(filters["year"], y) for y in years):
                return False
        return True

    # Searching

    def _rank(
        self,
        index: _Index,
        text: str,
        ok: Callable[[str], bool],
        wanted: int,
        seed_words: Sequence[str],
    ) -> list[str]:
        # Only entries sharing a word with the query (or a filter) are scored; a query of
        # filters that match no word (a misspelt artist, a genre) scans everything.
        pool: Iterable[int] = index.candidates(seed_words) if seed_words else ()
        if not text and not pool:
            pool = range(len(index.entries))
        scored: dict[int, float] = {}
        for n in pool:
            entry = index.entries[n]
            score = text_score(entry, text)
            if score > 0 and ok(entry.item_id):
                scored[n] = score
        if text and len(scored) < wanted:
            # Misspellings: fuzzy matches rank below every word match.
            for n, fuzzy in index.fuzzy(text, limit=wanted + 50).items():
                if n not in scored and ok(index.entries[n].item_id):
                    scored[n] = fuzzy * 4.0  # at most 400
        ranked = sorted(scored, key=lambda n: (-scored[n], index.entries[n].tie, n))
        return [index.entries[n].item_id for n in ranked]

    def tracks_for(self, query: Query, wanted: int) -> list[str]:
        """Track ids matching ``query``, best first."""
        filters = query.filters
        if any(f in filters for f in ("isrc", "upc", "tag")):
            return []
        text = " ".join(p for p in (filters.get("track", ""), query.text) if p)
        seeds = (text or " ".join(filters.get(f, "") for f in ("artist", "album"))).split()
        return self._rank(self.tracks, text, lambda t: self._track_ok(t, filters), wanted, seeds)

    def albums_for(self, query: Query, wanted: int) -> list[str]:
        """Album ids matching ``query``, best first."""
        filters = query.filters
        if any(f in filters for f in ("track", "isrc")):
            return []
        text = " ".join(p for p in (filters.get("album", ""), query.text) if p)
        seeds = (text or filters.get("artist", "")).split()
        return self._rank(self.albums, text, lambda a: self._album_ok(a, filters), wanted, seeds)

    def artists_for(self, query: Query, wanted: int) -> list[str]:
        """Artist ids matching ``query``, best first."""
        filters = query.filters
        if any(f in filters for f in ("track", "album", "isrc", "upc", "tag")):
            return []
        text = " ".join(p for p in (filters.get("artist", ""), query.text) if p)
        return self._rank(
            self.artists, text, lambda a: self._artist_ok(a, filters), wanted, text.split()
        )

    @staticmethod
    def playlists_for(
        query: Query, playlists: Sequence[tuple[str, str, str]], wanted: int
    ) -> list[str]:
        """Ids of the given (id, name, other text) playlists matching ``query``, best first."""
        if query.filters or not query.text:
            return []
        index = _Index(
            [
                _Entry.make(p_id, name, [], (n,), extra=[other])
                for n, (p_id, name, other) in enumerate(playlists)
            ]
        )
        scored: dict[int, float] = {}
        for n, entry in enumerate(index.entries):
            score = text_score(entry, query.text)
            if score > 0:
                scored[n] = score
        if len(scored) < wanted:
            for n, fuzzy in index.fuzzy(query.text, limit=wanted + 50).items():
                scored.setdefault(n, fuzzy * 4.0)
        ranked = sorted(scored, key=lambda n: (-scored[n], n))
        return [index.entries[n].item_id for n in ranked]

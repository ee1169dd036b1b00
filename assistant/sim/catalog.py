"""The simulator's music catalog: artists, albums, tracks, users and seed playlists.

The catalog is read once from ``resources/sim/catalog.json`` and kept as frozen values with the
indexes the Web API needs (tracks by artist, albums by artist). Nothing here changes after loading;
what a user changes (playlists, library, playback) lives in ``library`` and ``player``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.resources import resources_dir

DEFAULT_CATALOG_PATH = resources_dir() / "sim" / "catalog.json"

_ALBUM_TYPES = ("album", "single", "compilation")


class CatalogError(ValueError):
    """The catalog file is missing, unreadable or inconsistent."""


@dataclass(frozen=True)
class Artist:
    """An artist."""

    id: str
    name: str
    genres: tuple[str, ...] = ()

    @property
    def uri(self) -> str:
        """The artist's Spotify URI."""
        return f"spotify:artist:{self.id}"


@dataclass(frozen=True)
class Track:
    """A track on one album."""

    id: str
    name: str
    artist_ids: tuple[str, ...]
    duration_ms: int
    explicit: bool
    album_id: str
    track_number: int
    disc_number: int = 1

    @property
    def uri(self) -> str:
        """The track's Spotify URI."""
        return f"spotify:track:{self.id}"


@dataclass(frozen=True)
class Album:
    """An album, single or compilation; ``track_ids`` are in track-number order."""

    id: str
    name: str
    artist_ids: tuple[str, ...]
    album_type: str
    release_date: str
    track_ids: tuple[str, ...]

    @property
    def uri(self) -> str:
        """The album's Spotify URI."""
        return f"spotify:album:{self.id}"

    @property
    def release_date_precision(self) -> str:
        """``year``, ``month`` or ``day``, from the shape of ``release_date``."""
        return {4: "year", 7: "month"}.get(len(self.release_date), "day")

    @property
    def release_year(self) -> int:
        """The year of release."""
        return int(self.release_date[:4])


@dataclass(frozen=True)
class User:
    """A Spotify account."""

    id: str
    display_name: str
    product: str = "premium"

    @property
    def uri(self) -> str:
        """The user's Spotify URI."""
        return f"spotify:user:{self.id}"


@dataclass(frozen=True)
class PlaylistSeed:
    """A playlist as the catalog defines it at start-up."""

    id: str
    name: str
    description: str
    owner_id: str
    public: bool
    collaborative: bool
    spotify_owned: bool
    track_ids: tuple[str, ...]


@dataclass(frozen=True)
class Catalog:
    """The whole catalog with its lookup indexes.

    Build one with ``Catalog.load(path)`` or ``Catalog.from_dict(data)``.
    """

    artists: Mapping[str, Artist]
    albums: Mapping[str, Album]
    tracks: Mapping[str, Track]
    users: Mapping[str, User]
    playlists: tuple[PlaylistSeed, ...]
    tracks_by_artist: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    albums_by_artist: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path | None = None) -> Catalog:
        """Read and check a catalog file.

        Args:
            path: The JSON file; defaults to the bundled ``resources/sim/catalog.json``.

        Raises:
            CatalogError: The file is missing, not JSON, or refers to ids it does not define.
        """
        path = path or DEFAULT_CATALOG_PATH
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as err:
            raise CatalogError(f"Cannot read the simulator catalog {path}: {err}") from err
        except ValueError as err:
            raise CatalogError(f"The simulator catalog {path} is not valid JSON: {err}") from err
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Catalog:
        """Build a catalog from its JSON form (see ``resources/sim/catalog.json``).

        Raises:
            CatalogError: An id is defined twice or a reference points nowhere.
        """
        try:
            return _build(data)
        except (KeyError, TypeError, ValueError) as err:
            if isinstance(err, CatalogError):
                raise
            raise CatalogError(f"The simulator catalog is malformed: {err!r}") from err

    def track_artists(self, track: Track) -> list[Artist]:
        """The artists of ``track``, in credit order."""
        return [self.artists[a] for a in track.artist_ids]

    def album_of(self, track: Track) -> Album:
        """The album ``track`` is on."""
        return self.albums[track.album_id]


def _build(data: Mapping[str, Any]) -> Catalog:
    artists: dict[str, Artist] = {}
    for raw in data.get("artists", []):
        _unique(artists, raw["id"], "artist")
        artists[raw["id"]] = Artist(str(raw["id"]), str(raw["name"]), tuple(raw.get("genres", ())))

    albums: dict[str, Album] = {}
    tracks: dict[str, Track] = {}
    for raw in data.get("albums", []):
        album_id = str(raw["id"])
        _unique(albums, album_id, "album")
        album_artists = _refs(raw["artist_ids"], artists, f"album {album_id}")
        album_type = str(raw.get("album_type", "album"))
        if album_type not in _ALBUM_TYPES:
            raise CatalogError(f"Album {album_id} has an unknown album_type {album_type!r}")
        release_date = str(raw["release_date"])
        if len(release_date) not in (4, 7, 10) or not release_date[:4].isdigit():
            raise CatalogError(f"Album {album_id} has a malformed release_date {release_date!r}")
        track_ids: list[str] = []
        for number, raw_track in enumerate(raw.get("tracks", []), start=1):
            track_id = str(raw_track["id"])
            _unique(tracks, track_id, "track")
            tracks[track_id] = Track(
                id=track_id,
                name=str(raw_track["name"]),
                artist_ids=_refs(
                    raw_track.get("artist_ids", album_artists), artists, f"track {track_id}"
                ),
                duration_ms=int(raw_track["duration_ms"]),
                explicit=bool(raw_track.get("explicit", False)),
                album_id=album_id,
                track_number=number,
            )
            track_ids.append(track_id)
        albums[album_id] = Album(
            id=album_id,
            name=str(raw["name"]),
            artist_ids=album_artists,
            album_type=album_type,
            release_date=release_date,
            track_ids=tuple(track_ids),
        )

    users: dict[str, User] = {}
    for raw in data.get("users", []):
        _unique(users, raw["id"], "user")
        users[raw["id"]] = User(
            str(raw["id"]), str(raw.get("display_name") or raw["id"]), raw.get("product", "premium")
        )

    playlists: list[PlaylistSeed] = []
    seen: set[str] = set()
    for raw in data.get("playlists", []):
        playlist_id = str(raw["id"])
        if playlist_id in seen:
            raise CatalogError(f"Playlist {playlist_id} is defined twice")
        seen.add(playlist_id)
        owner_id = str(raw["owner_id"])
        if owner_id not in users:
            # An owner without a user entry ("spotify" for editorial playlists) gets one.
            users[owner_id] = User(owner_id, owner_id.capitalize())
        playlists.append(
            PlaylistSeed(
                id=playlist_id,
                name=str(raw["name"]),
                description=str(raw.get("description") or ""),
                owner_id=owner_id,
                public=bool(raw.get("public", True)),
                collaborative=bool(raw.get("collaborative", False)),
                spotify_owned=bool(raw.get("spotify_owned", False)),
                track_ids=_refs(raw.get("track_ids", ()), tracks, f"playlist {playlist_id}"),
            )
        )

    return Catalog(
        artists=artists,
        albums=albums,
        tracks=tracks,
        users=users,
        playlists=tuple(playlists),
        tracks_by_artist=_tracks_by_artist(artists, albums, tracks),
        albums_by_artist={
            artist_id: tuple(
                a.id
                for a in sorted(albums.values(), key=lambda a: a.release_date, reverse=True)
                if artist_id in a.artist_ids
            )
            for artist_id in artists
        },
    )


def _tracks_by_artist(
    artists: Mapping[str, Artist], albums: Mapping[str, Album], tracks: Mapping[str, Track]
) -> dict[str, tuple[str, ...]]:
    # An artist context plays the artist's own albums first (oldest first), then singles, then
    # compilations, skipping a title already taken from an earlier release.
    rank = {kind: n for n, kind in enumerate(_ALBUM_TYPES)}
    ordered = sorted(albums.values(), key=lambda a: (rank[a.album_type], a.release_date, a.name))
    result: dict[str, list[str]] = {artist_id: [] for artist_id in artists}
    titles: dict[str, set[str]] = {artist_id: set() for artist_id in artists}
    for album in ordered:
        for track_id in album.track_ids:
            track = tracks[track_id]
            title = track.name.casefold()
            for artist_id in track.artist_ids:
                if title not in titles[artist_id]:
                    titles[artist_id].add(title)
                    result[artist_id].append(track_id)
    return {artist_id: tuple(ids) for artist_id, ids in result.items()}


def _unique(existing: Mapping[str, object], item_id: object, kind: str) -> None:
    if not isinstance(item_id, str) or not item_id:
        raise CatalogError(f"A {kind} has no id")
    if item_id in existing:
        raise CatalogError(f"The {kind} {item_id} is defined twice")


def _refs(ids: Sequence[str], known: Mapping[str, object], where: str) -> tuple[str, ...]:
    missing = [i for i in ids if i not in known]
    if missing:
        raise CatalogError(f"The {where} refers to unknown ids: {', '.join(missing)}")
    return tuple(str(i) for i in ids)

"""Typed values read from Spotify Web API objects.

Every class is a frozen dataclass with a ``from_api`` constructor that reads only the fields Segue
uses and tolerates missing ones: Spotify removed ``popularity``, ``available_markets``, ``label``,
artist ``followers`` and user ``product``/``country``/``email`` for development-mode apps in
February 2026, and nothing here reads them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast

RepeatMode = Literal["off", "track", "context"]
REPEAT_MODES: tuple[RepeatMode, ...] = ("off", "track", "context")

# What Spotify's web player puts in the address bar; `open.spotify.com/<kind>/<id>` opens a thing.
OPEN_URL = "https://open.spotify.com"


def _str(obj: Mapping[str, Any], key: str, default: str = "") -> str:
    value = obj.get(key)
    return value if isinstance(value, str) else default


def _opt_str(obj: Mapping[str, Any], key: str) -> str | None:
    value = obj.get(key)
    return value if isinstance(value, str) else None


def _int(obj: Mapping[str, Any], key: str, default: int = 0) -> int:
    value = obj.get(key)
    # bool is an int subclass; a JSON true is never a count.
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _opt_int(obj: Mapping[str, Any], key: str) -> int | None:
    value = obj.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _bool(obj: Mapping[str, Any], key: str, default: bool = False) -> bool:
    value = obj.get(key)
    return value if isinstance(value, bool) else default


def _dict(value: object) -> dict[str, Any] | None:
    return cast(dict[str, Any], value) if isinstance(value, dict) else None


def _dicts(value: object) -> Iterable[dict[str, Any]]:
    # Lists from Spotify can hold nulls (search results have been seen with null playlists).
    if isinstance(value, list):
        for entry in value:
            if isinstance(entry, dict):
                yield cast(dict[str, Any], entry)


@dataclass(frozen=True)
class SpotifyRef:
    """A reference to one Spotify object by kind and ID.

    Attributes:
        kind: "track", "album", "artist" or "playlist".
        id: The 22-character base62 Spotify ID.
    """

    kind: str
    id: str

    @property
    def uri(self) -> str:
        """The Spotify URI, e.g. ``spotify:track:4u7EnebtmKWzUH433cf5Qv``."""
        return f"spotify:{self.kind}:{self.id}"

    @property
    def url(self) -> str:
        """The open.spotify.com link that opens this object."""
        return f"{OPEN_URL}/{self.kind}/{self.id}"


@dataclass(frozen=True)
class Artist:
    """An artist (from a simplified or full artist object)."""

    id: str
    uri: str
    name: str

    @classmethod
    def from_api(cls, obj: Mapping[str, Any]) -> Artist:
        """Read an artist object."""
        return cls(id=_str(obj, "id"), uri=_str(obj, "uri"), name=_str(obj, "name"))


def _artists(value: object) -> tuple[Artist, ...]:
    return tuple(Artist.from_api(a) for a in _dicts(value))


def _names(artists: tuple[Artist, ...]) -> str:
    return ", ".join(a.name for a in artists if a.name)


@dataclass(frozen=True)
class Album:
    """An album (from a simplified or full album object).

    Attributes:
        release_date: "1975-10-31", "1975-10" or "1975" as Spotify gives it, or None.
        album_type: "album", "single" or "compilation", or None when not given.
        total_tracks: Number of tracks, or None when not given.
        image_url: The cover closest to notification size (about 300 px), or None.
    """

    id: str
    uri: str
    name: str
    artists: tuple[Artist, ...] = ()
    release_date: str | None = None
    album_type: str | None = None
    total_tracks: int | None = None
    image_url: str | None = None

    @classmethod
    def from_api(cls, obj: Mapping[str, Any]) -> Album:
        """Read an album object."""
        return cls(
            id=_str(obj, "id"),
            uri=_str(obj, "uri"),
            name=_str(obj, "name"),
            artists=_artists(obj.get("artists")),
            release_date=_opt_str(obj, "release_date"),
            album_type=_opt_str(obj, "album_type"),
            total_tracks=_opt_int(obj, "total_tracks"),
            image_url=_cover(obj.get("images")),
        )

    @property
    def label(self) -> str:
        """Like "Abbey Road — The Beatles", for replies and logs."""
        names = _names(self.artists)
        return f"{self.name} — {names}" if names else self.name


@dataclass(frozen=True)
class Track:
    """A track.

    Attributes:
        id: The Spotify ID; empty for a local file in a playlist (those have no ID).
        uri: The Spotify URI (``spotify:local:...`` for local files).
        album: The album, or None when the object carried none.
    """

    id: str
    uri: str
    name: str
    artists: tuple[Artist, ...]
    album: Album | None
    duration_ms: int
    track_number: int
    explicit: bool

    @classmethod
    def from_api(cls, obj: Mapping[str, Any]) -> Track:
        """Read a track object (full or simplified)."""
        album = _dict(obj.get("album"))
        return cls(
            id=_str(obj, "id"),
            uri=_str(obj, "uri"),
            name=_str(obj, "name"),
            artists=_artists(obj.get("artists")),
            album=Album.from_api(album) if album is not None else None,
            duration_ms=_int(obj, "duration_ms"),
            track_number=_int(obj, "track_number"),
            explicit=_bool(obj, "explicit"),
        )

    @classmethod
    def maybe_from_api(cls, obj: object) -> Track | None:
        """Read a track; None for a null or an episode (player and playlist items can be either)."""
        data = _dict(obj)
        if data is None or data.get("type", "track") != "track":
            return None
        return cls.from_api(data)

    @property
    def artist_names(self) -> str:
        """The artists' names joined with commas."""
        return _names(self.artists)

    @property
    def label(self) -> str:
        """Like "Bohemian Rhapsody — Queen", for replies and logs."""
        names = self.artist_names
        return f"{self.name} — {names}" if names else self.name


@dataclass(frozen=True)
class Playlist:
    """A playlist (from a simplified or full playlist object).

    Attributes:
        public: Whether it is public; None when Spotify does not say.
        total_items: Number of items, from ``items.total`` (``tracks.total`` in older objects).
    """

    id: str
    uri: str
    name: str
    description: str
    owner_id: str
    owner_name: str
    public: bool | None
    collaborative: bool
    total_items: int

    @classmethod
    def from_api(cls, obj: Mapping[str, Any]) -> Playlist:
        """Read a playlist object."""
        owner = _dict(obj.get("owner")) or {}
        # The tracks reference moved from `tracks` to `items` in the February 2026 API.
        ref = _dict(obj.get("items")) or _dict(obj.get("tracks")) or {}
        public = obj.get("public")
        return cls(
            id=_str(obj, "id"),
            uri=_str(obj, "uri"),
            name=_str(obj, "name"),
            description=_str(obj, "description"),
            owner_id=_str(owner, "id"),
            owner_name=_str(owner, "display_name") or _str(owner, "id"),
            public=public if isinstance(public, bool) else None,
            collaborative=_bool(obj, "collaborative"),
            total_items=_int(ref, "total"),
        )


@dataclass(frozen=True)
class Device:
    """A Spotify Connect device.

    Attributes:
        id: The device ID; Spotify may give None for a device the API cannot control.
        type: "Computer", "Smartphone", "Speaker", ...
        volume_percent: 0-100, or None when the device does not report one.
    """

    id: str | None
    name: str
    type: str
    is_active: bool
    is_restricted: bool
    volume_percent: int | None
    supports_volume: bool

    @classmethod
    def from_api(cls, obj: Mapping[str, Any]) -> Device:
        """Read a device object."""
        return cls(
            id=_opt_str(obj, "id"),
            name=_str(obj, "name"),
            type=_str(obj, "type"),
            is_active=_bool(obj, "is_active"),
            is_restricted=_bool(obj, "is_restricted"),
            volume_percent=_opt_int(obj, "volume_percent"),
            supports_volume=_bool(obj, "supports_volume", default=True),
        )


@dataclass(frozen=True)
class PlaybackState:
    """What the player is doing.

    Attributes:
        device: The active device; None from ``currently-playing``, which does not name it.
        item: The current track; None when nothing plays or an episode plays.
        repeat: "off", "track" or "context".
        context_uri: The album/playlist/artist being played, or None for plain track URIs.
    """

    device: Device | None
    is_playing: bool
    item: Track | None
    progress_ms: int
    shuffle: bool
    repeat: RepeatMode
    context_uri: str | None

    @classmethod
    def from_api(cls, obj: Mapping[str, Any]) -> PlaybackState:
        """Read a currently-playing context object (``/me/player`` or ``.../currently-playing``)."""
        device = _dict(obj.get("device"))
        context = _dict(obj.get("context")) or {}
        repeat = obj.get("repeat_state")
        return cls(
            device=Device.from_api(device) if device is not None else None,
            is_playing=_bool(obj, "is_playing"),
            item=Track.maybe_from_api(obj.get("item")),
            progress_ms=_int(obj, "progress_ms"),
            shuffle=_bool(obj, "shuffle_state"),
            repeat=cast(RepeatMode, repeat) if repeat in REPEAT_MODES else "off",
            context_uri=_opt_str(context, "uri"),
        )


@dataclass(frozen=True)
class Play:
    """One entry of the recently-played history (a PlayHistoryObject).

    Attributes:
        track: The track.
        played_at: When it was played, in Unix seconds (Spotify's ``played_at``, in ms).
        context_uri: The album, playlist or artist it played in, or None.
    """

    track: Track
    played_at: float
    context_uri: str | None

    @classmethod
    def maybe_from_api(cls, obj: object) -> Play | None:
        """Read a play; None without a track or a readable ``played_at``."""
        data = _dict(obj)
        track = Track.maybe_from_api(data.get("track")) if data is not None else None
        if data is None or track is None:
            return None
        try:
            # "2026-11-03T18:01:02.123Z" (Python 3.11 reads the "Z").
            played_at = datetime.fromisoformat(_str(data, "played_at")).timestamp()
        except ValueError:
            return None
        return cls(track, played_at, _opt_str(_dict(data.get("context")) or {}, "uri"))


@dataclass(frozen=True)
class Queue:
    """The current track and what plays after it."""

    current: Track | None
    upcoming: tuple[Track, ...]

    @classmethod
    def from_api(cls, obj: Mapping[str, Any]) -> Queue:
        """Read a queue object (episodes in it are skipped)."""
        upcoming = (Track.maybe_from_api(t) for t in _dicts(obj.get("queue")))
        return cls(
            current=Track.maybe_from_api(obj.get("currently_playing")),
            upcoming=tuple(t for t in upcoming if t is not None),
        )


@dataclass(frozen=True)
class SearchResults:
    """What a search found, per kind, best first."""

    tracks: tuple[Track, ...] = ()
    albums: tuple[Album, ...] = ()
    artists: tuple[Artist, ...] = ()
    playlists: tuple[Playlist, ...] = ()

    @classmethod
    def from_api(cls, obj: Mapping[str, Any]) -> SearchResults:
        """Read a search response (a paging object per requested kind)."""

        def items(kind: str) -> Iterable[dict[str, Any]]:
            page = _dict(obj.get(kind)) or {}
            return _dicts(page.get("items"))

        tracks = (Track.maybe_from_api(t) for t in items("tracks"))
        return cls(
            tracks=tuple(t for t in tracks if t is not None),
            albums=tuple(Album.from_api(a) for a in items("albums")),
            artists=tuple(Artist.from_api(a) for a in items("artists")),
            playlists=tuple(Playlist.from_api(p) for p in items("playlists")),
        )


@dataclass(frozen=True)
class User:
    """The signed-in user.

    Attributes:
        display_name: The name Spotify shows, or None when the user set none.
    """

    id: str
    display_name: str | None

    @classmethod
    def from_api(cls, obj: Mapping[str, Any]) -> User:
        """Read a user object."""
        return cls(id=_str(obj, "id"), display_name=_opt_str(obj, "display_name"))


def playlist_item_track(obj: Mapping[str, Any]) -> Track | None:
    """The track of a playlist item object, or None for an episode or a removed track.

    Playlist item objects carry the track under ``item`` since February 2026 and under ``track``
    in older data; both are read.
    """
    inner = obj.get("item")
    if inner is None:
        inner = obj.get("track")
    return Track.maybe_from_api(inner)


def _cover(images: object) -> str | None:
    """The URL of the cover nearest 300 px wide (Spotify lists 640, 300 and 64)."""
    if not isinstance(images, list):
        return None
    found: list[tuple[int, str]] = []
    for image in images:
        if isinstance(image, dict) and isinstance(image.get("url"), str):
            width = image.get("width")
            size = width if isinstance(width, int) else 300
            found.append((abs(size - 300), image["url"]))
    return min(found)[1] if found else None

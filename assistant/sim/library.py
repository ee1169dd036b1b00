"""One user's playlists and saved items ("Your Library").

Playlists start from the catalog's seed playlists: the user's own, and every playlist owned by
someone else counts as followed. Each change to a playlist bumps its version, which its
``snapshot_id`` encodes.
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from assistant.sim.apierror import bad_request, forbidden, not_found
from assistant.sim.catalog import Catalog

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
MAX_ADD_ITEMS = 100  # POST /playlists/{id}/items takes at most 100 URIs per request.
MAX_REMOVE_ITEMS = 100
MAX_LIBRARY_URIS = 40  # PUT|DELETE /me/library and GET /me/library/contains take at most 40.
_LIBRARY_URI_TYPES = ("track", "album", "episode", "show", "audiobook", "user", "playlist")


def new_id() -> str:
    """A fresh 22-character base62 id, shaped like Spotify's."""
    return "".join(secrets.choice(_BASE62) for _ in range(22))


def iso_utc(epoch_seconds: float, *, millis: bool = False) -> str:
    """``2026-11-22T10:00:00Z`` (or ``...00.123Z`` with ``millis``) for a Unix time."""
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch_seconds))
    if millis:
        text += f".{int(epoch_seconds * 1000) % 1000:03d}"
    return text + "Z"


@dataclass
class PlaylistEntry:
    """One item of a playlist."""

    track_id: str
    added_at: str
    added_by: str


@dataclass
class Playlist:
    """A playlist as it is now."""

    id: str
    name: str
    description: str
    owner_id: str
    public: bool
    collaborative: bool
    spotify_owned: bool
    entries: list[PlaylistEntry] = field(default_factory=list)
    version: int = 1

    @property
    def uri(self) -> str:
        """The playlist's Spotify URI."""
        return f"spotify:playlist:{self.id}"

    @property
    def snapshot_id(self) -> str:
        """An opaque version id that changes with every edit."""
        raw = f"{self.version}:{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def track_ids(self) -> list[str]:
        """The ids of the items, in order."""
        return [e.track_id for e in self.entries]


def parse_uri(uri: str, kinds: Iterable[str]) -> tuple[str, str]:
    """Split ``spotify:KIND:ID`` and check the kind.

    Raises:
        ApiError: 400 when the URI is malformed or of another kind.
    """
    parts = uri.split(":")
    if len(parts) != 3 or parts[0] != "spotify" or not parts[2]:
        raise bad_request(f"Invalid URI: {uri}")
    if parts[1] not in kinds:
        raise bad_request(f"Unsupported URI type: {uri}")
    return parts[1], parts[2]


class Library:
    """The playlists one user sees and the items they saved.

    Args:
        catalog: The catalog.
        user_id: Whose library this is.
        wall_clock: Unix time source (``added_at`` dates).
    """

    def __init__(
        self, catalog: Catalog, user_id: str, wall_clock: Callable[[], float] = time.time
    ) -> None:
        self._catalog = catalog
        self.user_id = user_id
        self._wall = wall_clock
        self.playlists: dict[str, Playlist] = {}
        # The order of GET /me/playlists: the newest created or followed first.
        self.followed: list[str] = []
        self.saved: dict[str, float] = {}
        start = iso_utc(self._wall())
        for seed in catalog.playlists:
            self.playlists[seed.id] = Playlist(
                id=seed.id,
                name=seed.name,
                description=seed.description,
                owner_id=seed.owner_id,
                public=seed.public,
                collaborative=seed.collaborative,
                spotify_owned=seed.spotify_owned,
                entries=[PlaylistEntry(t, start, seed.owner_id) for t in seed.track_ids],
            )
            self.followed.append(seed.id)

    # Reading

    def my_playlists(self) -> list[Playlist]:
        """Playlists the user owns or follows, newest first."""
        return [self.playlists[p] for p in self.followed]

    def visible_playlists(self) -> list[Playlist]:
        """Playlists search can find: the user's own, followed ones and public ones."""
        mine = set(self.followed)
        return [
            p
            for p in self.playlists.values()
            if p.id in mine or p.public or p.owner_id == self.user_id
        ]

    def playlist(self, playlist_id: str, *, for_items: bool = False) -> Playlist:
        """Look a playlist up the way ``/playlists/{id}`` does.

        Args:
            playlist_id: The id.
            for_items: Whether the caller wants the items (``/playlists/{id}/items``): those are
                only given for playlists the user owns or collaborates on.

        Raises:
            ApiError: 404 unknown or Spotify-owned (closed to development-mode apps since
                February 2026); 403 items of someone else's playlist.
        """
        playlist = self.playlists.get(playlist_id)
        if playlist is None or playlist.spotify_owned:
            raise not_found("Resource not found")
        if for_items and not self.can_read_items(playlist):
            raise forbidden("Forbidden")
        return playlist

    def can_read_items(self, playlist: Playlist) -> bool:
        """Whether the user owns the playlist or collaborates on it."""
        return playlist.owner_id == self.user_id or playlist.collaborative

    def context_tracks(self, playlist_id: str) -> list[str] | None:
        """The track ids a playlist context plays (any playlist, Spotify-owned included)."""
        playlist = self.playlists.get(playlist_id)
        return None if playlist is None else playlist.track_ids()

    # Changing playlists

    def create(self, name: str, *, public: bool, collaborative: bool, description: str) -> Playlist:
        """Create an empty playlist owned by the user."""
        playlist = Playlist(
            id=new_id(),
            name=name,
            description=description,
            owner_id=self.user_id,
            public=public,
            collaborative=collaborative,
            spotify_owned=False,
        )
        self.playlists[playlist.id] = playlist
        self.followed.insert(0, playlist.id)
        return playlist

    def _editable(self, playlist_id: str) -> Playlist:
        playlist = self.playlist(playlist_id)
        if playlist.owner_id != self.user_id and not playlist.collaborative:
            raise forbidden("You cannot modify a playlist you don't own.")
        return playlist

    def change_details(
        self,
        playlist_id: str,
        *,
        name: str | None,
        public: bool | None,
        collaborative: bool | None,
        description: str | None,
    ) -> Playlist:
        """Rename a playlist or change its flags; only the owner may."""
        playlist = self.playlist(playlist_id)
        if playlist.owner_id != self.user_id:
            raise forbidden("You cannot change details of a playlist you don't own.")
        new_public = playlist.public if public is None else public
        new_collaborative = playlist.collaborative if collaborative is None else collaborative
        if new_collaborative and new_public:
            raise bad_request("Collaborative playlists can't be public.")
        if name is not None:
            if not name.strip():
                raise bad_request("Playlist name can't be empty.")
            playlist.name = name
        if description is not None:
            playlist.description = description
        playlist.public = new_public
        playlist.collaborative = new_collaborative
        playlist.version += 1
        return playlist

    def add_items(self, playlist_id: str, uris: Sequence[str], position: int | None) -> Playlist:
        """Insert tracks at ``position`` (or append).

        Raises:
            ApiError: 400 for more than 100 URIs, a bad URI or position; 403/404 as
                ``playlist``.
        """
        playlist = self._editable(playlist_id)
        if not uris:
            raise bad_request("No uris provided")
        if len(uris) > MAX_ADD_ITEMS:
            raise bad_request("You can add a maximum of 100 tracks per request.")
        track_ids = [self._track_id(uri) for uri in uris]
        if position is None:
            position = len(playlist.entries)
        if not 0 <= position <= len(playlist.entries):
            raise bad_request("Index out of bounds.")
        now = iso_utc(self._wall())
        playlist.entries[position:position] = [
            PlaylistEntry(t, now, self.user_id) for t in track_ids
        ]
        playlist.version += 1
        return playlist

    def remove_items(self, playlist_id: str, uris: Sequence[str]) -> Playlist:
        """Remove every occurrence of each URI."""
        playlist = self._editable(playlist_id)
        if not uris:
            raise bad_request("No items provided")
        if len(uris) > MAX_REMOVE_ITEMS:
            raise bad_request("You can remove a maximum of 100 tracks per request.")
        doomed = {self._track_id(uri) for uri in uris}
        playlist.entries = [e for e in playlist.entries if e.track_id not in doomed]
        playlist.version += 1
        return playlist

    def replace_items(self, playlist_id: str, uris: Sequence[str]) -> Playlist:
        """Replace all items (an empty list clears the playlist)."""
        playlist = self._editable(playlist_id)
        if len(uris) > MAX_ADD_ITEMS:
            raise bad_request("You can set a maximum of 100 tracks per request.")
        now = iso_utc(self._wall())
        playlist.entries = [PlaylistEntry(self._track_id(u), now, self.user_id) for u in uris]
        playlist.version += 1
        return playlist

    def reorder_items(
        self, playlist_id: str, range_start: int, insert_before: int, range_length: int
    ) -> Playlist:
        """Move ``range_length`` items from ``range_start`` to before ``insert_before``."""
        playlist = self._editable(playlist_id)
        size = len(playlist.entries)
        if (
            range_length < 1
            or not 0 <= range_start
            or range_start + range_length > size
            or not 0 <= insert_before <= size
        ):
            raise bad_request("Index out of bounds.")
        moved = playlist.entries[range_start : range_start + range_length]
        rest = playlist.entries[:range_start] + playlist.entries[range_start + range_length :]
        target = insert_before if insert_before <= range_start else insert_before - range_length
        playlist.entries = rest[:target] + moved + rest[target:]
        playlist.version += 1
        return playlist

    def _track_id(self, uri: str) -> str:
        kind, item_id = parse_uri(uri, ("track", "episode"))
        if kind != "track" or item_id not in self._catalog.tracks:
            raise bad_request(f"Invalid track uri: {uri}")
        return item_id

    # Saved items

    def _library_uris(self, raw: str | None, kinds: Sequence[str]) -> list[str]:
        if not raw:
            raise bad_request("Missing required parameter: uris")
        uris = [u.strip() for u in raw.split(",") if u.strip()]
        if not uris:
            raise bad_request("Missing required parameter: uris")
        if len(uris) > MAX_LIBRARY_URIS:
            raise bad_request("Too many ids requested")
        for uri in uris:
            kind, item_id = parse_uri(uri, kinds)
            known = {
                "track": self._catalog.tracks,
                "album": self._catalog.albums,
                "artist": self._catalog.artists,
                "user": self._catalog.users,
            }.get(kind)
            if kind == "playlist":
                known_playlist = item_id in self.playlists
                if not known_playlist:
                    raise bad_request(f"Invalid URI: {uri}")
            elif known is not None and item_id not in known:
                raise bad_request(f"Invalid URI: {uri}")
        return uris

    def save(self, raw_uris: str | None) -> None:
        """Save items (PUT /me/library)."""
        now = self._wall()
        for uri in self._library_uris(raw_uris, _LIBRARY_URI_TYPES):
            self.saved.setdefault(uri, now)
            if uri.startswith("spotify:playlist:"):
                playlist_id = uri.rsplit(":", 1)[1]
                if playlist_id not in self.followed:
                    self.followed.insert(0, playlist_id)

    def remove(self, raw_uris: str | None) -> None:
        """Remove saved items (DELETE /me/library)."""
        for uri in self._library_uris(raw_uris, _LIBRARY_URI_TYPES):
            self.saved.pop(uri, None)
            if uri.startswith("spotify:playlist:"):
                playlist_id = uri.rsplit(":", 1)[1]
                if playlist_id in self.followed:
                    self.followed.remove(playlist_id)

    def contains(self, raw_uris: str | None) -> list[bool]:
        """Whether each item is saved (GET /me/library/contains)."""
        uris = self._library_uris(raw_uris, (*_LIBRARY_URI_TYPES, "artist"))
        return [u in self.saved or self._follows(u) for u in uris]

    def _follows(self, uri: str) -> bool:
        return uri.startswith("spotify:playlist:") and uri.rsplit(":", 1)[1] in self.followed

    def saved_tracks(self) -> list[tuple[str, float]]:
        """Saved tracks as (track id, saved at), newest first."""
        items = [
            (uri.rsplit(":", 1)[1], at)
            for uri, at in self.saved.items()
            if uri.startswith("spotify:track:")
        ]
        return list(reversed(items))

    # Keeping the state (the demo world lives in a file between processes: sim/world_file.py)

    def to_data(self) -> dict[str, Any]:
        """The playlists, what is followed and what is saved, as JSON-ready data."""
        return {
            "playlists": [
                {
                    "id": p.id,
                    "name": p.name,
                    "description": p.description,
                    "owner_id": p.owner_id,
                    "public": p.public,
                    "collaborative": p.collaborative,
                    "spotify_owned": p.spotify_owned,
                    "version": p.version,
                    "entries": [[e.track_id, e.added_at, e.added_by] for e in p.entries],
                }
                for p in self.playlists.values()
            ],
            "followed": self.followed,
            "saved": self.saved,
        }

    def load_data(self, data: dict[str, Any]) -> None:
        """Take over the state ``to_data`` gave, in place.

        Raises:
            KeyError: A field is missing, or a track is not in this catalog.
            TypeError, ValueError: A field has the wrong shape.
        """
        playlists: dict[str, Playlist] = {}
        for item in data["playlists"]:
            entries = [PlaylistEntry(str(t), str(at), str(by)) for t, at, by in item["entries"]]
            for entry in entries:
                if entry.track_id not in self._catalog.tracks:
                    raise KeyError(f"track {entry.track_id} is not in the catalog")
            playlist = Playlist(
                id=str(item["id"]),
                name=str(item["name"]),
                description=str(item["description"]),
                owner_id=str(item["owner_id"]),
                public=bool(item["public"]),
                collaborative=bool(item["collaborative"]),
                spotify_owned=bool(item["spotify_owned"]),
                entries=entries,
                version=int(item["version"]),
            )
            playlists[playlist.id] = playlist
        followed = [str(p) for p in data["followed"]]
        if any(p not in playlists for p in followed):
            raise KeyError("a followed playlist is missing")
        self.playlists = playlists
        self.followed = followed
        self.saved = {str(uri): float(at) for uri, at in data["saved"].items()}

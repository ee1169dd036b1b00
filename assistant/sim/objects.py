"""Spotify Web API JSON objects built from the catalog and the simulator's state.

Shapes follow the OpenAPI description of the Web API as it stands after the February 2026 changes:
no ``popularity``, ``followers``, ``label`` or ``product`` data (the spec still requires a few of
them on albums, so those carry empty values), ``items`` instead of ``tracks`` on playlists and
``item`` instead of ``track`` in playlist items. Catalog objects never change, so track, album and
artist objects are built once and reused.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from assistant.sim.art import COVER_SIZE
from assistant.sim.catalog import Album, Artist, Catalog, Track, User
from assistant.sim.library import Playlist, iso_utc
from assistant.sim.player import Device, Played, PlayerState

JSON = dict[str, Any]

_OPEN_URL = "https://open.spotify.com"


class WebObjects:
    """Builds Web API objects whose ``href`` links point at ``api_url``.

    Args:
        catalog: The catalog.
        api_url: The simulator's Web API base URL (``http://127.0.0.1:PORT/v1``).
    """

    def __init__(self, catalog: Catalog, api_url: str) -> None:
        self._catalog = catalog
        self.api_url = api_url.rstrip("/")
        self._tracks: dict[str, JSON] = {}
        self._simple_tracks: dict[str, JSON] = {}
        self._simple_albums: dict[str, JSON] = {}
        self._artists: dict[str, JSON] = {}
        self._simple_artists: dict[str, JSON] = {}

    def cover_url(self, album_id: str) -> str:
        """Where the simulator serves an album's cover (``/_sim/art/ID.png``)."""
        return f"{self.api_url.removesuffix('/v1')}/_sim/art/{album_id}.png"

    def _links(self, kind: str, item_id: str, collection: str) -> JSON:
        return {
            "external_urls": {"spotify": f"{_OPEN_URL}/{kind}/{item_id}"},
            "href": f"{self.api_url}/{collection}/{item_id}",
            "id": item_id,
            "type": kind,
            "uri": f"spotify:{kind}:{item_id}",
        }

    # Artists

    def simple_artist(self, artist: Artist) -> JSON:
        """A SimplifiedArtistObject."""
        cached = self._simple_artists.get(artist.id)
        if cached is None:
            cached = {**self._links("artist", artist.id, "artists"), "name": artist.name}
            self._simple_artists[artist.id] = cached
        return cached

    def artist(self, artist: Artist) -> JSON:
        """An ArtistObject (without the removed ``followers`` and ``popularity``)."""
        cached = self._artists.get(artist.id)
        if cached is None:
            cached = {**self.simple_artist(artist), "genres": list(artist.genres), "images": []}
            self._artists[artist.id] = cached
        return cached

    def _artist_list(self, artist_ids: Sequence[str]) -> list[JSON]:
        return [self.simple_artist(self._catalog.artists[a]) for a in artist_ids]

    # Albums

    def simple_album(self, album: Album) -> JSON:
        """A SimplifiedAlbumObject."""
        cached = self._simple_albums.get(album.id)
        if cached is None:
            cached = {
                **self._links("album", album.id, "albums"),
                "album_type": album.album_type,
                "total_tracks": len(album.track_ids),
                # Removed from the live service in 2026 but still required by the spec: empty.
                "available_markets": [],
                "images": [
                    {"url": self.cover_url(album.id), "height": COVER_SIZE, "width": COVER_SIZE}
                ],
                "name": album.name,
                "release_date": album.release_date,
                "release_date_precision": album.release_date_precision,
                "artists": self._artist_list(album.artist_ids),
            }
            self._simple_albums[album.id] = cached
        return cached

    def album(self, album: Album, *, limit: int = 50) -> JSON:
        """An AlbumObject with the first page of its tracks."""
        return {
            **self.simple_album(album),
            "tracks": self.album_tracks(album, limit=limit, offset=0),
            "copyrights": [],
            "external_ids": {},
            "genres": [],
            # Removed from the live service in 2026; the spec still lists them as required.
            "label": "",
            "popularity": 0,
        }

    def album_tracks(self, album: Album, *, limit: int, offset: int) -> JSON:
        """A paging object of the album's simplified tracks."""
        ids = album.track_ids
        items = [self.simple_track(self._catalog.tracks[t]) for t in ids[offset : offset + limit]]
        return self.paging(f"/albums/{album.id}/tracks", items, len(ids), limit, offset)

    # Tracks

    def simple_track(self, track: Track) -> JSON:
        """A SimplifiedTrackObject."""
        cached = self._simple_tracks.get(track.id)
        if cached is None:
            cached = {
                **self._links("track", track.id, "tracks"),
                "artists": self._artist_list(track.artist_ids),
                "disc_number": track.disc_number,
                "duration_ms": track.duration_ms,
                "explicit": track.explicit,
                "is_local": False,
                "is_playable": True,
                "name": track.name,
                "preview_url": None,
                "track_number": track.track_number,
            }
            self._simple_tracks[track.id] = cached
        return cached

    def track(self, track: Track) -> JSON:
        """A TrackObject (without the removed ``popularity`` and ``available_markets``)."""
        cached = self._tracks.get(track.id)
        if cached is None:
            cached = {
                **self.simple_track(track),
                "album": self.simple_album(self._catalog.albums[track.album_id]),
                "external_ids": {},
            }
            self._tracks[track.id] = cached
        return cached

    def track_by_id(self, track_id: str) -> JSON:
        """The TrackObject of a catalog track id."""
        return self.track(self._catalog.tracks[track_id])

    # Users

    def public_user(self, user: User) -> JSON:
        """A PublicUserObject."""
        return {
            **self._links("user", user.id, "users"),
            "display_name": user.display_name,
            "images": [],
        }

    def private_user(self, user: User) -> JSON:
        """A PrivateUserObject for ``/me`` (without the removed country, email and product)."""
        return {**self.public_user(user), "account_id": f"acct-{user.id}"}

    def _owner(self, user_id: str) -> JSON:
        user = self._catalog.users.get(user_id)
        return {
            **self._links("user", user_id, "users"),
            "display_name": user.display_name if user else user_id,
        }

    def _added_by(self, user_id: str) -> JSON:
        return self._links("user", user_id, "users")

    # Playlists

    def _playlist_base(self, playlist: Playlist) -> JSON:
        return {
            **self._links("playlist", playlist.id, "playlists"),
            "collaborative": playlist.collaborative,
            "description": playlist.description,
            "images": [],
            "name": playlist.name,
            "owner": self._owner(playlist.owner_id),
            "public": playlist.public,
            "snapshot_id": playlist.snapshot_id,
        }

    def simple_playlist(self, playlist: Playlist) -> JSON:
        """A SimplifiedPlaylistObject; ``items`` holds the link to the items and their count."""
        return {
            **self._playlist_base(playlist),
            "items": {
                "href": f"{self.api_url}/playlists/{playlist.id}/items",
                "total": len(playlist.entries),
            },
        }

    def playlist(self, playlist: Playlist, *, with_items: bool) -> JSON:
        """A PlaylistObject; the items only for playlists the user owns or collaborates on."""
        obj = self._playlist_base(playlist)
        obj["followers"] = {"href": None, "total": 0}
        if with_items:
            obj["items"] = self.playlist_items(playlist, limit=50, offset=0)
        return obj

    def playlist_items(self, playlist: Playlist, *, limit: int, offset: int) -> JSON:
        """A paging object of PlaylistTrackObjects (``item``, not the old ``track``)."""
        entries = playlist.entries[offset : offset + limit]
        items = [
            {
                "added_at": e.added_at,
                "added_by": self._added_by(e.added_by),
                "is_local": False,
                "item": self.track_by_id(e.track_id),
            }
            for e in entries
        ]
        return self.paging(
            f"/playlists/{playlist.id}/items", items, len(playlist.entries), limit, offset
        )

    # Player

    def device(self, device: Device, *, active: bool) -> JSON:
        """A DeviceObject."""
        return {
            "id": device.id,
            "is_active": active,
            "is_private_session": False,
            "is_restricted": False,
            "name": device.name,
            "supports_volume": device.supports_volume,
            "type": device.type,
            "volume_percent": device.volume_percent,
        }

    def context(self, uri: str | None) -> JSON | None:
        """A ContextObject, or None when playing plain track URIs (as the real service does)."""
        if uri is None:
            return None
        kind, item_id = uri.split(":")[1:3]
        return {
            "type": kind,
            "href": f"{self.api_url}/{kind}s/{item_id}",
            "external_urls": {"spotify": f"{_OPEN_URL}/{kind}/{item_id}"},
            "uri": uri,
        }

    @staticmethod
    def _actions(state: PlayerState) -> JSON:
        # The live service sends {"disallows": {...}} with the actions that cannot be taken now.
        disallows = {"resuming": True} if state.is_playing else {"pausing": True}
        return {"disallows": disallows}

    def currently_playing(self, state: PlayerState) -> JSON:
        """A CurrentlyPlayingObject (needs a track)."""
        assert state.track is not None
        return {
            "context": self.context(state.context_uri),
            "timestamp": state.timestamp_ms,
            "progress_ms": state.progress_ms,
            "is_playing": state.is_playing,
            "item": self.track(state.track),
            "currently_playing_type": "track",
            "actions": self._actions(state),
        }

    def playback_state(self, state: PlayerState) -> JSON:
        """A CurrentlyPlayingContextObject (needs an active device)."""
        assert state.device is not None
        obj: JSON = {
            "device": self.device(state.device, active=True),
            "repeat_state": state.repeat,
            "shuffle_state": state.shuffle,
            "timestamp": state.timestamp_ms,
            "is_playing": state.is_playing,
            "actions": self._actions(state),
        }
        if state.track is not None:
            obj.update(self.currently_playing(state))
        return obj

    def play_history(self, played: Played) -> JSON:
        """A PlayHistoryObject."""
        return {
            "track": self.track_by_id(played.track_id),
            "played_at": iso_utc(played.played_at, millis=True),
            "context": self.context(played.context_uri),
        }

    # Paging

    def paging(
        self,
        path: str,
        items: list[JSON],
        total: int,
        limit: int,
        offset: int,
        query: dict[str, str] | None = None,
    ) -> JSON:
        """A PagingObject with ``href``, ``next`` and ``previous`` links like Spotify's."""

        def link(at: int) -> str:
            params = {**(query or {}), "offset": str(at), "limit": str(limit)}
            return f"{self.api_url}{path}?{urlencode(params)}"

        return {
            "href": link(offset),
            "items": items,
            "limit": limit,
            "next": link(offset + limit) if offset + limit < total else None,
            "offset": offset,
            "previous": link(max(0, offset - limit)) if offset > 0 else None,
            "total": total,
        }

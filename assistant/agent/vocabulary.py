"""The names a person is likely to say, to steer speech recognition towards them.

Speech recognisers get common words right and names wrong ("bogeyman rap, so did I"); given the
person's own playlist names, the artists they played lately and their device names, they get those
right far more often (see tests/voice_speech for the measured difference).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from assistant.agent.grammar import Names
from assistant.errors import SpotifyError
from assistant.spotify.client import SpotifyClient

logger = logging.getLogger(__name__)

RECENT_TRACKS = 50
SAVED_TRACKS = 50


class SpotifyVocabulary:
    """Playlist names, recently played artists and device names, most useful first.

    The names are read at most once per ``ttl`` seconds (three Spotify requests: recent plays,
    liked songs, devices; the playlist names come from the client's own cache); a part Spotify
    cannot give is left out. Called, it gives the flat list a recogniser is steered with;
    :meth:`names` gives the same names by kind (with recent and liked tracks), to fill the
    command grammar's sentences for rescoring.

    Args:
        client: The Spotify client.
        ttl: Seconds the names are reused.
        clock: Monotonic clock.
    """

    def __init__(
        self,
        client: SpotifyClient,
        *,
        ttl: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._cached: tuple[float, Names] | None = None

    def __call__(self) -> list[str]:
        """The names as one list: playlists, then artists, then devices."""
        names = self.names()
        flat = dict.fromkeys([*names.playlists, *names.artists, *names.devices])
        return [name for name in flat if name.strip()]

    def names(self) -> Names:
        """The names by kind, refreshed when older than ``ttl``."""
        with self._lock:
            cached = self._cached
            if cached is not None and self._clock() - cached[0] < self._ttl:
                return cached[1]
            names = self._read()
            self._cached = (self._clock(), names)
            return names

    def _read(self) -> Names:
        playlists: list[str] = []
        artists: dict[str, None] = {}
        tracks: dict[tuple[str, str], None] = {}
        albums: dict[str, None] = {}
        devices: list[str] = []
        try:
            playlists = [p.name for p in self._client.my_playlists() if p.name.strip()]
        except SpotifyError as err:
            logger.info("Vocabulary without playlists: %s", type(err).__name__)
        try:
            for track in self._client.recently_played(RECENT_TRACKS):
                for artist in track.artists:
                    artists.setdefault(artist.name, None)
                if track.name.strip() and track.artists:
                    tracks.setdefault((track.name, track.artists[0].name), None)
                if track.album is not None and track.album.name.strip():
                    albums.setdefault(track.album.name, None)
        except SpotifyError as err:
            logger.info("Vocabulary without recent artists: %s", type(err).__name__)
        try:
            # Liked songs name tracks for the grammar's sentences ("queue Billie Jean"); their
            # artists stay out of the recogniser's prompt, which recent plays fill.
            for track in self._client.saved_tracks(SAVED_TRACKS):
                if track.name.strip() and track.artists:
                    tracks.setdefault((track.name, track.artists[0].name), None)
                if track.album is not None and track.album.name.strip():
                    albums.setdefault(track.album.name, None)
        except SpotifyError as err:
            logger.info("Vocabulary without liked songs: %s", type(err).__name__)
        try:
            devices = [d.name for d in self._client.devices() if d.name.strip()]
        except SpotifyError as err:
            logger.info("Vocabulary without devices: %s", type(err).__name__)
        return Names(
            playlists=tuple(dict.fromkeys(playlists)),
            artists=tuple(a for a in artists if a.strip()),
            tracks=tuple(tracks),
            devices=tuple(dict.fromkeys(devices)),
            albums=tuple(albums),
        )

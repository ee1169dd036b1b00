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

from assistant.errors import SpotifyError
from assistant.spotify.client import SpotifyClient

logger = logging.getLogger(__name__)

RECENT_TRACKS = 50


class SpotifyVocabulary:
    """Playlist names, recently played artists and device names, most useful first.

    The list is read at most once per ``ttl`` seconds (three Spotify requests; the playlist
    names come from the client's own cache); a part Spotify cannot give is left out.

    Args:
        client: The Spotify client.
        ttl: Seconds the list is reused.
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
        self._cached: tuple[float, list[str]] | None = None

    def __call__(self) -> list[str]:
        """The names, refreshed when older than ``ttl``."""
        with self._lock:
            cached = self._cached
            if cached is not None and self._clock() - cached[0] < self._ttl:
                return cached[1]
            names = self._read()
            self._cached = (self._clock(), names)
            return names

    def _read(self) -> list[str]:
        names: dict[str, None] = {}
        try:
            for playlist in self._client.my_playlists():
                names.setdefault(playlist.name, None)
        except SpotifyError as err:
            logger.info("Vocabulary without playlists: %s", type(err).__name__)
        try:
            for track in self._client.recently_played(RECENT_TRACKS):
                for artist in track.artists:
                    names.setdefault(artist.name, None)
        except SpotifyError as err:
            logger.info("Vocabulary without recent artists: %s", type(err).__name__)
        try:
            for device in self._client.devices():
                names.setdefault(device.name, None)
        except SpotifyError as err:
            logger.info("Vocabulary without devices: %s", type(err).__name__)
        return [name for name in names if name.strip()]

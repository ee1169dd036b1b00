"""Ducking: Spotify plays quieter while the person speaks, and comes back afterwards."""

from __future__ import annotations

import logging
import threading

from assistant.errors import SegueError
from assistant.spotify.client import SpotifyClient

logger = logging.getLogger(__name__)


class VolumeDucker:
    """Lowers the active device's volume to a share of itself, and restores it.

    Both steps are best effort: a player that is paused, reports no volume or refuses volume
    changes is left alone, and a failure is logged, never raised, so a recording always goes on
    and ``restore`` can always be called (after an error or a cancelled recording too).

    Args:
        client: The Spotify client.
        percent: The volume while ducked, as a percent of the volume before.
    """

    def __init__(self, client: SpotifyClient, *, percent: int = 25) -> None:
        self._client = client
        self._percent = percent
        self._lock = threading.Lock()
        self._saved: tuple[str, int] | None = None

    @property
    def ducked(self) -> bool:
        """Whether a volume is waiting to be restored."""
        return self._saved is not None

    def duck(self) -> None:
        """Lower the volume of the playing device, remembering the level to restore."""
        with self._lock:
            if self._saved is not None:
                return
            try:
                state = self._client.playback()
                device = state.device if state is not None else None
                if state is None or not state.is_playing or device is None or device.id is None:
                    return
                volume = device.volume_percent
                if volume is None or volume == 0:
                    return
                quieter = volume * self._percent // 100
                self._client.set_volume(quieter, device_id=device.id)
                self._saved = (device.id, volume)
                logger.info("Ducked the volume to %d%% while recording", self._percent)
            except SegueError as err:
                logger.info("Could not duck the volume: %s", type(err).__name__)

    def restore(self) -> None:
        """Put back the volume from before :meth:`duck`; nothing happens when none is saved."""
        with self._lock:
            saved, self._saved = self._saved, None
            if saved is None:
                return
            device_id, volume = saved
            try:
                self._client.set_volume(volume, device_id=device_id)
                logger.info("Restored the volume after recording")
            except SegueError as err:
                logger.warning("Could not restore the volume: %s", type(err).__name__)

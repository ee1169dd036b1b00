"""Ducking: Spotify plays quieter while the person speaks, and comes back afterwards.

:class:`VolumeDucker` is also the one place that decides which volume a volume command acts on.
Ducking runs on the desktop's audio side while queued commands run on the jobs worker, so a
command may run while the music is ducked: it must read and change the person's volume (the one
ducking saved), not the ducked one, and the restore must put back what the person chose last.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from assistant.errors import SegueError
from assistant.spotify.client import SpotifyClient

logger = logging.getLogger(__name__)

RESTORED_KNOWN_S = 3.0
"""For this long after a restore, the volume it put back is the person's volume without asking
Spotify again. A spoken command runs right after its recording's restore (the words are
transcribed meanwhile, well within this); "volume 30" then sends its one request, not a read
first (which "undo" needs) and then the change. Longer, the person might have moved the slider
in Spotify's app, and "louder" would start from a stale level."""


class VolumeDucker:
    """Lowers the active device's volume to a share of itself, and restores it.

    Both steps are best effort: a player that is paused, reports no volume or refuses volume
    changes is left alone, and a failure is logged, never raised, so a recording always goes on
    and ``restore`` can always be called (after an error or a cancelled recording too).

    Volume commands go through :meth:`person_volume` and :meth:`set_person_volume`, so "louder",
    "volume 30" and "mute" mean the same while the music is ducked as after.

    Args:
        client: The Spotify client.
        percent: The volume while ducked, as a percent of the volume before.
        clock: Monotonic clock for :data:`RESTORED_KNOWN_S`.
    """

    def __init__(
        self,
        client: SpotifyClient,
        *,
        percent: int = 25,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._percent = percent
        self._clock = clock
        # The volume the last restore put back, and when (see RESTORED_KNOWN_S).
        self._restored: tuple[int, float] | None = None
        # One lock over duck, restore and every volume command's read and write: none of them
        # reads a volume another is about to change (they run on different threads).
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
                self._client.set_volume(self._quieter(volume), device_id=device.id)
                self._saved = (device.id, volume)
                logger.info("Ducked the volume to %d%% while recording", self._percent)
            except SegueError as err:
                logger.info("Could not duck the volume: %s", type(err).__name__)

    def restore(self) -> None:
        """Put back the person's volume; nothing happens when none is saved."""
        with self._lock:
            saved, self._saved = self._saved, None
            if saved is None:
                return
            device_id, volume = saved
            try:
                self._client.set_volume(volume, device_id=device_id)
                self._restored = (volume, self._clock())
                logger.info("Restored the volume after recording")
            except SegueError as err:
                logger.warning("Could not restore the volume: %s", type(err).__name__)

    def person_volume(self, read: Callable[[], int]) -> int:
        """The volume the person chose, read from Spotify only when Segue does not know it.

        Known: the one saved while ducked, or the one a restore put back within
        :data:`RESTORED_KNOWN_S`.

        Args:
            read: Reads the active device's volume from Spotify (raising when there is none).
        """
        with self._lock:
            if self._saved is not None:
                return self._saved[1]
            restored = self._restored
            if restored is not None and 0 <= self._clock() - restored[1] < RESTORED_KNOWN_S:
                return restored[0]
            return read()

    def set_person_volume(self, level: int) -> None:
        """Set the person's volume (0-100).

        While ducked, ``level`` becomes the volume the restore puts back, and the device plays
        at the ducked share of it meanwhile; otherwise the active device is set to it.

        Raises:
            SegueError: Spotify refused or failed (as ``SpotifyClient.set_volume``).
        """
        with self._lock:
            self._restored = None  # the level is the person's now, and may be refused
            if self._saved is None:
                self._client.set_volume(level)
                return
            device_id = self._saved[0]
            self._client.set_volume(self._quieter(level), device_id=device_id)
            self._saved = (device_id, level)

    def _quieter(self, volume: int) -> int:
        return volume * self._percent // 100

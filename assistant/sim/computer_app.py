"""The simulated Spotify desktop app on the "Computer" device, for its local interfaces.

The app acts on the same player state the Web API serves, as the real app does: a pause here is
what ``GET /me/player`` reports next, and a Web API command shows here at once. Pressing play in
the app makes the Computer the active device. Commands the state does not allow (pause while
paused, a skip with nothing loaded) are ignored, as media keys are.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from assistant.sim.apierror import ApiError
from assistant.sim.catalog import Catalog, Track
from assistant.sim.player import Device, Player

PlaybackStatus = str  # "Playing", "Paused" or "Stopped", as MPRIS says it


@dataclass(frozen=True)
class AppView:
    """What the app shows.

    Attributes:
        status: "Playing" (the Computer is the active device and plays), "Paused" (a track is
            loaded) or "Stopped" (nothing is).
        track: The loaded track.
        album: Its album's name.
        artists: Its artists' names.
        art_url: Its cover's URL, when the simulator serves one.
        position_ms: Progress into it.
        shuffle: Shuffle on.
        repeat: "off", "track" or "context".
        volume_percent: The Computer's volume.
    """

    status: PlaybackStatus
    track: Track | None
    album: str
    artists: tuple[str, ...]
    art_url: str | None
    position_ms: int
    shuffle: bool
    repeat: str
    volume_percent: int


class ComputerApp:
    """The desktop app on the Computer device, over one user's shared player state.

    Args:
        player: The user's player.
        catalog: The catalog (names for the view).
        lock: The simulator's lock, held around every read and change.
        art_url: The cover URL of an album id; None for none.
    """

    def __init__(
        self,
        player: Player,
        catalog: Catalog,
        lock: threading.RLock,
        *,
        art_url: Callable[[str], str] | None = None,
    ) -> None:
        self._player = player
        self._catalog = catalog
        self._lock = lock
        self._art_url = art_url
        self.calls = 0

    def _computer(self) -> Device:
        return self._player.device_named("Computer")

    def view(self) -> AppView:
        """What the app shows now."""
        with self._lock:
            state = self._player.state()
            computer = self._computer()
            here = state.device is not None and state.device.id == computer.id
            track = state.track
            if track is None:
                status = "Stopped"
            elif here and state.is_playing:
                status = "Playing"
            else:
                status = "Paused"
            album = self._catalog.albums.get(track.album_id) if track is not None else None
            artists = (
                tuple(
                    self._catalog.artists[a].name
                    for a in track.artist_ids
                    if a in self._catalog.artists
                )
                if track is not None
                else ()
            )
            return AppView(
                status=status,
                track=track,
                album=album.name if album is not None else "",
                artists=artists,
                art_url=self._art_url(album.id) if album is not None and self._art_url else None,
                position_ms=state.progress_ms if track is not None else 0,
                shuffle=state.shuffle,
                repeat=state.repeat,
                volume_percent=computer.volume_percent,
            )

    def play(self) -> None:
        """Play: resume what is loaded, here (the Computer becomes the active device)."""
        self._act(
            lambda p, d: p.play(d, context_uri=None, uris=None, offset=None, position_ms=None)
        )

    def pause(self) -> None:
        """Pause, when playing here."""
        if self.view().status == "Playing":
            self._act(lambda p, d: p.pause(d))

    def play_pause(self) -> None:
        """Pause when playing here, else play."""
        if self.view().status == "Playing":
            self.pause()
        else:
            self.play()

    def next(self) -> None:
        """Skip to the next track."""
        self._act(lambda p, d: p.next(d))

    def previous(self) -> None:
        """Back to the previous track."""
        self._act(lambda p, d: p.previous(d))

    def seek_by(self, offset_ms: int) -> None:
        """Move by ``offset_ms`` (past the end goes to the next track, before 0 to 0)."""
        with self._lock:
            position = self._player.progress_ms()
        self._act(lambda p, d: p.seek(d, max(0, position + offset_ms)))

    def set_position(self, track_id: str, position_ms: int) -> None:
        """Go to ``position_ms`` in the current track, if ``track_id`` is still the current one."""
        with self._lock:
            if self._player.track_id != track_id or position_ms < 0:
                return  # stale (the track changed meanwhile) or out of range: ignored
        self._act(lambda p, d: p.seek(d, position_ms))

    def open_uri(self, uri: str) -> None:
        """Play a ``spotify:`` URI: a track alone, or an album, playlist or artist."""
        parts = uri.split(":")
        if len(parts) != 3 or parts[0] != "spotify":
            raise ValueError(f"not a Spotify URI: {uri!r}")
        if parts[1] == "track":
            self._act(
                lambda p, d: p.play(d, context_uri=None, uris=[uri], offset=None, position_ms=None)
            )
        else:
            self._act(
                lambda p, d: p.play(d, context_uri=uri, uris=None, offset=None, position_ms=None)
            )

    def set_shuffle(self, on: bool) -> None:
        """Turn shuffle on or off."""
        self._act(lambda p, d: p.set_shuffle(d, on))

    def set_repeat(self, mode: str) -> None:
        """Set "off", "track" or "context"."""
        self._act(lambda p, d: p.set_repeat(d, mode))

    def _act(self, command: Callable[[Player, str], None]) -> None:
        with self._lock:
            self.calls += 1
            try:
                command(self._player, self._computer().id)
            except ApiError:
                pass  # not possible in this state: the app ignores it, as media keys are

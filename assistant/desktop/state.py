"""What Segue shows: the state of the tray icon, and what plays."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.spotify.models import PlaybackState


class UiState(enum.Enum):
    """What Segue is doing right now, as the tray icon and its tooltip show it."""

    IDLE = "idle"
    LISTENING = "listening"
    THINKING = "thinking"
    SPEAKING = "speaking"
    ERROR = "error"

    @property
    def label(self) -> str:
        """A short human word for the tooltip ("Listening")."""
        return _LABELS[self]


_LABELS = {
    UiState.IDLE: "Ready",
    UiState.LISTENING: "Listening",
    UiState.THINKING: "Thinking",
    UiState.SPEAKING: "Speaking",
    UiState.ERROR: "Something went wrong",
}


@dataclass(frozen=True)
class NowPlaying:
    """What plays now: the tray's label, the popup's card, a notification's title and picture.

    Attributes:
        text: One line, "Creep — Radiohead".
        image_url: The album art.
        title: The track's title ("" when only ``text`` is known).
        artist: Its artists.
        album: Its album.
        progress_ms: Where it was when read.
        duration_ms: Its length (0: unknown).
        is_playing: False when paused.
        device: Where it plays, as people say it ("this computer", "Pixel 8"); "" unknown.
    """

    text: str
    image_url: str | None = None
    title: str = ""
    artist: str = ""
    album: str = ""
    progress_ms: int = 0
    duration_ms: int = 0
    is_playing: bool = True
    device: str = ""

    @classmethod
    def of(cls, state: PlaybackState | None, *, device: str = "") -> NowPlaying | None:
        """What a playback state says plays (on ``device``); None when no track is current."""
        if state is None or state.item is None:
            return None
        track, album = state.item, state.item.album
        return cls(
            track.label,
            album.image_url if album is not None else None,
            title=track.name,
            artist=track.artist_names,
            album=album.name if album is not None else "",
            progress_ms=state.progress_ms,
            duration_ms=track.duration_ms,
            is_playing=state.is_playing,
            device=device,
        )

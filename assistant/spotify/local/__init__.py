"""This computer's Spotify app, driven directly instead of through Spotify's cloud.

One interface, :class:`LocalApp`, over three platform mechanisms:

- Linux: the app's MPRIS 2 player on the session bus (:mod:`.mpris`, over jeepney);
- macOS: the app's AppleScript dictionary through ``osascript`` (:mod:`.applescript`);
- Windows: the system media session (:mod:`.media_session`, over PyWinRT).

A local command takes milliseconds and no network, and works while the Web API is down or
rate-limited; each mechanism offers only some commands (:attr:`LocalApp.commands`). Which command
goes where is decided in one place, :class:`assistant.spotify.control.PlayerControl`.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Literal, Protocol, get_args

from assistant.spotify.models import RepeatMode

Command = Literal[
    "play",
    "pause",
    "next",
    "previous",
    "seek",
    "shuffle",
    "repeat_off",
    "repeat_track",
    "repeat_context",
    "open_uri",
    "volume",
]
"""A command a local interface may offer (``repeat_*`` per repeat mode)."""

LocalState = Literal["playing", "paused", "stopped"]

# Every command but opening a URI and the volume (which the real app ignores over MPRIS).
TRANSPORT: frozenset[Command] = frozenset(get_args(Command)) - {"open_uri", "volume"}
"""The transport commands every local interface offers, as far as the app lets it."""

REPEAT_COMMANDS: dict[RepeatMode, Command] = {
    "off": "repeat_off",
    "track": "repeat_track",
    "context": "repeat_context",
}


@dataclass(frozen=True)
class LocalTrack:
    """The track the local app has loaded, as far as its interface tells.

    Attributes:
        uri: ``spotify:track:ID``; None where the interface does not give it (Windows).
        title: The track's name.
        artists: Its artists' names.
        album: Its album's name; empty when not given.
        duration_ms: Its length; None when not given.
        art_url: The cover image's URL, when given.
    """

    uri: str | None
    title: str
    artists: tuple[str, ...] = ()
    album: str = ""
    duration_ms: int | None = None
    art_url: str | None = None


@dataclass(frozen=True)
class LocalStatus:
    """What the local app is doing.

    Attributes:
        state: "playing", "paused" or "stopped" (nothing loaded).
        track: The loaded track, or None.
        position_ms: Progress into the track; None when not given.
        shuffle: Whether shuffle is on; None when not given.
        repeat: The repeat mode; None when not given.
        volume_percent: The app's own volume 0-100; None when not given (or, as with MPRIS,
            not to be trusted).
    """

    state: LocalState
    track: LocalTrack | None = None
    position_ms: int | None = None
    shuffle: bool | None = None
    repeat: RepeatMode | None = None
    volume_percent: int | None = None


class LocalApp(Protocol):
    """This computer's Spotify app, through its platform's local interface.

    Every method raises :class:`~assistant.errors.LocalAppUnavailable` when the app is not
    running or does not answer; commands not in :attr:`commands` must not be called.
    """

    name: str
    """The mechanism, for logs and ``segue doctor``: "MPRIS", "AppleScript", ..."""

    commands: frozenset[Command]
    """The commands this interface carries out."""

    def status(self) -> LocalStatus:
        """What the app is doing now."""
        ...

    def play(self) -> None:
        """Start or resume playback."""
        ...

    def pause(self) -> None:
        """Pause playback."""
        ...

    def next_track(self) -> None:
        """Skip to the next track."""
        ...

    def previous_track(self) -> None:
        """Go back to the previous track."""
        ...

    def seek(self, position_ms: int) -> None:
        """Jump to a position in the current track."""
        ...

    def set_shuffle(self, on: bool) -> None:
        """Turn shuffle on or off."""
        ...

    def set_repeat(self, mode: RepeatMode) -> None:
        """Set the repeat mode."""
        ...

    def open_uri(self, uri: str) -> None:
        """Play a ``spotify:`` URI (a track, album, playlist or artist)."""
        ...

    def set_volume(self, percent: int) -> None:
        """Set the app's own volume, 0-100."""
        ...

    def close(self) -> None:
        """Release the connection, if one is kept."""
        ...


def local_app_for(platform: str | None = None) -> LocalApp | None:
    """The local interface of this platform, or None where there is none.

    Nothing connects here: the interface reaches the app on its first call.

    Args:
        platform: ``sys.platform`` to build for (default: this one).
    """
    platform = sys.platform if platform is None else platform
    if platform == "darwin":
        from assistant.spotify.local.applescript import AppleScriptApp

        return AppleScriptApp()
    if platform == "win32":
        from assistant.spotify.local.media_session import WindowsMediaSession

        return WindowsMediaSession()
    if platform.startswith(("linux", "freebsd", "openbsd")):
        from assistant.spotify.local.mpris import MprisApp

        return MprisApp()
    return None

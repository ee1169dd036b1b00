"""Windows: the Spotify app's system media session (System Media Transport Controls).

Windows lists the media sessions of running apps in
``GlobalSystemMediaTransportControlsSessionManager``; the Spotify app's is the one whose app id
names Spotify ("Spotify.exe" for the installer's version, "SpotifyAB.SpotifyMusic_...!Spotify"
from the Store). A session gives play, pause, next and previous, the title, artists and album,
the timeline, and, where the app allows it, seeking, shuffle and repeat: each ``try_*`` call says
whether the app took it. It never gives the track's Spotify URI.

PyWinRT (the ``winrt-*`` packages) is imported on first use, so this module loads anywhere; its
calls are awaitables, each run here on a short-lived event loop.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, TypeVar

from assistant.errors import LocalAppUnavailable
from assistant.spotify.local import TRANSPORT, Command, LocalState, LocalStatus, LocalTrack
from assistant.spotify.models import RepeatMode

logger = logging.getLogger(__name__)

T = TypeVar("T")

# GlobalSystemMediaTransportControlsSessionPlaybackStatus: Closed 0, Opened 1, Changing 2,
# Stopped 3, Playing 4, Paused 5. Changing (between two tracks) counts as playing: the app is busy
# playing here.
STATE_BY_PLAYBACK_STATUS: Mapping[int, LocalState] = {
    0: "stopped",
    1: "stopped",
    2: "playing",
    3: "stopped",
    4: "playing",
    5: "paused",
}
# MediaPlaybackAutoRepeatMode: None 0, Track 1, List 2.
AUTO_REPEAT_BY_MODE: Mapping[RepeatMode, int] = {"off": 0, "track": 1, "context": 2}
MODE_BY_AUTO_REPEAT: Mapping[int, RepeatMode] = {v: k for k, v in AUTO_REPEAT_BY_MODE.items()}
TICKS_PER_MS = 10_000  # Windows TimeSpan ticks are 100 ns

SessionSource = Callable[[], Awaitable[Iterable[Any]]]
"""Returns the media sessions Windows lists now."""


async def system_sessions() -> Iterable[Any]:
    """The media sessions of the running apps, from PyWinRT.

    Raises:
        ImportError: PyWinRT's media control package is not installed (not on Windows).
    """
    from winrt.windows.media.control import (  # type: ignore[import-not-found,unused-ignore]
        GlobalSystemMediaTransportControlsSessionManager as Manager,
    )

    manager = await Manager.request_async()
    return list(manager.get_sessions())


def is_spotify_session(session: Any) -> bool:
    """Whether a media session belongs to the Spotify app (by its app user model id)."""
    app_id = getattr(session, "source_app_user_model_id", "") or ""
    return "spotify" in str(app_id).casefold()


class WindowsMediaSession:
    """The Spotify app's media session on Windows.

    Args:
        sessions: Lists the media sessions (injectable; PyWinRT's manager by default).
    """

    name = "Windows media session"
    # Every transport command is tried; the app may refuse one (its try_* call answers false),
    # and the Web API then does it. No URI to open, no volume.
    commands: frozenset[Command] = TRANSPORT

    def __init__(self, *, sessions: SessionSource = system_sessions) -> None:
        self._sessions = sessions

    def status(self) -> LocalStatus:
        """Playback info, timeline and media properties of Spotify's session."""

        async def read() -> LocalStatus:
            session = await self._session()
            properties = await session.try_get_media_properties_async()
            return parse_session(
                session.get_playback_info(), session.get_timeline_properties(), properties
            )

        return self._run(read)

    def play(self) -> None:
        """``try_play_async``."""
        self._try("play", lambda s: s.try_play_async())

    def pause(self) -> None:
        """``try_pause_async``."""
        self._try("pause", lambda s: s.try_pause_async())

    def next_track(self) -> None:
        """``try_skip_next_async``."""
        self._try("next", lambda s: s.try_skip_next_async())

    def previous_track(self) -> None:
        """``try_skip_previous_async``."""
        self._try("previous", lambda s: s.try_skip_previous_async())

    def seek(self, position_ms: int) -> None:
        """``try_change_playback_position_async`` in 100 ns ticks."""
        ticks = max(0, int(position_ms)) * TICKS_PER_MS
        self._try("seek", lambda s: s.try_change_playback_position_async(ticks))

    def set_shuffle(self, on: bool) -> None:
        """``try_change_shuffle_active_async``."""
        self._try("shuffle", lambda s: s.try_change_shuffle_active_async(bool(on)))

    def set_repeat(self, mode: RepeatMode) -> None:
        """``try_change_auto_repeat_mode_async`` (None, Track or List)."""
        value = AUTO_REPEAT_BY_MODE[mode]

        def change(session: Any) -> Awaitable[bool]:
            from winrt.windows.media import (  # type: ignore[import-not-found,unused-ignore]
                MediaPlaybackAutoRepeatMode,
            )

            changed: Awaitable[bool] = session.try_change_auto_repeat_mode_async(
                MediaPlaybackAutoRepeatMode(value)
            )
            return changed

        self._try("repeat", change)

    def open_uri(self, uri: str) -> None:
        """Not offered: a media session cannot be told what to play."""
        raise LocalAppUnavailable("The Windows media session cannot open a Spotify link.")

    def set_volume(self, percent: int) -> None:
        """Not offered: a media session has no volume."""
        raise LocalAppUnavailable("The Windows media session has no volume.")

    def close(self) -> None:
        """Nothing kept open."""

    async def _session(self) -> Any:
        for session in await self._sessions():
            if is_spotify_session(session):
                return session
        raise LocalAppUnavailable("Spotify is not running on this computer.")

    def _try(self, what: str, call: Callable[[Any], Awaitable[bool]]) -> None:
        async def attempt() -> bool:
            return bool(await call(await self._session()))

        if not self._run(attempt):
            # The app refused (it does not allow this command now): the Web API may.
            raise LocalAppUnavailable(f"Spotify's media session refused {what}.")

    def _run(self, job: Callable[[], Awaitable[T]]) -> T:
        async def main() -> T:
            return await job()

        try:
            return asyncio.run(main())
        except LocalAppUnavailable:
            raise
        except (ImportError, OSError, RuntimeError) as err:
            # No PyWinRT (not Windows), or a Windows Runtime call failed (it raises OSError).
            logger.info("The Windows media session failed: %s", type(err).__name__)
            raise LocalAppUnavailable() from err


def parse_session(playback_info: Any, timeline: Any, properties: Any) -> LocalStatus:
    """The status a session's playback info, timeline and media properties describe.

    Args:
        playback_info: ``get_playback_info()``: ``playback_status``, ``is_shuffle_active``,
            ``auto_repeat_mode``.
        timeline: ``get_timeline_properties()``: ``position`` and ``end_time`` (timedeltas).
        properties: ``try_get_media_properties_async()``: ``title``, ``artist``,
            ``album_title``; None when the app gave none.
    """
    state = STATE_BY_PLAYBACK_STATUS.get(
        _int(getattr(playback_info, "playback_status", 0)), "stopped"
    )
    title = str(getattr(properties, "title", "") or "") if properties is not None else ""
    track = None
    if title:
        artist = str(getattr(properties, "artist", "") or "")
        track = LocalTrack(
            uri=None,
            title=title,
            artists=(artist,) if artist else (),
            album=str(getattr(properties, "album_title", "") or ""),
            duration_ms=_ms(getattr(timeline, "end_time", None)),
        )
    shuffle = getattr(playback_info, "is_shuffle_active", None)
    repeat = getattr(playback_info, "auto_repeat_mode", None)
    return LocalStatus(
        state=state if track is not None else "stopped",
        track=track,
        position_ms=_ms(getattr(timeline, "position", None)),
        shuffle=shuffle if isinstance(shuffle, bool) else None,
        repeat=MODE_BY_AUTO_REPEAT.get(_int(repeat)) if repeat is not None else None,
    )


def _int(value: object) -> int:
    # PyWinRT's enums are IntEnums.
    return value if isinstance(value, int) else -1


def _ms(value: object) -> int | None:
    if isinstance(value, datetime.timedelta):
        ms = int(value.total_seconds() * 1000)
        return ms if ms >= 0 else None
    return None

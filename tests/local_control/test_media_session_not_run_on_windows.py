"""Windows local control, as far as Linux reaches: finding Spotify's session, reading it, refusals.

NOT RUN ON WINDOWS: PyWinRT and the system media sessions exist only there. The session list is
the seam: stand-ins shaped like PyWinRT's objects (snake_case attributes, awaitable ``try_*``
calls, IntEnum statuses, timedelta timeline) take its place.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from types import SimpleNamespace
from typing import Any

import pytest

from assistant.errors import LocalAppUnavailable
from assistant.sim import SimulatedSpotify
from assistant.spotify.client import SpotifyClient
from assistant.spotify.control import PlayerControl
from assistant.spotify.devices import LocalPlayer
from assistant.spotify.local.media_session import (
    WindowsMediaSession,
    is_spotify_session,
    parse_session,
)
from tests.local_control.conftest import play_on_computer, player_requests

PLAYING, PAUSED = 4, 5  # GlobalSystemMediaTransportControlsSessionPlaybackStatus
REPEAT_TRACK = 1  # MediaPlaybackAutoRepeatMode.Track


class Session:
    """A stand-in for one GlobalSystemMediaTransportControlsSession."""

    def __init__(self, app_id: str, *, status: int = PLAYING, accepts: bool = True) -> None:
        self.source_app_user_model_id = app_id
        self.status = status
        self.accepts = accepts
        self.calls: list[str] = []

    def get_playback_info(self) -> SimpleNamespace:
        return SimpleNamespace(
            playback_status=self.status, is_shuffle_active=True, auto_repeat_mode=REPEAT_TRACK
        )

    def get_timeline_properties(self) -> SimpleNamespace:
        return SimpleNamespace(
            position=datetime.timedelta(seconds=42.5), end_time=datetime.timedelta(minutes=3)
        )

    async def try_get_media_properties_async(self) -> SimpleNamespace:
        return SimpleNamespace(title="Heroes", artist="David Bowie", album_title='"Heroes"')

    def __getattr__(self, name: str) -> Any:
        if not name.startswith("try_"):
            raise AttributeError(name)

        async def call(*args: object) -> bool:
            self.calls.append(name if not args else f"{name}{args}")
            return self.accepts

        return call


def sessions_of(*sessions: Session) -> Any:
    async def listed() -> Iterable[Session]:
        return list(sessions)

    return listed


def test_spotify_session_is_found_by_its_app_id_not_run_on_windows() -> None:
    assert is_spotify_session(SimpleNamespace(source_app_user_model_id="Spotify.exe"))
    store_id = "SpotifyAB.SpotifyMusic_zpdnekdrzrea0!Spotify"
    assert is_spotify_session(SimpleNamespace(source_app_user_model_id=store_id))
    assert not is_spotify_session(SimpleNamespace(source_app_user_model_id="Chrome"))


def test_status_from_playback_info_timeline_and_properties_not_run_on_windows() -> None:
    browser, spotify = Session("Chrome", status=PAUSED), Session("Spotify.exe")

    status = WindowsMediaSession(sessions=sessions_of(browser, spotify)).status()

    assert status.state == "playing"
    assert status.track is not None
    assert (status.track.title, status.track.artists, status.track.album) == (
        "Heroes",
        ("David Bowie",),
        '"Heroes"',
    )
    assert status.track.uri is None  # a media session never names the Spotify track
    assert (status.position_ms, status.track.duration_ms) == (42_500, 180_000)
    assert (status.shuffle, status.repeat) == (True, "track")


def test_commands_go_to_spotifys_session_only_not_run_on_windows() -> None:
    browser, spotify = Session("Chrome"), Session("Spotify.exe")
    local = WindowsMediaSession(sessions=sessions_of(browser, spotify))

    local.pause()
    local.next_track()
    local.previous_track()
    local.seek(1500)
    local.set_shuffle(False)

    assert browser.calls == []
    assert spotify.calls == [
        "try_pause_async",
        "try_skip_next_async",
        "try_skip_previous_async",
        "try_change_playback_position_async(15000000,)",  # 100 ns ticks
        "try_change_shuffle_active_async(False,)",
    ]


def test_refusals_and_absence_are_unavailable_not_run_on_windows() -> None:
    with pytest.raises(LocalAppUnavailable, match="refused"):
        WindowsMediaSession(sessions=sessions_of(Session("Spotify.exe", accepts=False))).pause()
    with pytest.raises(LocalAppUnavailable, match="not running"):
        WindowsMediaSession(sessions=sessions_of(Session("Chrome"))).status()
    with pytest.raises(LocalAppUnavailable):
        # The real session list needs PyWinRT, which only Windows has: here it fails to import.
        WindowsMediaSession().status()


def test_a_refused_command_goes_to_the_web_api_not_run_on_windows(
    sim: SimulatedSpotify, client: SpotifyClient, player: LocalPlayer
) -> None:
    play_on_computer(sim, client)
    session = Session("Spotify.exe", accepts=False)
    control = PlayerControl(client, player, WindowsMediaSession(sessions=sessions_of(session)))
    start = len(sim.exchanges)

    assert control.seek(30_000) == "web"

    assert session.calls == ["try_change_playback_position_async(300000000,)"]
    assert player_requests(sim, start) == ["PUT /v1/me/player/seek 204"]
    assert parse_session(SimpleNamespace(), SimpleNamespace(), None).state == "stopped"

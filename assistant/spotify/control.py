"""PlayerControl: the one place that decides where a player command goes, app or Web API.

A command goes either to this computer's Spotify app (through its local interface) or to the Web
API.

The policy, command by command::

    pause                        local when the local app is playing; else the Web API (another
                                 device may be playing), then local
    resume, next, previous,      local when the local app is the active player: playing now, or
    seek, shuffle, repeat,       seen playing or driven by Segue within LOCAL_ACTIVE_SECONDS and
    what's playing               not seen elsewhere since; else the Web API, then local
    play a found item            the Web API (context and offset, other devices), then the local
                                 app's "open URI"
    search, playlists, library,  the Web API only (not here: the tools call the client);
    devices, queue, volume       MPRIS's Volume is ignored by Spotify's Linux app

The constraint behind it: Spotify Connect has one active device at a time. The local interface
sees only this computer's app, which cannot say whether, paused, it is still the active device (a
phone may have taken over); the Web API knows, but costs a round trip and may be down or
rate-limited. So a playing app is driven directly, a paused one only while Segue has reason to
think it is still the active one, and everything else asks the Web API first.

"Then local" means: when the Web API fails in a way the local app does not (down, slow,
rate-limited, no Premium, not signed in, no device active), and the local app is running and can
do the command, it does it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Literal, TypeVar

from assistant.errors import (
    LocalAppUnavailable,
    NoDevice,
    NotSignedIn,
    PremiumRequired,
    RateLimited,
    SignInExpired,
    SpotifyUnavailable,
)
from assistant.spotify.client import SpotifyClient
from assistant.spotify.devices import LocalPlayer
from assistant.spotify.local import REPEAT_COMMANDS, Command, LocalApp, LocalStatus
from assistant.spotify.models import Album, Artist, Device, PlaybackState, RepeatMode, Track

logger = logging.getLogger(__name__)

T = TypeVar("T")

Route = Literal["local", "web"]

LOCAL_ACTIVE_SECONDS = 600.0
"""How long the local app counts as the active player after Segue last saw it playing or drove
it. Spotify Connect has one active device, and the local interfaces cannot tell whether a paused
app is still it: after this long, someone may have moved playback to a phone, so the Web API
(which knows) is asked first."""

SKIP_SETTLE_SECONDS = 0.5
SKIP_POLL_SECONDS = 0.02
"""After a local skip, the app's metadata changes a moment later: how long (and how often) to
look for the new track before answering with whatever it shows."""

WEB_FAILURES_LOCAL_SURVIVES: tuple[type[Exception], ...] = (
    SpotifyUnavailable,  # 5xx, timeouts, no connection
    RateLimited,  # 429, with or without Retry-After
    PremiumRequired,  # player endpoints need Premium; the app's own controls do not
    NotSignedIn,
    SignInExpired,
    NoDevice,  # no device active: the app here can become the active one
)
"""Web API failures after which the local app is tried: it needs no network, sign-in or
Premium."""


class PlayerControl:
    """Transport commands and "what's playing", local first when this computer's app plays.

    Args:
        client: The Web API client.
        player: The Web API's recovery when no device is active (it starts this computer's app);
            used when there is no local app to turn to.
        local: This computer's Spotify app through its local interface; None for the Web API only.
        this_computer: How "what's playing" names this computer when the local app answers.
        clock: Monotonic clock for :data:`LOCAL_ACTIVE_SECONDS`.
        sleep: Waits while a local skip settles.

    Attributes:
        last_route: Where the last command went, "local" or "web" (for logs, tests and the
            benchmarks).
    """

    def __init__(
        self,
        client: SpotifyClient,
        player: LocalPlayer,
        local: LocalApp | None = None,
        *,
        this_computer: str = "this computer",
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self._player = player
        self._local = local
        self._this_computer = this_computer
        self._clock = clock
        self._sleep = sleep
        self._local_active_until = float("-inf")
        self.last_route: Route | None = None

    @property
    def local(self) -> LocalApp | None:
        """The local interface, if any."""
        return self._local

    # --- commands ------------------------------------------------------------------------------

    def pause(self) -> Route:
        """Pause.

        Raises:
            NoDevice: No device is active and there is no local app (nothing plays).
        """
        return self._route(
            "pause",
            lambda app: app.pause(),
            self._client.pause,
            local_first=lambda status: status.state == "playing",
            recover=False,
        )

    def resume(self) -> Route:
        """Resume on the active device (or this computer)."""
        return self._route("play", lambda app: app.play(), lambda: self._client.resume())

    def next_track(self) -> Route:
        """Skip to the next track."""
        return self._skip("next", lambda app: app.next_track(), self._client.next_track)

    def previous_track(self) -> Route:
        """Go back to the previous track."""
        return self._skip("previous", lambda app: app.previous_track(), self._client.previous_track)

    def seek(self, position_ms: int) -> Route:
        """Jump to a position in the current track.

        Args:
            position_ms: Milliseconds from the start.
        """
        return self._route(
            "seek", lambda app: app.seek(position_ms), lambda: self._client.seek(position_ms)
        )

    def set_shuffle(self, on: bool) -> Route:
        """Turn shuffle on or off."""
        return self._route(
            "shuffle", lambda app: app.set_shuffle(on), lambda: self._client.set_shuffle(on)
        )

    def set_repeat(self, mode: RepeatMode) -> Route:
        """Set the repeat mode."""
        return self._route(
            REPEAT_COMMANDS[mode],
            lambda app: app.set_repeat(mode),
            lambda: self._client.set_repeat(mode),
        )

    def play(self, start: Callable[[str | None], None], uri: str) -> Route:
        """Start playing something found on the Web API; the local app opens it if that fails.

        From idle, the play names this computer's player when that is known to be safe (see
        ``LocalPlayer.play``): one request instead of four.

        Args:
            start: The Web API call that plays it (context and offset as the tools choose),
                given the device id to name (None for the active device).
            uri: The item's ``spotify:`` URI, for the local app's "open URI".
        """
        return self._route(
            "open_uri",
            lambda app: app.open_uri(uri),
            lambda: self._player.play(start, recover=False),
            local_first=None,
        )

    # --- what's playing ------------------------------------------------------------------------

    def playback(self) -> PlaybackState | None:
        """What plays, with the device: the local app's view when it is the active player."""
        return self._read(self._client.playback)

    def currently_playing(self) -> PlaybackState | None:
        """The current track and progress, as :meth:`playback` decides where to ask."""
        return self._read(self._client.currently_playing)

    def where(self, state: PlaybackState) -> str:
        """Where ``state`` plays, as people say it: "this computer", or the device's name.

        A state read from this computer's app (no device) plays here.
        """
        device = state.device
        if device is None or self._player.is_this(device):
            return "this computer"
        return device.name

    def local_status(self) -> LocalStatus | None:
        """The local app's status; None when there is no local app or it does not answer."""
        if self._local is None:
            return None
        try:
            return self._local.status()
        except LocalAppUnavailable:
            return None

    # --- the decision ------------------------------------------------------------------------

    def _is_active_player(self, status: LocalStatus) -> bool:
        """Whether the local app is the active player, as far as can be told without a request."""
        if status.state == "playing":
            return True
        return status.track is not None and self._clock() < self._local_active_until

    def _drove_local(self) -> None:
        self._local_active_until = self._clock() + LOCAL_ACTIVE_SECONDS

    def _learn(self, state: PlaybackState | None, status: LocalStatus | None) -> None:
        """Note whether the device the Web API calls active is the local app.

        It is when it is a computer showing the local app's track in the local app's state
        (device names alone cannot tell this computer from another one of the same name).
        """
        if state is None or state.device is None or status is None:
            return
        here = (
            state.device.type.casefold() == "computer"
            and status.track is not None
            and state.item is not None
            and status.track.uri == state.item.uri
            and (status.state == "playing") == state.is_playing
        )
        if here:
            self._drove_local()
        else:
            # Another device is the active one: ask the Web API first until the app plays.
            self._local_active_until = float("-inf")

    def _route(
        self,
        command: Command,
        local: Callable[[LocalApp], None],
        web: Callable[[], object],
        *,
        local_first: Callable[[LocalStatus], bool] | Literal[True] | None = True,
        recover: bool = True,
    ) -> Route:
        """Run one command where the policy says (see the module docstring).

        Args:
            command: What the local interface must offer to take the command.
            local: The command on the local app.
            web: The command on the Web API.
            local_first: When the local app goes first: True when it is the active player, a
                test of its status, or None for never (the Web API first, the app as fallback).
            recover: Whether the Web API path may start this computer's app on "no active
                device" (as before local control) when there is no local app to turn to.
        """
        app = self._local if self._local is not None and command in self._local.commands else None
        status = None
        if app is not None:
            try:
                status = app.status()
            except LocalAppUnavailable:
                app = None  # not running: the Web API, as if there were no local interface
        if app is not None and status is not None and local_first is not None:
            first = self._is_active_player(status) if local_first is True else local_first(status)
            if first:
                try:
                    local(app)
                except LocalAppUnavailable as err:
                    logger.info("Local %s failed (%s); using the Web API", command, err)
                    app = None  # stopped answering, or refused: not asked twice
                else:
                    return self._done("local", command)
        if app is None:
            if recover:
                self._player.run(web)
            else:
                web()
            return self._done("web", command)
        try:
            web()
        except WEB_FAILURES_LOCAL_SURVIVES as err:
            try:
                local(app)
            except LocalAppUnavailable:
                raise err from None
            logger.info(
                "The Web API failed (%s); %s done by this computer's Spotify app",
                type(err).__name__,
                command,
            )
            return self._done("local", command)
        return self._done("web", command)

    def _done(self, route: Route, command: Command) -> Route:
        self.last_route = route
        if route == "local":
            self._drove_local()
        logger.debug("%s went to the %s", command, "local app" if route == "local" else "Web API")
        return route

    def _skip(
        self, command: Command, local: Callable[[LocalApp], None], web: Callable[[], object]
    ) -> Route:
        """A skip; after a local one, wait (briefly) until the app shows where it went."""
        before = self.local_status() if self._local is not None else None
        route = self._route(command, local, web)
        if route == "local" and before is not None and before.track is not None:
            for _ in range(round(SKIP_SETTLE_SECONDS / SKIP_POLL_SECONDS)):
                now = self.local_status()
                if now is None or _moved(before, now):
                    break
                self._sleep(SKIP_POLL_SECONDS)
        return route

    def _read(self, web: Callable[[], PlaybackState | None]) -> PlaybackState | None:
        status = self.local_status()
        if status is not None and self._is_active_player(status):
            if status.state == "playing":
                self._drove_local()
            self.last_route = "local"
            return self._as_state(status)
        try:
            state = web()
        except WEB_FAILURES_LOCAL_SURVIVES:
            if status is None:
                raise
            logger.info("The Web API failed; what's playing comes from this computer's app")
            self.last_route = "local"
            return self._as_state(status)
        self.last_route = "web"
        self._learn(state, status)
        return state

    def _as_state(self, status: LocalStatus) -> PlaybackState | None:
        """The local status in the Web API's shape (the tools read one shape)."""
        track = status.track
        if track is None:
            return None
        track_id = track.uri.rsplit(":", 1)[-1] if track.uri else ""
        item = Track(
            id=track_id,
            uri=track.uri or "",
            name=track.title,
            artists=tuple(Artist(id="", uri="", name=name) for name in track.artists),
            album=Album(id="", uri="", name=track.album, image_url=track.art_url)
            if track.album
            else None,
            duration_ms=track.duration_ms or 0,
            track_number=0,
            explicit=False,
        )
        device = Device(
            id=None,
            name=self._this_computer,
            type="Computer",
            is_active=True,
            is_restricted=False,
            volume_percent=status.volume_percent,
            supports_volume=status.volume_percent is not None,
        )
        return PlaybackState(
            device=device,
            is_playing=status.state == "playing",
            item=item,
            progress_ms=status.position_ms or 0,
            shuffle=bool(status.shuffle),
            repeat=status.repeat or "off",
            context_uri=None,
        )


def _moved(before: LocalStatus, now: LocalStatus) -> bool:
    """Whether a skip shows: another track, or the same one started over (its position fell)."""
    if now.track is None or before.track is None:
        return True
    if (now.track.uri, now.track.title) != (before.track.uri, before.track.title):
        return True
    if before.position_ms is not None and now.position_ms is not None:
        return now.position_ms < before.position_ms
    return False

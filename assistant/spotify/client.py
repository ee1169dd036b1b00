"""SpotifyClient: typed calls to the Spotify Web API over spotipy.

spotipy builds the requests; everything around them is ours: arguments are checked before a call
(spotipy answers a bad volume, seek position or repeat mode with a log line and ``None``),
every call runs through one wrapper (:meth:`SpotifyClient._request`) that owns the retry policy
and turns ``SpotifyException`` and requests errors into :mod:`assistant.errors`, and the endpoints
spotipy gets wrong for development-mode apps created after February 2026 are called directly.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, cast
from urllib.parse import urlsplit

import requests
import requests.adapters
import spotipy
from rapidfuzz import fuzz, process

from assistant.errors import (
    AmbiguousMatch,
    EndpointGone,
    NoDevice,
    NotAllowListed,
    NotFound,
    NotSignedIn,
    PremiumRequired,
    RateLimited,
    SegueError,
    SpotifyError,
    SpotifyRequestRejected,
    SpotifyUnavailable,
)
from assistant.spotify.links import parse_spotify_ref
from assistant.spotify.models import (
    REPEAT_MODES,
    Device,
    Play,
    PlaybackState,
    Playlist,
    Queue,
    SearchResults,
    Track,
    User,
    playlist_item_track,
)
from assistant.text import match
from assistant.text.fold import fold
from assistant.waits import retry_after

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_API_URL = "https://api.spotify.com/v1"

SEARCH_KINDS = ("track", "album", "artist", "playlist")
SEARCH_MAX_LIMIT = 10  # Spotify answers 400 "Invalid limit" above 10 since February 2026.
SEARCH_MAX_OFFSET = 1000
PAGE_LIMIT = 50  # The most GET /me/playlists and GET /playlists/{id}/items return per page.
PLAYLIST_ADD_BATCH = 100  # POST /playlists/{id}/items takes at most 100 URIs.
LIBRARY_BATCH = 40  # PUT/DELETE /me/library and GET /me/library/contains take at most 40 URIs.
RECENTLY_PLAYED_MAX = 50
SAVED_TRACKS_MAX = 50

# Waits before the two resends of an idempotent call that got a 5xx.
SERVER_ERROR_BACKOFF = (0.2, 0.6)
# Resends of a GET after a timeout or a dropped connection.
NETWORK_RETRIES = 1
# Retry-After to assume when a 429 carries none.
DEFAULT_RETRY_AFTER = 1.0
# Most 429s one call waits out (their Retry-Afters also add up to at most rate_limit_max_wait).
RATE_LIMIT_RETRIES = 3

# Fuzzy playlist lookup: rapidfuzz WRatio over folded names, with the one choice policy's
# thresholds (assistant.text.match: CHOICE to pick one, MARGIN over the next).

_DEVICE_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")

OWNER_PREMIUM_MESSAGE = (
    "Spotify only lets this app work while its owner has Premium; renew Premium on the account "
    "that registered the app in the Spotify developer dashboard."
)
SIGN_IN_REJECTED_MESSAGE = (
    "Spotify did not accept Segue's sign-in; sign in again (`segue login` or Sign in in the tray)."
)
DEVICE_NOT_FOUND_MESSAGE = (
    "That Spotify device is not available any more; open Spotify on it or choose another device."
)
UNREADABLE_MESSAGE = "Spotify sent an answer Segue could not read; try again in a moment."
# Characters of Spotify's own error message repeated to the person.
MESSAGE_MAX = 160


class _NewConnectionEachTime(requests.Session):
    """A session that opens a new connection for every request (``connection_reuse = false``).

    Each request gets an adapter (a connection pool) of its own, closed once the answer is read.
    """

    def get_adapter(self, url: str) -> requests.adapters.BaseAdapter:
        """A fresh adapter that retries nothing."""
        return requests.adapters.HTTPAdapter(max_retries=0)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        """Send, read the answer, and close its connection."""
        response = super().send(request, **kwargs)
        _ = response.content
        adapter = getattr(response, "connection", None)
        if isinstance(adapter, requests.adapters.BaseAdapter):
            adapter.close()
        return response


class _UnreadableAnswer(requests.RequestException):
    """A successful read whose body is not JSON.

    spotipy turns such a body into None, the same as a 204 ("nothing is playing"): a player
    answering 200 with a cut body would read as silence while music plays. Raised from the
    session's response hook, so it passes through spotipy (which catches only HTTP and retry
    errors here) to the wrapper.
    """


class AccessTokenSource(Protocol):
    """Where the client gets access tokens (``assistant.spotify.auth.SpotifyAuth`` in the app)."""

    def get_access_token(self, as_dict: bool = False) -> str:
        """Return a valid access token, refreshing it first when needed."""
        ...

    def invalidate(self, rejected_token: str) -> None:
        """Forget ``rejected_token`` (Spotify answered 401 to it) so the next call refreshes."""
        ...


class _TokenRecorder:
    """The auth manager spotipy sees: hands out the source's tokens, remembering the last one.

    The token that went into a thread's last request is kept per thread, so a 401 invalidates
    exactly the token Spotify refused.
    """

    def __init__(self, source: AccessTokenSource) -> None:
        self._source = source
        self._local = threading.local()

    def get_access_token(self, as_dict: bool = False) -> str:
        token = self._source.get_access_token(as_dict=False)
        self._local.token = token
        return token

    def last_token(self) -> str | None:
        token = getattr(self._local, "token", None)
        return token if isinstance(token, str) else None


@dataclass(frozen=True)
class _Endpoint:
    """What the wrapper needs to know about a call besides the call itself.

    Attributes:
        method: The HTTP method; POST is never resent (Spotify may have acted on it).
        path: The path below the API prefix, for log lines.
        restriction_is_state: A 403 "Restriction violated" may mean the player is already in
            the asked-for state (pause while paused, resume while playing): the wrapper returns
            ``_RESTRICTED`` instead of raising, and the method decides.
        forbidden: User message for a bare 403 "Forbidden" on this endpoint (where that means
            something other than "endpoint gone").
        not_found: User message for a 404 on this endpoint.
        restricted: User message for a 403 "Restriction violated" on this endpoint (a skip
            with nothing loaded, for one).
    """

    method: str
    path: str
    restriction_is_state: bool = False
    forbidden: str | None = None
    not_found: str | None = None
    restricted: str | None = None

    @property
    def idempotent(self) -> bool:
        return self.method in ("GET", "PUT", "DELETE")


_ME = _Endpoint("GET", "me")
_SEARCH = _Endpoint("GET", "search")
# Single reads still work for development-mode apps; the batch reads (GET /tracks?ids=) are gone.
_TRACK = _Endpoint("GET", "tracks/{id}", not_found="Spotify has no such track.")
_ALBUM_TRACKS = _Endpoint("GET", "albums/{id}/tracks", not_found="Spotify has no such album.")
_PLAYBACK = _Endpoint("GET", "me/player")
_CURRENTLY_PLAYING = _Endpoint("GET", "me/player/currently-playing")
_DEVICES = _Endpoint("GET", "me/player/devices")
_TRANSFER = _Endpoint("PUT", "me/player")
_PLAY = _Endpoint("PUT", "me/player/play", not_found="Spotify could not find that to play.")
_RESUME = _Endpoint("PUT", "me/player/play", restriction_is_state=True)
_PAUSE = _Endpoint("PUT", "me/player/pause", restriction_is_state=True)
# Spotify answers "Restriction violated" to a skip or seek when nothing is loaded to act on.
_NEXT = _Endpoint(
    "POST", "me/player/next", restricted="There is nothing to skip; say what to play."
)
_PREVIOUS = _Endpoint(
    "POST", "me/player/previous", restricted="There is nothing to go back to; say what to play."
)
_SEEK = _Endpoint("PUT", "me/player/seek", restricted="Nothing is playing; say what to play.")
_VOLUME = _Endpoint("PUT", "me/player/volume")
_SHUFFLE = _Endpoint("PUT", "me/player/shuffle")
_REPEAT = _Endpoint("PUT", "me/player/repeat")
_QUEUE = _Endpoint("GET", "me/player/queue")
_ADD_TO_QUEUE = _Endpoint("POST", "me/player/queue")
_RECENTLY_PLAYED = _Endpoint("GET", "me/player/recently-played")
_SAVED_TRACKS = _Endpoint("GET", "me/tracks")
_MY_PLAYLISTS = _Endpoint("GET", "me/playlists")
_CREATE_PLAYLIST = _Endpoint("POST", "me/playlists")
# Item contents only for playlists the user owns or collaborates on; others answer 403.
_NOT_YOURS = "Spotify only shows and changes the tracks of playlists you own or collaborate on."
# Spotify-owned and algorithmic playlists answer 404 to development-mode apps.
_CLOSED = "Spotify does not let personal apps open that playlist (its own playlists are closed)."
_PLAYLIST_ITEMS = _Endpoint("GET", "playlists/{id}/items", forbidden=_NOT_YOURS, not_found=_CLOSED)
_ADD_ITEMS = _Endpoint("POST", "playlists/{id}/items", forbidden=_NOT_YOURS, not_found=_CLOSED)
_REMOVE_ITEMS = _Endpoint("DELETE", "playlists/{id}/items", forbidden=_NOT_YOURS, not_found=_CLOSED)
_SAVE = _Endpoint("PUT", "me/library")
_UNSAVE = _Endpoint("DELETE", "me/library")
_CONTAINS = _Endpoint("GET", "me/library/contains")


class _Restricted:
    """What the wrapper returns for "Restriction violated" on a ``restriction_is_state`` call."""


_RESTRICTED = _Restricted()

# 403s by `reason` (player errors carry one).
_FORBIDDEN_BY_REASON: Mapping[str, Callable[[], SpotifyError]] = {
    # Player endpoints work only for Premium users.
    "PREMIUM_REQUIRED": lambda: PremiumRequired(),
    # Some devices (many speakers, phones in some states) do not let the API set their volume.
    "VOLUME_CONTROL_DISALLOW": lambda: SpotifyError(
        "This Spotify device does not let Segue change its volume."
    ),
}
# 403s by a phrase in the message, matched case-insensitively; development-mode apps get these.
_FORBIDDEN_BY_MESSAGE: tuple[tuple[str, Callable[[], SpotifyError]], ...] = (
    # The app owner's Premium lapsed: every endpoint answers this to every user of the app.
    (
        "premium subscription required for the owner of the app",
        lambda: PremiumRequired(OWNER_PREMIUM_MESSAGE),
    ),
    # The signed-in user is not on the app's User Management list (at most 5 users).
    ("user may not be registered", lambda: NotAllowListed()),
    # The player is not in a state that allows the command (skip disallowed, queue to an inactive
    # device, ...). Pause while paused also lands here; those endpoints treat it as done.
    (
        "restriction violated",
        lambda: SpotifyError("Spotify's player would not do that right now."),
    ),
)
# 404s by `reason`.
_NOT_FOUND_BY_REASON: Mapping[str, Callable[[], SpotifyError]] = {
    # A player command without device_id while no device is active.
    "NO_ACTIVE_DEVICE": lambda: NoDevice(),
}


class SpotifyClient:
    """Typed access to the Spotify Web API for one signed-in user.

    Args:
        auth: Source of access tokens.
        api_url: Base URL of the Web API (the simulator's ``api_url`` in tests and demo mode).
        timeout: Seconds to wait for each HTTP request.
        rate_limit_max_wait: Longest ``Retry-After`` (seconds) waited out by the client; a longer
            one raises :class:`RateLimited` at once.
        playlist_ttl: Seconds :meth:`my_playlists` answers from its cache.
        sleep: Waits between retries (injectable for tests).
        clock: Monotonic clock for the playlist cache.
        reuse_connections: Keep connections open between requests; False gives spotipy no
            session, so every request opens (and closes) a connection of its own (the
            benchmarks' baseline).

    Attributes:
        calls: HTTP requests sent so far, resends included.
    """

    def __init__(
        self,
        auth: AccessTokenSource,
        *,
        api_url: str = DEFAULT_API_URL,
        timeout: float = 10.0,
        rate_limit_max_wait: float = 5.0,
        playlist_ttl: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        reuse_connections: bool = True,
    ) -> None:
        self._auth = auth
        self._tokens = _TokenRecorder(auth)
        self._rate_limit_max_wait = rate_limit_max_wait
        self._playlist_ttl = playlist_ttl
        self._sleep = sleep
        self._clock = clock
        self._lock = threading.Lock()
        self.calls = 0
        self._playlists: tuple[float, list[Playlist]] | None = None
        self._user: User | None = None
        # Until when (time.monotonic) a 429's Retry-After holds back the requests of threads
        # other than the one that got it (which waits it out itself), and that thread's id.
        self._rate_limit_hold = (0.0, 0)

        # spotipy mounts urllib3 Retry objects only on a session it builds itself, and an empty
        # status_forcelist falls back to its defaults, which include 429 (urllib3 then sleeps the
        # whole Retry-After, uncapped) and resend POSTs on 5xx. On our own session with a plain
        # adapter spotipy never retries or sleeps: every retry below is ours.
        self._session = requests.Session() if reuse_connections else _NewConnectionEachTime()
        if reuse_connections:
            adapter = requests.adapters.HTTPAdapter(max_retries=0)
            self._session.mount("http://", adapter)
            self._session.mount("https://", adapter)
        self._session.hooks["response"].append(self._log_response)
        self._session.hooks["response"].append(_check_json)
        self._sp = spotipy.Spotify(
            auth_manager=self._tokens,
            # Always our session: its hooks check every answer (spotipy's own would not).
            requests_session=self._session,
            requests_timeout=timeout,
        )
        self._sp.prefix = api_url.rstrip("/") + "/"

    def close(self) -> None:
        """Close the HTTP connections."""
        self._session.close()

    def __enter__(self) -> SpotifyClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- user and search ------------------------------------------------------------------

    def me(self) -> User:
        """The signed-in user.

        Returns:
            The user's ID and display name.
        """
        # spotipy's me() requests "me/" with a trailing slash; the endpoint is /me.
        user = User.from_api(self._object(_ME, lambda: self._sp._get("me")))
        self._user = user
        return user

    def search(
        self,
        query: str,
        kinds: Sequence[str] = ("track",),
        limit: int = 5,
        offset: int = 0,
    ) -> SearchResults:
        """Search the catalog.

        Args:
            query: What to look for; Spotify's field filters (``artist:queen``) work.
            kinds: Any of "track", "album", "artist", "playlist".
            limit: Results per kind, clamped to 1-10 (Spotify refuses more than 10).
            offset: Index of the first result, 0-1000.

        Returns:
            The results per kind, best first.

        Raises:
            SpotifyRequestRejected: An empty query, an unknown kind or an offset out of range.
        """
        query = query.strip()
        if not query:
            raise SpotifyRequestRejected("Say what to search for.")
        if isinstance(kinds, str):
            kinds = (kinds,)
        if not kinds or any(kind not in SEARCH_KINDS for kind in kinds):
            raise SpotifyRequestRejected(
                f"Search kinds must be some of {', '.join(SEARCH_KINDS)}, not {list(kinds)}."
            )
        if not 0 <= offset <= SEARCH_MAX_OFFSET:
            raise SpotifyRequestRejected(
                f"Search offset must be 0-{SEARCH_MAX_OFFSET}, not {offset}."
            )
        limit = min(max(limit, 1), SEARCH_MAX_LIMIT)
        kind_list = ",".join(dict.fromkeys(kinds))
        result = self._object(
            _SEARCH,
            lambda: self._sp.search(q=query, limit=limit, offset=offset, type=kind_list),
        )
        return SearchResults.from_api(result)

    def track(self, track: str) -> Track:
        """One track, with its album and artists.

        Args:
            track: The track's URI or open.spotify.com link.
        """
        track_id = _uri(track, ("track",)).rsplit(":", 1)[-1]
        return Track.from_api(self._object(_TRACK, lambda: self._sp._get(f"tracks/{track_id}")))

    def album_tracks(self, album: str) -> list[Track]:
        """An album's tracks in order (simplified: their ``album`` is None).

        Args:
            album: The album's URI or open.spotify.com link.
        """
        album_id = _uri(album, ("album",)).rsplit(":", 1)[-1]
        items = self._pages(
            _ALBUM_TRACKS,
            lambda offset: self._sp._get(
                f"albums/{album_id}/tracks", limit=PAGE_LIMIT, offset=offset
            ),
        )
        return [Track.from_api(item) for item in items]

    # --- player state ----------------------------------------------------------------------

    def playback(self) -> PlaybackState | None:
        """What the player is doing, with the active device.

        Returns:
            The state, or None when no device is active (Spotify answers 204).
        """
        result = self._request(_PLAYBACK, lambda: self._sp.current_playback())
        return PlaybackState.from_api(result) if isinstance(result, dict) else None

    def currently_playing(self) -> PlaybackState | None:
        """The current track and progress (no device, shuffle or repeat: Spotify omits them).

        Returns:
            The state, or None when nothing is loaded (Spotify answers 204).
        """
        result = self._request(_CURRENTLY_PLAYING, lambda: self._sp.currently_playing())
        return PlaybackState.from_api(result) if isinstance(result, dict) else None

    def devices(self) -> list[Device]:
        """The user's Spotify Connect devices Spotify currently lists."""
        result = self._object(_DEVICES, lambda: self._sp.devices())
        return [Device.from_api(d) for d in _dict_list(result.get("devices"))]

    def queue(self) -> Queue:
        """The current track and the tracks queued after it."""
        return Queue.from_api(self._object(_QUEUE, lambda: self._sp.queue()))

    def recently_played(self, limit: int = 20) -> list[Track]:
        """Tracks played recently, most recent first.

        Args:
            limit: How many, clamped to 1-50.
        """
        return [play.track for play in self.recent_plays(limit)]

    def recent_plays(self, limit: int = 50) -> list[Play]:
        """The recently-played history with its dates, most recent first (one request).

        Spotify lists a track once it has stopped, if it played for more than 30 seconds, and
        keeps the last 50.

        Args:
            limit: How many, clamped to 1-50.
        """
        limit = min(max(limit, 1), RECENTLY_PLAYED_MAX)
        page = self._object(
            _RECENTLY_PLAYED, lambda: self._sp.current_user_recently_played(limit=limit)
        )
        plays = (Play.maybe_from_api(item) for item in _dict_list(page.get("items")))
        return [p for p in plays if p is not None]

    def saved_tracks(self, limit: int = 50) -> list[Track]:
        """The person's liked songs, most recently saved first (one page).

        Reading stays on ``GET /me/tracks``; only checking and changing the library moved to
        ``/me/library`` for new apps.

        Args:
            limit: How many, clamped to 1-50.
        """
        limit = min(max(limit, 1), SAVED_TRACKS_MAX)
        return _item_tracks(
            self._object(_SAVED_TRACKS, lambda: self._sp.current_user_saved_tracks(limit=limit))
        )

    # --- player commands -------------------------------------------------------------------

    def transfer(self, device_id: str, *, play: bool = True) -> None:
        """Move playback to a device.

        Args:
            device_id: The device to play on.
            play: Start playing there (False keeps the current paused/playing state).
        """
        device_id = _check_device_id(device_id)
        self._request(_TRANSFER, lambda: self._sp.transfer_playback(device_id, force_play=play))

    def play(
        self,
        *,
        uris: Sequence[str] | None = None,
        context_uri: str | None = None,
        offset_uri: str | None = None,
        offset_position: int | None = None,
        position_ms: int | None = None,
        device_id: str | None = None,
    ) -> None:
        """Start playback: tracks, a context (album, playlist, artist), or resume.

        To play a track within its album, pass the album as ``context_uri`` and the track as
        ``offset_uri``: the album then continues after it.

        Args:
            uris: Tracks to play in order (URIs or open.spotify.com links).
            context_uri: An album, playlist or artist to play.
            offset_uri: The track of ``context_uri``/``uris`` to start at.
            offset_position: The zero-based index in ``context_uri``/``uris`` to start at.
            position_ms: Where in the first track to start.
            device_id: The device to play on; None means the active one.

        Raises:
            SpotifyRequestRejected: Conflicting or malformed arguments.
        """
        if uris is not None and context_uri is not None:
            raise SpotifyRequestRejected("Play either tracks or an album/playlist, not both.")
        track_uris = _uris(uris, ("track",)) if uris is not None else None
        if track_uris == []:
            raise SpotifyRequestRejected("Name at least one track to play.")
        context = _uri(context_uri, ("album", "playlist", "artist")) if context_uri else None
        offset: dict[str, Any] | None = None
        if offset_uri is not None and offset_position is not None:
            raise SpotifyRequestRejected("Start at a track or at a position, not both.")
        if offset_uri is not None or offset_position is not None:
            if track_uris is None and (context is None or context.startswith("spotify:artist:")):
                # Spotify takes an offset only into an album, a playlist or a list of tracks.
                raise SpotifyRequestRejected(
                    "A starting track needs an album, a playlist or tracks to start in."
                )
            if offset_uri is not None:
                offset = {"uri": _uri(offset_uri, ("track",))}
            else:
                offset = {"position": _non_negative(offset_position, "The starting position")}
        position = _non_negative(position_ms, "The position") if position_ms is not None else None
        target = _check_device_id(device_id) if device_id is not None else None
        self._request(
            _PLAY,
            lambda: self._sp.start_playback(
                device_id=target,
                context_uri=context,
                uris=track_uris,
                offset=offset,
                position_ms=position,
            ),
        )

    def resume(self, *, device_id: str | None = None) -> None:
        """Resume playback; nothing happens when it is already playing.

        Raises:
            SpotifyError: Nothing is loaded to resume.
        """
        target = _check_device_id(device_id) if device_id is not None else None
        result = self._request(_RESUME, lambda: self._sp.start_playback(device_id=target))
        if result is _RESTRICTED:
            # Spotify answers "Restriction violated" both to resume-while-playing (done already)
            # and to resume with nothing loaded (nothing to do): ask which.
            state = self.playback()
            if state is None or not state.is_playing:
                raise SpotifyError("There is nothing to resume; say what to play.")
            logger.info("Resume: already playing")

    def pause(self, *, device_id: str | None = None) -> None:
        """Pause playback; nothing happens when it is already paused or nothing is loaded."""
        target = _check_device_id(device_id) if device_id is not None else None
        result = self._request(_PAUSE, lambda: self._sp.pause_playback(device_id=target))
        if result is _RESTRICTED:
            # Spotify answers "Restriction violated" to pause-while-paused: the user's wish holds.
            logger.info("Pause: already paused")

    def next_track(self, *, device_id: str | None = None) -> None:
        """Skip to the next track (sent once: a POST is never resent)."""
        target = _check_device_id(device_id) if device_id is not None else None
        self._request(_NEXT, lambda: self._sp.next_track(device_id=target))

    def previous_track(self, *, device_id: str | None = None) -> None:
        """Go back to the previous track (sent once: a POST is never resent)."""
        target = _check_device_id(device_id) if device_id is not None else None
        self._request(_PREVIOUS, lambda: self._sp.previous_track(device_id=target))

    def seek(self, position_ms: int, *, device_id: str | None = None) -> None:
        """Jump to a position in the current track.

        Args:
            position_ms: Milliseconds from the start, 0 or more (past the end skips to the next).
            device_id: The device; None means the active one.
        """
        position = _non_negative(position_ms, "The position")
        target = _check_device_id(device_id) if device_id is not None else None
        self._request(_SEEK, lambda: self._sp.seek_track(position, device_id=target))

    def set_volume(self, percent: int, *, device_id: str | None = None) -> None:
        """Set the volume of the active (or given) device.

        Args:
            percent: 0-100.
            device_id: The device; None means the active one.
        """
        if isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100:
            raise SpotifyRequestRejected(f"Volume must be a whole number 0-100, not {percent!r}.")
        target = _check_device_id(device_id) if device_id is not None else None
        self._request(_VOLUME, lambda: self._sp.volume(percent, device_id=target))

    def set_shuffle(self, state: bool, *, device_id: str | None = None) -> None:
        """Turn shuffle on or off."""
        if not isinstance(state, bool):
            raise SpotifyRequestRejected(f"Shuffle must be on or off, not {state!r}.")
        target = _check_device_id(device_id) if device_id is not None else None
        self._request(_SHUFFLE, lambda: self._sp.shuffle(state, device_id=target))

    def set_repeat(self, mode: str, *, device_id: str | None = None) -> None:
        """Set the repeat mode.

        Args:
            mode: "off", "track" (repeat this track) or "context" (repeat the album/playlist).
            device_id: The device; None means the active one.
        """
        if mode not in REPEAT_MODES:
            raise SpotifyRequestRejected(
                f"Repeat must be one of {', '.join(REPEAT_MODES)}, not {mode!r}."
            )
        target = _check_device_id(device_id) if device_id is not None else None
        self._request(_REPEAT, lambda: self._sp.repeat(mode, device_id=target))

    def add_to_queue(self, uri: str, *, device_id: str | None = None) -> None:
        """Queue a track after the current one (sent once: a POST is never resent).

        Args:
            uri: The track's URI or open.spotify.com link.
            device_id: The device; None means the active one.
        """
        track_uri = _uri(uri, ("track",))
        target = _check_device_id(device_id) if device_id is not None else None
        self._request(_ADD_TO_QUEUE, lambda: self._sp.add_to_queue(track_uri, device_id=target))

    # --- playlists -------------------------------------------------------------------------

    def my_playlists(self, *, refresh: bool = False) -> list[Playlist]:
        """The playlists the user owns or follows, in Spotify's order.

        Answers from a cache for ``playlist_ttl`` seconds; creating a playlist or changing one
        through this client empties it.

        Args:
            refresh: Fetch again even when the cache is fresh.
        """
        if not refresh and self._playlists is not None and self._playlists_fresh():
            return list(self._playlists[1])
        playlists = [
            Playlist.from_api(p)
            for p in self._pages(
                _MY_PLAYLISTS,
                lambda offset: self._sp.current_user_playlists(limit=PAGE_LIMIT, offset=offset),
            )
        ]
        self._playlists = (self._clock(), playlists)
        return list(playlists)

    def find_playlist(self, name: str, *, owned_only: bool = False) -> Playlist:
        """Find one of the user's playlists by name, forgiving case, accents and small slips.

        An exact match (ignoring case and accents) wins. Otherwise the best fuzzy match wins
        when no other name scores nearly as well.

        Args:
            name: The name as the user said or typed it.
            owned_only: Consider only playlists the user owns (to add tracks, say).

        Returns:
            The playlist.

        Raises:
            NotFound: No name is close enough; the message names the closest one.
            AmbiguousMatch: Several names match about equally well.
        """
        wanted = fold(name)
        if not wanted:
            raise SpotifyRequestRejected("Say which playlist.")
        cached = self._playlists_fresh()
        try:
            return self._match_playlist(name, wanted, self.my_playlists(), owned_only=owned_only)
        except NotFound:
            if not cached:
                raise
            # The list came from the cache: the playlist may be newer than it (made in the app).
            playlists = self.my_playlists(refresh=True)
            return self._match_playlist(name, wanted, playlists, owned_only=owned_only)

    def _match_playlist(
        self, name: str, wanted: str, playlists: list[Playlist], *, owned_only: bool
    ) -> Playlist:
        if owned_only:
            my_id = self._my_id()
            playlists = [p for p in playlists if p.owner_id == my_id]
        if not playlists:
            raise NotFound(
                "You have no playlists of your own." if owned_only else "You have no playlists."
            )
        exact = [p for p in playlists if fold(p.name) == wanted]
        if exact:
            if len(exact) > 1:
                # Same name twice: prefer the user's own, then Spotify's order (newest first).
                my_id = self._my_id()
                exact.sort(key=lambda p: p.owner_id != my_id)
            return exact[0]
        scored = process.extract(
            wanted,
            [fold(p.name) for p in playlists],
            scorer=fuzz.WRatio,
            processor=None,
            limit=None,
        )
        best_score = scored[0][1]
        if best_score < match.CHOICE:
            closest = playlists[scored[0][2]].name
            raise NotFound(f"You have no playlist called “{name}”; the closest is “{closest}”.")
        close = [
            playlists[index] for _, score, index in scored if score >= best_score - match.MARGIN
        ]
        if len(close) > 1:
            raise AmbiguousMatch("playlist", list(dict.fromkeys(p.name for p in close)))
        return close[0]

    def playlist_tracks(self, playlist_id: str) -> list[Track]:
        """The tracks of a playlist the user owns or collaborates on, in order.

        Episodes are left out; local files appear with an empty ``id``.

        Args:
            playlist_id: The playlist's ID, URI or link.
        """
        pid = _playlist_id(playlist_id)
        path = f"playlists/{pid}/items"
        tracks = (
            playlist_item_track(item)
            for item in self._pages(
                _PLAYLIST_ITEMS,
                lambda offset: self._sp._get(path, limit=PAGE_LIMIT, offset=offset),
            )
        )
        return [t for t in tracks if t is not None]

    def create_playlist(
        self, name: str, *, description: str = "", public: bool = False
    ) -> Playlist:
        """Create a playlist owned by the user; private unless asked otherwise.

        Args:
            name: The name (need not be unique).
            description: Shown under the name in Spotify.
            public: Whether it appears on the user's profile.

        Returns:
            The new, empty playlist.
        """
        name = name.strip()
        if not name:
            raise SpotifyRequestRejected("A playlist needs a name.")
        # POST /me/playlists: POST /users/{id}/playlists is gone for new apps, and spotipy's
        # current_user_playlist_create defaults to public=True.
        body = {"name": name, "public": public, "collaborative": False, "description": description}
        try:
            result = self._object(
                _CREATE_PLAYLIST, lambda: self._sp._post("me/playlists", payload=body)
            )
        finally:
            self._playlists = None
        return Playlist.from_api(result)

    def add_to_playlist(self, playlist_id: str, uris: Sequence[str]) -> int:
        """Append tracks to a playlist, in order, 100 per request.

        Args:
            playlist_id: The playlist's ID, URI or link.
            uris: Track URIs or links.

        Returns:
            How many tracks were added.

        Raises:
            SpotifyError: A request failed; its message says how many were added before it.
        """
        pid = _playlist_id(playlist_id)
        track_uris = _uris(uris, ("track",))
        path = f"playlists/{pid}/items"
        added = 0
        try:
            for chunk in _chunks(track_uris, PLAYLIST_ADD_BATCH):
                # The object form {"uris": [...]}: spotipy's playlist_add_items posts a bare
                # array, which the spec (and new apps) do not accept; and it does not chunk.
                body = {"uris": chunk}
                self._request(_ADD_ITEMS, functools.partial(self._sp._post, path, payload=body))
                added += len(chunk)
        except SpotifyError as err:
            if added:
                _prefix_message(err, f"Added {added} of {len(track_uris)} tracks, then:")
            raise
        finally:
            self._playlists = None
        return added

    def remove_from_playlist(self, playlist_id: str, uris: Sequence[str]) -> None:
        """Remove every occurrence of the given tracks from a playlist (100 per request).

        Args:
            playlist_id: The playlist's ID, URI or link.
            uris: Track URIs or links.
        """
        pid = _playlist_id(playlist_id)
        track_uris = _uris(uris, ("track",))
        path = f"playlists/{pid}/items"
        try:
            for chunk in _chunks(track_uris, PLAYLIST_ADD_BATCH):
                # The DELETE body's key is `items`, a list of {"uri": ...} objects.
                body = {"items": [{"uri": uri} for uri in chunk]}
                self._request(
                    _REMOVE_ITEMS, functools.partial(self._sp._delete, path, payload=body)
                )
        finally:
            self._playlists = None

    # --- library ---------------------------------------------------------------------------

    def save_to_library(self, uris: Sequence[str]) -> None:
        """Save tracks, albums or playlists to the user's library ("like" them).

        Args:
            uris: URIs or links; 40 per request.
        """
        # PUT /me/library replaces PUT /me/tracks for new apps.
        for chunk in _chunks(_uris(uris, ("track", "album", "playlist")), LIBRARY_BATCH):
            joined = ",".join(chunk)
            self._request(_SAVE, functools.partial(self._sp._put, "me/library", uris=joined))

    def remove_from_library(self, uris: Sequence[str]) -> None:
        """Remove tracks, albums or playlists from the user's library.

        A playlist's URI unfollows it (for new apps, in place of the followers endpoint): the
        cached list of the user's playlists is dropped.

        Args:
            uris: URIs or links; 40 per request.
        """
        checked = _uris(uris, ("track", "album", "playlist"))
        try:
            for chunk in _chunks(checked, LIBRARY_BATCH):
                joined = ",".join(chunk)
                self._request(
                    _UNSAVE, functools.partial(self._sp._delete, "me/library", uris=joined)
                )
        finally:
            if any(u.startswith("spotify:playlist:") for u in checked):
                self._playlists = None

    def library_contains(self, uris: Sequence[str]) -> list[bool]:
        """Whether each item is in the user's library.

        Args:
            uris: Track, album, artist or playlist URIs or links; 40 per request.

        Returns:
            One answer per URI, in order.
        """
        answers: list[bool] = []
        for chunk in _chunks(_uris(uris, ("track", "album", "artist", "playlist")), LIBRARY_BATCH):
            joined = ",".join(chunk)
            result = self._request(
                _CONTAINS, functools.partial(self._sp._get, "me/library/contains", uris=joined)
            )
            if not isinstance(result, list) or len(result) != len(chunk):
                raise SpotifyError("Spotify sent an unexpected answer about your library.")
            answers.extend(bool(value) for value in result)
        return answers

    # --- the wrapper -----------------------------------------------------------------------

    def _request(self, endpoint: _Endpoint, send: Callable[[], Any]) -> Any:
        """Send one call, retrying within bounds, and turn failures into Segue errors.

        Retries: one token refresh on 401; up to RATE_LIMIT_RETRIES waits on 429s while their
        Retry-Afters add up to at most ``rate_limit_max_wait``; two resends of an idempotent call
        on 5xx; one resend of a GET after a timeout or dropped connection. A POST is never resent
        after a 5xx.

        While one thread waits out a 429, the other threads' requests wait too (Spotify counts
        the app's requests, not one thread's), so concurrent searches respect Retry-After.
        """
        refreshed = False
        rate_limit_waited = 0.0
        rate_limit_waits = 0
        server_retries = 0
        network_retries = 0
        while True:
            with self._lock:
                self.calls += 1
                until, owner = self._rate_limit_hold
            hold = until - time.monotonic()
            if hold > 0 and owner != threading.get_ident():
                self._sleep(hold)
            started = time.monotonic()
            try:
                return send()
            except spotipy.SpotifyException as err:
                status = err.http_status
                if status == 401 and not refreshed:
                    # The access token expired or was revoked: drop it, fetch another, try once.
                    refreshed = True
                    token = self._tokens.last_token()
                    if token is not None:
                        self._auth.invalidate(token)
                    continue
                if status == 429 and err.reason != "QUOTA_EXCEEDED":
                    retry_after = _retry_after(err)
                    if (
                        rate_limit_waits < RATE_LIMIT_RETRIES
                        and rate_limit_waited + retry_after <= self._rate_limit_max_wait
                    ):
                        rate_limit_waits += 1
                        rate_limit_waited += retry_after
                        logger.info("Spotify asked to wait %.1f s; waiting", retry_after)
                        with self._lock:
                            until = time.monotonic() + retry_after
                            if until > self._rate_limit_hold[0]:
                                self._rate_limit_hold = (until, threading.get_ident())
                        self._sleep(retry_after)
                        continue
                if (
                    status >= 500
                    and endpoint.idempotent
                    and server_retries < len(SERVER_ERROR_BACKOFF)
                ):
                    self._sleep(SERVER_ERROR_BACKOFF[server_retries])
                    server_retries += 1
                    continue
                mapped = _map_error(endpoint, err)
                if isinstance(mapped, _Restricted):
                    return mapped
                raise mapped from err
            except _UnreadableAnswer as err:
                logger.warning(
                    "%s %s answered with a body that is not JSON", endpoint.method, endpoint.path
                )
                raise SpotifyUnavailable(UNREADABLE_MESSAGE) from err
            except (requests.Timeout, requests.ConnectionError) as err:
                logger.warning(
                    "%s %s failed after %.0f ms: %s",
                    endpoint.method,
                    endpoint.path,
                    (time.monotonic() - started) * 1000,
                    type(err).__name__,
                )
                if endpoint.method == "GET" and network_retries < NETWORK_RETRIES:
                    network_retries += 1
                    continue
                raise SpotifyUnavailable() from err
            except requests.RequestException as err:
                logger.warning(
                    "%s %s failed: %s", endpoint.method, endpoint.path, type(err).__name__
                )
                raise SpotifyUnavailable() from err

    def _object(self, endpoint: _Endpoint, send: Callable[[], Any]) -> dict[str, Any]:
        """Send a call whose answer must be a JSON object."""
        result = self._request(endpoint, send)
        if not isinstance(result, dict):
            raise SpotifyError("Spotify sent an unexpected answer.")
        return cast(dict[str, Any], result)

    def _pages(self, endpoint: _Endpoint, fetch: Callable[[int], Any]) -> Iterator[dict[str, Any]]:
        """Every item of a paged list, fetching PAGE_LIMIT at a time until ``total``."""
        offset = 0
        while True:
            page = self._object(endpoint, functools.partial(fetch, offset))
            items = _dict_list(page.get("items"))
            yield from items
            offset += PAGE_LIMIT
            total = page.get("total")
            if not items or not isinstance(total, int) or offset >= total:
                return

    def _playlists_fresh(self) -> bool:
        cached = self._playlists
        return cached is not None and self._clock() - cached[0] < self._playlist_ttl

    def _my_id(self) -> str:
        user = self._user or self.me()
        return user.id

    def _log_response(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        # Method, path, status and time only: never headers (the bearer token) or bodies.
        logger.debug(
            "%s %s -> %d in %.0f ms",
            response.request.method,
            urlsplit(response.request.url or "").path,
            response.status_code,
            response.elapsed.total_seconds() * 1000,
        )


def _map_error(endpoint: _Endpoint, err: spotipy.SpotifyException) -> SegueError | _Restricted:
    """The Segue error for a Spotify error response (after the wrapper's retries)."""
    status = err.http_status
    reason = err.reason or ""
    message = _spotify_message(err)
    folded = message.casefold()
    if status == 401:
        # A fresh token was refused too: the sign-in itself is no good.
        return NotSignedIn(SIGN_IN_REJECTED_MESSAGE)
    if status == 400:
        return SpotifyRequestRejected(_sentence("Spotify refused the request", message))
    if status == 403:
        if reason in _FORBIDDEN_BY_REASON:
            return _FORBIDDEN_BY_REASON[reason]()
        if "restriction violated" in folded:
            if endpoint.restriction_is_state:
                return _RESTRICTED
            if endpoint.restricted is not None:
                return SpotifyError(endpoint.restricted)
        for phrase, make in _FORBIDDEN_BY_MESSAGE:
            if phrase in folded:
                return make()
        if folded in ("", "forbidden"):
            if endpoint.forbidden is not None:
                return SpotifyError(endpoint.forbidden)
            # Endpoints closed to new development-mode apps answer a bare "Forbidden".
            return EndpointGone()
        return SpotifyError(_sentence("Spotify refused that", message))
    if status == 404:
        if reason in _NOT_FOUND_BY_REASON:
            return _NOT_FOUND_BY_REASON[reason]()
        if "device not found" in folded:
            # A device_id Spotify no longer lists. Not retryable: starting the local player
            # would not bring that device back.
            return NoDevice(DEVICE_NOT_FOUND_MESSAGE, retryable=False)
        return NotFound(endpoint.not_found or _sentence("Spotify found nothing", message))
    if status == 429:
        if reason == "QUOTA_EXCEEDED":
            # The app's quota is spent: waiting a few seconds will not help.
            return RateLimited(None)
        return RateLimited(_retry_after(err))
    if status >= 500:
        return SpotifyUnavailable()
    return SpotifyError(_sentence("Spotify could not do that", message))


def _spotify_message(err: spotipy.SpotifyException) -> str:
    # spotipy puts the request URL, ":\n " and then Spotify's error message into `msg`; for a
    # body that is not JSON (a proxy's HTML error page) the whole body: never repeat markup.
    text = str(err.msg or "")
    _, sep, rest = text.partition(":\n ")
    message = " ".join((rest if sep else text).split())
    if message == "None" or ("<" in message and ">" in message):
        return ""
    return message if len(message) <= MESSAGE_MAX else message[: MESSAGE_MAX - 1] + "…"


def _retry_after(err: spotipy.SpotifyException) -> float:
    seconds = retry_after(err.headers)
    return DEFAULT_RETRY_AFTER if seconds is None else seconds


def _check_json(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    """Refuse a successful GET whose body is not JSON (see :class:`_UnreadableAnswer`)."""
    if response.request.method != "GET" or not 200 <= response.status_code < 300:
        return
    body = response.content
    if not body.strip():
        return  # 204, or 200 with nothing: Spotify's "nothing to show"
    try:
        response.json()
    except ValueError:
        raise _UnreadableAnswer(response=response) from None


def _sentence(prefix: str, message: str) -> str:
    if not message:
        return prefix + "."
    return f"{prefix}: {message.rstrip('.')}."


def _prefix_message(err: SpotifyError, prefix: str) -> None:
    err.user_message = f"{prefix} {err.user_message}"
    err.args = (err.user_message,)


def _item_tracks(page: dict[str, Any]) -> list[Track]:
    """The tracks of a page whose items each hold one under ``track`` (liked songs)."""
    tracks = (Track.maybe_from_api(item.get("track")) for item in _dict_list(page.get("items")))
    return [t for t in tracks if t is not None]


def _uri(text: str, kinds: tuple[str, ...]) -> str:
    """The ``spotify:KIND:ID`` URI for a URI or link of one of ``kinds``."""
    ref = parse_spotify_ref(text) if isinstance(text, str) else None
    if ref is None or ref.kind not in kinds:
        wanted = " or ".join(kinds)
        raise SpotifyRequestRejected(f"{text!r} is not a Spotify {wanted} URI or link.")
    return ref.uri


def _uris(texts: Sequence[str], kinds: tuple[str, ...]) -> list[str]:
    if isinstance(texts, str):
        # A lone string is a sequence of characters: almost certainly a mistake.
        texts = [texts]
    return [_uri(text, kinds) for text in texts]


def _playlist_id(text: str) -> str:
    """A playlist ID from an ID, URI or link."""
    ref = parse_spotify_ref(text) if isinstance(text, str) else None
    if ref is not None and ref.kind == "playlist":
        return ref.id
    if isinstance(text, str) and re.fullmatch(r"[0-9A-Za-z]{22}", text.strip()):
        return text.strip()
    raise SpotifyRequestRejected(f"{text!r} is not a Spotify playlist ID, URI or link.")


def _check_device_id(device_id: str) -> str:
    # spotipy pastes device_id into the query string unescaped.
    if not isinstance(device_id, str) or not _DEVICE_ID.fullmatch(device_id):
        raise SpotifyRequestRejected(f"{device_id!r} is not a Spotify device ID.")
    return device_id


def _non_negative(value: int | None, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SpotifyRequestRejected(f"{what} must be a whole number of 0 or more, not {value!r}.")
    return value


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _dict_list(value: object) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        return []
    return [cast(dict[str, Any], v) for v in value if isinstance(v, dict)]

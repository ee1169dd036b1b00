"""Linux: the Spotify app's MPRIS 2 player on the D-Bus session bus, through jeepney.

The app owns ``org.mpris.MediaPlayer2.spotify`` while it runs and serves
``org.mpris.MediaPlayer2.Player`` at ``/org/mpris/MediaPlayer2``: Play, Pause, Next, Previous,
Seek, SetPosition and OpenUri, and the properties PlaybackStatus, Metadata, Position, Shuffle and
LoopStatus. jeepney's blocking connection suits the one worker that runs commands: a call is a
message out and a reply back on a Unix socket, about a millisecond.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping
from typing import Any, cast

from jeepney import DBusAddress, DBusErrorResponse, Message, Properties, new_method_call
from jeepney.io.blocking import DBusConnection, open_dbus_connection
from jeepney.wrappers import unwrap_msg

from assistant.errors import LocalAppUnavailable
from assistant.spotify.links import parse_spotify_ref
from assistant.spotify.local import TRANSPORT, Command, LocalState, LocalStatus, LocalTrack
from assistant.spotify.models import RepeatMode

logger = logging.getLogger(__name__)

BUS_NAME = "org.mpris.MediaPlayer2.spotify"
OBJECT_PATH = "/org/mpris/MediaPlayer2"
PLAYER_INTERFACE = "org.mpris.MediaPlayer2.Player"

# MPRIS's LoopStatus values for Spotify's repeat modes, and back.
LOOP_STATUS: Mapping[RepeatMode, str] = {"off": "None", "track": "Track", "context": "Playlist"}
REPEAT_BY_LOOP_STATUS: Mapping[str, RepeatMode] = {v: k for k, v in LOOP_STATUS.items()}
STATE_BY_PLAYBACK_STATUS: Mapping[str, LocalState] = {
    "Playing": "playing",
    "Paused": "paused",
    "Stopped": "stopped",
}
# The app names its tracks /com/spotify/track/ID (older versions: the string spotify:track:ID).
_TRACK_PATH = re.compile(r"/com/spotify/track/(?P<id>[0-9A-Za-z]{22})")
_OBJECT_PATH = re.compile(r"/|(/[A-Za-z0-9_]+)+")

Variant = tuple[str, Any]
"""How jeepney hands over a D-Bus variant: (signature, value)."""


class MprisApp:
    """The Spotify app as an MPRIS 2 player.

    The connection to the bus opens on the first call and is kept; a broken one is opened again
    once per call.

    Args:
        bus: The bus: "SESSION" (``DBUS_SESSION_BUS_ADDRESS``) or a D-Bus address.
        bus_name: The player's well-known name.
        timeout: Seconds to wait for each reply.
    """

    name = "MPRIS"
    # No "volume": the Linux app ignores writes to Volume (users' reports), so volume stays on
    # the Web API.
    commands: frozenset[Command] = TRANSPORT | {"open_uri"}

    def __init__(
        self, *, bus: str = "SESSION", bus_name: str = BUS_NAME, timeout: float = 1.0
    ) -> None:
        self._bus = bus
        self._player = DBusAddress(OBJECT_PATH, bus_name=bus_name, interface=PLAYER_INTERFACE)
        self._timeout = timeout
        self._lock = threading.Lock()
        self._connection: DBusConnection | None = None

    def status(self) -> LocalStatus:
        """PlaybackStatus, Metadata, Position, Shuffle and LoopStatus, in one GetAll."""
        return parse_player_properties(self._properties())

    def play(self) -> None:
        """Play (resumes; with nothing loaded the app does nothing)."""
        self._method("Play")

    def pause(self) -> None:
        """Pause (nothing happens when already paused)."""
        self._method("Pause")

    def next_track(self) -> None:
        """Next."""
        self._method("Next")

    def previous_track(self) -> None:
        """Previous."""
        self._method("Previous")

    def seek(self, position_ms: int) -> None:
        """SetPosition on the current track; Seek by the difference when it has no track id."""
        properties = self._properties()
        metadata = _variant_dict(properties.get("Metadata"))
        track_id = _value(metadata.get("mpris:trackid"))
        target_us = max(0, position_ms) * 1000
        if isinstance(track_id, str) and _OBJECT_PATH.fullmatch(track_id):
            # SetPosition names the track, so a skip in between makes the app ignore it.
            self._method("SetPosition", "ox", (track_id, target_us))
            return
        position = _value(properties.get("Position"))
        current_us = position if isinstance(position, int) else 0
        self._method("Seek", "x", (target_us - current_us,))

    def set_shuffle(self, on: bool) -> None:
        """Write the Shuffle property."""
        self._call(Properties(self._player).set("Shuffle", "b", bool(on)))

    def set_repeat(self, mode: RepeatMode) -> None:
        """Write the LoopStatus property (None, Track or Playlist)."""
        self._call(Properties(self._player).set("LoopStatus", "s", LOOP_STATUS[mode]))

    def open_uri(self, uri: str) -> None:
        """OpenUri with a ``spotify:`` URI: the app plays it.

        Raises:
            ValueError: ``uri`` is not a Spotify track, album, artist or playlist URI or link.
        """
        ref = parse_spotify_ref(uri)
        if ref is None:
            raise ValueError(f"{uri!r} is not a Spotify URI")
        self._method("OpenUri", "s", (ref.uri,))

    def set_volume(self, percent: int) -> None:
        """Not offered: the app ignores Volume writes (see :attr:`commands`)."""
        raise LocalAppUnavailable("Spotify's Linux app does not take volume changes over MPRIS.")

    def close(self) -> None:
        """Close the bus connection."""
        with self._lock:
            self._drop()

    # --- the calls ---------------------------------------------------------------------------

    def _properties(self) -> dict[str, Variant]:
        body = self._call(Properties(self._player).get_all())
        if not body or not isinstance(body[0], dict):
            raise LocalAppUnavailable("Spotify's MPRIS player sent an unexpected answer.")
        return cast(dict[str, Variant], body[0])

    def _method(
        self, member: str, signature: str | None = None, body: tuple[Any, ...] = ()
    ) -> None:
        self._call(new_method_call(self._player, member, signature, body))

    def _call(self, message: Message) -> tuple[Any, ...]:
        """Send one call and return its reply's body, as :class:`LocalAppUnavailable` on failure."""
        with self._lock:
            for attempt in (1, 2):
                connection = self._connect()
                try:
                    reply = connection.send_and_get_reply(message, timeout=self._timeout)
                    return tuple(unwrap_msg(reply))
                except DBusErrorResponse as err:
                    # ServiceUnknown: nothing owns the name, so the app is not running.
                    logger.debug("MPRIS call failed: %s", err.name)
                    raise LocalAppUnavailable() from err
                except TimeoutError as err:
                    logger.info("Spotify's MPRIS player did not answer in %.1f s", self._timeout)
                    raise LocalAppUnavailable() from err
                except OSError as err:
                    # The bus went away (or restarted): connect again, once.
                    self._drop()
                    if attempt == 2:
                        raise LocalAppUnavailable() from err
        raise AssertionError("unreachable")

    def _connect(self) -> DBusConnection:
        if self._connection is not None:
            return self._connection
        try:
            self._connection = open_dbus_connection(self._bus, auth_timeout=self._timeout)
        except KeyError as err:
            # jeepney reads DBUS_SESSION_BUS_ADDRESS; without it there is no session bus.
            raise LocalAppUnavailable("There is no D-Bus session bus here.") from err
        except (OSError, ValueError, StopIteration) as err:
            logger.debug("No D-Bus connection to %s: %s", self._bus, type(err).__name__)
            raise LocalAppUnavailable("There is no D-Bus session bus here.") from err
        return self._connection

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()


def parse_player_properties(properties: Mapping[str, Variant]) -> LocalStatus:
    """The status the Player interface's properties describe.

    Args:
        properties: ``GetAll("org.mpris.MediaPlayer2.Player")``: name -> (signature, value).
    """
    status = _value(properties.get("PlaybackStatus"))
    state = (
        STATE_BY_PLAYBACK_STATUS.get(status, "stopped") if isinstance(status, str) else "stopped"
    )
    track = parse_metadata(_variant_dict(properties.get("Metadata")))
    position = _value(properties.get("Position"))
    shuffle = _value(properties.get("Shuffle"))
    loop = _value(properties.get("LoopStatus"))
    return LocalStatus(
        state="stopped" if track is None and state != "playing" else state,
        track=track,
        position_ms=position // 1000 if isinstance(position, int) and position >= 0 else None,
        shuffle=shuffle if isinstance(shuffle, bool) else None,
        repeat=REPEAT_BY_LOOP_STATUS.get(loop) if isinstance(loop, str) else None,
        # Volume is left out on purpose: the Linux app does not keep it in step with its own.
    )


def parse_metadata(metadata: Mapping[str, Variant]) -> LocalTrack | None:
    """The track an MPRIS ``Metadata`` dict describes; None when it names none.

    Args:
        metadata: name -> (signature, value), as jeepney reads an ``a{sv}``.
    """
    title = _value(metadata.get("xesam:title"))
    track_id = _value(metadata.get("mpris:trackid"))
    url = _value(metadata.get("xesam:url"))
    if not isinstance(title, str) or not title:
        return None
    uri = None
    for candidate in (track_id, url):
        if not isinstance(candidate, str):
            continue
        found = _TRACK_PATH.fullmatch(candidate)
        if found is not None:
            uri = f"spotify:track:{found.group('id')}"
            break
        ref = parse_spotify_ref(candidate)
        if ref is not None and ref.kind == "track":
            uri = ref.uri
            break
    artists = _value(metadata.get("xesam:artist"))
    album = _value(metadata.get("xesam:album"))
    length = _value(metadata.get("mpris:length"))
    art = _value(metadata.get("mpris:artUrl"))
    return LocalTrack(
        uri=uri,
        title=title,
        artists=tuple(a for a in artists if isinstance(a, str) and a)
        if isinstance(artists, list | tuple)
        else (),
        album=album if isinstance(album, str) else "",
        duration_ms=length // 1000 if isinstance(length, int) and length > 0 else None,
        art_url=art if isinstance(art, str) and art else None,
    )


def _value(variant: object) -> object:
    """The value of a jeepney variant ``(signature, value)``; None for anything else."""
    if isinstance(variant, tuple) and len(variant) == 2 and isinstance(variant[0], str):
        return variant[1]
    return None


def _variant_dict(variant: object) -> dict[str, Variant]:
    value = _value(variant)
    return cast(dict[str, Variant], value) if isinstance(value, dict) else {}

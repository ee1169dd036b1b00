"""One user's devices and playback: the state machine behind ``/me/player``.

Progress is computed from a monotonic clock while playing; a track that runs out moves on by
itself (queue first, then the context) the next time anything looks at the state.

The model: a *context* is a list of track ids (an album, a playlist, an artist's tracks, or the
plain ``uris`` of a play call). ``order`` is the playing order over it (shuffled or not) and ``pos``
the index in ``order`` of the context track last played. Tracks added with "add to queue" play
before the context continues; while one plays, ``from_queue`` is set and ``pos`` stays put.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from assistant.sim.apierror import (
    ApiError,
    bad_request,
    device_not_found,
    no_active_device,
    restriction_violated,
)
from assistant.sim.catalog import Catalog, Track
from assistant.sim.library import Library

REPEAT_STATES = ("off", "track", "context")
HISTORY_SIZE = 50
# Spotify lists a track in the recently-played history once it stops playing, and only when it
# played for more than 30 seconds (the Web API reference said so until 2023; the current page says
# nothing either way). A skip within 30 s is no play.
PLAYED_MS = 30_000
# Spotify's GET /me/player/queue shows the explicit queue followed by what comes next in the
# context; it lists about 20 items.
QUEUE_VIEW_SIZE = 20


@dataclass
class Device:
    """A Spotify Connect device of the user."""

    id: str
    name: str
    type: str
    online: bool = True
    volume_percent: int = 50
    supports_volume: bool = True


def device_id_for(name: str, kind: str) -> str:
    """A stable 40-hex device id, derived from the device's kind and name."""
    return hashlib.sha1(f"{kind}:{name}".encode()).hexdigest()


@dataclass
class Context:
    """What is being played through: its URI (None for a list of track URIs) and tracks."""

    uri: str | None
    track_ids: list[str]


@dataclass(frozen=True)
class Played:
    """One entry of the recently-played history."""

    track_id: str
    played_at: float  # Unix time
    context_uri: str | None


@dataclass
class PlayerState:
    """Everything ``GET /me/player`` reports, at one instant."""

    device: Device | None
    track: Track | None
    context_uri: str | None
    is_playing: bool
    progress_ms: int
    shuffle: bool
    repeat: str
    timestamp_ms: int
    queue: list[str] = field(default_factory=list)


class Player:
    """Devices and the playback state machine of one user.

    Args:
        catalog: The catalog.
        library: The same user's library (playlist contexts).
        devices: The user's devices, listed or not.
        clock: Monotonic seconds (progress).
        wall_clock: Unix seconds (timestamps, history).
        rng: Random source for shuffle.
    """

    def __init__(
        self,
        catalog: Catalog,
        library: Library,
        devices: Sequence[Device],
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self._catalog = catalog
        self._library = library
        self.devices: list[Device] = list(devices)
        self._clock = clock
        self._wall = wall_clock
        self._rng = rng or random.Random(0)
        self.active_device_id: str | None = None
        self.context: Context | None = None
        self.order: list[int] = []
        self.pos = -1
        self.track_id: str | None = None
        self.from_queue = False
        self.queue: list[str] = []
        self.is_playing = False
        self._position_ms = 0
        self._anchor = self._clock()
        self.shuffle = False
        self.repeat = "off"
        self._changed_ms = int(self._wall() * 1000)
        self.history: deque[Played] = deque(maxlen=HISTORY_SIZE)

    # Devices

    def listed_devices(self) -> list[Device]:
        """The devices ``GET /me/player/devices`` lists."""
        return [d for d in self.devices if d.online]

    def device_named(self, name: str) -> Device:
        """The device whose type or name is ``name`` (case-insensitive)."""
        wanted = name.casefold()
        for device in self.devices:
            if wanted in (device.type.casefold(), device.name.casefold()):
                return device
        raise KeyError(name)

    def set_online(self, device: Device, online: bool) -> None:
        """List or unlist a device; unlisting the active one leaves no device active."""
        self._catch_up()
        device.online = online
        if not online and self.active_device_id == device.id:
            self._freeze()
            self.is_playing = False
            self.active_device_id = None
            self._touch()

    def active_device(self) -> Device | None:
        """The active device, if any."""
        for device in self.devices:
            if device.id == self.active_device_id and device.online:
                return device
        return None

    def _target(self, device_id: str | None) -> Device:
        # A command naming a listed device acts on it and makes it the active one; without a
        # device_id the active device is the target.
        if device_id:
            for device in self.devices:
                if device.id == device_id and device.online:
                    if self.active_device_id != device.id:
                        self._catch_up()
                        self.active_device_id = device.id
                        self._touch()
                    return device
            raise device_not_found()
        active = self.active_device()
        if active is None:
            raise no_active_device()
        return active

    # Time

    def _now_ms(self) -> int:
        return int(self._wall() * 1000)

    def _touch(self) -> None:
        self._changed_ms = self._now_ms()

    def progress_ms(self) -> int:
        """Progress into the current track now."""
        if not self.is_playing:
            return self._position_ms
        return self._position_ms + int((self._clock() - self._anchor) * 1000)

    def _set_position(self, position_ms: int) -> None:
        self._position_ms = max(0, position_ms)
        self._anchor = self._clock()

    def _freeze(self) -> None:
        self._set_position(self.progress_ms())

    def _catch_up(self) -> None:
        """Advance past tracks that ended while playing (repeat and queue honoured)."""
        for _ in range(10_000):
            if not self.is_playing or self.track_id is None:
                return
            duration = self._catalog.tracks[self.track_id].duration_ms
            progress = self.progress_ms()
            if progress < duration:
                return
            overflow = progress - duration
            # The moment the track ended, so the next one starts at the right offset.
            ended_at = self._clock() - overflow / 1000
            self._leave(ago_ms=overflow)
            if self.repeat == "track":
                # Every time round is a play of its own.
                for lap in range(1, min(overflow // max(duration, 1), HISTORY_SIZE) + 1):
                    self._list_play(self.track_id, duration, ago_ms=overflow - lap * duration)
                self._position_ms = overflow % max(duration, 1)
                self._anchor = self._clock()
                self._changed_ms = self._now_ms()
                return
            self._advance()
            if self.is_playing:
                self._position_ms = 0
                self._anchor = ended_at
        self._set_position(0)

    # Moving through the context

    def _current_context_track(self) -> str | None:
        if self.context is None or not 0 <= self.pos < len(self.order):
            return None
        return self.context.track_ids[self.order[self.pos]]

    def _start(self, track_id: str, *, from_queue: bool, position_ms: int = 0) -> None:
        self.track_id = track_id
        self.from_queue = from_queue
        self._set_position(position_ms)
        self._touch()

    def _leave(self, *, ago_ms: int = 0) -> None:
        """The current track stops (skipped, replaced or ended): list it if it played long enough.

        How long it played is how far it got (a seek counts as listening).

        Args:
            ago_ms: How long ago it ended (a track that ran out before anything looked).
        """
        if self.track_id is None:
            return
        duration = self._catalog.tracks[self.track_id].duration_ms
        self._list_play(self.track_id, min(self.progress_ms(), duration), ago_ms=ago_ms)

    def _list_play(self, track_id: str, played_ms: int, *, ago_ms: int = 0) -> None:
        if played_ms > PLAYED_MS:
            context_uri = self.context.uri if self.context is not None else None
            self.history.appendleft(Played(track_id, self._wall() - ago_ms / 1000, context_uri))

    def remember_played(self, track_ids: Sequence[str]) -> None:
        """Add plays to the history, oldest first, a song's length apart, before now.

        For a user with a listening past (tests and benchmarks); nothing starts playing.
        """
        now = self._wall()
        for back, track_id in enumerate(reversed(track_ids), start=1):
            if self.history.maxlen is not None and len(self.history) >= self.history.maxlen:
                break  # older than the history keeps
            self.history.append(Played(track_id, now - 240.0 * back, None))

    def _advance(self) -> bool:
        """Go to the next track: the queue first, then the context (wrapping as repeat says).

        Returns:
            True when the context ran out and playback stopped (at its first track).
        """
        if self.queue:
            self._start(self.queue.pop(0), from_queue=True)
            return False
        if self.context is None or not self.order:
            # Nothing after this one: stop at its start.
            self.is_playing = False
            self._set_position(0)
            self._touch()
            return True
        nxt = self.pos + 1
        stopped = False
        if nxt >= len(self.order):
            nxt = 0
            if self.repeat != "context":
                # The end of the context: back to its first track, paused.
                self.is_playing = False
                stopped = True
        self.pos = nxt
        track_id = self._current_context_track()
        assert track_id is not None
        self._start(track_id, from_queue=False)
        return stopped

    def _skip_forward(self) -> None:
        # "next" (or seeking past the end) keeps playing or paused as before, unless the
        # context ran out.
        playing = self.is_playing
        self._leave()
        if not self._advance():
            self.is_playing = playing

    def _shuffled_order(self, size: int, first: int | None) -> list[int]:
        rest = [i for i in range(size) if i != first]
        self._rng.shuffle(rest)
        return ([first] if first is not None else []) + rest

    # Commands (each raises ApiError the way the real service answers)

    def play(
        self,
        device_id: str | None,
        *,
        context_uri: str | None,
        uris: Sequence[str] | None,
        offset: dict[str, Any] | None,
        position_ms: int | None,
    ) -> None:
        """``PUT /me/player/play``: start a context or track list, or resume without a body."""
        self._target(device_id)
        self._catch_up()
        if position_ms is not None and (not isinstance(position_ms, int) or position_ms < 0):
            raise bad_request("position_ms must be a non-negative integer")
        if context_uri is None and uris is None:
            if self.track_id is None:
                raise restriction_violated()
            if not self.is_playing:
                self.is_playing = True
                self._set_position(self._position_ms)
                self._touch()
            return
        if context_uri is not None and uris is not None:
            raise bad_request("Only one of context_uri and uris can be given")
        if context_uri is not None:
            context, offset_allowed = self._resolve_context(context_uri)
        else:
            assert uris is not None
            context, offset_allowed = self._resolve_uris(uris), True
        if not context.track_ids:
            raise restriction_violated()
        start = 0
        if offset is not None:
            if not offset_allowed:
                kind = context_uri.split(":")[1].upper() if context_uri else "?"
                raise bad_request(f"Can't have offset for context type: {kind}")
            start = self._offset_index(context, offset)
        self._leave()
        self.context = context
        size = len(context.track_ids)
        self.order = self._shuffled_order(size, start) if self.shuffle else list(range(size))
        self.pos = self.order.index(start)
        self.is_playing = True
        self._start(context.track_ids[start], from_queue=False, position_ms=position_ms or 0)
        self._catch_up()

    def _resolve_context(self, uri: str) -> tuple[Context, bool]:
        parts = uri.split(":")
        if len(parts) != 3 or parts[0] != "spotify":
            raise bad_request("Invalid context uri")
        kind, item_id = parts[1], parts[2]
        if kind == "album":
            album = self._catalog.albums.get(item_id)
            if album is None:
                raise ApiError(404, "Not found.")
            return Context(uri, list(album.track_ids)), True
        if kind == "playlist":
            track_ids = self._library.context_tracks(item_id)
            if track_ids is None:
                raise ApiError(404, "Not found.")
            return Context(uri, track_ids), True
        if kind == "artist":
            if item_id not in self._catalog.artists:
                raise ApiError(404, "Not found.")
            return Context(uri, list(self._catalog.tracks_by_artist.get(item_id, ()))), False
        raise bad_request(f"Non supported context uri: {uri}")

    def _resolve_uris(self, uris: Sequence[str]) -> Context:
        if not isinstance(uris, list) or not uris:
            raise bad_request("uris must be a non-empty list of track URIs")
        track_ids = []
        for uri in uris:
            parts = uri.split(":") if isinstance(uri, str) else []
            if len(parts) != 3 or parts[:2] != ["spotify", "track"]:
                raise bad_request(f"Invalid track uri: {uri}")
            if parts[2] not in self._catalog.tracks:
                raise bad_request(f"Invalid track uri: {uri}")
            track_ids.append(parts[2])
        return Context(None, track_ids)

    @staticmethod
    def _offset_index(context: Context, offset: dict[str, Any]) -> int:
        if not isinstance(offset, dict):
            raise bad_request("offset must be an object")
        if "position" in offset:
            position = offset["position"]
            if not isinstance(position, int) or isinstance(position, bool) or position < 0:
                raise bad_request("offset.position must be a non-negative integer")
            if position >= len(context.track_ids):
                raise ApiError(404, "Player command failed: Invalid offset", "UNKNOWN")
            return position
        if "uri" in offset:
            uri = offset["uri"]
            track_id = uri.rsplit(":", 1)[-1] if isinstance(uri, str) else None
            if track_id not in context.track_ids:
                raise ApiError(404, "Player command failed: Invalid offset", "UNKNOWN")
            return context.track_ids.index(track_id)
        raise bad_request("offset needs position or uri")

    def pause(self, device_id: str | None) -> None:
        """``PUT /me/player/pause``; pausing while paused is a 403, as on the real service."""
        self._target(device_id)
        self._catch_up()
        if not self.is_playing:
            raise restriction_violated()
        self._freeze()
        self.is_playing = False
        self._touch()

    def next(self, device_id: str | None) -> None:
        """``POST /me/player/next``."""
        self._target(device_id)
        self._catch_up()
        if self.track_id is None:
            raise restriction_violated()
        self._skip_forward()

    def previous(self, device_id: str | None) -> None:
        """``POST /me/player/previous``: back one track in the context."""
        self._target(device_id)
        self._catch_up()
        if self.track_id is None:
            raise restriction_violated()
        if self.from_queue and self._current_context_track() is not None:
            track_id = self._current_context_track()
        elif self.context is not None and self.pos > 0:
            self.pos -= 1
            track_id = self._current_context_track()
        elif self.context is not None and self.repeat == "context" and self.order:
            self.pos = len(self.order) - 1
            track_id = self._current_context_track()
        else:
            track_id = self.track_id  # at the start: the track starts over
        assert track_id is not None
        playing = self.is_playing
        self._leave()
        self._start(track_id, from_queue=False)
        self.is_playing = playing

    def seek(self, device_id: str | None, position_ms: int) -> None:
        """``PUT /me/player/seek``; past the end starts the next track."""
        self._target(device_id)
        self._catch_up()
        if self.track_id is None:
            raise restriction_violated()
        if position_ms < 0:
            raise bad_request("position_ms must be a non-negative integer")
        duration = self._catalog.tracks[self.track_id].duration_ms
        if position_ms >= duration:
            self._skip_forward()
            return
        self._set_position(position_ms)
        self._touch()

    def set_volume(self, device_id: str | None, volume_percent: int) -> None:
        """``PUT /me/player/volume``."""
        device = self._target(device_id)
        if not 0 <= volume_percent <= 100:
            raise bad_request("Invalid volume_percent: must be between 0 and 100")
        device.volume_percent = volume_percent
        self._touch()

    def set_shuffle(self, device_id: str | None, state: bool) -> None:
        """``PUT /me/player/shuffle``: shuffling keeps the current track and reorders the rest."""
        self._target(device_id)
        self._catch_up()
        if state == self.shuffle:
            return
        self.shuffle = state
        if self.context is not None and self.order:
            current = self.order[self.pos] if 0 <= self.pos < len(self.order) else 0
            size = len(self.context.track_ids)
            if state:
                self.order = self._shuffled_order(size, current)
                self.pos = 0
            else:
                self.order = list(range(size))
                self.pos = current
        self._touch()

    def set_repeat(self, device_id: str | None, state: str) -> None:
        """``PUT /me/player/repeat``."""
        self._target(device_id)
        self._catch_up()
        if state not in REPEAT_STATES:
            raise bad_request("State must be one of track, context or off")
        self.repeat = state
        self._touch()

    def add_to_queue(self, device_id: str | None, uri: str) -> None:
        """``POST /me/player/queue``."""
        self._target(device_id)
        self._catch_up()
        parts = uri.split(":")
        if len(parts) != 3 or parts[0] != "spotify" or parts[1] not in ("track", "episode"):
            raise bad_request("Invalid base62 id")
        if parts[1] != "track" or parts[2] not in self._catalog.tracks:
            raise bad_request(f"Invalid track uri: {uri}")
        self.queue.append(parts[2])
        self._touch()

    def transfer(self, device_ids: object, play: bool | None) -> None:
        """``PUT /me/player``: make the device active; ``play`` true also starts playback."""
        if (
            not isinstance(device_ids, list)
            or not device_ids
            or not all(isinstance(d, str) for d in device_ids)
        ):
            raise bad_request("device_ids must be a list with one device id")
        if len(device_ids) > 1:
            raise bad_request("Only one device id can be given")
        self._catch_up()
        self._target(device_ids[0])
        if play and self.track_id is not None and not self.is_playing:
            self.is_playing = True
            self._set_position(self._position_ms)
        self._touch()

    # Reading

    def state(self) -> PlayerState:
        """The state now (after moving past tracks that ended)."""
        self._catch_up()
        return PlayerState(
            device=self.active_device(),
            track=self._catalog.tracks[self.track_id] if self.track_id else None,
            context_uri=self.context.uri if self.context is not None else None,
            is_playing=self.is_playing,
            progress_ms=self.progress_ms(),
            shuffle=self.shuffle,
            repeat=self.repeat,
            timestamp_ms=self._changed_ms,
            queue=list(self.queue),
        )

    def upcoming(self, limit: int = QUEUE_VIEW_SIZE) -> list[str]:
        """What plays next: the explicit queue, then the rest of the context."""
        self._catch_up()
        items = list(self.queue[:limit])
        if self.context is not None and self.order:
            size = len(self.order)
            for step in range(1, size + 1):  # at most one lap of the context
                if len(items) >= limit:
                    break
                index = self.pos + step
                if index >= size:
                    if self.repeat != "context":
                        break
                    index -= size
                items.append(self.context.track_ids[self.order[index]])
        return items

    def recently_played(self) -> list[Played]:
        """Tracks that played for more than 30 s, newest first; the current one once it stops."""
        self._catch_up()
        return list(self.history)

    # Keeping the state (the demo world lives in a file between processes: sim/world_file.py)

    def to_data(self) -> dict[str, Any]:
        """Everything this player holds, as JSON-ready data (see ``load_data``).

        Progress is kept as it is held: a position and the moment of the player's clock it was
        taken at, so a player whose clock is the wall clock goes on playing between processes.
        """
        version, internal, gauss = self._rng.getstate()
        return {
            "devices": [
                {
                    "id": d.id,
                    "name": d.name,
                    "type": d.type,
                    "online": d.online,
                    "volume_percent": d.volume_percent,
                    "supports_volume": d.supports_volume,
                }
                for d in self.devices
            ],
            "active_device_id": self.active_device_id,
            "context": (
                {"uri": self.context.uri, "track_ids": self.context.track_ids}
                if self.context is not None
                else None
            ),
            "order": self.order,
            "pos": self.pos,
            "track_id": self.track_id,
            "from_queue": self.from_queue,
            "queue": self.queue,
            "is_playing": self.is_playing,
            "position_ms": self._position_ms,
            "anchor": self._anchor,
            "shuffle": self.shuffle,
            "repeat": self.repeat,
            "changed_ms": self._changed_ms,
            "history": [[p.track_id, p.played_at, p.context_uri] for p in self.history],
            "rng": [version, list(internal), gauss],
        }

    def load_data(self, data: dict[str, Any]) -> None:
        """Take over the state ``to_data`` gave, in place (the same ``Player`` object).

        Raises:
            KeyError: A field is missing, or a track is not in this catalog.
            TypeError, ValueError: A field has the wrong shape.
        """
        tracks = self._catalog.tracks
        context = data["context"]
        queue = [str(t) for t in data["queue"]]
        history = [Played(str(t), float(at), uri) for t, at, uri in data["history"]]
        track_id = data["track_id"]
        for known in (
            *(context["track_ids"] if context is not None else ()),
            *queue,
            *(p.track_id for p in history),
            *((track_id,) if track_id is not None else ()),
        ):
            if known not in tracks:
                raise KeyError(f"track {known} is not in the catalog")
        if data["repeat"] not in REPEAT_STATES:
            raise ValueError(f"unknown repeat state {data['repeat']!r}")
        version, internal, gauss = data["rng"]
        self._rng.setstate((int(version), tuple(int(i) for i in internal), gauss))
        self.devices = [Device(**device) for device in data["devices"]]
        self.active_device_id = data["active_device_id"]
        self.context = (
            Context(context["uri"], [str(t) for t in context["track_ids"]])
            if context is not None
            else None
        )
        self.order = [int(i) for i in data["order"]]
        self.pos = int(data["pos"])
        self.track_id = track_id
        self.from_queue = bool(data["from_queue"])
        self.queue = queue
        self.is_playing = bool(data["is_playing"])
        self._position_ms = int(data["position_ms"])
        self._anchor = float(data["anchor"])
        self.shuffle = bool(data["shuffle"])
        self.repeat = data["repeat"]
        self._changed_ms = int(data["changed_ms"])
        self.history = deque(history, maxlen=HISTORY_SIZE)

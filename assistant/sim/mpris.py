"""The simulated Computer's Spotify app as a real MPRIS 2 player on a D-Bus bus (dbus-fast).

:class:`MprisService` owns ``org.mpris.MediaPlayer2.spotify`` on the bus it is given and serves
``org.mpris.MediaPlayer2`` and ``org.mpris.MediaPlayer2.Player`` at ``/org/mpris/MediaPlayer2`` the
way Spotify's Linux app does (track ids ``/com/spotify/track/ID``; writes to Volume ignored), over
a :class:`~assistant.sim.computer_app.ComputerApp` that shares the simulator's player state.
:class:`PrivateSessionBus` runs a ``dbus-daemon`` of its own, so tests and benchmarks never touch
the desktop's session bus (where a real Spotify may be running)::

    with PrivateSessionBus() as bus, MprisService(sim.computer_app(), bus.address):
        ...  # MprisApp(bus=bus.address) drives the simulator's Computer

dbus-fast reads each method's D-Bus signature from its annotations (the ``DBus*`` aliases below),
so this module does not postpone annotations: under ``from __future__ import annotations`` a
``-> None`` would reach dbus-fast as the string "None". Its handlers run on the service's own
asyncio loop thread.
"""

import asyncio
import logging
import os
import select
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Annotated, Self

from dbus_fast import BusType, DBusError, ErrorType, PropertyAccess, RequestNameReply, Variant
from dbus_fast.aio import MessageBus
from dbus_fast.annotations import DBusSignature
from dbus_fast.service import ServiceInterface, dbus_method, dbus_property

from assistant.sim.computer_app import ComputerApp

logger = logging.getLogger(__name__)

BUS_NAME = "org.mpris.MediaPlayer2.spotify"
OBJECT_PATH = "/org/mpris/MediaPlayer2"
START_TIMEOUT_S = 10.0

# D-Bus types for dbus-fast's annotations.
DBusBool = Annotated[bool, DBusSignature("b")]
DBusStr = Annotated[str, DBusSignature("s")]
DBusStrs = Annotated[list[str], DBusSignature("as")]
DBusDouble = Annotated[float, DBusSignature("d")]
DBusInt64 = Annotated[int, DBusSignature("x")]
DBusPath = Annotated[str, DBusSignature("o")]
DBusMetadata = Annotated[dict[str, Variant], DBusSignature("a{sv}")]

LOOP_STATUS = {"off": "None", "track": "Track", "context": "Playlist"}
REPEAT_BY_LOOP_STATUS = {v: k for k, v in LOOP_STATUS.items()}
TRACK_PATH_PREFIX = "/com/spotify/track/"
NO_TRACK_PATH = "/org/mpris/MediaPlayer2/TrackList/NoTrack"


class _Root(ServiceInterface):
    """``org.mpris.MediaPlayer2``: who the player is."""

    def __init__(self) -> None:
        super().__init__("org.mpris.MediaPlayer2")

    @dbus_method()
    def Raise(self) -> None:
        """Nothing to raise: the simulated app has no window."""

    @dbus_method()
    def Quit(self) -> None:
        """Refused: the simulated app stays."""
        raise DBusError(ErrorType.NOT_SUPPORTED, "The simulated Spotify app does not quit.")

    @dbus_property(access=PropertyAccess.READ)
    def CanQuit(self) -> DBusBool:
        return False

    @dbus_property(access=PropertyAccess.READ)
    def CanRaise(self) -> DBusBool:
        return False

    @dbus_property(access=PropertyAccess.READ)
    def HasTrackList(self) -> DBusBool:
        return False

    @dbus_property(access=PropertyAccess.READ)
    def Identity(self) -> DBusStr:
        return "Spotify"

    @dbus_property(access=PropertyAccess.READ)
    def DesktopEntry(self) -> DBusStr:
        return "spotify"

    @dbus_property(access=PropertyAccess.READ)
    def SupportedUriSchemes(self) -> DBusStrs:
        return ["spotify"]

    @dbus_property(access=PropertyAccess.READ)
    def SupportedMimeTypes(self) -> DBusStrs:
        return []


class _Player(ServiceInterface):
    """``org.mpris.MediaPlayer2.Player`` over the simulated app.

    (mypy takes dbus-fast's property setters, which reuse the getter's name, for redefinitions.)
    """

    def __init__(self, app: ComputerApp) -> None:
        super().__init__("org.mpris.MediaPlayer2.Player")
        self._app = app

    @dbus_method()
    def Next(self) -> None:
        self._app.next()

    @dbus_method()
    def Previous(self) -> None:
        self._app.previous()

    @dbus_method()
    def Pause(self) -> None:
        self._app.pause()

    @dbus_method()
    def PlayPause(self) -> None:
        self._app.play_pause()

    @dbus_method()
    def Stop(self) -> None:
        self._app.pause()

    @dbus_method()
    def Play(self) -> None:
        self._app.play()

    @dbus_method()
    def Seek(self, offset: DBusInt64) -> None:
        self._app.seek_by(offset // 1000)

    @dbus_method()
    def SetPosition(self, track_id: DBusPath, position: DBusInt64) -> None:
        if track_id.startswith(TRACK_PATH_PREFIX):
            self._app.set_position(track_id.removeprefix(TRACK_PATH_PREFIX), position // 1000)

    @dbus_method()
    def OpenUri(self, uri: DBusStr) -> None:
        try:
            self._app.open_uri(uri)
        except ValueError as err:
            raise DBusError(ErrorType.INVALID_ARGS, str(err)) from err

    @dbus_property(access=PropertyAccess.READ)
    def PlaybackStatus(self) -> DBusStr:
        return self._app.view().status

    @dbus_property()
    def LoopStatus(self) -> DBusStr:
        return LOOP_STATUS.get(self._app.view().repeat, "None")

    @LoopStatus.setter  # type: ignore[no-redef]
    def LoopStatus(self, value: DBusStr) -> None:
        mode = REPEAT_BY_LOOP_STATUS.get(value)
        if mode is None:
            raise DBusError(ErrorType.INVALID_ARGS, "LoopStatus must be None, Track or Playlist")
        self._app.set_repeat(mode)

    @dbus_property()
    def Shuffle(self) -> DBusBool:
        return self._app.view().shuffle

    @Shuffle.setter  # type: ignore[no-redef]
    def Shuffle(self, value: DBusBool) -> None:
        self._app.set_shuffle(bool(value))

    @dbus_property()
    def Rate(self) -> DBusDouble:
        return 1.0

    @Rate.setter  # type: ignore[no-redef]
    def Rate(self, value: DBusDouble) -> None:
        """Ignored: one rate only."""

    @dbus_property()
    def Volume(self) -> DBusDouble:
        return self._app.view().volume_percent / 100

    @Volume.setter  # type: ignore[no-redef]
    def Volume(self, value: DBusDouble) -> None:
        """Ignored, as Spotify's Linux app ignores it."""

    @dbus_property(access=PropertyAccess.READ)
    def Metadata(self) -> DBusMetadata:
        view = self._app.view()
        track = view.track
        if track is None:
            return {"mpris:trackid": Variant("o", NO_TRACK_PATH)}
        metadata = {
            "mpris:trackid": Variant("o", TRACK_PATH_PREFIX + track.id),
            "mpris:length": Variant("x", track.duration_ms * 1000),
            "xesam:title": Variant("s", track.name),
            "xesam:artist": Variant("as", list(view.artists)),
            "xesam:album": Variant("s", view.album),
            "xesam:url": Variant("s", f"https://open.spotify.com/track/{track.id}"),
            "xesam:trackNumber": Variant("i", track.track_number),
        }
        if view.art_url:
            metadata["mpris:artUrl"] = Variant("s", view.art_url)
        return metadata

    @dbus_property(access=PropertyAccess.READ)
    def Position(self) -> DBusInt64:
        return self._app.view().position_ms * 1000

    @dbus_property(access=PropertyAccess.READ)
    def MinimumRate(self) -> DBusDouble:
        return 1.0

    @dbus_property(access=PropertyAccess.READ)
    def MaximumRate(self) -> DBusDouble:
        return 1.0

    @dbus_property(access=PropertyAccess.READ)
    def CanGoNext(self) -> DBusBool:
        return True

    @dbus_property(access=PropertyAccess.READ)
    def CanGoPrevious(self) -> DBusBool:
        return True

    @dbus_property(access=PropertyAccess.READ)
    def CanPlay(self) -> DBusBool:
        return self._app.view().track is not None

    @dbus_property(access=PropertyAccess.READ)
    def CanPause(self) -> DBusBool:
        return True

    @dbus_property(access=PropertyAccess.READ)
    def CanSeek(self) -> DBusBool:
        return True

    @dbus_property(access=PropertyAccess.READ)
    def CanControl(self) -> DBusBool:
        return True


class BusService:
    """Something served on a D-Bus bus by dbus-fast, from an asyncio loop thread of its own.

    Subclasses set up the connection in :meth:`_serve` (export objects, own a name); their
    handlers run on the loop thread.

    Args:
        bus_address: The bus's address (``PrivateSessionBus.address``).
    """

    thread_name = "sim-dbus"

    def __init__(self, bus_address: str) -> None:
        self._address = bus_address
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._bus: MessageBus | None = None

    def start(self) -> Self:
        """Connect and serve; returns once clients can call it."""
        if self._loop is not None:
            return self
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name=self.thread_name, daemon=True)
        thread.start()
        self._loop, self._thread = loop, thread
        try:
            asyncio.run_coroutine_threadsafe(self._connect(), loop).result(START_TIMEOUT_S)
        except BaseException:
            self.stop()
            raise
        return self

    async def _connect(self) -> None:
        bus = await MessageBus(bus_address=self._address, bus_type=BusType.SESSION).connect()
        self._bus = bus
        await self._serve(bus)

    async def _serve(self, bus: MessageBus) -> None:
        """Export what the service serves and own its name (on the loop thread)."""
        raise NotImplementedError

    async def _own(self, bus: MessageBus, name: str) -> None:
        """Own the well-known ``name``, or raise when another connection has it."""
        reply = await bus.request_name(name)
        if reply not in (RequestNameReply.PRIMARY_OWNER, RequestNameReply.ALREADY_OWNER):
            raise RuntimeError(f"{name} is owned by another process on that bus")

    def stop(self) -> None:
        """Leave the bus (the name goes with the connection) and end the loop thread."""
        loop, thread, bus = self._loop, self._thread, self._bus
        self._loop = self._thread = self._bus = None
        if loop is None:
            return
        if bus is not None:
            loop.call_soon_threadsafe(bus.disconnect)
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(timeout=5)
        loop.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class MprisService(BusService):
    """Serves a simulated app as ``org.mpris.MediaPlayer2.spotify`` on a bus.

    Args:
        app: The simulated app (``SimulatedSpotify.computer_app()``).
        bus_address: The bus's address (``PrivateSessionBus.address``).
        bus_name: The well-known name to own.
    """

    thread_name = "sim-mpris"

    def __init__(self, app: ComputerApp, bus_address: str, *, bus_name: str = BUS_NAME) -> None:
        super().__init__(bus_address)
        self._app = app
        self._bus_name = bus_name

    async def _serve(self, bus: MessageBus) -> None:
        bus.export(OBJECT_PATH, _Root())
        bus.export(OBJECT_PATH, _Player(self._app))
        await self._own(bus, self._bus_name)


class PrivateSessionBus:
    """A ``dbus-daemon --session`` of its own, listening in a temporary directory.

    Attributes:
        address: The bus address (``unix:path=...``), once started.
        pid: The daemon's process id, once started.
    """

    def __init__(self) -> None:
        self.address = ""
        self.pid: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._dir: Path | None = None

    def start(self) -> Self:
        """Start the daemon and wait until it listens.

        Raises:
            RuntimeError: dbus-daemon is missing or did not start.
        """
        if shutil.which("dbus-daemon") is None:
            raise RuntimeError("dbus-daemon is not installed (Debian: the dbus package)")
        self._dir = Path(tempfile.mkdtemp(prefix="segue-bus-"))
        self._process = subprocess.Popen(
            [
                "dbus-daemon",
                "--session",
                "--nofork",
                "--nopidfile",
                f"--address=unix:path={self._dir / 'bus'}",
                "--print-address=1",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.pid = self._process.pid
        assert self._process.stdout is not None
        # The daemon prints its address once it listens.
        ready, _, _ = select.select([self._process.stdout], [], [], START_TIMEOUT_S)
        line = os.read(self._process.stdout.fileno(), 4096).decode() if ready else ""
        address = line.strip().splitlines()[0] if line.strip() else ""
        if not address.startswith("unix:"):
            self.stop()
            raise RuntimeError("dbus-daemon did not start")
        self.address = address
        return self

    def stop(self) -> None:
        """Stop the daemon this object started, and remove its directory."""
        process, self._process = self._process, None
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
            if process.stdout is not None:
                process.stdout.close()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

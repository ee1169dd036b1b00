"""The local desktop player: find this computer's Spotify, start it when needed, play there.

Spotify's Web API only commands players that are running and listed. When a command fails with
"no active device", :class:`LocalPlayer` moves playback to this computer's Spotify app (starting the
app first when it is not listed) and sends the command again. It never moves playback to another
device on its own: when a phone is active, commands go to the phone as usual, and a listed
computer that cannot be told to be this one (an idle desktop at home) is never played on.

Which listed "Computer" is this one: Spotify lists every computer of the account, and names each
after the computer as its system shows it, which need not be the host name. So this computer's
player is the one named like ``spotify_device_name`` or the host, or else the one whose id
:class:`DeviceMemory` remembers: the player that came online when Segue started the app here.

The first play from idle: without a ``device_id`` a play command fails (no device active), and the
recovery costs three more requests (the device list, the transfer, the play again). So
:meth:`LocalPlayer.play` sends the first play to this computer's player by its id at once, when
that id is known and Spotify was lately seen with nothing active elsewhere (by the warm-up's
device list, or the last command that played here): a play with a ``device_id`` also makes that
device the active one, so it is sent only when no other device (a phone) would lose playback.
That sighting is kept beside the id in the data dir, so a new ``segue say`` process, which has
no warm-up, plays in two requests too after a play here a few minutes before.
"""

from __future__ import annotations

import logging
import os
import shlex
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import closing
from pathlib import Path
from typing import TypeVar

from assistant.errors import NoDevice, SegueError
from assistant.spotify.client import SpotifyClient
from assistant.spotify.models import Device

logger = logging.getLogger(__name__)

T = TypeVar("T")

WHAT_TO_DO = "Open Spotify on this computer, or say which device to play on."

FREE_SECONDS = 600.0
"""How long a sighting of Spotify with no other device active lets a play go straight to this
computer's player. A phone may start playing at any moment; within this time of the warm-up's
device list or the last play here, Segue takes the chance (as local control does, see
``control.LOCAL_ACTIVE_SECONDS``); after it, the play goes to the active device, as before."""

_MEMORY_SCHEMA = """
CREATE TABLE IF NOT EXISTS this_computer (
    slot INTEGER PRIMARY KEY CHECK (slot = 0),
    device_id TEXT NOT NULL,
    name TEXT NOT NULL,
    learned_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS free_sighting (
    slot INTEGER PRIMARY KEY CHECK (slot = 0),
    seen_at REAL
)
"""


def default_launch_command() -> list[str] | None:
    """The command that starts the Spotify desktop app here; None on Windows (see ``launch``)."""
    if sys.platform == "darwin":
        return ["open", "-a", "Spotify"]
    if sys.platform == "win32":
        # The Microsoft Store and the installer versions both register the spotify: protocol.
        return None
    return ["spotify"]


def launch_detached(command: Sequence[str]) -> subprocess.Popen[bytes]:
    """Start ``command`` in its own session with no terminal I/O, without waiting for it.

    Raises:
        OSError: The command does not exist or cannot be run.
    """
    if sys.platform == "win32":
        return subprocess.Popen(
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            creationflags=subprocess.DETACHED_PROCESS | subprocess.CREATE_NEW_PROCESS_GROUP,
        )
    # A fixed command from the settings, run without a shell, in a session of its own so that it
    # outlives Segue and no terminal signal reaches it.
    return subprocess.Popen(
        list(command),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        close_fds=True,
        start_new_session=True,
    )


class DeviceMemory:
    """This computer's Spotify device id, remembered in SQLite in the data dir.

    Later runs (and other Segue processes) find this computer's player by it when its name says
    nothing. It is only a memory: :meth:`LocalPlayer.find` takes it only when Spotify lists that
    id now. A file that cannot be read or written is logged and the id kept in memory.

    Args:
        path: The database file (its folder is made when missing); None keeps the id in memory.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._device_id: str | None = None
        self._free_at: float | None = None

    def get(self) -> str | None:
        """The remembered device id, if any."""
        if self.path is not None and self.path.exists():
            try:
                with closing(self._connect()) as db:
                    row = db.execute("SELECT device_id FROM this_computer").fetchone()
                return str(row[0]) if row is not None else self._device_id
            except (sqlite3.Error, OSError) as err:
                logger.warning("Could not read %s: %s", self.path, err)
        return self._device_id

    def remember(self, device_id: str, name: str) -> None:
        """Remember ``device_id`` (named ``name`` now) as this computer's player."""
        if device_id == self._device_id:
            return
        self._device_id = device_id
        if self.path is None:
            return
        try:
            with closing(self._connect()) as db, db:
                db.execute(
                    "INSERT OR REPLACE INTO this_computer (slot, device_id, name, learned_at)"
                    " VALUES (0, ?, ?, ?)",
                    (device_id, name, time.time()),
                )
            logger.info("Remembered this computer's Spotify player (%s)", name)
        except (sqlite3.Error, OSError) as err:
            logger.warning("Could not write %s: %s", self.path, err)

    def free_at(self) -> float | None:
        """When (wall-clock seconds) Spotify was last seen with nothing active but this computer.

        None when another device was active at the last sighting, or nothing is known.
        """
        if self.path is not None and self.path.exists():
            try:
                with closing(self._connect()) as db:
                    row = db.execute("SELECT seen_at FROM free_sighting").fetchone()
                return float(row[0]) if row is not None and row[0] is not None else None
            except (sqlite3.Error, OSError) as err:
                logger.warning("Could not read %s: %s", self.path, err)
        return self._free_at

    def note_free(self, at: float | None) -> None:
        """Note the last sighting: ``at`` (wall-clock seconds) when free, None when not."""
        self._free_at = at
        if self.path is None:
            return
        try:
            with closing(self._connect()) as db, db:
                db.execute(
                    "INSERT OR REPLACE INTO free_sighting (slot, seen_at) VALUES (0, ?)", (at,)
                )
        except (sqlite3.Error, OSError) as err:
            logger.warning("Could not write %s: %s", self.path, err)

    def _connect(self) -> sqlite3.Connection:
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=5.0)
        try:
            with db:
                db.executescript(_MEMORY_SCHEMA)
        except sqlite3.Error:
            db.close()
            raise
        return db


class LocalPlayer:
    """Runs player commands, bringing up this computer's Spotify app when no device is active.

    Args:
        client: The Spotify client.
        device_name: The name of this computer's Spotify device when it is not the host name.
        launch_command: The command that starts Spotify; None picks the platform's default
            (``spotify`` on Linux, ``open -a Spotify`` on macOS, the ``spotify:`` protocol on
            Windows).
        wait_seconds: How long to wait for the started app to appear as a device.
        poll_interval: Seconds between device list requests while waiting.
        sleep: Waits between polls (injectable for tests).
        clock: Monotonic clock for the wait.
        wall_clock: Wall-clock seconds for the sighting of a free Spotify, which other Segue
            processes read from the memory (see :data:`FREE_SECONDS`).
        launch: Starts a command; the default runs it detached with its output discarded.
        memory: Remembers which listed computer is this one; in memory only by default.
    """

    def __init__(
        self,
        client: SpotifyClient,
        *,
        device_name: str | None,
        launch_command: Sequence[str] | None = None,
        wait_seconds: float = 15.0,
        poll_interval: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        launch: Callable[[Sequence[str]], None] | None = None,
        memory: DeviceMemory | None = None,
    ) -> None:
        self._client = client
        self._memory = memory if memory is not None else DeviceMemory()
        self._device_name = device_name
        self._launch_command = (
            list(launch_command) if launch_command is not None else default_launch_command()
        )
        self._wait_seconds = wait_seconds
        self._poll_interval = poll_interval
        self._sleep = sleep
        self._clock = clock
        self._wall_clock = wall_clock
        self._launch = launch
        self._process: subprocess.Popen[bytes] | None = None

    def _names(self) -> set[str]:
        names = set()
        for name in (self._device_name, socket.gethostname()):
            if name:
                names.add(name.casefold())
                # macOS host names end in ".local"; the Spotify device is named without it.
                names.add(name.split(".", 1)[0].casefold())
        return names

    def find(self, devices: Sequence[Device]) -> Device | None:
        """This computer's Spotify device among ``devices``.

        A "Computer" named like ``device_name`` or this host, else the one whose id is
        remembered. Any other computer may be another one of the person's (a desktop at home):
        it is never taken for this one, even when it is the only one listed.

        Args:
            devices: The devices Spotify lists.

        Returns:
            The device, or None when this computer's Spotify is not listed (or not known).
        """
        computers = _computers(devices)
        names = self._names()
        for device in computers:
            if device.name.casefold() in names:
                return device
        remembered = self._memory.get()
        for device in computers:
            if remembered is not None and device.id == remembered:
                return device
        return None

    def is_this(self, device: Device) -> bool:
        """Whether ``device`` is this computer's Spotify (see :meth:`find`): "on this computer"."""
        return self.find([device]) is not None

    def target(self) -> str | None:
        """The device id a play may name at once: this computer's, while no other device plays.

        Returns:
            This computer's remembered device id when Spotify was seen within
            :data:`FREE_SECONDS` with no device active but this one; else None (play on the
            active device).
        """
        free_at = self._memory.free_at()
        if free_at is None or not 0 <= self._wall_clock() - free_at < FREE_SECONDS:
            return None
        return self._memory.get()

    def warm_up(self) -> None:
        """Read the device list now, so the first play from idle can go straight here.

        Meant for the moment a command starts (the person is still speaking). Learns this
        computer's device id (by name or memory) and whether another device is active. A
        failure only leaves that unknown.
        """
        try:
            devices = self._client.devices()
        except SegueError as err:
            logger.info("Device warm-up failed: %s", type(err).__name__)
            return
        self._observe(devices)

    def play(self, start: Callable[[str | None], T], *, recover: bool = True) -> T:
        """Start playback: on this computer's player at once when :meth:`target` allows it.

        Otherwise, or when that player has gone, on the active device, with the recovery of
        :meth:`run` when ``recover`` is true.

        Args:
            start: The play request, given the device id to name (None for the active device).
            recover: Bring up this computer's player on "no active device" (see :meth:`run`);
                False lets that error propagate (the caller has another way to play).

        Returns:
            What ``start`` returned.
        """
        device_id = self.target()
        if device_id is not None:
            try:
                result = start(device_id)
            except NoDevice as err:
                # The remembered player is not listed now (the app was closed or reinstalled):
                # the usual way, from the active device.
                logger.info("This computer's player did not take the play (%s)", err)
                self._memory.note_free(None)
            else:
                self._memory.note_free(self._wall_clock())
                return result
        if not recover:
            return start(None)
        result, recovered = self._run(lambda: start(None))
        if not recovered:
            # It went to the active device: which one is not known.
            self._memory.note_free(None)
        return result

    def run(self, action: Callable[[], T]) -> T:
        """Run a player command, bringing up the local player if Spotify has no active device.

        On "no active device": when this computer's Spotify is listed, playback moves there
        (paused) and the command is sent again; when it is not listed, the app is started, and
        once it appears playback moves there and the command is sent again. Each happens once.

        Args:
            action: The command, e.g. ``lambda: client.play(uris=[...])``.

        Returns:
            What ``action`` returned.

        Raises:
            NoDevice: The command named a device that is gone, another device is active, or this
                computer's Spotify could not be found or started; the message says what to do.
        """
        return self._run(action)[0]

    def _run(self, action: Callable[[], T]) -> tuple[T, bool]:
        """:meth:`run`, saying whether the recovery was needed."""
        try:
            return action(), False
        except NoDevice as err:
            # A device_id that Spotify no longer lists comes back as a non-retryable NoDevice:
            # starting the local app would not bring that device back.
            if not err.retryable:
                raise
            devices = self._client.devices()
            self._observe(devices)
            if any(d.is_active for d in devices):
                # Someone is playing elsewhere (a phone); do not take playback away from it.
                raise
            device = self.find(devices)
            if device is None:
                device = self._start_and_wait(devices)
            if device.id is None:  # find() returns only devices with an ID
                raise
            self._memory.remember(device.id, device.name)
            logger.info("Moving playback to this computer's Spotify (%s)", device.name)
            self._client.transfer(device.id, play=False)
        result = action()
        self._memory.note_free(self._wall_clock())  # this computer is the active player now
        return result, True

    def _observe(self, devices: Sequence[Device]) -> None:
        """Note what a device list says: this computer's id, and whether another one plays."""
        here = self.find(devices)
        if here is not None and here.id is not None:
            self._memory.remember(here.id, here.name)
        active = [d for d in devices if d.is_active]
        free = not active or (here is not None and active[0].id == here.id)
        self._memory.note_free(self._wall_clock() if free else None)

    def _start_and_wait(self, before: Sequence[Device]) -> Device:
        """Start the app here and return the player it brings online.

        That is a computer found by :meth:`find`, or else the one computer that was not listed
        in ``before`` (the list read just before the start): the app started here is what
        made it appear.
        """
        known = {d.id for d in before}
        self._start()
        deadline = self._clock() + self._wait_seconds
        while True:
            devices = self._client.devices()
            device = self.find(devices)
            if device is not None:
                return device
            appeared = [d for d in _computers(devices) if d.id not in known]
            if len(appeared) == 1:
                logger.info("This computer's Spotify appeared as %s", appeared[0].name)
                return appeared[0]
            self._check_process()
            if self._clock() >= deadline:
                raise self._not_appeared(devices)
            self._sleep(self._poll_interval)

    def _not_appeared(self, devices: Sequence[Device]) -> NoDevice:
        others = [f"“{d.name}”" for d in _computers(devices)]
        if not others:
            return NoDevice(
                f"Spotify did not appear as a player within {self._wait_seconds:g} seconds. "
                + WHAT_TO_DO
            )
        # A computer that did not come online when the app was started here may be another
        # one (at home, at work): playing there would start music in someone else's room.
        return NoDevice(
            f"I can't tell whether {' or '.join(others)} is this computer (no new Spotify "
            f"player appeared here within {self._wait_seconds:g} seconds): say which device "
            "to play on, or set spotify_device_name."
        )

    def _start(self) -> None:
        command = self._launch_command
        shown = shlex.join(command) if command is not None else "spotify:"
        logger.info("Starting the Spotify app: %s", shown)
        try:
            if self._launch is not None and command is not None:
                self._launch(command)
            elif command is None:
                # Windows: the spotify: protocol handler starts the app wherever it is installed.
                os.startfile("spotify:")  # type: ignore[attr-defined,unused-ignore]
            else:
                process = launch_detached(command)
                # Reap the process whenever it exits (Spotify may run for hours), so no zombie is
                # left behind; the wait loop reads the exit status this thread records.
                threading.Thread(
                    target=process.wait, name="spotify-app-reaper", daemon=True
                ).start()
                self._process = process
        except OSError as err:
            logger.warning("Could not start Spotify with %s: %s", shown, err)
            raise NoDevice(
                f"Spotify does not seem to be installed here (could not run `{shown}`). "
                + WHAT_TO_DO
            ) from err

    def _check_process(self) -> None:
        # `open -a Spotify` (macOS) exits at once; a non-zero status means it found no app.
        process = self._process
        if process is None:
            return
        status = process.returncode  # set by the reaper thread once the process has exited
        if status is None:
            return
        self._process = None
        if status != 0 and self._launch_command is not None:
            raise NoDevice(
                f"Could not start Spotify: `{shlex.join(self._launch_command)}` exited with "
                f"status {status}. " + WHAT_TO_DO
            )


def _computers(devices: Sequence[Device]) -> list[Device]:
    """The listed computers (with an id: Spotify cannot be told to play on one without)."""
    return [d for d in devices if d.type.casefold() == "computer" and d.id]

"""The local desktop player: find this computer's Spotify, start it when needed, play there.

Spotify's Web API only commands players that are running and listed. When a command fails with
"no active device", :class:`LocalPlayer` moves playback to this computer's Spotify app (starting the
app first when it is not listed) and sends the command again. It never moves playback to another
device on its own: when a phone is active, commands go to the phone as usual.
"""

from __future__ import annotations

import logging
import os
import shlex
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from assistant.errors import NoDevice
from assistant.spotify.client import SpotifyClient
from assistant.spotify.models import Device

logger = logging.getLogger(__name__)

T = TypeVar("T")

WHAT_TO_DO = "Open Spotify on this computer, or say which device to play on."


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
        launch: Starts a command; the default runs it detached with its output discarded.
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
        launch: Callable[[Sequence[str]], None] | None = None,
    ) -> None:
        self._client = client
        self._device_name = device_name
        self._launch_command = (
            list(launch_command) if launch_command is not None else default_launch_command()
        )
        self._wait_seconds = wait_seconds
        self._poll_interval = poll_interval
        self._sleep = sleep
        self._clock = clock
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

        A "Computer" named like ``device_name`` or this host wins. When none is, and exactly one
        Computer is listed, that one is taken to be this computer.

        Args:
            devices: The devices Spotify lists.

        Returns:
            The device, or None when this computer's Spotify is not listed.
        """
        computers = [d for d in devices if d.type.casefold() == "computer" and d.id]
        names = self._names()
        for device in computers:
            if device.name.casefold() in names:
                return device
        if len(computers) == 1:
            return computers[0]
        return None

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
        try:
            return action()
        except NoDevice as err:
            # A device_id that Spotify no longer lists comes back as a non-retryable NoDevice:
            # starting the local app would not bring that device back.
            if not err.retryable:
                raise
            devices = self._client.devices()
            if any(d.is_active for d in devices):
                # Someone is playing elsewhere (a phone); do not take playback away from it.
                raise
            device = self.find(devices)
            if device is None:
                device = self._start_and_wait()
            if device.id is None:  # find() returns only devices with an ID
                raise
            logger.info("Moving playback to this computer's Spotify (%s)", device.name)
            self._client.transfer(device.id, play=False)
        return action()

    def _start_and_wait(self) -> Device:
        self._start()
        deadline = self._clock() + self._wait_seconds
        while True:
            device = self.find(self._client.devices())
            if device is not None:
                return device
            self._check_process()
            if self._clock() >= deadline:
                raise NoDevice(
                    f"Spotify did not appear as a player within {self._wait_seconds:g} seconds. "
                    + WHAT_TO_DO
                )
            self._sleep(self._poll_interval)

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

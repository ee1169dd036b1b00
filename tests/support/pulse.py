"""A virtual microphone for tests: a private PulseAudio server with a null sink.

Whatever ``play()`` sends to the null sink ``vsink`` comes back out of its monitor source
``vsink.monitor``, which is the server's default source: a program recording from the default
input device (through this server) hears it::

    with VirtualMicrophone() as mic:
        proc = subprocess.Popen([...recorder...], env=mic.environ())
        mic.play("command.wav")

What it starts, and stops again (only these, by their own process handles):

- ``pulseaudio --daemonize=no -n`` with only the native protocol (on a socket in a fresh 0700
  ``XDG_RUNTIME_DIR``) and the null sink loaded, a temporary ``HOME`` for its state, and no idle
  exit;
- ``parec`` reading the monitor at 20 ms latency ("keep awake"). Without it the null sink renders
  in blocks of up to 2 s while nobody listens, so a new recording's first audio arrives after a
  random 0-2 s (the "0.6-1.9 s" seen before); with it, after about 0.1 s. Recorders must still
  wait for their first audio (``Recorder.live``).

How PortAudio (sounddevice) reaches it: Debian's PortAudio has no PulseAudio backend; it uses
ALSA, and ALSA reaches PulseAudio through the ``pulse`` plugin of ``libasound2-plugins``. That
package defines the ALSA device ``pulse``; the ``pulseaudio`` package's
``/etc/alsa/conf.d/99-pulse.conf`` makes ALSA's ``default`` device point at the plugin when a
PulseAudio server answers at the moment ALSA reads its configuration. Both find the server through
``PULSE_SERVER`` (and ``XDG_RUNTIME_DIR``). No ``~/.asoundrc`` is needed. ALSA reads its
configuration, and PortAudio lists devices, once per process when sounddevice is imported, so the
process that records must start with ``environ()`` and after the server is up: run it as a
subprocess (the tests do) rather than changing ``os.environ`` of a process that may have imported
sounddevice already.

Debian packages: pulseaudio pulseaudio-utils libasound2-plugins libportaudio2 (and espeak-ng and
sox to make speech).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

SINK = "vsink"
SOURCE = f"{SINK}.monitor"

_REQUIRED_COMMANDS = ("pulseaudio", "pactl", "paplay", "parec")
_DEBIAN_PACKAGES = "pulseaudio pulseaudio-utils libasound2-plugins libportaudio2"


class VirtualMicrophone:
    """A private PulseAudio server whose default source plays back what ``play()`` sends.

    Attributes:
        runtime_dir: The server's ``XDG_RUNTIME_DIR`` (0700); its socket is ``pulse/native``.
        server: The ``PULSE_SERVER`` value clients use.
    """

    def __init__(self, *, keep_awake: bool = True, start_timeout_s: float = 10.0) -> None:
        """Prepare (nothing starts until ``start()`` or ``with``).

        Args:
            keep_awake: Keep a 20 ms reader on the monitor so new recordings get audio at once.
            start_timeout_s: How long the server may take to answer.
        """
        self.keep_awake = keep_awake
        self.start_timeout_s = start_timeout_s
        self._base: Path | None = None
        self._daemon: subprocess.Popen[bytes] | None = None
        self._reader: subprocess.Popen[bytes] | None = None
        self._reader_thread: threading.Thread | None = None
        self._reader_heard = threading.Event()

    @property
    def runtime_dir(self) -> Path:
        return self._dir("runtime")

    @property
    def server(self) -> str:
        return f"unix:{self.runtime_dir / 'pulse' / 'native'}"

    def env(self) -> dict[str, str]:
        """The variables a client of this server needs (add them to the environment)."""
        return {
            "XDG_RUNTIME_DIR": str(self.runtime_dir),
            "PULSE_SERVER": self.server,
            # No autospawn: a client that cannot reach this server must fail, not start another.
            "PULSE_CLIENTCONFIG": str(self._dir("client.conf")),
            "PULSE_COOKIE": str(self._dir("cookie")),
        }

    def environ(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """``base`` (default ``os.environ``) plus ``env()``: the environment for a recorder."""
        return {**(os.environ if base is None else base), **self.env()}

    def start(self) -> VirtualMicrophone:
        """Start the server, make ``vsink``/``vsink.monitor`` the defaults, wait until it answers.

        Raises:
            RuntimeError: A command is missing or the server did not come up.
        """
        missing = [c for c in _REQUIRED_COMMANDS if shutil.which(c) is None]
        if missing:
            raise RuntimeError(
                f"The virtual microphone needs {', '.join(missing)}: "
                f"apt-get install {_DEBIAN_PACKAGES}"
            )
        self._base = Path(tempfile.mkdtemp(prefix="segue-pulse-"))
        self._base.chmod(0o700)
        self.runtime_dir.mkdir(mode=0o700)
        home = self._dir("home")
        home.mkdir(mode=0o700)
        self._dir("client.conf").write_text("autospawn = no\n")
        daemon_env = {
            **os.environ,
            **self.env(),
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
        }
        daemon_env.pop("DISPLAY", None)
        self._daemon = subprocess.Popen(
            [
                "pulseaudio",
                "--daemonize=no",
                "-n",  # no default.pa: only the modules below
                "--exit-idle-time=-1",
                "--disallow-exit",
                "--log-target=stderr",
                "--log-level=error",
                f"--load=module-native-protocol-unix auth-anonymous=1 "
                f"socket={self.runtime_dir / 'pulse' / 'native'}",
                f"--load=module-null-sink sink_name={SINK}",
            ],
            env=daemon_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            self._wait_until_answering()
            self.pactl("set-default-sink", SINK)
            self.pactl("set-default-source", SOURCE)
            if self.keep_awake:
                self._start_reader()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the reader and the server started here, and remove the temporary directory."""
        for proc in (self._reader, self._daemon):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=5)
        if self._reader_thread is not None:
            self._reader_thread.join(timeout=5)
        for proc in (self._reader, self._daemon):
            if proc is not None:
                for stream in (proc.stdout, proc.stderr):
                    if stream is not None:
                        stream.close()
        self._reader = self._daemon = self._reader_thread = None
        if self._base is not None:
            shutil.rmtree(self._base, ignore_errors=True)
            self._base = None

    def __enter__(self) -> VirtualMicrophone:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def play(self, path: str | os.PathLike[str], *, timeout: float = 60.0) -> None:
        """Play a sound file into the virtual microphone; returns when it has been played."""
        subprocess.run(
            ["paplay", "-d", SINK, os.fspath(path)],
            env=self.environ(),
            check=True,
            timeout=timeout,
            capture_output=True,
        )

    def pactl(self, *args: str) -> str:
        """Run ``pactl`` against this server and return its output."""
        done = subprocess.run(
            ["pactl", *args],
            env=self.environ(),
            check=True,
            timeout=10,
            capture_output=True,
            text=True,
        )
        return done.stdout

    def suspend_sink(self, suspended: bool = True) -> None:
        """Suspend the null sink: the microphone stays listed but sends nothing (stalled)."""
        self.pactl("suspend-sink", SINK, "1" if suspended else "0")

    def remove_sink(self) -> None:
        """Unload the null sink: the microphone vanishes, as when a USB headset is unplugged."""
        self.pactl("unload-module", "module-null-sink")

    def _dir(self, name: str) -> Path:
        if self._base is None:
            raise RuntimeError("the virtual microphone is not started")
        return self._base / name

    def _wait_until_answering(self) -> None:
        assert self._daemon is not None
        deadline = time.monotonic() + self.start_timeout_s
        while True:
            if self._daemon.poll() is not None:
                err = (
                    self._daemon.stderr.read().decode(errors="replace")
                    if self._daemon.stderr
                    else ""
                )
                raise RuntimeError(f"pulseaudio exited with {self._daemon.returncode}: {err}")
            probe = subprocess.run(
                ["pactl", "info"], env=self.environ(), capture_output=True, timeout=10
            )
            if probe.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise RuntimeError("pulseaudio did not answer within the start timeout")
            time.sleep(0.05)  # polling the server's socket; it usually answers within 0.2 s

    def _start_reader(self) -> None:
        self._reader = subprocess.Popen(
            ["parec", "--raw", "--latency-msec=20", "-d", SOURCE],
            env=self.environ(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self._reader_thread = threading.Thread(
            target=self._drain_reader, name="virtual-mic-keep-awake", daemon=True
        )
        self._reader_thread.start()
        # The idle sink is in the middle of a long render block; suspending and resuming it
        # starts it again at the reader's 20 ms. The reader's first bytes show it has.
        self.pactl("suspend-sink", SINK, "1")
        self.pactl("suspend-sink", SINK, "0")
        if not self._reader_heard.wait(timeout=5):
            raise RuntimeError("the virtual microphone's monitor sent nothing within 5 s")

    def _drain_reader(self) -> None:
        assert self._reader is not None and self._reader.stdout is not None
        fd = self._reader.stdout.fileno()
        try:
            while os.read(fd, 65536):
                self._reader_heard.set()
        except OSError:
            pass  # the pipe was closed by stop()

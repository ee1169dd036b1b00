"""A throwaway virtual desktop for tests: Xvfb, a private D-Bus, trayer and dunst.

``VirtualDesktop`` starts each program itself, records its PID and stops exactly those at the end,
so a test needs nothing running beforehand (CI starts with nothing)::

    with VirtualDesktop(tmp_path) as desk:
        proc = subprocess.Popen([...], env={**os.environ, **desk.env})
        desk.wait_for_window("Segue")
        desk.screenshot(ARTIFACTS / "shot.png")
        desk.xdotool("key", "Return")
        desk.wait_for_notification(lambda n: n["summary"] == "Paused")

Notifications are read back from dunst itself: a dunst rule runs a small script for every
notification it shows, and that script appends the notification (as dunst understood it) to a
JSON-lines file. ``dunstctl history`` alone would miss the ones still on screen.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from PIL import Image

from tests.support.pulse import VirtualMicrophone

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
"""Where tests save screenshots (gitignored; the README may show one)."""

_POLL = 0.05

_NOTIFY_SCRIPT = """\
#!{python}
import json, os
FIELDS = {{"DUNST_APP_NAME": "appname", "DUNST_SUMMARY": "summary", "DUNST_BODY": "body",
          "DUNST_ICON_PATH": "icon_path", "DUNST_URGENCY": "urgency", "DUNST_ID": "id",
          "DUNST_TIMEOUT": "timeout"}}
entry = {{key: os.environ.get(var, "") for var, key in FIELDS.items()}}
with open({log!r}, "a", encoding="utf-8") as log:
    log.write(json.dumps(entry) + "\\n")
"""

_DUNSTRC = """\
[global]
    monitor = 0
    follow = none
    width = 360
    height = 300
    origin = top-center
    offset = 0x60
    font = DejaVu Sans 10
    frame_width = 2
    frame_color = "#1db954"
    min_icon_size = 48
    max_icon_size = 96
    icon_position = left
    history_length = 50
    idle_threshold = 0

[urgency_low]
    background = "#222222"
    foreground = "#ffffff"
    timeout = 30

[urgency_normal]
    background = "#222222"
    foreground = "#ffffff"
    timeout = 30

[urgency_critical]
    background = "#3a1010"
    foreground = "#ffffff"
    frame_color = "#e53935"
    timeout = 30

[record_every_notification]
    summary = "*"
    script = {script}
"""


class DesktopError(RuntimeError):
    """A part of the virtual desktop did not start, or a wait ran out of time."""


class VirtualDesktop:
    """Xvfb + a private session bus (+ trayer, + dunst), started and stopped as one.

    Args:
        tmp: A directory for logs and config (a pytest ``tmp_path``). Sockets live in a short
            private directory of their own (``AF_UNIX`` paths are limited to ~108 bytes).
        tray: Start trayer (a system-tray host docked top right, 32 px high).
        notifications: Start dunst (notifications drawn top centre, 30 s timeout).
        size: The Xvfb screen, ``WIDTHxHEIGHTxDEPTH``.
        audio: Also start PulseAudio with a null sink ``vsink`` whose monitor is the default
            source: whatever ``paplay -d vsink`` plays is what a recorder hears.

    Attributes:
        env: The variables to merge into ``os.environ`` for programs that should run on this
            desktop (DISPLAY, DBUS_SESSION_BUS_ADDRESS, XDG_RUNTIME_DIR, NO_AT_BRIDGE, ...).
        display: The X display, e.g. ``":3"``.
        pids: Name -> PID of every program this desktop started.
    """

    def __init__(
        self,
        tmp: Path,
        *,
        tray: bool = True,
        notifications: bool = True,
        size: str = "1024x768x24",
        audio: bool = False,
    ) -> None:
        self.tmp = Path(tmp)
        self.tmp.mkdir(parents=True, exist_ok=True)
        self._want_tray = tray
        self._want_notifications = notifications
        self._want_audio = audio
        self.size = size
        self.env: dict[str, str] = {}
        self.display = ""
        self.pids: dict[str, int] = {}
        self._procs: list[tuple[str, subprocess.Popen[bytes]]] = []
        self._daemon_pids: list[tuple[str, int]] = []
        self._runtime = Path(tempfile.mkdtemp(prefix="vdesk-"))
        self._notify_log = self.tmp / "notifications.jsonl"
        self.microphone: VirtualMicrophone | None = None

    # -- lifecycle --------------------------------------------------------------------------

    def __enter__(self) -> VirtualDesktop:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> VirtualDesktop:
        """Start Xvfb, the bus and the optional parts; return once each one is usable."""
        os.chmod(self._runtime, 0o700)
        self._start_xvfb()
        self._start_bus()
        self.env.update(
            {
                "DISPLAY": self.display,
                "DBUS_SESSION_BUS_ADDRESS": f"unix:path={self._runtime / 'bus'}",
                "XDG_RUNTIME_DIR": str(self._runtime),
                "XDG_SESSION_TYPE": "x11",
                "GDK_BACKEND": "x11",
                "NO_AT_BRIDGE": "1",
            }
        )
        if self._want_tray:
            self._start_trayer()
        if self._want_notifications:
            self._start_dunst()
        if self._want_audio:
            self._start_pulseaudio()
        return self

    def stop(self) -> None:
        """Stop exactly the programs this desktop started, newest first."""
        if self.microphone is not None:
            self.microphone.stop()
            self.microphone = None
        for name, pid in reversed(self._daemon_pids):
            _kill_pid(pid)
            self.pids.pop(name, None)
        self._daemon_pids.clear()
        for name, proc in reversed(self._procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=3)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=3)
            self.pids.pop(name, None)
        self._procs.clear()
        shutil.rmtree(self._runtime, ignore_errors=True)

    def _spawn(self, name: str, argv: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        log = open(self.tmp / f"{name}.log", "ab")  # the child keeps its own copy
        env = {**os.environ, **self.env}
        env.pop("WAYLAND_DISPLAY", None)
        kwargs.setdefault("stdout", log)
        proc = subprocess.Popen(argv, stderr=log, env=env, **kwargs)
        log.close()
        self._procs.append((name, proc))
        self.pids[name] = proc.pid
        return proc

    def _start_xvfb(self) -> None:
        read_fd, write_fd = os.pipe()
        try:
            self._spawn(
                "xvfb",
                [
                    "Xvfb",
                    "-displayfd",
                    str(write_fd),
                    "-screen",
                    "0",
                    self.size,
                    "-nolisten",
                    "tcp",
                    "-noreset",
                ],
                pass_fds=(write_fd,),
            )
            os.close(write_fd)
            write_fd = -1
            number = _read_line(read_fd, timeout=15).strip()
        finally:
            os.close(read_fd)
            if write_fd >= 0:
                os.close(write_fd)
        if not number.isdigit():
            raise DesktopError(f"Xvfb did not report a display (see {self.tmp / 'xvfb.log'})")
        self.display = f":{number}"

    def _start_bus(self) -> None:
        proc = self._spawn(
            "dbus",
            [
                "dbus-daemon",
                "--session",
                "--nofork",
                "--nopidfile",
                f"--address=unix:path={self._runtime / 'bus'}",
                "--print-address=1",
            ],
            stdout=subprocess.PIPE,
        )
        assert proc.stdout is not None
        # The address is printed once the bus listens.
        address = _read_line(proc.stdout.fileno(), timeout=10)
        if not address.startswith("unix:"):
            raise DesktopError(f"dbus-daemon did not start (see {self.tmp / 'dbus.log'})")

    def start_tray(self) -> None:
        """Start trayer now, on a desktop made with ``tray=False`` (a panel that comes up late)."""
        self._start_trayer()

    def _start_trayer(self) -> None:
        self._spawn(
            "trayer",
            [
                "trayer",
                "--edge",
                "top",
                "--align",
                "right",
                "--widthtype",
                "request",
                "--height",
                "32",
                "--SetDockType",
                "true",
                "--transparent",
                "false",
                "--tint",
                "0x303030",
            ],
        )
        # trayer is ready for icons once it owns the system-tray selection.
        self._wait(self._tray_manager_present, 10, "trayer did not claim the system tray")

    def _tray_manager_present(self) -> bool:
        from Xlib import display as xdisplay

        conn = xdisplay.Display(self.display)
        try:
            atom = conn.intern_atom("_NET_SYSTEM_TRAY_S0")
            owner = conn.get_selection_owner(atom)
            return bool(owner) and getattr(owner, "id", 0) != 0
        finally:
            conn.close()

    def _start_dunst(self) -> None:
        script = self._runtime / "record-notification"
        script.write_text(
            _NOTIFY_SCRIPT.format(python=sys.executable, log=str(self._notify_log)),
            encoding="utf-8",
        )
        script.chmod(0o700)
        config = self.tmp / "dunstrc"
        config.write_text(_DUNSTRC.format(script=script), encoding="utf-8")
        self._notify_log.write_text("", encoding="utf-8")
        self._spawn("dunst", ["dunst", "-config", str(config)])
        self._wait(
            lambda: self._bus_has_name("org.freedesktop.Notifications"),
            10,
            "dunst did not take org.freedesktop.Notifications",
        )

    def _start_pulseaudio(self) -> None:
        # The same virtual microphone the voice tests use (a private PulseAudio server whose
        # default source plays back what is sent to the null sink ``vsink``).
        self.microphone = VirtualMicrophone().start()
        mic_env = self.microphone.env()
        # Keep the desktop's XDG_RUNTIME_DIR (the bus lives there): PULSE_SERVER names the socket.
        self.env.update({k: v for k, v in mic_env.items() if k != "XDG_RUNTIME_DIR"})

    def play(self, path: Path) -> None:
        """Play a sound file into the virtual microphone (``audio=True``); returns when done."""
        if self.microphone is None:
            raise DesktopError("this desktop was started without audio")
        self.microphone.play(path)

    def _bus_has_name(self, name: str) -> bool:
        out = self._run(
            [
                "dbus-send",
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.NameHasOwner",
                f"string:{name}",
            ],
            check=False,
        )
        return "boolean true" in out

    # -- driving and looking ----------------------------------------------------------------

    def _run(self, argv: list[str], *, check: bool = True, timeout: float = 20) -> str:
        env = {**os.environ, **self.env}
        env.pop("WAYLAND_DISPLAY", None)
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout)
        if check and done.returncode != 0:
            raise DesktopError(
                f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()}"
            )
        return done.stdout

    def xdotool(self, *args: str) -> str:
        """Run ``xdotool`` on this display and return its output, stripped.

        Raises:
            DesktopError: xdotool exited non-zero (e.g. a search found nothing).
        """
        return self._run(["xdotool", *args]).strip()

    def screenshot(self, path: Path, crop: tuple[int, int, int, int] | None = None) -> Path:
        """Save the whole screen (``import -window root``) as PNG, optionally cropped.

        Args:
            path: Where to write the PNG (parent directories are created).
            crop: A box ``(left, top, right, bottom)`` in screen pixels, as Pillow's ``crop``.

        Returns:
            ``path``.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._run(["import", "-window", "root", str(path)])
        if crop is not None:
            with Image.open(path) as shot:
                shot.convert("RGB").crop(crop).save(path)
        return path

    def grab(self, crop: tuple[int, int, int, int] | None = None) -> Image.Image:
        """Return the screen (or the box ``crop``) as an RGB Pillow image; no file is kept."""
        shot = self.tmp / f"grab-{time.monotonic_ns()}.png"
        self.screenshot(shot)
        with Image.open(shot) as image:
            rgb = image.convert("RGB")
        shot.unlink()
        return rgb.crop(crop) if crop is not None else rgb

    def window_geometry(self, window: str) -> tuple[int, int, int, int]:
        """Return ``(x, y, width, height)`` of an X window id, as xdotool reports it."""
        out = self.xdotool("getwindowgeometry", "--shell", window)
        values = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
        return int(values["X"]), int(values["Y"]), int(values["WIDTH"]), int(values["HEIGHT"])

    def tray_box(self) -> tuple[int, int, int, int]:
        """Return trayer's window as a box ``(left, top, right, bottom)`` for ``screenshot``."""
        window = self.wait_for_window("trayer", by="class")
        x, y, width, height = self.window_geometry(window)
        return x, y, x + width, y + height

    def wait_for_window(
        self, name_regex: str, timeout: float = 10, *, by: str = "name", visible: bool = True
    ) -> str:
        """Wait until a window matching ``name_regex`` exists and return its id.

        Args:
            name_regex: Matched by xdotool against the window name (or class, see ``by``).
            timeout: Seconds to wait before raising ``DesktopError``.
            by: ``"name"``, ``"class"`` or ``"classname"`` (xdotool search options).
            visible: Only mapped (viewable) windows count.
        """
        argv = ["xdotool", "search"]
        if visible:
            argv.append("--onlyvisible")
        argv += [f"--{by}", name_regex]
        found: list[str] = []

        def present() -> bool:
            found[:] = self._run(argv, check=False).split()
            return bool(found)

        self._wait(present, timeout, f"no window matching {by} {name_regex!r}")
        return found[0]

    def notifications(self) -> list[dict[str, str]]:
        """Every notification dunst has shown so far, oldest first.

        Each is a dict with ``summary``, ``body``, ``appname``, ``icon_path`` (the image dunst
        loaded, if any), ``urgency`` (``LOW``/``NORMAL``/``CRITICAL``), ``id`` and ``timeout``.
        """
        if not self._notify_log.exists():
            return []
        lines = self._notify_log.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def wait_for_notification(
        self, predicate: Callable[[dict[str, str]], bool] | None = None, timeout: float = 10
    ) -> dict[str, str]:
        """Wait for a notification that satisfies ``predicate`` (any, if None) and return it."""
        hit: list[dict[str, str]] = []

        def arrived() -> bool:
            hit[:] = [n for n in self.notifications() if predicate is None or predicate(n)]
            return bool(hit)

        self._wait(arrived, timeout, "no matching notification arrived")
        return hit[-1]

    def notification_history(self) -> list[dict[str, Any]]:
        """``dunstctl history`` parsed: the notifications already closed, newest first."""
        data = json.loads(self._run(["dunstctl", "history"]))
        return [
            {key: value.get("data") for key, value in entry.items()} for entry in data["data"][0]
        ]

    def displayed_notifications(self) -> int:
        """How many notifications dunst has on screen now."""
        return int(self._run(["dunstctl", "count", "displayed"]).strip() or 0)

    def _wait(self, condition: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if condition():
                return
            if time.monotonic() > deadline:
                raise DesktopError(f"{what} within {timeout:g} s")
            for name, proc in self._procs:
                if proc.poll() is not None:
                    raise DesktopError(
                        f"{name} exited with {proc.returncode} (see {self.tmp / (name + '.log')})"
                    )
            time.sleep(_POLL)


def _read_line(fd: int, timeout: float) -> str:
    """Read bytes from ``fd`` up to a newline (or EOF), failing after ``timeout`` seconds."""
    import select

    deadline = time.monotonic() + timeout
    data = b""
    while not data.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise DesktopError("timed out waiting for a program to report it is ready")
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            continue
        chunk = os.read(fd, 256)
        if not chunk:
            break
        data += chunk
    return data.decode(errors="replace")


def _kill_pid(pid: int) -> None:
    """Terminate a daemon we started (not our child), then make sure it is gone."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(_POLL)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass

"""Desktop notifications: a title and one line per reply, album art when there is some.

On Linux a notification goes to ``org.freedesktop.Notifications`` over the session D-Bus (Gio from
PyGObject), or through ``notify-send`` when PyGObject is missing. Elsewhere (and on Linux when
neither works) the optional ``fallback`` hook is used, e.g. pystray's ``Icon.notify`` through
``Tray.notify``.

``Notifier.notify`` never raises and returns at once: a single daemon thread downloads the album
art (with a timeout, once per URL: it is kept in ``cache_dir`` under the SHA-256 of the URL, resized
to 128 px with Pillow) and sends the notification. Failures are logged and the notification is
dropped (or sent without its picture).

Gio quirk handled here: the process-wide session-bus connection (``Gio.bus_get_sync``) exits the
process when the bus goes away. Segue opens a private connection to the same address instead, with
exit-on-close turned off.
"""

from __future__ import annotations

import hashlib
import html
import importlib
import io
import logging
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import requests
from PIL import Image, UnidentifiedImageError

logger = logging.getLogger(__name__)

ART_SIZE = 128
"""Edge length, in pixels, of the cached album art."""
MAX_ART_BYTES = 8 * 1024 * 1024
"""Album art bigger than this is not downloaded (Spotify's largest is ~200 KB)."""

_BUS_NAME = "org.freedesktop.Notifications"
_OBJECT_PATH = "/org/freedesktop/Notifications"
_URGENCY_NORMAL = 1
_URGENCY_CRITICAL = 2
_SEND_TIMEOUT_S = 5.0

Method = Literal["auto", "dbus", "notify-send", "fallback"]


@dataclass(frozen=True)
class _Job:
    title: str
    body: str
    image_url: str | None
    error: bool


class Notifier:
    """Sends desktop notifications without ever blocking or failing its caller.

    Args:
        enabled: False: ``notify`` does nothing (the notifications setting).
        cache_dir: Where album art is kept (a folder ``album-art`` is made in it).
        app_name: The application name the notification server shows.
        session: The HTTP session for album art (a new one if None).
        timeout: Seconds for each album-art download and each D-Bus call.
        fallback: Called with ``(title, body)`` where neither D-Bus nor notify-send can be used
            (macOS, Windows), e.g. ``Tray.notify``.
        expire_ms: How long a notification stays up, in milliseconds (-1: the server decides);
            errors stay twice as long.
        method: "auto" (D-Bus, then notify-send, then ``fallback``), or force one of them.
    """

    def __init__(
        self,
        *,
        enabled: bool = True,
        cache_dir: Path,
        app_name: str = "Segue",
        session: requests.Session | None = None,
        timeout: float = 5.0,
        fallback: Callable[[str, str], None] | None = None,
        expire_ms: int = 8000,
        method: Method = "auto",
    ) -> None:
        self.enabled = enabled
        self.art_dir = Path(cache_dir) / "album-art"
        self.app_name = app_name
        self.fallback = fallback
        self.expire_ms = expire_ms
        self._session = session or requests.Session()
        self._timeout = timeout
        self._method = method
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        self._pending = 0
        self._idle = threading.Condition()
        self._thread: threading.Thread | None = None
        self._thread_lock = threading.Lock()
        self._bus: Any = None
        self._markup = False

    # -- the public surface -----------------------------------------------------------------

    def notify(
        self, title: str, body: str, *, image_url: str | None = None, error: bool = False
    ) -> None:
        """Show a notification (in the background; this returns at once and never raises).

        Args:
            title: The summary line ("Playing", "Spotify needs Premium").
            body: One line: what was done, or the one clear sentence of an error.
            image_url: Album art to show (http/https), downloaded once and cached.
            error: Show it as critical (urgency 2) and for longer.
        """
        if not self.enabled:
            return
        try:
            with self._idle:
                self._pending += 1
            self._queue.put(_Job(title, body, image_url, error))
            self._ensure_thread()
        except Exception:  # notify() must never take its caller down
            logger.exception("Could not queue a notification")

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued notification has been handled; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(remaining)
        return True

    def close(self, timeout: float = 2.0) -> None:
        """Stop the sending thread (after what is queued) and close the D-Bus connection."""
        with self._thread_lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout)

    def album_art(self, url: str) -> Path | None:
        """Return the cached 128 px picture for ``url``, downloading it the first time.

        Returns:
            The PNG's path, or None when the URL is not http(s) or the download or decoding
            failed (logged).
        """
        if urlsplit(url).scheme not in ("http", "https"):
            logger.warning("Album art skipped: not an http(s) URL")
            return None
        path = self.art_dir / f"{hashlib.sha256(url.encode('utf-8')).hexdigest()}.png"
        if path.is_file():
            return path
        host = urlsplit(url).hostname
        try:
            data = self._download(url)
            with Image.open(io.BytesIO(data)) as picture:
                picture.thumbnail((ART_SIZE, ART_SIZE), Image.Resampling.LANCZOS)
                rgb = picture.convert("RGBA" if picture.mode in ("RGBA", "LA", "P") else "RGB")
            self.art_dir.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.part")
            rgb.save(partial, "PNG")
            os.replace(partial, path)
        except (requests.RequestException, OSError, UnidentifiedImageError, ValueError) as err:
            logger.warning("Album art from %s not used: %s", host, type(err).__name__)
            return None
        return path

    # -- the sending thread -----------------------------------------------------------------

    def _ensure_thread(self) -> None:
        with self._thread_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._serve, name="segue-notifier", daemon=True
                )
                self._thread.start()

    def _serve(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                self._close_bus()
                return
            try:
                self._send(job)
            except Exception:  # the top of the notifier thread: log, drop, go on
                logger.exception("A notification could not be sent")
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

    def _send(self, job: _Job) -> None:
        image = self.album_art(job.image_url) if job.image_url else None
        for method in self._methods():
            if method == "dbus" and self._send_dbus(job, image):
                return
            if method == "notify-send" and self._send_notify_send(job, image):
                return
            if method == "fallback" and self.fallback is not None:
                self.fallback(job.title, job.body)
                return
        logger.warning("A notification was dropped: no way to show it on this system")

    def _methods(self) -> tuple[str, ...]:
        if self._method != "auto":
            return (self._method,)
        if sys.platform.startswith("linux") or "bsd" in sys.platform:
            return ("dbus", "notify-send", "fallback")
        return ("fallback",)

    # -- D-Bus --------------------------------------------------------------------------------

    def _send_dbus(self, job: _Job, image: Path | None) -> bool:
        """Call Notify over a private session-bus connection; False if D-Bus is unusable."""
        try:
            gio = importlib.import_module("gi.repository.Gio")
            glib = importlib.import_module("gi.repository.GLib")
        except (ImportError, ValueError):
            logger.debug("PyGObject is not available for notifications")
            return False
        timeout_ms = int(self._timeout * 1000)
        try:
            bus = self._connect(gio, glib, timeout_ms)
            hints = {
                "urgency": glib.Variant("y", _URGENCY_CRITICAL if job.error else _URGENCY_NORMAL),
                "desktop-entry": glib.Variant("s", "segue"),
            }
            if image is not None:
                hints["image-path"] = glib.Variant("s", image.as_uri())
            body = html.escape(job.body, quote=False) if self._markup else job.body
            params = glib.Variant(
                "(susssasa{sv}i)",
                (
                    self.app_name,
                    0,
                    str(image) if image is not None else "",
                    job.title,
                    body,
                    [],
                    hints,
                    self._expire(job),
                ),
            )
            bus.call_sync(
                _BUS_NAME,
                _OBJECT_PATH,
                _BUS_NAME,
                "Notify",
                params,
                glib.VariantType("(u)"),
                gio.DBusCallFlags.NONE,
                timeout_ms,
                None,
            )
        except glib.Error as err:
            logger.warning("D-Bus notification failed: %s", err.message)
            self._close_bus()
            return False
        return True

    def _connect(self, gio: Any, glib: Any, timeout_ms: int) -> Any:
        if self._bus is not None and not self._bus.is_closed():
            return self._bus
        address = gio.dbus_address_get_for_bus_sync(gio.BusType.SESSION, None)
        bus = gio.DBusConnection.new_for_address_sync(
            address,
            gio.DBusConnectionFlags.AUTHENTICATION_CLIENT
            | gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION,
            None,
            None,
        )
        bus.set_exit_on_close(False)
        capabilities = bus.call_sync(
            _BUS_NAME,
            _OBJECT_PATH,
            _BUS_NAME,
            "GetCapabilities",
            None,
            glib.VariantType("(as)"),
            gio.DBusCallFlags.NONE,
            timeout_ms,
            None,
        ).unpack()[0]
        # Servers that read markup in the body need "&" and "<" escaped ("Simon & Garfunkel").
        self._markup = "body-markup" in capabilities
        self._bus = bus
        return bus

    def _close_bus(self) -> None:
        bus, self._bus = self._bus, None
        if bus is not None:
            try:
                bus.close_sync(None)
            except Exception:  # closing a broken connection; nothing left to do
                logger.debug("Closing the D-Bus connection failed", exc_info=True)

    # -- notify-send --------------------------------------------------------------------------

    def _send_notify_send(self, job: _Job, image: Path | None) -> bool:
        command = shutil.which("notify-send")
        if command is None:
            return False
        argv = [
            command,
            "--app-name",
            self.app_name,
            "--urgency",
            "critical" if job.error else "normal",
            "--expire-time",
            str(self._expire(job)),
        ]
        if image is not None:
            argv += ["--icon", str(image)]
        # notify-send cannot ask for the server's capabilities: escape for markup, which the
        # common servers (GNOME Shell, KDE, dunst, xfce4-notifyd) read in the body.
        argv += ["--", job.title, html.escape(job.body, quote=False)]
        try:
            done = subprocess.run(argv, capture_output=True, timeout=_SEND_TIMEOUT_S, check=False)
        except (OSError, subprocess.TimeoutExpired) as err:
            logger.warning("notify-send failed: %s", type(err).__name__)
            return False
        if done.returncode != 0:
            logger.warning("notify-send exited with %d", done.returncode)
            return False
        return True

    # -- helpers ------------------------------------------------------------------------------

    def _expire(self, job: _Job) -> int:
        if self.expire_ms < 0:
            return -1
        return self.expire_ms * 2 if job.error else self.expire_ms

    def _download(self, url: str) -> bytes:
        with self._session.get(url, timeout=self._timeout, stream=True) as response:
            response.raise_for_status()
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_content(64 * 1024):
                size += len(chunk)
                if size > MAX_ART_BYTES:
                    raise ValueError("album art too large")
                chunks.append(chunk)
        return b"".join(chunks)

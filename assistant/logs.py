"""Logging to a rotating file in the user's log dir, with secrets scrubbed from every line.

Our own code never logs a token, key or authorization code; the filter is the second line of
defence for third-party libraries (spotipy logs full request headers at DEBUG, for one).

The terminal is for Segue's own sentences: library warnings (``warnings.warn``, e.g.
platformdirs' ``RuntimeDirWarning`` when ``XDG_RUNTIME_DIR`` is unset) and the messages GLib-based
libraries print (GTK's ``Gdk-CRITICAL`` assertions from the tray) go to the log file instead.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
import threading
from pathlib import Path
from typing import Any

LOG_FILE_NAME = "segue.log"

GLIB_DOMAINS = (
    None,  # messages logged without a domain
    "GLib",
    "GLib-GObject",
    "GLib-GIO",
    "Gtk",
    "Gdk",
    "GdkPixbuf",
    "Pango",
    "Atk",
    "dconf",
    "libayatana-appindicator",
    "LIBDBUSMENU-GLIB",
    "LIBDBUSMENU-GTK",
)
"""The GLib log domains of the libraries under the tray (GTK, AppIndicator, dbusmenu)."""

_glib_routed = threading.Lock()
_glib_handlers: list[int] = []

_REDACTED = "<redacted>"
_PATTERNS = (
    # Authorization headers, in any quoting.
    re.compile(r"(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE),
    # key=value, "key": "value" and key: value forms of the secrets OAuth and OpenAI carry.
    re.compile(
        r"""(?P<key>access_token|refresh_token|id_token|code_verifier|code|client_secret|"""
        r"""api_key|apikey|password|authorization)(?P<sep>["']?\s*[:=]\s*["']?)"""
        r"""(?P<value>[^\s&"',;}]+)""",
        re.IGNORECASE,
    ),
    # OpenAI-style keys wherever they appear.
    re.compile(r"sk-[A-Za-z0-9_-]{8,}"),
)


def redact(text: str) -> str:
    """Replace every token, key and authorization code in ``text`` with ``<redacted>``."""
    text = _PATTERNS[0].sub(lambda m: f"{m.group(1)} {_REDACTED}", text)
    text = _PATTERNS[1].sub(lambda m: f"{m.group('key')}{m.group('sep')}{_REDACTED}", text)
    return _PATTERNS[2].sub(_REDACTED, text)


class RedactingFormatter(logging.Formatter):
    """A formatter whose output, tracebacks included, has secrets scrubbed out."""

    def format(self, record: logging.LogRecord) -> str:
        """Format the record as usual, then redact the whole text."""
        return redact(super().format(record))


class _LogFile(logging.handlers.RotatingFileHandler):
    """The rotating log file; a record that cannot be written (a full disk) is dropped.

    The standard handler prints a traceback to stderr for every record it fails to write.
    """

    def handleError(self, record: logging.LogRecord) -> None:
        """Drop the record."""


def configure_logging(log_dir: Path, level: str = "INFO") -> Path:
    """Send Segue's log records to ``segue.log`` in ``log_dir`` (1 MB, 3 rotations kept).

    Args:
        log_dir: The directory for the log file; created when missing.
        level: The level for Segue's own loggers.

    Returns:
        The path of the log file.

    Raises:
        OSError: The directory or the file cannot be written. Logging is configured all the
            same, to nowhere (never to stderr, where ``segue say`` prints its sentences); the
            caller says once that there is no log.
    """
    path = log_dir / LOG_FILE_NAME
    handler: logging.Handler
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
        handler = _LogFile(path, maxBytes=1_000_000, backupCount=3, encoding="utf-8")
    except OSError:
        _install(logging.NullHandler(), level)
        raise
    handler.setFormatter(
        RedactingFormatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s")
    )
    _install(handler, level)
    return path


def _install(handler: logging.Handler, level: str) -> None:
    """Make ``handler`` the root logger's only Segue handler, at Segue's levels."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_segue", False)]:
        root.removeHandler(old)
        old.close()
    handler._segue = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger("assistant").setLevel(level)
    # Library warnings go to the log, never to the terminal.
    logging.captureWarnings(True)
    # spotipy writes request headers (the bearer token) and bodies at DEBUG, and every error
    # response at ERROR, handled ones too; our client logs each request's outcome itself.
    logging.getLogger("spotipy").setLevel(logging.CRITICAL)
    logging.getLogger("urllib3").setLevel(logging.WARNING)


def route_glib_messages() -> bool:
    """Send the messages of GLib-based libraries (GTK, GDK, AppIndicator) to the log.

    GLib prints them on stderr by default, e.g. the ``Gdk-CRITICAL`` assertion that
    libayatana-appindicator's fallback icon causes on every start where only an XEmbed tray
    (no StatusNotifierItem host) is present: it names its GtkStatusIcon after the icon is
    already shown. Installed once per process; a no-op where PyGObject is missing.

    Returns:
        Whether the messages are routed (False without PyGObject).
    """
    try:
        from gi.repository import GLib
    except (ImportError, ValueError):
        return False
    with _glib_routed:
        if _glib_handlers:
            return True
        flags = GLib.LogLevelFlags
        levels = flags.LEVEL_MASK | flags.FLAG_FATAL | flags.FLAG_RECURSION
        for domain in GLIB_DOMAINS:
            _glib_handlers.append(GLib.log_set_handler(domain, levels, _glib_message, None))
    return True


def _glib_message(domain: str | None, level: Any, message: str, _data: object) -> None:
    """A GLib log handler: one log record per message (never raises into C)."""
    try:
        name, python_level = _glib_level(int(level))
        logging.getLogger("glib").log(python_level, "%s-%s: %s", domain or "GLib", name, message)
    except Exception:  # a handler called from C must not raise
        return


def _glib_level(level: int) -> tuple[str, int]:
    """GLib's name and the logging level for GLib level flags (the most severe bit wins)."""
    for bit, name, python_level in (
        (1 << 2, "ERROR", logging.ERROR),
        (1 << 3, "CRITICAL", logging.WARNING),  # a library's failed assertion, not ours
        (1 << 4, "WARNING", logging.WARNING),
        (1 << 5, "Message", logging.INFO),
        (1 << 6, "INFO", logging.INFO),
    ):
        if level & bit:
            return name, python_level
    return "DEBUG", logging.DEBUG

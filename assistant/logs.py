"""Logging to a rotating file in the user's log dir, with secrets scrubbed from every line.

Our own code never logs a token, key or authorization code; the filter is the second line of
defence for third-party libraries (spotipy logs full request headers at DEBUG, for one).
"""

from __future__ import annotations

import logging
import logging.handlers
import re
from pathlib import Path

LOG_FILE_NAME = "segue.log"

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
    # spotipy writes request headers (the bearer token) and bodies at DEBUG, and every error
    # response at ERROR, handled ones too; our client logs each request's outcome itself.
    logging.getLogger("spotipy").setLevel(logging.CRITICAL)
    logging.getLogger("urllib3").setLevel(logging.WARNING)

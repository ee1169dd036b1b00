"""KnowledgeCache: answers about music, kept in SQLite so asking again is instant and free.

The ``about_music`` tool asks the model about a track, album or artist once per question kind and
stores the answer here, keyed by the Spotify ID and the question kind. The file lives in Segue's
data dir (the composition root passes its path). A broken or locked database never fails a
command: reading it then counts as a miss and writing it is skipped, with a warning in the log.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

logger = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    spotify_id TEXT NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (spotify_id, question)
)
"""


class KnowledgeCache:
    """Answers about music by (Spotify ID, question kind), in a SQLite file.

    Each call opens its own short-lived connection (so threads never share one); a lock keeps
    this process's writers in line, and SQLite's own locking (with a timeout) covers others.

    Args:
        path: The database file; its folder is created when missing.
        clock: Wall-clock time for ``created_at`` (injectable for tests).
        timeout: Seconds to wait for a database locked by another process.
    """

    def __init__(
        self, path: Path, *, clock: Callable[[], float] = time.time, timeout: float = 2.0
    ) -> None:
        self.path = path
        self._clock = clock
        self._timeout = timeout
        self._lock = threading.Lock()
        self._ready = False

    def get(self, spotify_id: str, question: str) -> str | None:
        """The stored answer, or None when there is none (or the file cannot be read).

        Args:
            spotify_id: The Spotify ID of the track, album or artist.
            question: The question kind ("overview", "meaning", "history", "trivia").
        """
        try:
            with self._lock:
                connection = self._connect()
                try:
                    row = connection.execute(
                        "SELECT answer FROM answers WHERE spotify_id = ? AND question = ?",
                        (spotify_id, question),
                    ).fetchone()
                finally:
                    connection.close()
        except (sqlite3.Error, OSError) as err:
            logger.warning("Could not read the knowledge cache %s: %s", self.path, err)
            return None
        return str(row[0]) if row is not None else None

    def put(self, spotify_id: str, question: str, answer: str) -> None:
        """Store (or replace) an answer; a database error is logged, not raised.

        Args:
            spotify_id: The Spotify ID of the track, album or artist.
            question: The question kind.
            answer: The text to keep.
        """
        try:
            with self._lock:
                connection = self._connect()
                try:
                    with connection:  # commits, or rolls back on an error
                        connection.execute(
                            "INSERT OR REPLACE INTO answers"
                            " (spotify_id, question, answer, created_at) VALUES (?, ?, ?, ?)",
                            (spotify_id, question, answer, self._clock()),
                        )
                finally:
                    connection.close()
        except (sqlite3.Error, OSError) as err:
            logger.warning("Could not write the knowledge cache %s: %s", self.path, err)

    def _connect(self) -> sqlite3.Connection:
        if not self._ready:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=self._timeout)
        if not self._ready:
            try:
                with connection:
                    connection.execute(_SCHEMA)
            except sqlite3.Error:
                connection.close()
                raise
            self._ready = True
        return connection

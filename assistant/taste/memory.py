"""TasteMemory: the evidence of what this person likes, kept in SQLite in the data dir.

One row per piece of evidence (see :data:`~assistant.taste.beliefs.Kind`): the song's URI, title
and first artist as Spotify named them, and when. Beliefs are derived from the rows whenever they
are asked for (:func:`~assistant.taste.beliefs.derive`), so forgetting an artist is deleting its
rows. Plays come from Spotify's recently-played list, which keeps the last 50: each is stored once
(by its ``played_at``), however often the list is read, and plays from before a "forget" are not
learned again.

Nothing here leaves the computer. Writing never fails a command: a database that cannot be
written loses that piece of evidence, with a warning in the log. Reading fails with a sentence
naming the file (the tools say it; the prompt's facts are left out).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from assistant.errors import SegueError
from assistant.locks import SharedLock
from assistant.spotify.models import Play
from assistant.taste.beliefs import (
    SKIP_MS,
    ArtistBelief,
    Beliefs,
    Evidence,
    Kind,
    Song,
    T,
    TrackBelief,
    artist_key,
    derive,
)
from assistant.text import match

logger = logging.getLogger(__name__)

DAY = 86_400.0
PROMPT_ARTISTS = 8  # artists named in each line of the model's prompt
_ALL = "*"  # the forget mark of "forget all"

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS evidence (
        kind TEXT NOT NULL,
        track_uri TEXT NOT NULL,
        title TEXT NOT NULL,
        artist_id TEXT NOT NULL,
        artist TEXT NOT NULL,
        at REAL NOT NULL,
        UNIQUE (kind, track_uri, at)
    )""",
    "CREATE INDEX IF NOT EXISTS evidence_at ON evidence (at)",
    # Plays from before this (Unix seconds) are not learned again: per artist key, or "*".
    """CREATE TABLE IF NOT EXISTS forgotten (
        artist_key TEXT PRIMARY KEY,
        before REAL NOT NULL
    )""",
)


class TasteMemory:
    """The taste memory of one Spotify account (or of the demo), in one SQLite file.

    Each call opens a short-lived connection to the file (WAL journal, a busy timeout for other
    Segue processes); without a file the rows live in memory for this process.

    Args:
        path: The database file (its folder is made when missing); None keeps it in memory.
        clock: Wall-clock Unix seconds: when Segue's own evidence happened.
        timeout: Seconds to wait for a database another process is writing.
    """

    def __init__(
        self,
        path: Path | None,
        *,
        clock: Callable[[], float] = time.time,
        timeout: float = 5.0,
    ) -> None:
        self.path = path
        self._clock = clock
        self._timeout = timeout
        self._local = threading.Lock()  # the in-memory database's one connection
        self._memory: sqlite3.Connection | None = None
        self._ready = False
        self._setup_lock = SharedLock(
            path.with_name(path.name + ".lock") if path is not None else None,
            timeout=timeout,
            busy=lambda: self._unusable("another Segue process holds it"),
        )

    # --- evidence ----------------------------------------------------------------------------

    def note(self, kind: Kind, songs: Sequence[Song]) -> None:
        """Keep one piece of evidence per song, dated now (a failure is logged, not raised)."""
        at = self._clock()
        self._keep([(kind, song, at) for song in songs if song.uri])

    def note_skip(self, song: Song, progress_ms: int) -> bool:
        """Keep a skip Segue made, if it came within 30 s of the song's start.

        Returns:
            Whether it was kept.
        """
        if progress_ms >= SKIP_MS:
            return False
        self.note("skipped", [song])
        return True

    def add_plays(self, plays: Sequence[Play]) -> int:
        """Learn plays from Spotify's recently-played list; those already kept are kept once.

        Returns:
            How many were new.
        """
        try:
            with self._db() as db:
                forgotten = dict(db.execute("SELECT artist_key, before FROM forgotten"))
                before = db.total_changes
                for play in plays:
                    song = Song.of(play.track)
                    mark = max(
                        forgotten.get(_ALL, 0.0),
                        forgotten.get(artist_key(song.artist_id, song.artist), 0.0),
                    )
                    if play.played_at > mark and song.uri:
                        _insert(db, "played", song, play.played_at)
                return db.total_changes - before
        except SegueError as err:
            logger.warning("%s", err.user_message)
            return 0

    def evidence(self) -> list[Evidence]:
        """Every piece of evidence, oldest first.

        Raises:
            SegueError: The file cannot be read; the sentence names it.
        """
        with self._db() as db:
            rows = db.execute(
                "SELECT kind, track_uri, title, artist_id, artist, at FROM evidence ORDER BY at"
            ).fetchall()
        return [
            Evidence(kind, Song(uri, title, aid, name), at)
            for kind, uri, title, aid, name, at in rows
        ]

    # --- beliefs -----------------------------------------------------------------------------

    def beliefs(self) -> Beliefs:
        """What all the evidence supports.

        Raises:
            SegueError: The file cannot be read.
        """
        return derive(self.evidence())

    def favourites(self, limit: int, *, within_days: float | None = None) -> list[TrackBelief]:
        """The songs the person likes most, never one disliked or by an avoided artist.

        Args:
            limit: How many at most.
            within_days: Only songs whose evidence of the last this many days favours them
                ("my favourites from this month"); what was said about a song or an artist
                earlier still counts against it.

        Raises:
            SegueError: The file cannot be read.
        """
        every = self.evidence()
        overall = derive(every)
        scope = overall
        if within_days is not None:
            since = self._clock() - within_days * DAY
            scope = derive(e for e in every if e.at >= since)
        chosen = [t for t in scope.tracks if t.score > 0 and not overall.avoids(t.song)]
        return chosen[:limit]

    def ranked(self, items: Sequence[T]) -> list[T]:
        """``items`` by what the person likes, those to leave out dropped (see ``Beliefs.rank``).

        An unreadable memory leaves them as they are.
        """
        try:
            return self.beliefs().rank(items)
        except SegueError as err:
            logger.warning("%s", err.user_message)
            return list(items)

    def prompt_facts(self) -> str:
        """A line each for the favourite and the avoided artists, for the model's prompt.

        Names are JSON strings (data); empty without evidence or when the file cannot be read.
        """
        try:
            beliefs = self.beliefs()
        except SegueError as err:
            logger.warning("Taste left out of the prompt: %s", err.user_message)
            return ""
        lines = []
        liked = [a.name for a in beliefs.liked_artists[:PROMPT_ARTISTS] if a.name]
        if liked:
            lines.append(
                "Artists the person likes most, from Segue's memory of their listening (data): "
                f"{json.dumps(liked, ensure_ascii=False)}; for music asked for without names "
                "(a mood, an activity), lean to these and artists like them."
            )
        avoided = [a.name for a in beliefs.avoided_artists[:PROMPT_ARTISTS] if a.name]
        if avoided:
            lines.append(
                "Artists the person does not want suggested (data): "
                f"{json.dumps(avoided, ensure_ascii=False)}."
            )
        return "\n".join(lines)

    # --- forgetting ----------------------------------------------------------------------------

    def find_artist(self, said: str) -> tuple[float, ArtistBelief] | None:
        """The artist in the memory whose name is closest to ``said``, with how close (0-100).

        Raises:
            SegueError: The file cannot be read.
        """
        scored = [(match.similarity(said, a.name), a) for a in self.beliefs().artists if a.name]
        return max(scored, key=lambda pair: pair[0], default=None)

    def forget_artist(self, key: str) -> int:
        """Delete every piece of evidence about one artist; plays from before stay forgotten.

        Returns:
            How many pieces were deleted.

        Raises:
            SegueError: The file cannot be written.
        """
        with self._db() as db:
            rows = db.execute("SELECT rowid, artist_id, artist FROM evidence").fetchall()
            doomed = [(rowid,) for rowid, aid, name in rows if artist_key(aid, name) == key]
            db.executemany("DELETE FROM evidence WHERE rowid = ?", doomed)
            db.execute("INSERT OR REPLACE INTO forgotten VALUES (?, ?)", (key, self._clock()))
        return len(doomed)

    def forget_all(self) -> int:
        """Delete every piece of evidence; plays from before are not learned again.

        Returns:
            How many pieces were deleted.

        Raises:
            SegueError: The file cannot be written.
        """
        with self._db() as db:
            deleted = db.execute("DELETE FROM evidence").rowcount
            db.execute("DELETE FROM forgotten")
            db.execute("INSERT INTO forgotten VALUES (?, ?)", (_ALL, self._clock()))
        return int(deleted)

    # --- the file ------------------------------------------------------------------------------

    def _keep(self, rows: Sequence[tuple[Kind, Song, float]]) -> None:
        if not rows:
            return
        try:
            with self._db() as db:
                for kind, song, at in rows:
                    _insert(db, kind, song, at)
        except SegueError as err:
            logger.warning("Evidence lost: %s", err.user_message)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        """A connection inside one transaction (committed at the end, rolled back on error).

        Raises:
            SegueError: The file cannot be opened, read or written.
        """
        if self.path is None:
            with self._local:
                if self._memory is None:
                    self._memory = sqlite3.connect(":memory:", check_same_thread=False)
                    _create(self._memory)
                with self._memory:
                    yield self._memory
            return
        try:
            if not self._ready:
                self._set_up(self.path)
            db = sqlite3.connect(self.path, timeout=self._timeout)
        except (sqlite3.Error, OSError) as err:
            raise self._unusable(str(err)) from err
        try:
            with db:
                yield db
        except sqlite3.Error as err:
            raise self._unusable(str(err)) from err
        finally:
            db.close()

    def _set_up(self, path: Path) -> None:
        # Under a lock file: two processes switching a new file to WAL at once can meet
        # "database is locked" at once, without waiting.
        with self._setup_lock.held():
            path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(path, timeout=self._timeout)
            try:
                db.execute("PRAGMA journal_mode=WAL")
                with db:
                    _create(db)
            finally:
                db.close()
        self._ready = True

    def _unusable(self, why: str) -> SegueError:
        return SegueError(f"Segue cannot use its taste memory in {self.path}: {why}.")


def _create(db: sqlite3.Connection) -> None:
    for statement in _SCHEMA:
        db.execute(statement)


def _insert(db: sqlite3.Connection, kind: Kind, song: Song, at: float) -> None:
    db.execute(
        "INSERT OR IGNORE INTO evidence (kind, track_uri, title, artist_id, artist, at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (kind, song.uri, song.title, song.artist_id, song.artist, at),
    )

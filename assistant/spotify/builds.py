"""Playlist builds that survive failures: made once, finished by a rerun, never doubled.

Making a playlist with songs takes several requests (create it, then add the songs, 100 per
request), and any of them can fail: a 503, an answer lost after Spotify acted (a timeout), the
process killed. So every build is written down before its first request, in SQLite in the data dir
(:class:`BuildStore`), and :class:`PlaylistBuilder` works from that record:

- One record per playlist name: what was asked (the name, the songs' URIs in order, the call that
  asked, which "try again" replays), the playlist's id once created, the songs whose adding Spotify
  confirmed.
- The same name asked for while its build is unfinished finishes that build (the songs it
  recorded) instead of starting another. The playlist's items are read first, so no song is added
  twice, even when the answer to an add was lost after Spotify added them.
- A create whose answer was lost is looked for among the user's own playlists before another is
  made: one with this name that was not there before the create was sent (Spotify lists
  playlists newest first, and says nothing of when one was made).
- One build runs at a time across Segue processes (a lock file beside the database), so two
  commands at once never both create. A completed build is marked done and kept for a few minutes,
  so the same request arriving twice answers with what exists; unfinished builds are dropped after
  a week.

Without a data dir (demo mode, whose simulated Spotify lives only as long as the process) the
records are kept in memory. A database that cannot be opened falls back to memory too, with a
warning: the playlist still gets made.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from assistant.errors import SegueError, SpotifyUnavailable
from assistant.locks import SharedLock
from assistant.spotify.client import PLAYLIST_ADD_BATCH, SpotifyClient
from assistant.spotify.models import Playlist
from assistant.text.fold import fold

logger = logging.getLogger(__name__)

KEEP_SECONDS = 7 * 24 * 3600.0  # an unfinished build is forgotten after a week
DONE_SECONDS = 600.0  # a completed build answers the same request again for ten minutes
LOCK_TIMEOUT = 60.0  # longest wait for another process's build
BUSY_MESSAGE = "Another Segue command is making a playlist right now; try again in a moment."

_COLUMNS = (
    "name_key, name, uris, description, public, request, playlist_id, create_sent, known_ids,"
    " added, done, started_at, updated_at"
)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS builds (
    name_key TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    uris TEXT NOT NULL,
    description TEXT NOT NULL,
    public INTEGER NOT NULL,
    request TEXT NOT NULL,
    playlist_id TEXT,
    create_sent INTEGER NOT NULL DEFAULT 0,
    known_ids TEXT NOT NULL DEFAULT '[]',
    added TEXT NOT NULL DEFAULT '[]',
    done INTEGER NOT NULL DEFAULT 0,
    started_at REAL NOT NULL,
    updated_at REAL NOT NULL
)
"""


@dataclass(frozen=True)
class Build:
    """One playlist build as recorded.

    Attributes:
        key: The folded name: one build per name.
        name: The playlist's name as asked.
        uris: The songs asked for, in order (each once).
        description: The description to create it with.
        public: Whether to create it public.
        request: The call that asked for it (``{"tool": ..., "arguments": ...}``), replayed by
            "try again" in a later process.
        playlist_id: The playlist's id, once Spotify answered the create (or it was found).
        create_sent: Whether a create was sent; its answer may have been lost.
        known_ids: Ids of the playlists by this name that existed before the create was sent.
        added: The songs Spotify confirmed adding, in order.
        done: Whether the build completed.
        started_at: When it was first asked for (Unix seconds).
        updated_at: When it last changed (Unix seconds).
    """

    key: str
    name: str
    uris: tuple[str, ...]
    description: str
    public: bool
    request: Mapping[str, Any] = field(compare=False)
    playlist_id: str | None = None
    create_sent: bool = False
    known_ids: tuple[str, ...] = ()
    added: tuple[str, ...] = ()
    done: bool = False
    started_at: float = 0.0
    updated_at: float = 0.0


def build_key(name: str) -> str:
    """The key of a build: its name folded (case, accents, punctuation set aside)."""
    return fold(name) or name.strip().casefold()


class BuildStore:
    """Playlist builds in SQLite: a file in the data dir, or memory when there is none.

    Each call opens a short-lived connection to the file (WAL journal, a busy timeout for other
    processes); the in-memory database keeps one connection. :meth:`exclusive` is the lock one
    build holds from its first request to its last, across processes.

    Args:
        path: The database file (its folder is created when missing); None keeps the records
            in memory.
        clock: Wall-clock Unix seconds.
        keep_seconds: How long an unfinished build is kept.
        done_seconds: How long a completed build is kept.
        lock_timeout: Seconds to wait for a build another process is running.
    """

    def __init__(
        self,
        path: Path | None,
        *,
        clock: Callable[[], float] = time.time,
        keep_seconds: float = KEEP_SECONDS,
        done_seconds: float = DONE_SECONDS,
        lock_timeout: float = LOCK_TIMEOUT,
    ) -> None:
        self.path = path
        self._clock = clock
        self._keep_seconds = keep_seconds
        self._done_seconds = done_seconds
        self._local = threading.Lock()  # the in-memory database's one connection
        self._lock = SharedLock(
            path.with_name(path.name + ".lock") if path is not None else None,
            timeout=lock_timeout,
            busy=lambda: SegueError(BUSY_MESSAGE, retryable=True),
        )
        self._memory: sqlite3.Connection | None = None
        self._ready = False

    def exclusive(self) -> AbstractContextManager[None]:
        """Hold the build lock: no other thread or Segue process runs a build meanwhile.

        Raises:
            SegueError: Another process held the lock for longer than the timeout.
        """
        return self._lock.held()

    def get(self, name: str) -> Build | None:
        """The build of a playlist by this name, if one is kept (old ones are dropped first)."""
        with self._transaction() as db:
            self._prune(db)
            row = db.execute(
                f"SELECT {_COLUMNS} FROM builds WHERE name_key = ?", (build_key(name),)
            ).fetchone()
        return _build(row) if row is not None else None

    def latest_unfinished(self, within: float) -> Build | None:
        """The unfinished build that changed last, if it changed within ``within`` seconds."""
        with self._transaction() as db:
            self._prune(db)
            row = db.execute(
                f"SELECT {_COLUMNS} FROM builds WHERE done = 0 AND updated_at >= ?"
                " ORDER BY updated_at DESC LIMIT 1",
                (self._clock() - within,),
            ).fetchone()
        return _build(row) if row is not None else None

    def start(
        self,
        name: str,
        uris: Sequence[str],
        *,
        description: str,
        public: bool,
        request: Mapping[str, Any],
    ) -> Build:
        """Record a new build, replacing a completed one by the same name.

        An unfinished build by this name is kept as it is and returned: it is finished, not
        started over.
        """
        now = self._clock()
        build = Build(
            key=build_key(name),
            name=name,
            uris=tuple(dict.fromkeys(uris)),
            description=description,
            public=public,
            request=dict(request),
            started_at=now,
            updated_at=now,
        )
        with self._transaction() as db:
            self._prune(db)
            row = db.execute(
                f"SELECT {_COLUMNS} FROM builds WHERE name_key = ? AND done = 0", (build.key,)
            ).fetchone()
            if row is not None:
                return _build(row)
            db.execute(
                f"INSERT OR REPLACE INTO builds ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                _row(build),
            )
        return build

    def creating(self, build: Build, known_ids: Sequence[str]) -> Build:
        """Note that a create is about to be sent, and the playlists of this name before it."""
        return self._update(build, create_sent=True, known_ids=tuple(known_ids))

    def created(self, build: Build, playlist_id: str) -> Build:
        """Note the playlist the build made (or found)."""
        return self._update(build, playlist_id=playlist_id)

    def added(self, build: Build, uris: Sequence[str]) -> Build:
        """Note songs Spotify confirmed adding."""
        return self._update(build, added=tuple(dict.fromkeys((*build.added, *uris))))

    def finish(self, build: Build) -> Build:
        """Mark the build done: every song asked for is in the playlist."""
        return self._update(build, done=True)

    def forget(self, build: Build) -> None:
        """Drop the record (nothing was made, so there is nothing to finish)."""
        with self._transaction() as db:
            db.execute("DELETE FROM builds WHERE name_key = ?", (build.key,))

    # Internals

    def _update(self, build: Build, **changes: Any) -> Build:
        changed = replace(build, updated_at=self._clock(), **changes)
        with self._transaction() as db:
            db.execute(
                f"INSERT OR REPLACE INTO builds ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                _row(changed),
            )
        return changed

    def _prune(self, db: sqlite3.Connection) -> None:
        now = self._clock()
        db.execute(
            "DELETE FROM builds"
            " WHERE (done = 0 AND updated_at < ?) OR (done = 1 AND updated_at < ?)",
            (now - self._keep_seconds, now - self._done_seconds),
        )

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """A connection inside one write transaction (committed at the end, rolled back on error).

        Raises:
            SegueError: The file could not be used (another process kept it locked past the
                busy timeout, or the disk failed) after it was set up.
        """
        if self.path is not None and not self._ready:
            self._set_up(self.path)
        if self.path is None:
            with self._local:
                if self._memory is None:
                    self._memory = sqlite3.connect(
                        ":memory:", check_same_thread=False, isolation_level="IMMEDIATE"
                    )
                    self._memory.execute(_SCHEMA)
                with self._memory:
                    yield self._memory
            return
        try:
            db = _connect(self.path)
        except sqlite3.Error as err:
            raise _unusable(self.path, err) from err
        try:
            with db:
                yield db
        except sqlite3.Error as err:
            raise _unusable(self.path, err) from err
        finally:
            db.close()

    def _set_up(self, path: Path) -> None:
        """Make the file and its table on first use, or fall back to memory when it cannot be.

        Done under the build lock: two processes setting up the same new file at once would
        meet "database is locked" (the journal mode changes under an exclusive lock).
        """
        with self._lock.held():
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                db = _connect(path)
                try:
                    # WAL: readers never wait for the writer, and a killed writer loses nothing
                    # it committed.
                    db.execute("PRAGMA journal_mode=WAL")
                    with db:
                        db.execute(_SCHEMA)
                finally:
                    db.close()
            except (sqlite3.Error, OSError) as err:
                logger.warning(
                    "Cannot use the playlist builds file %s (%s); keeping builds in memory",
                    path,
                    err,
                )
                self.path = None
            self._ready = True


def _connect(path: Path) -> sqlite3.Connection:
    # Every transaction here writes (old builds are pruned first): IMMEDIATE takes the write lock
    # at BEGIN, where the busy timeout applies, so no reader has to upgrade (which SQLite may
    # refuse at once with "database is locked").
    return sqlite3.connect(path, timeout=5.0, isolation_level="IMMEDIATE")


def _unusable(path: Path, err: sqlite3.Error) -> SegueError:
    logger.warning("The playlist builds file %s failed: %s", path, err)
    return SegueError(
        "Segue could not keep track of the playlist it is making; try again in a moment.",
        retryable=True,
    )


def _row(build: Build) -> tuple[Any, ...]:
    return (
        build.key,
        build.name,
        json.dumps(list(build.uris)),
        build.description,
        int(build.public),
        json.dumps(dict(build.request), ensure_ascii=False),
        build.playlist_id,
        int(build.create_sent),
        json.dumps(list(build.known_ids)),
        json.dumps(list(build.added)),
        int(build.done),
        build.started_at,
        build.updated_at,
    )


def _build(row: Sequence[Any]) -> Build:
    return Build(
        key=str(row[0]),
        name=str(row[1]),
        uris=tuple(json.loads(row[2])),
        description=str(row[3]),
        public=bool(row[4]),
        request=json.loads(row[5]),
        playlist_id=row[6],
        create_sent=bool(row[7]),
        known_ids=tuple(json.loads(row[8])),
        added=tuple(json.loads(row[9])),
        done=bool(row[10]),
        started_at=float(row[11]),
        updated_at=float(row[12]),
    )


@dataclass(frozen=True)
class BuildOutcome:
    """What exists after a build ran: the reply is made from this.

    Attributes:
        build: The record as it stands now.
        playlist: The playlist's URI; None when none was made (or found).
        have: How many of the songs asked for the playlist holds (at least, when not ``exact``).
        exact: Whether ``have`` was read from Spotify or confirmed by it; False when an add's
            answer was lost and the playlist could not be read afterwards.
        error: What stopped the build; None when it completed.
        resumed: Whether this finished an earlier, unfinished build.
        repeated: Whether the build had completed already (the same request again).
    """

    build: Build
    playlist: str | None
    have: int
    exact: bool = True
    error: SegueError | None = None
    resumed: bool = False
    repeated: bool = False

    @property
    def wanted(self) -> int:
        """How many songs were asked for."""
        return len(self.build.uris)


class PlaylistBuilder:
    """Makes playlists with songs from their build records, finishing unfinished ones.

    Args:
        client: The Spotify client.
        store: Where builds are recorded.
    """

    def __init__(self, client: SpotifyClient, store: BuildStore) -> None:
        self._client = client
        self._store = store

    def unfinished(self, name: str) -> bool:
        """Whether a build by this name is unfinished (read without waiting for the lock)."""
        build = self._store.get(name)
        return build is not None and not build.done

    def latest_unfinished(self, within: float) -> Mapping[str, Any] | None:
        """The request of the unfinished build that changed last within ``within`` seconds."""
        build = self._store.latest_unfinished(within)
        return build.request if build is not None else None

    def forget(self, name: str) -> None:
        """Drop the build of the playlist by this name ("undo" deleted the playlist).

        Asked for again, it is made anew instead of answered as made already.
        """
        build = self._store.get(name)
        if build is not None:
            self._store.forget(build)

    def resume(self, name: str, request: Mapping[str, Any]) -> BuildOutcome | None:
        """Finish the unfinished build by this name (or report the same request's done one).

        Returns:
            What exists afterwards; None when there is no such build (any more).

        Raises:
            SegueError: Another process held the build lock for too long.
        """
        with self._store.exclusive():
            build = self._store.get(name)
            if build is None or (build.done and not _same_request(build, request)):
                return None
            return self._carry_on(build, resumed=True)

    def build(
        self,
        name: str,
        uris: Sequence[str],
        *,
        description: str,
        public: bool,
        request: Mapping[str, Any],
    ) -> BuildOutcome:
        """Make the playlist ``name`` with ``uris``, recording each step.

        An unfinished build by this name found under the lock is finished instead (with the
        songs it recorded): another command may have started it a moment ago.

        Raises:
            SegueError: Another process held the build lock for too long.
        """
        with self._store.exclusive():
            existing = self._store.get(name)
            if existing is not None and (not existing.done or _same_request(existing, request)):
                return self._carry_on(existing, resumed=True)
            build = self._store.start(
                name, uris, description=description, public=public, request=request
            )
            return self._carry_on(build, resumed=False)

    # Internals: each runs under the build lock.

    def _carry_on(self, build: Build, *, resumed: bool) -> BuildOutcome:
        if build.done:
            return BuildOutcome(
                build, _uri(build.playlist_id), len(build.uris), resumed=True, repeated=True
            )
        try:
            build, fresh = self._playlist(build)
        except SegueError as err:
            if (
                build.playlist_id is None
                and not build.create_sent
                and not isinstance(err, SpotifyUnavailable)
            ):
                # Spotify refused this run's create (or nothing was sent), and no earlier run sent
                # one: nothing exists to finish.
                self._store.forget(build)
            else:
                build = self._store.get(build.name) or build
            return BuildOutcome(build, _uri(build.playlist_id), 0, error=err, resumed=resumed)
        assert build.playlist_id is not None
        playlist = _uri(build.playlist_id)
        present: set[str] = set()
        if not fresh:
            try:
                present = self._contents(build.playlist_id)
            except SegueError as err:
                have = len(build.added)
                return BuildOutcome(build, playlist, have, exact=False, error=err, resumed=resumed)
        missing = [u for u in build.uris if u not in present]
        for start in range(0, len(missing), PLAYLIST_ADD_BATCH):
            batch = missing[start : start + PLAYLIST_ADD_BATCH]
            try:
                self._client.add_to_playlist(build.playlist_id, batch)
            except SegueError as err:
                return self._stopped(build, present, err, resumed=resumed)
            build = self._store.added(build, batch)
            present.update(batch)
        build = self._store.finish(build)
        logger.info("Playlist build complete (%d songs)", len(build.uris))
        return BuildOutcome(build, playlist, len(build.uris), resumed=resumed)

    def _stopped(
        self, build: Build, present: set[str], err: SegueError, *, resumed: bool
    ) -> BuildOutcome:
        """What exists after an add failed."""
        assert build.playlist_id is not None
        playlist = _uri(build.playlist_id)
        exact = True
        if isinstance(err, SpotifyUnavailable):
            # A timeout or a dropped connection: Spotify may have added the songs anyway. Read
            # the playlist to say what it holds.
            try:
                present = self._contents(build.playlist_id)
            except SegueError:
                exact = False
        have = sum(1 for u in build.uris if u in present)
        if exact and have == len(build.uris):
            build = self._store.finish(self._store.added(build, build.uris))
            logger.info("Playlist build complete: the lost add had gone through")
            return BuildOutcome(build, playlist, have, resumed=resumed)
        logger.warning("Playlist build stopped at %d of %d songs", have, len(build.uris))
        return BuildOutcome(build, playlist, have, exact=exact, error=err, resumed=resumed)

    def _playlist(self, build: Build) -> tuple[Build, bool]:
        """The build's playlist: recorded, found after a lost create, or made now.

        Returns:
            The record (with the playlist id) and whether the playlist was made just now (and
            so holds nothing yet).
        """
        if build.playlist_id is not None:
            return build, False
        if build.create_sent:
            found = self._find_made(build)
            if found is not None:
                logger.info("Found the playlist a lost create had made")
                return self._store.created(build, found.id), False
        known = [p.id for p in self._client.my_playlists() if build_key(p.name) == build.key]
        build = self._store.creating(build, known)
        try:
            made = self._client.create_playlist(
                build.name, description=build.description, public=build.public
            )
        except SpotifyUnavailable:
            # The answer may be lost although Spotify made it (a timeout): look before anything
            # makes another.
            try:
                found = self._find_made(build)
            except SegueError:
                found = None
            if found is None:
                raise
            logger.info("The create's answer was lost; found the playlist it made")
            return self._store.created(build, found.id), False
        return self._store.created(build, made.id), True

    def _find_made(self, build: Build) -> Playlist | None:
        """The user's own playlist by this name that was not there before the create."""
        me = self._client.me().id
        for playlist in self._client.my_playlists(refresh=True):
            if (
                playlist.owner_id == me
                and build_key(playlist.name) == build.key
                and playlist.id not in build.known_ids
            ):
                return playlist  # Spotify lists the newest first
        return None

    def _contents(self, playlist_id: str) -> set[str]:
        return {t.uri for t in self._client.playlist_tracks(playlist_id)}


def _same_request(build: Build, request: Mapping[str, Any]) -> bool:
    return json.dumps(dict(build.request), sort_keys=True) == json.dumps(
        dict(request), sort_keys=True
    )


def _uri(playlist_id: str | None) -> str | None:
    return f"spotify:playlist:{playlist_id}" if playlist_id is not None else None

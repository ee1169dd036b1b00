"""The demo world kept in one SQLite file, so every Segue process of one home plays the same one.

Demo mode runs a simulated Spotify inside each Segue process (the tray, every ``segue say`` and
``segue listen``). Given a world file, they all play one demo account: each request is one SQLite
write transaction (``BEGIN IMMEDIATE``), in which the simulator first takes over the state another
process left (when it changed), then answers, then writes the state back (when the answer changed
it). Two commands at once take turns, request by request; a process that dies mid-request leaves
the last whole state behind (SQLite rolls its transaction back and the system lets go of its
lock). Nothing runs between commands: playback progress is kept against the wall clock, so the
song plays on while no Segue process runs, as it would on a real account.

A world file that cannot be used (a data dir that cannot be written, another process holding
the file past the timeout) leaves the simulator with a world of its own, said once in the log. A
file that is not a database is moved aside and a new one started; a state that cannot be read
(another version's layout, a catalog that changed) puts the world back at its start.
"""

from __future__ import annotations

import json
import logging
import secrets
import sqlite3
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

import filelock

from assistant.sim.state import World

logger = logging.getLogger(__name__)

FORMAT = 1  # the layout of the stored state; a file with another layout starts the world afresh
_NOT_READ = object()  # the generation of a lock that has not read the file yet


class WorldFileUnavailable(Exception):
    """The world file cannot be opened, read or written (the message says why)."""


class WorldFile:
    """The demo world's state in SQLite: one row holding the state as JSON and its generation.

    Every write gives a new random generation, so a process sees that another changed the world
    (or reset it, or that the file was replaced) by comparing one short string.

    Args:
        path: The SQLite file; its folder is made when missing.
        timeout: Seconds to wait while another process answers a request.
    """

    def __init__(self, path: Path, *, timeout: float = 10.0) -> None:
        self.path = path
        self._timeout = timeout
        self._db: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Two processes opening a new file at once: switching it to WAL can answer "database
            # is locked" at once, without waiting, and the loser then played a world of its own
            # (seen in CI: 6 of 12 playlists lost). The setup runs under a lock file instead.
            with filelock.FileLock(self.path.with_name(self.path.name + ".lock"), timeout=10):
                self._db = self._open()
        return self._db

    def _open(self) -> sqlite3.Connection:
        """A connection with the file set up (WAL, the table); call with the lock file held."""
        db = sqlite3.connect(
            self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False
        )
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS world (id INTEGER PRIMARY KEY CHECK (id = 1), "
                "generation TEXT NOT NULL, format INTEGER NOT NULL, state TEXT)"
            )
        except sqlite3.Error:
            db.close()
            raise
        return db

    def check(self) -> None:
        """Open the file (made when missing), so a file that cannot be used is known early.

        A file that is not an SQLite database (damaged, or something else by that name) is
        moved aside to ``NAME.damaged`` and the world starts afresh in a new one.

        Raises:
            WorldFileUnavailable: The file cannot be made, opened or read.
        """
        try:
            try:
                self._connect()
            except sqlite3.OperationalError:
                raise
            except sqlite3.DatabaseError as err:
                self._move_aside(err)
                self._connect()
        except (sqlite3.Error, OSError) as err:
            self.close()
            raise WorldFileUnavailable(str(err)) from err

    def _move_aside(self, err: sqlite3.DatabaseError) -> None:
        # Under a lock file, and only if it is still damaged: two processes starting at once
        # must not both move files (the second would move the first one's new file).
        with filelock.FileLock(self.path.with_name(self.path.name + ".lock"), timeout=10):
            try:
                self._db = self._db or self._open()
                return
            except sqlite3.OperationalError:
                raise
            except sqlite3.DatabaseError:
                pass
            damaged = self.path.with_name(self.path.name + ".damaged")
            logger.warning(
                "The demo world file %s is damaged (%s); it is moved to %s and the demo world "
                "starts afresh",
                self.path,
                err,
                damaged.name,
            )
            self.path.replace(damaged)
            for suffix in ("-wal", "-shm"):
                self.path.with_name(self.path.name + suffix).unlink(missing_ok=True)

    def begin(self) -> WorldTurn:
        """Take a turn at the file: no other process reads or writes it until it ends.

        Raises:
            WorldFileUnavailable: The file cannot be opened, or another process held it past
                the timeout.
        """
        try:
            db = self._connect()
            db.execute("BEGIN IMMEDIATE")
        except (sqlite3.Error, OSError) as err:
            self.close()
            raise WorldFileUnavailable(str(err)) from err
        return WorldTurn(self, db)

    def reset(self) -> None:
        """Put the world back at its start; every process sees it at its next request.

        Raises:
            WorldFileUnavailable: The file cannot be opened or written.
        """
        turn = self.begin()
        try:
            turn.write(None)
        except BaseException:
            turn.rollback()
            raise
        turn.commit()

    def close(self) -> None:
        """Close the connection (the next turn opens it again)."""
        if self._db is not None:
            self._db.close()
            self._db = None


class WorldTurn:
    """One process's turn at the world file, from ``WorldFile.begin`` to commit or rollback."""

    def __init__(self, file: WorldFile, db: sqlite3.Connection) -> None:
        self._file = file
        self._db = db

    def _row(self, columns: str) -> tuple[Any, ...] | None:
        try:
            row: tuple[Any, ...] | None = self._db.execute(
                f"SELECT {columns} FROM world WHERE id = 1"
            ).fetchone()
        except sqlite3.Error as err:
            raise WorldFileUnavailable(str(err)) from err
        return row

    def generation(self) -> str | None:
        """The generation of the stored state; None when nothing was stored yet.

        Raises:
            WorldFileUnavailable: The file cannot be read.
        """
        row = self._row("generation")
        return None if row is None else str(row[0])

    def state(self) -> dict[str, Any] | None:
        """The stored state; None for a world at its start.

        Raises:
            WorldFileUnavailable: The file cannot be read.
            ValueError: The state is not in this version's layout, or not JSON.
        """
        row = self._row("format, state")
        if row is None or row[1] is None:
            return None
        if row[0] != FORMAT:
            raise ValueError(f"the state is in layout {row[0]}, not {FORMAT}")
        state = json.loads(row[1])
        if not isinstance(state, dict):
            raise ValueError("the state is not a JSON object")
        return state

    def write(self, text: str | None) -> str:
        """Store ``text`` (the state as JSON; None for a world at its start).

        Returns:
            The new generation.

        Raises:
            WorldFileUnavailable: The file cannot be written.
        """
        generation = secrets.token_hex(8)
        try:
            self._db.execute(
                "INSERT OR REPLACE INTO world (id, generation, format, state) VALUES (1, ?, ?, ?)",
                (generation, FORMAT, text),
            )
        except sqlite3.Error as err:
            raise WorldFileUnavailable(str(err)) from err
        return generation

    def commit(self) -> None:
        """End the turn, keeping what was written.

        Raises:
            WorldFileUnavailable: The write could not be made durable (nothing was kept).
        """
        try:
            self._db.execute("COMMIT")
        except sqlite3.Error as err:
            self._file.close()
            raise WorldFileUnavailable(str(err)) from err

    def rollback(self) -> None:
        """End the turn, dropping what was written."""
        try:
            self._db.execute("ROLLBACK")
        except sqlite3.Error:
            self._file.close()


class SharedWorldLock:
    """The simulator's lock; with a world file, whoever holds it holds the shared world.

    Used as ``with lock:`` around every read or change of the world. It is reentrant, like the
    ``threading.RLock`` it wraps; only the outermost hold takes a turn at the file: it takes over
    the state another process left, and on leaving writes back what changed (also when the
    request failed part-way: the world in memory is the one that counts).

    Args:
        lock: The simulator's lock within this process.
        world: The simulator's world (for a world file, playing against the wall clock).
        file: The world file; None keeps the world in this process only.
    """

    def __init__(self, lock: threading.RLock, world: World, file: WorldFile | None) -> None:
        self._lock = lock
        self._world = world
        self._file = file
        self._depth = 0
        self._turn: WorldTurn | None = None
        self._generation: object = _NOT_READ
        self._text = ""
        if file is not None:
            try:
                file.check()
            except WorldFileUnavailable as err:
                self._give_up(err)

    @property
    def file(self) -> WorldFile | None:
        """The world file in use; None without one, or once it could not be used."""
        return self._file

    def close(self) -> None:
        """Close the world file's connection (a later hold opens it again)."""
        with self._lock:
            if self._file is not None:
                self._file.close()

    def __enter__(self) -> SharedWorldLock:
        self._lock.acquire()
        self._depth += 1
        if self._depth == 1 and self._file is not None:
            try:
                self._turn = self._begin(self._file)
            except WorldFileUnavailable as err:
                self._give_up(err)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._depth == 1 and self._turn is not None:
                turn, self._turn = self._turn, None
                self._end(turn)
        finally:
            self._depth -= 1
            self._lock.release()

    def _begin(self, file: WorldFile) -> WorldTurn:
        turn = file.begin()
        try:
            generation = turn.generation()
            if generation != self._generation:
                self._take_over(turn, generation, file.path)
        except BaseException:
            turn.rollback()
            raise
        return turn

    def _take_over(self, turn: WorldTurn, generation: str | None, path: Path) -> None:
        try:
            self._world.load_data(turn.state())
        except (AttributeError, KeyError, TypeError, ValueError) as err:
            logger.warning(
                "The demo world in %s could not be read (%s: %s); it starts afresh",
                path,
                type(err).__name__,
                err,
            )
            self._world.load_data(None)
            self._generation = generation
            self._text = ""  # differs from any state: this turn writes the fresh world
            return
        self._generation = generation
        self._text = self._dump()

    def _end(self, turn: WorldTurn) -> None:
        try:
            text = self._dump()
            if text != self._text:
                generation = turn.write(text)
                turn.commit()
                self._generation, self._text = generation, text
            else:
                turn.commit()
        except WorldFileUnavailable as err:
            turn.rollback()
            self._give_up(err)

    def _dump(self) -> str:
        return json.dumps(self._world.to_data(), separators=(",", ":"), ensure_ascii=False)

    def _give_up(self, err: WorldFileUnavailable) -> None:
        if self._file is None:
            return
        logger.warning(
            "The demo world cannot be kept in %s (%s); this Segue process plays a demo world "
            "of its own",
            self._file.path,
            err,
        )
        self._file.close()
        self._file = None

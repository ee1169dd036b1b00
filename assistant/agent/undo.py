"""Undo: Segue's last command put back, from what its tools said they changed.

Every tool that changes something returns, beside its sentence, what it changed and what that
was before (``ToolOutput.changes``, each a :class:`~assistant.agent.tools.Change`); the registry
hands them to the tool's provider, which writes them here. Undoing reads nothing from Spotify:
the table :data:`INVERSES` says, per kind of change, what puts it back from the record alone, or
why it cannot be put back (Spotify has no way to take a song off the queue).

- **One command at a time.** The changes of one command belong together (the agent starts each
  with ``ToolRegistry.begin_command``): "undo" reverts all of the last command's changes, newest
  first, or none of them.
- **One step.** "Undo" said again answers that there is nothing more to undo; it does not reach
  further back. "Never mind", "that was wrong", "put it back" are about the one thing just done,
  the person sees no history to walk back through, and a second "that was wrong" after an undo is
  as likely to mean the undo itself. Saying the command again redoes it.
- **Within the conversation window.** Only a command from the last ``conversation_minutes``
  counts; older ones are forgotten.
- **Deleting asks first.** Undoing a command that made a playlist deletes (unfollows) that
  playlist: ``undo`` raises :class:`~assistant.agent.tools.ConfirmFirst`, the agent asks "Delete
  the playlist ...?", and the destructive ``undo_new_playlist`` runs only after a "yes".
- **Durable.** :class:`UndoJournal` keeps the record in SQLite in the data dir, so ``segue say
  "volume 30"`` and then ``segue say "undo"`` (two processes), or the tray after a ``segue say``,
  undo the same command. The demo keeps its own file beside its world (``app.py``), so undoing
  in the demo never touches the person's account or the other way round.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.agent.tools import Change, ConfirmFirst, ToolCall, ToolOutput
from assistant.errors import SegueError
from assistant.spotify.client import SpotifyClient
from assistant.spotify.control import PlayerControl
from assistant.spotify.devices import LocalPlayer
from assistant.spotify.ducking import VolumeDucker
from assistant.spotify.models import REPEAT_MODES, PlaybackState
from assistant.text.names import quoted as _q

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 300.0  # the default conversation window (``conversation_minutes``: 5)
KEEP_ROWS = 200  # most changes kept; older ones go (only the last command is ever undone)

NOTHING_TO_UNDO = "There's nothing to undo."
NOTHING_MORE = "There's nothing more to undo: I've already undone my last change."
QUEUE_REFUSAL = "I can't take a song off the queue; Spotify doesn't allow it."
QUEUE_REFUSAL_MANY = "I can't take songs off the queue; Spotify doesn't allow it."
UNCHANGED = "That changed nothing, so there's nothing to undo."
UNREAD = "I couldn't read what was there before that, so I can't undo it."
NO_NEW_PLAYLIST = "My last change made no playlist, so there's none to delete."
JOURNAL_FAILED = "Segue could not read what it changed last; try again in a moment."

DELETE_TOOL = "undo_new_playlist"
ASKS_FIRST = frozenset({"playlist_created"})  # undone only after the person's "yes"

NOTHING = Change("nothing")  # a command that changed nothing ("Already muted.")
UNKNOWN = Change("unread")  # what was before could not be read: the change cannot be undone

_REPEAT_BACK = {
    "off": "Repeat back off.",
    "track": "Back to repeating this song.",
    "context": "Back to repeating the album or playlist.",
}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    command TEXT NOT NULL,
    at REAL NOT NULL,
    tool TEXT NOT NULL,
    kind TEXT NOT NULL,
    before TEXT NOT NULL,
    after TEXT NOT NULL,
    undone INTEGER NOT NULL DEFAULT 0
)
"""


# --- building changes (the tools call these) ---------------------------------------------------


def setting(kind: str, before: Any, after: Any) -> Change:
    """A setting's change ("volume", "shuffle", "repeat", "position_ms"); before None: unread."""
    if before is None:
        return UNKNOWN
    if before == after:
        return NOTHING
    return Change(kind, {kind: before}, {kind: after})


def shuffle_change(before: Change | None, on: bool | None) -> tuple[Change, ...]:
    """A play's shuffle setting as a change, from what played before (none when nothing did)."""
    if on is None or before is None or not before.before:
        return ()
    return (setting("shuffle", before.before.get("shuffle"), on),)


def playback_record(state: PlaybackState | None) -> dict[str, Any]:
    """What played, as "undo" puts it back: track, context, position, device; {} for nothing."""
    if state is None or state.item is None:
        return {}
    track = state.item
    return {
        "track": track.uri,
        "name": track.name,
        "by": track.artist_names,
        "context": state.context_uri,
        "position_ms": state.progress_ms,
        "playing": state.is_playing,
        "device": state.device.id if state.device is not None else None,
        "shuffle": state.shuffle,
    }


@dataclass(frozen=True)
class Entry:
    """One recorded change.

    Attributes:
        id: Its row, in the order changes were made (across processes).
        command: The command it belongs to.
        at: When it was made (Unix seconds).
        tool: The tool that made it.
        change: What changed.
        undone: Whether an undo has put it back.
    """

    id: int
    command: str
    at: float
    tool: str
    change: Change
    undone: bool


class UndoJournal:
    """Segue's recent changes, by command: SQLite in the data dir, or memory when there is none.

    Each call opens a short-lived connection (SQLite's locking, with a busy timeout, keeps the
    processes of one home in turn). Recording never fails a command: a file that cannot be
    written is logged and the change goes unrecorded.

    Args:
        path: The database file (its folder is made when missing); None keeps it in memory.
        window: Seconds a command stays undoable (the conversation window).
        clock: Wall-clock Unix seconds (other processes read the same record).
    """

    def __init__(
        self,
        path: Path | None,
        *,
        window: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = path
        self.window = window
        self._clock = clock
        self._lock = threading.Lock()
        self._memory: sqlite3.Connection | None = None
        self._ready = False

    def record(self, command: str, tool: str, changes: Sequence[Change]) -> None:
        """Keep what one call of ``command`` changed; a failure is logged, not raised."""
        now = self._clock()
        rows = [
            (command, now, tool, c.kind, json.dumps(dict(c.before)), json.dumps(dict(c.after)))
            for c in changes
        ]
        try:
            with self._db() as db:
                db.executemany(
                    "INSERT INTO changes (command, at, tool, kind, before, after)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    rows,
                )
                db.execute(
                    "DELETE FROM changes WHERE at < ? OR id <= (SELECT MAX(id) FROM changes) - ?",
                    (now - self.window, KEEP_ROWS),
                )
        except (sqlite3.Error, OSError) as err:
            logger.warning("Could not record a change for undo in %s: %s", self.path, err)

    def last_command(self) -> list[Entry]:
        """The changes of the last command made within the window, oldest first; [] for none.

        Raises:
            SegueError: The record cannot be read.
        """
        try:
            with self._db() as db:
                rows = db.execute(
                    "SELECT id, command, at, tool, kind, before, after, undone FROM changes"
                    " WHERE command = (SELECT command FROM changes WHERE at >= ?"
                    " ORDER BY id DESC LIMIT 1) ORDER BY id",
                    (self._clock() - self.window,),
                ).fetchall()
        except (sqlite3.Error, OSError) as err:
            logger.warning("Could not read the undo record %s: %s", self.path, err)
            raise SegueError(JOURNAL_FAILED, retryable=True) from err
        return [
            Entry(
                id=int(r[0]),
                command=str(r[1]),
                at=float(r[2]),
                tool=str(r[3]),
                change=Change(str(r[4]), json.loads(r[5]), json.loads(r[6])),
                undone=bool(r[7]),
            )
            for r in rows
        ]

    def claim(self, entries: Sequence[Entry]) -> bool:
        """Mark ``entries`` undone, unless another undo (another process) took any of them first.

        Raises:
            SegueError: The record cannot be written.
        """
        ids = [e.id for e in entries]
        marks = ",".join("?" * len(ids))
        try:
            with self._db() as db:
                claimed = db.execute(
                    f"UPDATE changes SET undone = 1 WHERE undone = 0 AND id IN ({marks})", ids
                ).rowcount
                if claimed != len(ids):
                    db.rollback()
                    return False
        except (sqlite3.Error, OSError) as err:
            logger.warning("Could not write the undo record %s: %s", self.path, err)
            raise SegueError(JOURNAL_FAILED, retryable=True) from err
        return True

    def release(self, entries: Sequence[Entry]) -> None:
        """Mark ``entries`` not undone again (their undo failed); a failure is logged."""
        ids = [e.id for e in entries]
        try:
            with self._db() as db:
                db.execute(
                    f"UPDATE changes SET undone = 0 WHERE id IN ({','.join('?' * len(ids))})", ids
                )
        except (sqlite3.Error, OSError) as err:
            logger.warning("Could not write the undo record %s: %s", self.path, err)

    def clear(self) -> None:
        """Forget every change (the demo world was reset); a missing file stays missing."""
        if self.path is not None and not self.path.exists():
            return
        try:
            with self._db() as db:
                db.execute("DELETE FROM changes")
        except (sqlite3.Error, OSError) as err:
            logger.warning("Could not clear the undo record %s: %s", self.path, err)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        """A connection in one transaction: committed at the end, rolled back on an error."""
        with self._lock:
            if self.path is None:
                if self._memory is None:
                    self._memory = sqlite3.connect(":memory:", check_same_thread=False)
                    self._memory.execute(_SCHEMA)
                with self._memory:
                    yield self._memory
                return
            if not self._ready:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            # IMMEDIATE: a write takes the lock at BEGIN, where the busy timeout applies.
            db = sqlite3.connect(self.path, timeout=5.0, isolation_level="IMMEDIATE")
            try:
                if not self._ready:
                    db.execute(_SCHEMA)
                    self._ready = True
                with db:
                    yield db
            finally:
                db.close()


class Undo:
    """Keeps what the tools change and puts the last command back (the ``undo`` tools' work).

    Args:
        journal: Where the changes are kept.
        client: The Spotify client.
        control: Where transport commands go (this computer's app or the Web API).
        player: This computer's player (brought up when no device is active).
        volume: The ducker through which the person's volume is set.
        forget_build: Drops the build record of a playlist by name (once it is deleted, the same
            request makes it anew instead of answering that it exists).
    """

    def __init__(
        self,
        journal: UndoJournal,
        *,
        client: SpotifyClient,
        control: PlayerControl,
        player: LocalPlayer,
        volume: VolumeDucker,
        forget_build: Callable[[str], None],
    ) -> None:
        self.journal = journal
        self._client = client
        self._control = control
        self._player = player
        self._ducker = volume
        self._forget_build = forget_build
        self._command: str | None = None
        self._pool: ThreadPoolExecutor | None = None

    # --- recording -------------------------------------------------------------------------------

    def begin_command(self) -> None:
        """A new command starts: the changes from now on are undone together."""
        self._command = uuid.uuid4().hex

    def note(self, tool: str, changes: Sequence[Change]) -> None:
        """Keep what a call of ``tool`` changed, as part of the current command."""
        self.journal.record(self._command or uuid.uuid4().hex, tool, changes)

    def read(self, read: Callable[[], Any]) -> Any:
        """What ``read`` says now (what was before a change), or None when it fails."""
        try:
            return read()
        except SegueError as err:
            logger.info("What was before a change was not read: %s", type(err).__name__)
            return None

    def playback_before(self, read: Callable[[], PlaybackState | None]) -> Callable[[], Change]:
        """Start reading what plays, beside a play's own requests (a search); returns a getter.

        Call the getter before the play changes anything: it gives what played before the play
        (nothing included), or UNKNOWN when the read failed.
        """
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="segue-undo-read")
        future: Future[PlaybackState | None] = self._pool.submit(read)

        def change() -> Change:
            try:
                state = future.result()
            except SegueError as err:
                logger.info("What played before a play was not read: %s", type(err).__name__)
                return UNKNOWN
            return Change("playback", playback_record(state))

        return change

    # --- undoing -------------------------------------------------------------------------------

    def undo(self) -> ToolOutput:
        """Put back the last command's changes; a playlist it made is deleted only after a yes.

        Raises:
            ConfirmFirst: The command made a playlist: ``undo_new_playlist`` after a "yes".
        """
        entries = self.journal.last_command()
        pending = [e for e in entries if not e.undone]
        if not entries:
            return ToolOutput(self._nothing())
        if not pending:
            return ToolOutput(NOTHING_MORE)
        made = [e for e in pending if e.change.kind in ASKS_FIRST]
        if made:
            name = _q(str(made[-1].change.after.get("name", "")))
            raise ConfirmFirst(ToolCall(DELETE_TOOL, {}), f"the playlist {name} I just made")
        return self._revert(pending)

    def undo_new_playlist(self) -> ToolOutput:
        """Delete the playlist the last command made, and put back the rest of that command."""
        pending = [e for e in self.journal.last_command() if not e.undone]
        if not any(e.change.kind in ASKS_FIRST for e in pending):
            return ToolOutput(NO_NEW_PLAYLIST)
        return self._revert(pending)

    def _revert(self, pending: list[Entry]) -> ToolOutput:
        if not self.journal.claim(pending):
            return ToolOutput(NOTHING_MORE)
        # Songs the command added to a playlist it made go with the playlist.
        deleted = {
            _id(e.change.after.get("playlist")) for e in pending if e.change.kind in ASKS_FIRST
        }
        said: list[str] = []
        left = list(pending)
        try:
            while left:
                change = left[-1].change
                if (
                    change.kind != "playlist_added"
                    or _id(change.after.get("playlist")) not in deleted
                ):
                    inverse = INVERSES.get(change.kind, Undo._unknown)
                    said.append(inverse(self, change))
                left.pop()
        except SegueError as err:
            self.journal.release(left)  # not put back: "undo" again tries them again
            if said:
                err.user_message = f"{' '.join(said)} Then: {err.user_message}"
                err.args = (err.user_message,)
            raise
        # A call of the command that changed nothing is not worth a sentence beside others.
        text = " ".join([t for t in said if t != UNCHANGED] or said)
        tools = ", ".join(dict.fromkeys(e.tool for e in pending))
        return ToolOutput(text, f"Undid the last command ({tools}): {text}")

    def _nothing(self) -> str:
        minutes = round(self.journal.window / 60)
        if minutes < 1:
            return NOTHING_TO_UNDO
        span = "minute" if minutes == 1 else f"{minutes} minutes"
        return f"{NOTHING_TO_UNDO[:-1]}: I haven't changed anything in the last {span}."

    # --- the inverses: each puts one kind of change back and says so -----------------------------

    def _volume(self, change: Change) -> str:
        level = int(change.before["volume"])
        self._player.run(lambda: self._ducker.set_person_volume(level))
        return f"Volume back to {level}%."

    def _shuffle(self, change: Change) -> str:
        on = bool(change.before["shuffle"])
        self._control.set_shuffle(on)
        return "Shuffle back on." if on else "Shuffle back off."

    def _repeat(self, change: Change) -> str:
        mode = change.before["repeat"]
        if mode not in REPEAT_MODES:
            return UNREAD
        self._control.set_repeat(mode)
        return _REPEAT_BACK[mode]

    def _position(self, change: Change) -> str:
        position = int(change.before["position_ms"])
        self._control.seek(position)
        seconds = position // 1000
        return f"Back to {seconds // 60}:{seconds % 60:02d}."

    def _paused(self, change: Change) -> str:
        self._control.resume()
        return "Playing again."

    def _resumed(self, change: Change) -> str:
        self._control.pause()
        return "Paused again."

    def _skipped(self, change: Change) -> str:
        # Spotify's "previous", like the app's button, may start the current song over once it
        # has played a few seconds; from its start, it goes back a song.
        self._control.seek(0)
        self._control.previous_track()
        return "Back to the song before."

    def _went_back(self, change: Change) -> str:
        self._control.next_track()
        return "Skipped forward again."

    def _playback(self, change: Change) -> str:
        before = change.before
        track = before.get("track")
        if not track:
            self._control.pause()
            return "Paused: nothing was playing before."
        context = before.get("context")
        position = int(before.get("position_ms") or 0)
        device = before.get("device")

        def start(target: str | None) -> None:
            if context and not str(context).startswith("spotify:artist:"):
                # Back into its album or playlist, so it continues as it did.
                self._client.play(
                    context_uri=context,
                    offset_uri=track,
                    position_ms=position,
                    device_id=device or target,
                )
            else:  # Spotify takes no starting track in an artist's context
                self._client.play(uris=[track], position_ms=position, device_id=device or target)

        self._control.play(start, str(track))
        by = f" by {before['by']}" if before.get("by") else ""
        named = _q(str(before.get("name", ""))) + by
        if before.get("playing", True):
            return f"Back to {named}."
        self._control.pause()
        return f"Back to {named}, paused."

    def _playlist_added(self, change: Change) -> str:
        after = change.after
        name = _q(str(after.get("name", "")))
        if not after.get("uris"):
            return UNCHANGED
        if not after.get("checked", True):
            # A very long playlist was not read before adding: some songs may have been there.
            return f"I can't tell which of those songs were in {name} before, so I left it."
        self._client.remove_from_playlist(str(after["playlist"]), list(after["uris"]))
        return f"Took {after.get('what', 'those songs')} out of {name} again."

    def _playlist_removed(self, change: Change) -> str:
        after = change.after
        if not after.get("uris"):
            return UNCHANGED
        self._client.add_to_playlist(str(after["playlist"]), list(after["uris"]))
        name = _q(str(after.get("name", "")))
        return f"Put {after.get('what', 'those songs')} back in {name}, at the end."

    def _playlist_created(self, change: Change) -> str:
        uri, name = str(change.after["playlist"]), str(change.after.get("name", ""))
        # Spotify deletes no playlist: its owner unfollows it. New apps do that with
        # DELETE /me/library (the followers endpoint is deprecated).
        self._client.remove_from_library([uri])
        self._forget_build(name)
        return f"Deleted the playlist {_q(name)}."

    def _saved(self, change: Change) -> str:
        uris = list(change.after.get("uris", []))
        if not uris:
            return "That was in your library already, so I left it there."
        self._client.remove_from_library(uris)
        return f"Removed {change.after.get('what', 'those songs')} from your library again."

    def _unsaved(self, change: Change) -> str:
        uris = list(change.after.get("uris", []))
        if not uris:
            return UNCHANGED
        self._client.save_to_library(uris)
        return f"Put {change.after.get('what', 'those songs')} back in your library."

    def _device(self, change: Change) -> str:
        device = change.before.get("device")
        if not device:
            return "No device was playing before that, so I left it where it plays."
        self._client.transfer(str(device), play=True)
        return f"Back on {change.before.get('name', 'the device before')}."

    def _queued(self, change: Change) -> str:
        return QUEUE_REFUSAL if int(change.after.get("count", 1)) == 1 else QUEUE_REFUSAL_MANY

    def _unchanged(self, change: Change) -> str:
        return UNCHANGED

    def _unread(self, change: Change) -> str:
        return UNREAD

    def _unknown(self, change: Change) -> str:
        logger.warning("No undo for a change of kind %r", change.kind)
        return "I don't know how to undo that."


INVERSES: Mapping[str, Callable[[Undo, Change], str]] = {
    "volume": Undo._volume,
    "shuffle": Undo._shuffle,
    "repeat": Undo._repeat,
    "position_ms": Undo._position,
    "paused": Undo._paused,
    "resumed": Undo._resumed,
    "next": Undo._skipped,
    "previous": Undo._went_back,
    "playback": Undo._playback,
    "playlist_added": Undo._playlist_added,
    "playlist_removed": Undo._playlist_removed,
    "playlist_created": Undo._playlist_created,
    "library_saved": Undo._saved,
    "library_removed": Undo._unsaved,
    "device": Undo._device,
    "queued": Undo._queued,
    "nothing": Undo._unchanged,
    "unread": Undo._unread,
}
"""What puts each kind of change back (from the record alone) and says what it did, or says
why it cannot be put back."""


def _id(playlist: object) -> str:
    """A playlist's ID from its ID or URI."""
    return str(playlist).rsplit(":", 1)[-1]

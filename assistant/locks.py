"""SharedLock: one lock for the threads of this process and every other Segue process.

Several Segue programs run at once for one person (the tray, `segue say` from a shell or a desktop
shortcut) and share the keyring and the data dir. Work that must not interleave (a token refresh,
a playlist build) holds a lock file there (``filelock``: ``flock`` on POSIX, ``LockFileEx`` on
Windows), which the system lets go when a process dies, so a killed process never leaves it held.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import filelock

from assistant.errors import SegueError

logger = logging.getLogger(__name__)


class SharedLock:
    """A lock across threads and processes, reentrant within a thread.

    Args:
        path: The lock file (its folder is made when missing); None locks within this process
            only. When no lock file can be made (a read-only data dir), the lock falls back to
            this process, with a warning.
        timeout: Seconds to wait for another process before giving up.
        busy: Makes the error raised when the wait runs out.
    """

    def __init__(
        self, path: Path | None, *, timeout: float, busy: Callable[[], SegueError]
    ) -> None:
        self._path = path
        self._busy = busy
        self._local = threading.RLock()
        self._file: filelock.BaseFileLock | None = (
            filelock.FileLock(path, timeout=timeout) if path is not None else None
        )

    @contextmanager
    def held(self) -> Iterator[None]:
        """Hold the lock for the ``with`` block.

        Raises:
            SegueError: Made by ``busy``: another process held the lock past the timeout.
        """
        with self._local:
            file_lock = self._acquire_file()
            try:
                yield
            finally:
                if file_lock is not None:
                    file_lock.release()

    def _acquire_file(self) -> filelock.BaseFileLock | None:
        file_lock = self._file
        if file_lock is None or self._path is None:
            return None
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            file_lock.acquire()
        except filelock.Timeout as err:
            raise self._busy() from err
        except OSError as err:
            logger.warning(
                "Lock file %s unavailable (%s); locking in this process only", self._path, err
            )
            self._file = None
            return None
        return file_lock

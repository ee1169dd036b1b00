"""Lookups started before the call that needs them: the songs of a list the model is still writing.

A streamed model answer names a playlist's songs one after another; each song's search can start
as soon as its name is complete (see ``agent/stream.py``), so when the answer ends only the last
searches remain. :class:`Lookups` runs them on a few worker threads, each name once, and hands
each result to the tool call that asks for it (the same threads run the lookups of a call that
was not streamed, all at once). Only lookups start early: what changes anything (a playlist
created, songs added) runs when the finished call has passed validation.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

logger = logging.getLogger(__name__)

V = TypeVar("V")


class Lookups(Generic[V]):
    """Lookups by key on a few threads: started early, each key once, taken by the caller.

    Args:
        lookup: Looks one key up (a song's name to its track, or None).
        workers: Lookups run at once.
        limit: Most lookups started early and not yet taken (one request's songs at most).
    """

    def __init__(self, lookup: Callable[[str], V], *, workers: int, limit: int) -> None:
        self._lookup = lookup
        self._workers = max(1, workers)
        self._limit = limit
        self._lock = threading.Lock()
        self._early: dict[str, Future[V]] = {}
        self._pool: ThreadPoolExecutor | None = None

    def start(self, key: str) -> None:
        """Start looking ``key`` up, unless it is started already or the limit is reached."""
        with self._lock:
            if key in self._early or len(self._early) >= self._limit:
                return
            self._early[key] = self._submit(key)

    def results(self, keys: Sequence[str]) -> list[V]:
        """The lookups of ``keys``, in order: those started early, the rest started now.

        Each key is looked up once, however often it is given; what was started early for it is
        taken (a later call looks it up again).

        Raises:
            Exception: What a lookup raised (the ones not yet running are cancelled first).
        """
        with self._lock:
            futures: dict[str, Future[V]] = {}
            for key in keys:
                if key not in futures:
                    early = self._early.pop(key, None)
                    futures[key] = early if early is not None else self._submit(key)
        try:
            done = {key: future.result() for key, future in futures.items()}
        except BaseException:
            for future in futures.values():
                future.cancel()
            raise
        return [done[key] for key in keys]

    def drop(self) -> None:
        """Forget what was started early and not taken (the call that named it did not run)."""
        with self._lock:
            early, self._early = self._early, {}
        cancelled = sum(future.cancel() for future in early.values())
        if early:
            logger.debug("Dropped %d early lookups (%d not started)", len(early), cancelled)

    @property
    def pending(self) -> int:
        """Lookups started early and not yet taken."""
        with self._lock:
            return len(self._early)

    def _submit(self, key: str) -> Future[V]:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(
                max_workers=self._workers, thread_name_prefix="segue-lookup"
            )
        return self._pool.submit(self._lookup, key)

"""One Segue per user: a second start hands its request ("popup") to the running one and exits.

The running instance holds an exclusive lock on ``<runtime_dir>/<name>.lock`` for as long as it
lives and listens on ``<runtime_dir>/<name>.sock`` (a named pipe on Windows) with
``multiprocessing.connection``. The lock decides who is first: the kernel drops it when a process
dies, however it dies, so a socket file left by a crashed instance is known to be stale and is
replaced. Clients prove themselves with an authkey kept (mode 0600) in ``<runtime_dir>/<name>.key``;
the runtime directory itself is made 0700. Messages are short UTF-8 strings, acknowledged with
``ok``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import sys
import threading
from collections.abc import Callable
from multiprocessing.connection import Client, Connection, Listener
from pathlib import Path
from typing import IO

logger = logging.getLogger(__name__)

_MAX_MESSAGE = 4096
_RECEIVE_TIMEOUT = 2.0
_ACK = b"ok"


class SingleInstance:
    """The per-user lock plus a tiny message channel to the instance that holds it.

    Args:
        runtime_dir: A per-user directory (platformdirs' user runtime dir); made 0700.
        name: The base name of the lock, socket and key files.
    """

    def __init__(self, runtime_dir: Path, name: str = "segue") -> None:
        self.runtime_dir = Path(runtime_dir)
        self.name = name
        self.lock_path = self.runtime_dir / f"{name}.lock"
        self.key_path = self.runtime_dir / f"{name}.key"
        if sys.platform == "win32":
            digest = hashlib.sha256(str(self.runtime_dir.resolve()).encode()).hexdigest()[:16]
            self.address = rf"\\.\pipe\{name}-{digest}"
            self.family = "AF_PIPE"
        else:
            self.address = str(self.runtime_dir / f"{name}.sock")
            self.family = "AF_UNIX"
        self._lock_file: IO[bytes] | None = None
        self._listener: Listener | None = None
        self._thread: threading.Thread | None = None
        self._on_message: Callable[[str], None] | None = None
        self._closing = threading.Event()

    @property
    def socket_path(self) -> Path | None:
        """The Unix socket's path (None on Windows, where it is a named pipe)."""
        return None if self.family == "AF_PIPE" else Path(self.address)

    def acquire(self, on_message: Callable[[str], None]) -> bool:
        """Become the running instance, if no other one is.

        Args:
            on_message: Called on a listener thread with each message another start sends
                ("popup"). It should only signal and return.

        Returns:
            True: this process is the instance and listens. False: another instance runs (use
            ``send``).
        """
        if self._listener is not None:
            return True
        self.runtime_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.runtime_dir, 0o700)
        lock_file = open(self.lock_path, "a+b")  # held for the instance's lifetime
        if not _try_lock(lock_file):
            lock_file.close()
            return False
        self._lock_file = lock_file
        try:
            socket_path = self.socket_path
            if socket_path is not None and (socket_path.exists() or socket_path.is_symlink()):
                # We hold the lock, so whoever made this socket is gone: it is stale.
                logger.info("Replacing a stale instance socket")
                socket_path.unlink()
            authkey = secrets.token_bytes(32)
            _write_private(self.key_path, authkey)
            self._listener = Listener(self.address, family=self.family, authkey=authkey)
            if socket_path is not None:
                os.chmod(socket_path, 0o600)
        except BaseException:
            self.release()
            raise
        self._on_message = on_message
        self._closing.clear()
        self._thread = threading.Thread(
            target=self._serve, args=(self._listener,), name="segue-instance", daemon=True
        )
        self._thread.start()
        return True

    def send(self, message: str, timeout: float = 2.0) -> bool:
        """Send ``message`` to the running instance.

        Returns:
            True once the running instance acknowledged it; False when none answers within
            ``timeout`` seconds (or none runs).
        """
        result: list[bool] = []

        def talk() -> None:
            try:
                authkey = self.key_path.read_bytes()
                with Client(self.address, family=self.family, authkey=authkey) as conn:
                    conn.send_bytes(message.encode("utf-8"))
                    if conn.poll(timeout):
                        result.append(conn.recv_bytes(_MAX_MESSAGE) == _ACK)
            except (OSError, EOFError, ValueError) as err:
                # AuthenticationError is a ProcessError, caught below with the rest.
                logger.info("No running instance answered: %s", type(err).__name__)
            except Exception as err:  # multiprocessing.AuthenticationError and friends
                logger.warning("The running instance refused the message: %s", type(err).__name__)

        # Client() has no timeout of its own: a hung instance would block its handshake forever.
        thread = threading.Thread(target=talk, name="segue-instance-send", daemon=True)
        thread.start()
        thread.join(timeout)
        return bool(result and result[0])

    def release(self) -> None:
        """Stop listening, remove the socket and key, and drop the lock (idempotent)."""
        listener, self._listener = self._listener, None
        if listener is not None:
            self._closing.set()
            # Closing a listener does not wake a thread blocked in accept() (Linux): connect
            # once so that accept() returns and the thread sees it is closing.
            self._wake()
            listener.close()  # removes the Unix socket file too
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(_RECEIVE_TIMEOUT)
        if self._lock_file is not None:
            socket_path = self.socket_path
            if socket_path is not None:
                socket_path.unlink(missing_ok=True)
            self.key_path.unlink(missing_ok=True)
            _unlock(self._lock_file)
            self._lock_file.close()
            self._lock_file = None

    def __enter__(self) -> SingleInstance:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def _wake(self) -> None:
        def connect() -> None:
            try:
                authkey = self.key_path.read_bytes()
                with Client(self.address, family=self.family, authkey=authkey):
                    pass
            except Exception:  # the listener may be gone already; nothing to wake then
                logger.debug("Waking the instance listener failed", exc_info=True)

        thread = threading.Thread(target=connect, name="segue-instance-wake", daemon=True)
        thread.start()
        thread.join(_RECEIVE_TIMEOUT)

    def _serve(self, listener: Listener) -> None:
        while True:
            try:
                conn = listener.accept()
            except OSError:
                return  # the listener was closed
            except Exception as err:  # a client failed the authkey challenge
                if self._closing.is_set():
                    return
                logger.warning("Rejected an instance connection: %s", type(err).__name__)
                continue
            if self._closing.is_set():
                conn.close()
                return
            try:
                self._handle(conn)
            except Exception:  # the top of the listener thread
                logger.exception("Handling an instance message failed")
            finally:
                conn.close()

    def _handle(self, conn: Connection) -> None:
        if not conn.poll(_RECEIVE_TIMEOUT):
            return
        message = conn.recv_bytes(_MAX_MESSAGE).decode("utf-8", errors="replace")
        logger.debug("Instance message: %s", message)
        conn.send_bytes(_ACK)
        if self._on_message is not None:
            self._on_message(message)


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` readable by its owner only (0600), replacing it atomically."""
    partial = path.with_name(path.name + ".part")
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(partial, path)


if sys.platform == "win32":
    import msvcrt

    def _try_lock(handle: IO[bytes]) -> bool:
        try:
            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(handle: IO[bytes]) -> None:
        try:
            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
        except OSError:
            pass

else:
    import fcntl

    def _try_lock(handle: IO[bytes]) -> bool:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        return True

    def _unlock(handle: IO[bytes]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

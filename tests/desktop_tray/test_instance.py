"""One Segue per user: the first start owns the socket, later ones hand it their request."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from multiprocessing.connection import Client
from pathlib import Path

import pytest

from assistant.desktop.instance import SingleInstance

REPO = Path(__file__).resolve().parents[2]

# A first instance in its own process: acquires, says so, echoes messages to stdout.
FIRST_INSTANCE = textwrap.dedent(
    """
    import sys, threading
    from pathlib import Path
    from assistant.desktop.instance import SingleInstance
    instance = SingleInstance(Path(sys.argv[1]))
    ok = instance.acquire(lambda message: print("got", message, flush=True))
    print("acquired" if ok else "refused", flush=True)
    threading.Event().wait()
    """
)

# A second start: if another instance runs, tell it to open the popup and exit 0.
SECOND_START = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from assistant.desktop.instance import SingleInstance
    instance = SingleInstance(Path(sys.argv[1]))
    if instance.acquire(lambda message: None):
        print("first", flush=True)
        sys.exit(1)
    sys.exit(0 if instance.send("popup") else 2)
    """
)


@pytest.fixture
def runtime_dir() -> Iterator[Path]:
    # A short path: Unix socket paths are limited to ~108 bytes.
    path = Path(tempfile.mkdtemp(prefix="seg-")) / "run"
    yield path
    shutil.rmtree(path.parent, ignore_errors=True)


@pytest.fixture
def first_process(runtime_dir: Path) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-c", FIRST_INSTANCE, str(runtime_dir)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "acquired"
    yield proc
    if proc.poll() is None:
        proc.kill()
        proc.wait(5)


def test_the_first_acquires_and_a_second_hands_over_its_message(runtime_dir: Path) -> None:
    received: queue.Queue[str] = queue.Queue()
    first = SingleInstance(runtime_dir)
    second = SingleInstance(runtime_dir)
    try:
        assert first.acquire(received.put) is True
        assert second.acquire(lambda message: pytest.fail("the second must not listen")) is False
        assert second.send("popup") is True
        assert received.get(timeout=2) == "popup"
        assert second.send("quit") is True
        assert received.get(timeout=2) == "quit"
    finally:
        second.release()
        first.release()


def test_a_second_process_exits_0_and_the_first_opens_its_popup(
    runtime_dir: Path, first_process: subprocess.Popen[str]
) -> None:
    started = time.monotonic()
    second = subprocess.run(
        [sys.executable, "-c", SECOND_START, str(runtime_dir)], cwd=REPO, timeout=20
    )
    assert second.returncode == 0
    assert first_process.stdout is not None
    assert first_process.stdout.readline().strip() == "got popup"
    assert time.monotonic() - started < 10


def test_files_are_private_to_the_user(runtime_dir: Path) -> None:
    instance = SingleInstance(runtime_dir)
    try:
        assert instance.acquire(lambda message: None)
        assert instance.socket_path is not None
        assert stat.S_IMODE(runtime_dir.stat().st_mode) == 0o700
        assert stat.S_IMODE(instance.key_path.stat().st_mode) == 0o600
        assert stat.S_IMODE(instance.socket_path.stat().st_mode) == 0o600
        assert stat.S_ISSOCK(instance.socket_path.stat().st_mode)
    finally:
        instance.release()


def test_release_removes_the_socket_and_frees_the_name(runtime_dir: Path) -> None:
    first = SingleInstance(runtime_dir)
    assert first.acquire(lambda message: None)
    socket_path = first.socket_path
    assert socket_path is not None and socket_path.exists()
    first.release()
    first.release()  # twice is fine
    assert not socket_path.exists()
    assert not first.key_path.exists()

    nobody = SingleInstance(runtime_dir)
    started = time.monotonic()
    assert nobody.send("popup") is False  # nothing listens: answered at once, not after a hang
    assert time.monotonic() - started < 1.5

    received: queue.Queue[str] = queue.Queue()
    again = SingleInstance(runtime_dir)
    try:
        assert again.acquire(received.put) is True
        assert nobody.send("popup") is True
        assert received.get(timeout=2) == "popup"
    finally:
        again.release()


def test_a_socket_left_by_a_killed_instance_is_replaced(
    runtime_dir: Path, first_process: subprocess.Popen[str]
) -> None:
    first_process.send_signal(signal.SIGKILL)
    first_process.wait(5)
    socket_path = runtime_dir / "segue.sock"
    assert socket_path.exists()  # a crash leaves the socket file behind

    received: queue.Queue[str] = queue.Queue()
    successor = SingleInstance(runtime_dir)
    try:
        assert successor.acquire(received.put) is True
        assert SingleInstance(runtime_dir).send("popup") is True
        assert received.get(timeout=2) == "popup"
    finally:
        successor.release()


def test_a_hung_instance_does_not_hang_the_second_start(
    runtime_dir: Path, first_process: subprocess.Popen[str]
) -> None:
    os.kill(first_process.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        assert SingleInstance(runtime_dir).send("popup", timeout=0.5) is False
        assert time.monotonic() - started < 1.5
    finally:
        os.kill(first_process.pid, signal.SIGCONT)


def test_a_client_without_the_key_is_refused(runtime_dir: Path) -> None:
    received: queue.Queue[str] = queue.Queue()
    instance = SingleInstance(runtime_dir)
    try:
        assert instance.acquire(received.put)
        assert instance.socket_path is not None
        with pytest.raises(Exception, match="digest"):
            with Client(str(instance.socket_path), family="AF_UNIX", authkey=b"wrong key"):
                pass
        # The listener keeps serving the real key holders.
        assert SingleInstance(runtime_dir).send("popup") is True
        assert received.get(timeout=2) == "popup"
        assert received.empty()
    finally:
        instance.release()

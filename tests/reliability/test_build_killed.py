"""A playlist build whose process is killed part-way is finished by the next one, never doubled.

`segue say` runs as a subprocess against the simulator (real HTTP); the simulator carries out a
request and holds its answer, and the test kills the process while it waits.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable

import pytest

from assistant.sim import Fault, SimulatedSpotify
from tests.reliability.conftest import Home

COMMAND = ("make", "a", "playlist", "of", "songs", "by", "Nina", "Simone")
NAME = "Songs by Nina Simone"
SONGS = 11  # Nina Simone's songs in the simulator's catalog (one version of each)


def answer_held(path: str) -> Fault:
    """Spotify carries out a POST to ``path``, then holds its answer for a minute."""
    return Fault(path=path, method="POST", status=None, apply=True, hang_seconds=60)


def playlists_named(sim: SimulatedSpotify, name: str) -> list[list[str]]:
    return [p["track_uris"] for p in sim.snapshot()["playlists"].values() if p["name"] == name]


def wait_for(condition: Callable[[], bool], process: subprocess.Popen[str]) -> None:
    """Wait until the simulator's state meets ``condition`` (while the process still runs)."""
    deadline = time.monotonic() + 60
    while not condition():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the simulator never reached the awaited state"
        time.sleep(0.02)


def killed_while_waiting(home: Home, condition: Callable[[], bool]) -> None:
    """Run the command until the simulator reaches ``condition``, then kill it.

    The simulator holds the answer for a minute; the process would give up after its 20 s
    timeout, so the kill comes while it still waits.
    """
    process = home.start(*COMMAND)
    try:
        wait_for(condition, process)
    finally:
        process.kill()
        process.communicate()


def test_a_build_killed_twice_is_finished_by_try_again_in_a_new_process(
    home: Home, sim: SimulatedSpotify, monkeypatch: pytest.MonkeyPatch
) -> None:
    home.sign_in(monkeypatch)
    # Spotify makes the playlist, but its answer never comes: the process is killed waiting.
    sim.add_fault(answer_held(r"/v1/me/playlists"))
    killed_while_waiting(home, lambda: len(playlists_named(sim, NAME)) == 1)
    sim.clear_faults()
    assert playlists_named(sim, NAME) == [[]]

    # The same command: the playlist made is found, not made again. Spotify adds the songs, but
    # that answer never comes either.
    sim.add_fault(answer_held(r"/v1/playlists/[^/]+/items"))
    killed_while_waiting(home, lambda: [len(p) for p in playlists_named(sim, NAME)] == [SONGS])
    sim.clear_faults()

    # "try again" in a new process finishes the build: nothing is made or added twice.
    done = home.say("try again")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"Finished “{NAME}”: it has all {SONGS} songs."
    (songs,) = playlists_named(sim, NAME)
    assert len(songs) == len(set(songs)) == SONGS

    # The build is done: the same command now meets the finished playlist.
    again = home.say(*COMMAND)
    assert "already have a playlist called “Songs by Nina Simone”" in again.stderr
    assert len(playlists_named(sim, NAME)) == 1

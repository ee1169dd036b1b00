"""The demo world's file, from inside: simulators sharing it, and demo assistants with and without.

The other file runs the CLI; these run simulators and assistants in this process (each one as a
separate Segue process would), over real HTTP.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest
import requests

from assistant.app import build_assistant
from assistant.config import Settings
from assistant.pipeline import Utterance
from assistant.sim import SimulatedSpotify
from assistant.sim.world_file import WorldFile

CREEP = "Playing “Creep” by Radiohead."


def ask(data_dir: Path | None, text: str) -> str:
    """One command to a demo Segue built afresh (as a new `segue say` would build it)."""
    with build_assistant(Settings(), data_dir=data_dir, demo=True, environ={}) as assistant:
        return assistant.pipeline.handle(Utterance(text)).text


def test_a_data_dir_shares_the_demo_world_and_none_keeps_one_of_its_own(tmp_path: Path) -> None:
    assert ask(tmp_path, "play creep by radiohead") == CREEP
    assert ask(tmp_path, "what's playing").startswith("Playing “Creep” by Radiohead")
    # No data dir (the tests' in-process demos): each has a world of its own.
    assert ask(None, "play creep by radiohead") == CREEP
    assert ask(None, "what's playing") == "Nothing is playing right now."


def test_changes_made_at_once_through_two_simulators_are_all_kept(tmp_path: Path) -> None:
    sims = [SimulatedSpotify(world_file=tmp_path / "world.sqlite3").start() for _ in range(2)]
    try:
        start = len(sims[0].snapshot()["playlists"])
        failures: list[str] = []

        def make(sim: SimulatedSpotify, prefix: str) -> None:
            headers = {"Authorization": f"Bearer {sim.sign_in()['access_token']}"}
            with requests.Session() as session:
                for n in range(5):
                    answer = session.post(
                        f"{sim.api_url}/me/playlists",
                        json={"name": f"{prefix} {n}"},
                        headers=headers,
                        timeout=10,
                    )
                    if answer.status_code != 201:
                        failures.append(answer.text)

        threads = [
            threading.Thread(target=make, args=(sim, f"{i}-{t}"))
            for i, sim in enumerate(sims)
            for t in range(3)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failures == []
        for sim in sims:
            names = {p["name"] for p in sim.snapshot()["playlists"].values()}
            assert len(names) == start + 30
            assert {f"{i}-{t} {n}" for i in range(2) for t in range(3) for n in range(5)} <= names
    finally:
        for sim in sims:
            sim.stop()


def test_a_state_this_version_cannot_read_starts_the_world_afresh(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "world.sqlite3"
    unreadable = WorldFile(path)
    turn = unreadable.begin()
    turn.write('["not", "a", "world"]')
    turn.commit()
    unreadable.close()

    with caplog.at_level(logging.WARNING, logger="assistant.sim"):
        with SimulatedSpotify(world_file=path) as second:
            assert second.snapshot()["track_uri"] is None
        with SimulatedSpotify(world_file=path) as third:  # the fresh world was written back
            third.snapshot()
    assert [r.getMessage().split(" (")[0] for r in caplog.records] == [
        f"The demo world in {path} could not be read"
    ]
    assert second.world_file == path

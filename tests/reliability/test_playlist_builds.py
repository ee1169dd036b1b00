"""Playlist builds: no work lost or done twice when Spotify fails part-way.

Real spotipy over real HTTP against the simulator, which injects the faults: 503s on some adds,
answers lost after Spotify acted (the connection dropped, or held past the client's timeout). The
agent is the one the composition root builds, its builds kept in a SQLite file as in the data dir.
Each test checks what the person notices: one playlist by that name, each song once, and a reply
that says exactly what exists.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant import app
from assistant.agent.agent import Agent
from assistant.agent.tools import ToolCall
from assistant.config import Settings
from assistant.sim import Fault, SimulatedSpotify
from assistant.spotify.auth import SpotifyAuth
from assistant.spotify.client import SpotifyClient
from assistant.spotify.devices import LocalPlayer

ADD_ITEMS = r"/v1/playlists/[^/]+/items"
SONGS = 150  # two batches: Spotify takes at most 100 songs per add


def songs(sim: SimulatedSpotify, count: int) -> list[str]:
    """``count`` different track URIs from the catalog, in a fixed order."""
    return sorted(t.uri for t in sim.catalog.tracks.values())[:count]


def playlists_named(sim: SimulatedSpotify, name: str) -> list[list[str]]:
    """The songs of each of the person's playlists called ``name``."""
    return [p["track_uris"] for p in sim.snapshot()["playlists"].values() if p["name"] == name]


class Segue:
    """One Segue process: the agent over its own client, its builds in ``data_dir``."""

    def __init__(self, sim: SimulatedSpotify, auth: SpotifyAuth, data_dir: Path, **client: Any):
        self.client = SpotifyClient(auth, api_url=sim.api_url, sleep=lambda _: None, **client)
        player = LocalPlayer(self.client, device_name=None, wait_seconds=1, launch=lambda _: None)
        self.agent: Agent = app.build_agent(
            Settings(), self.client, player, model=None, data_dir=data_dir
        )

    def say(self, text: str) -> str:
        return self.agent.respond(text).text

    def create(self, name: str, tracks: list[str]) -> str:
        """The model's create_playlist call, run as the agent runs the model's calls."""
        call = ToolCall("create_playlist", {"name": name, "tracks": tracks, "description": None})
        result = self.agent.registry.invoke(call)
        return result.output.summary


@pytest.fixture
def segue(
    sim: SimulatedSpotify, auth: SpotifyAuth, tmp_path: Path
) -> Iterator[Callable[..., Segue]]:
    made: list[Segue] = []

    def make(timeout: float = 5.0) -> Segue:
        made.append(Segue(sim, auth, tmp_path / "data", timeout=timeout))
        return made[-1]

    yield make
    for one in made:
        one.client.close()


def test_adds_failing_with_503_are_finished_by_try_again_without_doubles(
    segue: Callable[..., Segue], sim: SimulatedSpotify
) -> None:
    wanted = songs(sim, SONGS)
    sim.add_fault(Fault(path=ADD_ITEMS, method="POST", status=503, skip=1, times=1))
    one = segue()

    reply = one.create("Late Shift", wanted)

    assert reply == (
        "“Late Shift” has 100 of the 150 songs; 50 could not be added: Spotify is not answering "
        "right now. Say “try again” to finish."
    )
    assert playlists_named(sim, "Late Shift") == [wanted[:100]]

    assert one.say("try again") == "Finished “Late Shift”: it has all 150 songs."
    assert playlists_named(sim, "Late Shift") == [wanted]


def test_the_same_command_again_finishes_the_build_in_another_process(
    segue: Callable[..., Segue], sim: SimulatedSpotify
) -> None:
    wanted = songs(sim, 12)
    sim.add_fault(Fault(path=ADD_ITEMS, method="POST", status=503))
    assert segue().create("Focus", wanted).startswith("Made “Focus”, but its 12 songs could not")

    # A new process (nothing in memory), the same command: finished, not made again.
    assert segue().create("Focus", wanted) == "Finished “Focus”: it has all 12 songs."
    assert playlists_named(sim, "Focus") == [wanted]


def test_an_add_spotify_carried_out_but_never_answered_is_not_doubled(
    segue: Callable[..., Segue], sim: SimulatedSpotify
) -> None:
    wanted = songs(sim, 10)
    # The add goes through, then the connection drops; reading the playlist back fails too.
    sim.add_fault(Fault(path=ADD_ITEMS, method="POST", status=None, apply=True, drop=True))
    sim.add_fault(Fault(path=ADD_ITEMS, method="GET", status=503, times=3))
    one = segue()

    reply = one.create("Lost Answer", wanted)

    assert reply == (
        "Made “Lost Answer”, but whether its 10 songs went in could not be checked: Spotify is "
        "not answering right now. Say “try again” to finish."
    )
    assert one.say("try again") == "Finished “Lost Answer”: it has all 10 songs."
    assert playlists_named(sim, "Lost Answer") == [wanted]


def test_a_lost_add_that_went_through_is_reported_as_done(
    segue: Callable[..., Segue], sim: SimulatedSpotify
) -> None:
    wanted = songs(sim, 10)
    sim.add_fault(Fault(path=ADD_ITEMS, method="POST", status=None, apply=True, drop=True))

    # The playlist is read back after the lost answer: every song is there, so it is done.
    assert segue().create("Read Back", wanted) == "Created “Read Back” with 10 songs."
    assert playlists_named(sim, "Read Back") == [wanted]


def test_a_create_whose_answer_was_lost_is_found_not_made_again(
    segue: Callable[..., Segue], sim: SimulatedSpotify, client: SpotifyClient
) -> None:
    wanted = songs(sim, 5)
    client.create_playlist("Night Drive")  # the person's own, older playlist by that name
    # Spotify makes the playlist, then the answer is held past the client's timeout.
    sim.add_fault(
        Fault(path=r"/v1/me/playlists", method="POST", status=None, apply=True, hang_seconds=30)
    )

    reply = segue(timeout=0.5).create("Night Drive", wanted)

    assert reply == "Created “Night Drive” with 5 songs."
    # The older one is untouched; the one the lost create made holds the songs; no third.
    assert sorted(playlists_named(sim, "Night Drive"), key=len) == [[], wanted]


def test_two_processes_making_the_same_playlist_at_once_make_one(
    segue: Callable[..., Segue], sim: SimulatedSpotify
) -> None:
    wanted = songs(sim, 30)
    sim.latency_ms = 30  # so the two builds overlap
    first, second = segue(), segue()
    replies: list[str] = []
    go = threading.Barrier(2)

    def run(one: Segue) -> None:
        go.wait()
        replies.append(one.create("Together", wanted))

    threads = [threading.Thread(target=run, args=(one,)) for one in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(replies) == [
        "Created “Together” with 30 songs.",
        "“Together” is already made, with all 30 songs.",
    ]
    assert playlists_named(sim, "Together") == [wanted]

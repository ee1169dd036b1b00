"""The first play from idle: two requests (search, play) once this computer's player is known.

From idle, a play without a device fails ("no active device") and the recovery costs three more
requests (devices, transfer, play again). Once the warm-up (the device list read while the person
speaks) or the last command has shown this computer's player with nothing else active, the first
play names it. The simulator's requests are counted; a phone that plays is never taken over.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from assistant.agent import intents
from assistant.agent.agent import Agent
from assistant.agent.spotify_tools import SpotifyTools
from assistant.agent.tools import ToolRegistry
from assistant.pipeline import Pipeline, Reply, Utterance
from assistant.sim import Exchange, SimulatedSpotify
from assistant.spotify.client import SpotifyClient
from assistant.spotify.devices import DeviceMemory, LocalPlayer
from tests.agent.conftest import Segue

SONG = "play Bohemian Rhapsody by Queen"


@pytest.fixture
def memory_file(tmp_path: Path) -> Path:
    """Where this computer's player is remembered (the data dir's this-computer.sqlite3)."""
    return tmp_path / "data" / "this-computer.sqlite3"


@pytest.fixture
def player(
    client: SpotifyClient, sim: SimulatedSpotify, launched: list[list[str]], memory_file: Path
) -> LocalPlayer:
    """This computer's player; "starting the app" brings the simulator's Computer online."""
    return player_of(client, sim, launched, memory_file)


def player_of(
    client: SpotifyClient, sim: SimulatedSpotify, launched: list[list[str]], memory_file: Path
) -> LocalPlayer:
    name = computer_of(sim)["name"]  # sim.devices lists online devices only

    def launch(command: Sequence[str]) -> None:
        launched.append(list(command))
        sim.set_device_online(name, True)

    return LocalPlayer(
        client,
        device_name=None,
        poll_interval=0.01,
        launch=launch,
        memory=DeviceMemory(memory_file),
    )


def requests_since(sim: SimulatedSpotify, before: int) -> list[tuple[str, str, int]]:
    return [
        (e.method, e.path, e.status) for e in sim.exchanges[before:] if e.path.startswith("/v1")
    ]


def in_turn(requests: list[tuple[str, str, int]]) -> list[tuple[str, str, int]]:
    """The requests a play waits for, one after another.

    Left out: the one read of what played before (for "undo", see agent/undo.py), which runs
    beside the search and adds no wait.
    """
    reads = [r for r in requests if r[:2] == ("GET", "/v1/me/player")]
    assert len(reads) == 1, requests
    return [r for r in requests if r[:2] != ("GET", "/v1/me/player")]


def device_named(exchange: Exchange) -> str | None:
    found = exchange.query.get("device_id")
    return found[0] if found else None


def go_idle(sim: SimulatedSpotify, name: str) -> None:
    """Spotify forgets the active device (the app idled): nothing is active, the app is listed."""
    sim.set_device_online(name, False)
    sim.set_device_online(name, True)


def computer_of(sim: SimulatedSpotify) -> dict[str, Any]:
    return next(d for d in sim.devices if d["type"] == "Computer")


def played_here_in_two_requests(
    sim: SimulatedSpotify, before: int, computer: dict[str, Any], reply: Reply
) -> None:
    """The play went to this computer's player with the search and the play, in turn."""
    assert reply.ok, reply.text
    assert [path for _, path, _ in in_turn(requests_since(sim, before))] == [
        "/v1/search",
        "/v1/me/player/play",
    ]
    snapshot = sim.snapshot()
    assert snapshot["active_device_id"] == computer["id"] and snapshot["is_playing"]


def test_from_idle_a_play_after_the_warm_up_takes_two_requests(
    segue: Callable[..., Segue], sim: SimulatedSpotify
) -> None:
    computer = computer_of(sim)
    assert sim.snapshot()["active_device_id"] is None
    assistant = segue(llm=False)
    assistant.pipeline.warm_up()  # when recording starts: the device list, off the clock
    before = len(sim.exchanges)

    reply = assistant.say(SONG)

    assert reply.ok, reply.text
    assert in_turn(requests_since(sim, before)) == [
        ("GET", "/v1/search", 200),
        ("PUT", "/v1/me/player/play", 204),
    ]
    assert device_named(sim.exchanges[-1]) == computer["id"]
    snapshot = sim.snapshot()
    assert snapshot["active_device_id"] == computer["id"] and snapshot["is_playing"]
    assert "Bohemian Rhapsody" in reply.text


def test_after_a_play_here_the_next_play_from_idle_takes_two_requests(
    segue: Callable[..., Segue], sim: SimulatedSpotify
) -> None:
    # No warm-up (a typed command): the first play finds out the slow way, the next one knows.
    computer = computer_of(sim)
    assistant = segue(llm=False)
    before = len(sim.exchanges)
    assert assistant.say(SONG).ok
    assert len(in_turn(requests_since(sim, before))) == 5  # search, 404, devices, transfer, play

    go_idle(sim, computer["name"])
    before = len(sim.exchanges)
    reply = assistant.say("play Creep by Radiohead")

    played_here_in_two_requests(sim, before, computer, reply)


def test_a_new_process_after_a_play_here_plays_from_idle_in_two_requests(
    segue: Callable[..., Segue],
    sim: SimulatedSpotify,
    client: SpotifyClient,
    launched: list[list[str]],
    memory_file: Path,
) -> None:
    # `segue say "play ..."`, then minutes later another `segue say "play ..."`: a new process
    # with no warm-up reads the last sighting from the data dir, beside the remembered id.
    computer = computer_of(sim)
    assert segue(llm=False).say(SONG).ok
    go_idle(sim, computer["name"])
    player = player_of(client, sim, launched, memory_file)
    tools = SpotifyTools(client, player)
    fresh = Pipeline(Agent(ToolRegistry(tools), fast_path=intents.parse, llm=None))
    before = len(sim.exchanges)

    reply = fresh.handle(Utterance(text="play Creep by Radiohead", source="test"))

    played_here_in_two_requests(sim, before, computer, reply)
    assert "Creep" in reply.text


def test_a_phone_that_plays_keeps_playing(
    segue: Callable[..., Segue], sim: SimulatedSpotify, client: SpotifyClient
) -> None:
    phone = next(d for d in sim.devices if d["type"] == "Smartphone")
    first = client.search("queen", limit=1).tracks[0].uri
    assistant = segue(llm=False)
    assistant.pipeline.warm_up()  # this computer is known, and idle...
    client.play(uris=[first], device_id=phone["id"])  # ...until the phone plays
    assistant.pipeline.warm_up()  # the next command's warm-up sees it
    before = len(sim.exchanges)

    assert assistant.say(SONG).ok

    plays = [e for e in sim.exchanges[before:] if e.path == "/v1/me/player/play"]
    assert [device_named(e) for e in plays] == [None]
    assert sim.snapshot()["active_device_id"] == phone["id"]
    assert not [
        e for e in sim.exchanges[before:] if e.path == "/v1/me/player" and e.method == "PUT"
    ]


def test_a_player_gone_since_the_warm_up_falls_back_to_the_recovery(
    segue: Callable[..., Segue], sim: SimulatedSpotify, launched: list[list[str]]
) -> None:
    # The app here was closed after the warm-up saw it; the recovery starts it again.
    computer = computer_of(sim)
    assistant = segue(llm=False)
    assistant.pipeline.warm_up()
    sim.set_device_online(computer["name"], False)
    before = len(sim.exchanges)

    reply = assistant.say(SONG)

    assert reply.ok, reply.text
    assert len(launched) == 1
    steps = [(m, p, s) for m, p, s in in_turn(requests_since(sim, before)) if p != "/v1/search"]
    assert steps[:3] == [
        ("PUT", "/v1/me/player/play", 404),  # this computer's player, by its id: not listed
        ("PUT", "/v1/me/player/play", 404),  # the active device: none
        ("GET", "/v1/me/player/devices", 200),
    ]
    transfers = [
        json.loads(e.request_body)
        for e in sim.exchanges[before:]
        if e.path == "/v1/me/player" and e.method == "PUT"
    ]
    assert transfers == [{"device_ids": [computer["id"]], "play": False}]
    snapshot = sim.snapshot()
    assert snapshot["active_device_id"] == computer["id"] and snapshot["is_playing"]

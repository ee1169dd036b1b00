"""The local desktop player: recovering from "no active device" without hijacking a phone."""

from __future__ import annotations

import json
import os
import socket
import stat
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from assistant.errors import NoDevice
from assistant.sim import Exchange, SimulatedSpotify
from assistant.spotify.client import SpotifyClient
from assistant.spotify.devices import WHAT_TO_DO, DeviceMemory, LocalPlayer
from assistant.spotify.models import Device

Calls = Callable[..., list[Exchange]]


def device(
    name: str, type_: str = "Computer", *, id_: str | None = None, active: bool = False
) -> Device:
    return Device(
        id=id_ if id_ is not None else f"id-{name}",
        name=name,
        type=type_,
        is_active=active,
        is_restricted=False,
        volume_percent=50,
        supports_volume=True,
    )


def executable(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def fake_spotify_app(sim: SimulatedSpotify, folder: Path) -> Path:
    """A `spotify` command that does what the desktop app does for us: come online as a device."""
    return executable(
        folder / "spotify",
        "#!/usr/bin/env python3\n"
        "import urllib.request\n"
        f"url = {sim.base_url + '/_sim/devices/computer/online'!r}\n"
        "urllib.request.urlopen(urllib.request.Request(url, method='POST'), timeout=5).close()\n",
    )


@pytest.fixture
def launched() -> list[list[str]]:
    return []


@pytest.fixture
def player(client: SpotifyClient, launched: list[list[str]]) -> LocalPlayer:
    """A player whose launcher only records: these tests must not start anything."""
    return LocalPlayer(
        client, device_name=None, launch=lambda command: launched.append(list(command))
    )


def a_track(client: SpotifyClient) -> str:
    return client.search("bohemian rhapsody").tracks[0].uri


# --- find ------------------------------------------------------------------------------------


def test_find_by_host_name(player: LocalPlayer) -> None:
    here = device(socket.gethostname().upper())
    assert player.find([device("office-pc"), here, device("Pixel 8", "Smartphone")]) == here


def test_find_by_configured_name(client: SpotifyClient) -> None:
    player = LocalPlayer(client, device_name="Studio Mac")
    studio = device("studio mac")
    assert player.find([device("office-pc"), studio]) == studio


def test_find_host_name_without_domain(client: SpotifyClient) -> None:
    player = LocalPlayer(client, device_name="studio.local")
    studio = device("Studio")
    assert player.find([device("office-pc"), studio]) == studio


def test_a_lone_unknown_computer_is_not_taken_for_this_one(player: LocalPlayer) -> None:
    # It may be the desktop at home: only a name or a remembered id says a computer is this one.
    lone = device("Spotify on the desk")
    assert player.find([device("Pixel 8", "Smartphone"), lone]) is None


def test_find_by_remembered_id_only_when_listed(client: SpotifyClient, tmp_path: Path) -> None:
    memory = DeviceMemory(tmp_path / "data" / "this-computer.sqlite3")
    memory.remember("id-Kim's MacBook", "Kim's MacBook")
    player = LocalPlayer(client, device_name=None, memory=memory)
    laptop, home = device("Kim's MacBook"), device("Home desktop")
    assert player.find([home, laptop]) == laptop
    assert player.find([home]) is None
    # Another process (a later run) reads the same file.
    assert DeviceMemory(tmp_path / "data" / "this-computer.sqlite3").get() == laptop.id


def test_a_memory_that_cannot_be_written_is_kept_in_memory(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder", encoding="utf-8")
    memory = DeviceMemory(blocked / "this-computer.sqlite3")
    memory.remember("id-laptop", "laptop")
    assert memory.get() == "id-laptop"


def test_find_nothing(player: LocalPlayer) -> None:
    assert player.find([device("office-pc"), device("laptop")]) is None
    assert player.find([device("Pixel 8", "Smartphone"), device("Kitchen", "Speaker")]) is None
    assert player.find([device(socket.gethostname(), id_="")]) is None
    assert player.find([]) is None


# --- run ---------------------------------------------------------------------------------------


def test_no_active_device_plays_on_this_computer(
    player: LocalPlayer,
    client: SpotifyClient,
    sim: SimulatedSpotify,
    computer: dict[str, Any],
    api_calls: Calls,
    launched: list[list[str]],
) -> None:
    uri = a_track(client)
    player.run(lambda: client.play(uris=[uri]))

    snapshot = sim.snapshot()
    assert snapshot["active_device_id"] == computer["id"]
    assert snapshot["is_playing"] and snapshot["track_uri"] == uri
    assert launched == []
    steps = [(e.method, e.path, e.status) for e in api_calls() if e.path != "/v1/search"]
    assert steps == [
        ("PUT", "/v1/me/player/play", 404),
        ("GET", "/v1/me/player/devices", 200),
        ("PUT", "/v1/me/player", 204),
        ("PUT", "/v1/me/player/play", 204),
    ]
    transfer = api_calls("PUT", "/v1/me/player")[0]
    assert json.loads(transfer.request_body) == {"device_ids": [computer["id"]], "play": False}


def test_desktop_app_is_started_when_not_listed(
    client: SpotifyClient,
    sim: SimulatedSpotify,
    computer: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sim.set_device_online("Computer", False)
    fake_spotify_app(sim, tmp_path / "bin")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    # The platform's default command (`spotify` on Linux), found on PATH and run detached; the
    # poll loop is what waits for it.
    player = LocalPlayer(client, device_name=None, poll_interval=0.05, wait_seconds=20)
    uri = a_track(client)

    player.run(lambda: client.play(uris=[uri]))

    snapshot = sim.snapshot()
    assert snapshot["active_device_id"] == computer["id"]
    assert snapshot["is_playing"] and snapshot["track_uri"] == uri


def test_desktop_app_not_installed(
    client: SpotifyClient,
    sim: SimulatedSpotify,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    api_calls: Calls,
) -> None:
    sim.set_device_online("Computer", False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no `spotify` anywhere
    player = LocalPlayer(client, device_name=None, poll_interval=0.05)
    uri = a_track(client)

    with pytest.raises(NoDevice) as caught:
        player.run(lambda: client.play(uris=[uri]))

    assert "not seem to be installed" in caught.value.user_message
    assert "`spotify`" in caught.value.user_message
    assert caught.value.user_message.endswith(WHAT_TO_DO)
    assert api_calls("PUT", "/v1/me/player") == []
    assert sim.snapshot()["active_device_id"] is None


def test_desktop_app_never_appears(
    client: SpotifyClient, sim: SimulatedSpotify, tmp_path: Path, clock: Any, api_calls: Calls
) -> None:
    sim.set_device_online("Computer", False)
    idle = executable(tmp_path / "idle-spotify", "#!/bin/sh\nexit 0\n")
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock.advance(seconds)

    player = LocalPlayer(
        client,
        device_name=None,
        launch_command=[str(idle)],
        wait_seconds=15,
        poll_interval=0.5,
        sleep=sleep,
        clock=clock,
    )
    uri = a_track(client)

    with pytest.raises(NoDevice, match="did not appear as a player within 15 seconds"):
        player.run(lambda: client.play(uris=[uri]))

    assert sum(waits) == 15
    assert len(api_calls("GET", "/v1/me/player/devices")) == 1 + 31
    assert api_calls("PUT", "/v1/me/player") == []


def test_launch_command_fails(client: SpotifyClient, sim: SimulatedSpotify, tmp_path: Path) -> None:
    # What `open -a Spotify` does on a Mac without the app: exit 1 at once.
    sim.set_device_online("Computer", False)
    failing = executable(tmp_path / "open-spotify", "#!/bin/sh\nexit 1\n")
    player = LocalPlayer(
        client, device_name=None, launch_command=[str(failing)], poll_interval=0.02, wait_seconds=20
    )
    uri = a_track(client)
    with pytest.raises(NoDevice, match="exited with status 1"):
        player.run(lambda: client.play(uris=[uri]))


def test_an_active_phone_keeps_playing(
    player: LocalPlayer,
    client: SpotifyClient,
    sim: SimulatedSpotify,
    phone: dict[str, Any],
    api_calls: Calls,
    launched: list[list[str]],
) -> None:
    first, second = [t.uri for t in client.search("queen", limit=2).tracks]
    client.play(uris=[first], device_id=phone["id"])
    transfers_before = len(api_calls("PUT", "/v1/me/player"))

    player.run(lambda: client.play(uris=[second]))

    snapshot = sim.snapshot()
    assert snapshot["active_device_id"] == phone["id"] and snapshot["track_uri"] == second
    assert len(api_calls("PUT", "/v1/me/player")) == transfers_before
    assert launched == []


def test_a_vanished_device_is_not_replaced(
    player: LocalPlayer, client: SpotifyClient, api_calls: Calls, launched: list[list[str]]
) -> None:
    with pytest.raises(NoDevice) as caught:
        player.run(lambda: client.pause(device_id="0123456789abcdef0123456789abcdef01234567"))
    assert not caught.value.retryable
    assert api_calls("GET", "/v1/me/player/devices") == []
    assert launched == []


# --- which computer is this one (an idle desktop elsewhere is never played on) -------------------


HOME = "Home desktop"
LAPTOP = "Kim's MacBook"  # Spotify's name for this computer; the host name says nothing


def player_here(
    client: SpotifyClient,
    sim: SimulatedSpotify,
    name: str,
    launched: list[list[str]],
    memory: DeviceMemory | None = None,
) -> LocalPlayer:
    """A player whose launcher stands in for the desktop app: once started, ``name`` is online."""

    def launch(command: Sequence[str]) -> None:
        launched.append(list(command))
        sim.set_device_online(name, True)

    return LocalPlayer(client, device_name=None, poll_interval=0.01, launch=launch, memory=memory)


def test_an_idle_computer_at_home_is_not_played_on(
    client: SpotifyClient, sim: SimulatedSpotify, computer: dict[str, Any], api_calls: Calls
) -> None:
    # The laptop's app is closed; the desktop at home is online and idle.
    sim.set_device_online("Computer", False)
    home = sim.add_device(HOME)
    launched: list[list[str]] = []
    player = player_here(client, sim, computer["name"], launched)
    uri = a_track(client)

    player.run(lambda: client.play(uris=[uri]))

    assert launched, "the app here was not started"
    snapshot = sim.snapshot()
    assert snapshot["active_device_id"] == computer["id"] and snapshot["track_uri"] == uri
    transfers = [json.loads(e.request_body) for e in api_calls("PUT", "/v1/me/player")]
    assert all(home not in t["device_ids"] for t in transfers)


def test_the_player_that_appears_when_the_app_starts_is_this_one_and_is_remembered(
    client: SpotifyClient, sim: SimulatedSpotify, tmp_path: Path
) -> None:
    sim.set_device_online("Computer", False)
    sim.add_device(HOME)
    laptop = sim.add_device(LAPTOP, online=False)
    memory_file = tmp_path / "data" / "this-computer.sqlite3"
    launched: list[list[str]] = []
    player = player_here(client, sim, LAPTOP, launched, DeviceMemory(memory_file))
    uri = a_track(client)

    player.run(lambda: client.play(uris=[uri]))

    assert len(launched) == 1
    assert sim.snapshot()["active_device_id"] == laptop
    # A later run: the laptop's app is open but idle (nothing active). The remembered id finds
    # it among the two computers without starting anything.
    sim.set_device_online(LAPTOP, False)
    sim.set_device_online(LAPTOP, True)
    later = player_here(client, sim, LAPTOP, launched, DeviceMemory(memory_file))
    later.run(lambda: client.play(uris=[uri]))
    assert len(launched) == 1
    assert sim.snapshot()["active_device_id"] == laptop and sim.snapshot()["is_playing"]


def test_a_remembered_player_that_is_not_listed_is_not_used(
    client: SpotifyClient, sim: SimulatedSpotify, tmp_path: Path, api_calls: Calls
) -> None:
    # The app was reinstalled here: its old id is remembered, a new one comes online.
    sim.set_device_online("Computer", False)
    sim.add_device(HOME)
    laptop = sim.add_device(LAPTOP, online=False)
    memory = DeviceMemory(tmp_path / "this-computer.sqlite3")
    memory.remember("0123456789abcdef0123456789abcdef01234567", "Kim's old MacBook")
    launched: list[list[str]] = []
    player = player_here(client, sim, LAPTOP, launched, memory)
    uri = a_track(client)

    player.run(lambda: client.play(uris=[uri]))

    transfers = [json.loads(e.request_body) for e in api_calls("PUT", "/v1/me/player")]
    assert transfers == [{"device_ids": [laptop], "play": False}]
    assert memory.get() == laptop


def test_when_this_computer_cannot_be_told_no_music_starts_elsewhere(
    client: SpotifyClient, sim: SimulatedSpotify, clock: Any, api_calls: Calls
) -> None:
    # Spotify runs here under a name Segue cannot know, or the app never comes up: the desktop
    # at home is the only computer listed, and nothing new appears.
    sim.set_device_online("Computer", False)
    sim.add_device(HOME)

    def sleep(seconds: float) -> None:
        clock.advance(seconds)

    player = LocalPlayer(
        client,
        device_name=None,
        wait_seconds=15,
        poll_interval=0.5,
        sleep=sleep,
        clock=clock,
        launch=lambda command: None,
    )
    uri = a_track(client)

    with pytest.raises(NoDevice) as caught:
        player.run(lambda: client.play(uris=[uri]))

    assert caught.value.user_message == (
        "I can't tell whether “Home desktop” is this computer (no new Spotify player appeared "
        "here within 15 seconds): say which device to play on, or set spotify_device_name."
    )
    assert api_calls("PUT", "/v1/me/player") == []
    snapshot = sim.snapshot()
    assert snapshot["active_device_id"] is None and not snapshot["is_playing"]


def test_other_errors_pass_through(player: LocalPlayer) -> None:
    def broken() -> None:
        raise ValueError("not a device problem")

    with pytest.raises(ValueError, match="not a device problem"):
        player.run(broken)

"""Volume commands that run while the music is ducked act on the person's volume.

In the tray, ducking runs beside the recording while queued commands run on the jobs worker, so
"louder", "volume 30" or "mute" can run between a duck and its restore. Real parts: the ducker
the desktop uses, the agent's fast path and tools, the simulated Spotify over HTTP.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from assistant.sim import SimulatedSpotify
from assistant.spotify.client import SpotifyClient
from assistant.spotify.ducking import RESTORED_KNOWN_S, VolumeDucker
from tests.agent.conftest import Segue


def volume(sim: SimulatedSpotify) -> int:
    return int(sim.snapshot()["volume_percent"])


@pytest.fixture
def ducker(client: SpotifyClient) -> VolumeDucker:
    return VolumeDucker(client, percent=25)


@pytest.fixture
def playing(segue: Callable[..., Segue], ducker: VolumeDucker, sim: SimulatedSpotify) -> Segue:
    """Music playing at 70%, then ducked to 17% as when the hotkey goes down."""
    said = segue(llm=False, volume=ducker)
    assert said.say("play Creep by Radiohead").ok
    assert said.say("volume 70").ok
    ducker.duck()
    assert volume(sim) == 17
    return said


def test_louder_twice_while_ducked_keeps_both_steps(
    playing: Segue, ducker: VolumeDucker, sim: SimulatedSpotify
) -> None:
    assert playing.say("louder").text == "Volume 80%."
    assert playing.say("louder").text == "Volume 90%."
    assert volume(sim) == 22  # still quieter while the person speaks
    ducker.restore()
    assert volume(sim) == 90


def test_a_volume_set_while_ducked_is_not_undone_by_the_restore(
    playing: Segue, ducker: VolumeDucker, sim: SimulatedSpotify
) -> None:
    assert playing.say("volume 30").text == "Volume 30%."
    ducker.restore()
    assert volume(sim) == 30


def test_mute_while_ducked_remembers_the_persons_volume(
    playing: Segue, ducker: VolumeDucker, sim: SimulatedSpotify
) -> None:
    assert playing.say("mute").ok
    ducker.restore()
    assert volume(sim) == 0  # the restore does not unmute
    assert playing.say("unmute").text == "Unmuted: volume 70%."
    assert volume(sim) == 70


def test_without_ducking_the_commands_read_spotify(
    segue: Callable[..., Segue], ducker: VolumeDucker, sim: SimulatedSpotify
) -> None:
    said = segue(llm=False, volume=ducker)
    assert said.say("play Creep by Radiohead").ok
    assert said.say("volume 40").ok
    assert said.say("louder").text == "Volume 50%."
    ducker.restore()  # nothing was ducked: nothing changes
    assert volume(sim) == 50


def test_right_after_the_restore_volume_30_is_one_request_and_can_be_undone(
    segue: Callable[..., Segue], client: SpotifyClient, sim: SimulatedSpotify
) -> None:
    # A spoken "volume 30": the recording's restore put back 70% a moment ago, so Segue knows
    # what to put back on "undo" without reading it first. Later, it reads again.
    now = [100.0]
    ducker = VolumeDucker(client, percent=25, clock=lambda: now[0])
    said = segue(llm=False, volume=ducker)
    assert said.say("play Creep by Radiohead").ok and said.say("volume 70").ok
    ducker.duck()
    ducker.restore()
    before = len(sim.exchanges)

    assert said.say("volume 30").text == "Volume 30%."

    sent = [(e.method, e.path) for e in sim.exchanges[before:] if e.path.startswith("/v1")]
    assert sent == [("PUT", "/v1/me/player/volume")]
    assert said.say("undo").ok and volume(sim) == 70
    ducker.duck()
    ducker.restore()
    now[0] += RESTORED_KNOWN_S  # the person may have moved the slider since
    before = len(sim.exchanges)
    assert said.say("volume 40").ok
    sent = [(e.method, e.path) for e in sim.exchanges[before:] if e.path.startswith("/v1")]
    assert sent == [("GET", "/v1/me/player"), ("PUT", "/v1/me/player/volume")]

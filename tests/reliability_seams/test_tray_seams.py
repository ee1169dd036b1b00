"""The tray's seams, with its real controller, recorder and workers in their own process.

The hotkey goes up while the warm-up still waits on a slow network; "louder" typed twice while
the hotkey is held and the music ducked. The simulated Spotify answers over HTTP, a fault holds
one answer as long as the test wants (no sleeps: the test waits for events).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from assistant.pipeline import NOTHING_HEARD
from assistant.sim import Fault, SimulatedSpotify
from assistant.spotify.client import SpotifyClient
from tests.voice_recording.conftest import RecorderProcess

Tray = Callable[[], RecorderProcess]
# The pipeline's warm-up reads the person's names (playlists first) from Spotify.
WARM_UP_REQUEST = "/v1/me/playlists"


def wait_for(sim: SimulatedSpotify, condition: Callable[[], bool], what: str) -> None:
    """Wait for ``condition``, re-checked as the simulator answers requests."""
    deadline = time.monotonic() + 15
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.02)


def paths(sim: SimulatedSpotify) -> list[str]:
    return [e.path for e in sim.exchanges]


def volume_puts(sim: SimulatedSpotify) -> list[dict[str, Any]]:
    return [e.query for e in sim.exchanges if e.path == "/v1/me/player/volume"]


def test_the_release_closes_the_microphone_while_the_warm_up_waits(
    tray: Tray, sim: SimulatedSpotify
) -> None:
    # A slow network: the warm-up's first read of the person's names gets no answer until the
    # test lets it go.
    sim.add_fault(
        Fault(path=WARM_UP_REQUEST, method="GET", status=None, apply=True, hang_seconds=60)
    )
    segue = tray()
    segue.send("start")
    segue.expect("live")
    wait_for(sim, lambda: WARM_UP_REQUEST in paths(sim), "the warm-up waiting on the network")

    segue.send("stop")
    recorded = segue.expect("recorded", timeout=10)

    assert recorded["kept"] == "kept"
    # The warm-up is still where it was: its next request has not been sent.
    assert paths(sim)[-1] == WARM_UP_REQUEST
    # And the command itself ran at once (a recording without speech uploads nothing).
    assert segue.expect("reply", timeout=10)["text"] == NOTHING_HEARD


def test_louder_twice_while_the_hotkey_is_held(
    tray: Tray, sim: SimulatedSpotify, client: SpotifyClient
) -> None:
    computer = next(d["id"] for d in sim.devices if d["type"] == "Computer")
    client.play(uris=[client.search("creep radiohead").tracks[0].uri], device_id=computer)
    client.set_volume(70)
    before = len(volume_puts(sim))
    segue = tray()

    segue.send("start")  # the hotkey goes down: the music is ducked to 17
    wait_for(sim, lambda: len(volume_puts(sim)) == before + 1, "the duck")
    assert sim.snapshot()["volume_percent"] == 17
    segue.send("type louder")
    segue.send("type louder")
    replies = [segue.expect("reply")["text"], segue.expect("reply")["text"]]
    segue.send("stop")
    wait_for(sim, lambda: len(volume_puts(sim)) == before + 4, "the restore")

    assert replies == ["Volume 80%.", "Volume 90%."]
    assert sim.snapshot()["volume_percent"] == 90

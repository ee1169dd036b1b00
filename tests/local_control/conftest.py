"""Local control over real D-Bus: a private bus, the simulator's app on it, Segue driving it.

The simulator's Computer app is served as Spotify's MPRIS player on a private session bus, and
Segue's agent (built by the composition root) drives it.

The MPRIS player and the Web API share one state, so what a command did is read back from the
simulator; which way it went shows in the simulator's HTTP exchanges.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from assistant import app
from assistant.config import Settings
from assistant.pipeline import Pipeline, Reply, Utterance
from assistant.sim import SimulatedSpotify
from assistant.sim.computer_app import ComputerApp
from assistant.sim.mpris import MprisService, PrivateSessionBus
from assistant.spotify.client import SpotifyClient
from assistant.spotify.devices import LocalPlayer
from assistant.spotify.local import LocalApp
from assistant.spotify.local.mpris import MprisApp
from tests.support.sim_helpers import album_named

ALBUM = "A Night at the Opera"


@pytest.fixture(scope="session")
def session_bus() -> Iterator[PrivateSessionBus]:
    """One private ``dbus-daemon --session`` for the run (never the desktop's bus)."""
    with PrivateSessionBus() as bus:
        yield bus


@pytest.fixture
def spotify_app(sim: SimulatedSpotify, session_bus: PrivateSessionBus) -> Iterator[ComputerApp]:
    """The simulator's Computer app, owning org.mpris.MediaPlayer2.spotify on the private bus."""
    computer_app = sim.computer_app()
    with MprisService(computer_app, session_bus.address):
        yield computer_app


@pytest.fixture
def mpris(session_bus: PrivateSessionBus) -> Iterator[MprisApp]:
    """Segue's MPRIS client on the private bus."""
    local = MprisApp(bus=session_bus.address)
    yield local
    local.close()


def play_on_computer(sim: SimulatedSpotify, client: SpotifyClient) -> str:
    """Start an album on the Computer through the Web API; returns the Computer's device id."""
    computer = next(d for d in client.devices() if d.type == "Computer")
    assert computer.id is not None
    client.play(context_uri=album_named(sim.catalog, ALBUM).uri, device_id=computer.id)
    return computer.id


def player_requests(sim: SimulatedSpotify, since: int = 0) -> list[str]:
    """``"METHOD /path STATUS"`` of the Web API player requests after exchange ``since``."""
    return [
        f"{e.method} {e.path} {e.status}"
        for e in sim.exchanges[since:]
        if e.path.startswith("/v1/me/player")
    ]


@dataclass
class Segue:
    """The agent and pipeline as ``app.build_agent`` wires them, and the simulator behind them."""

    sim: SimulatedSpotify
    pipeline: Pipeline

    def say(self, text: str) -> Reply:
        reply = self.pipeline.handle(Utterance(text=text, source="test"))
        assert reply.ok, (text, reply.text)
        return reply

    def state(self) -> dict[str, object]:
        return self.sim.snapshot()


@pytest.fixture
def segue(
    sim: SimulatedSpotify,
    sim_settings: Settings,
    client: SpotifyClient,
    player: LocalPlayer,
    mpris: MprisApp,
) -> Callable[..., Segue]:
    """``segue(local=mpris)``: Segue with local control through ``local`` (None: Web API only)."""

    def build(*, local: LocalApp | None = mpris) -> Segue:
        control = app.build_player_control(sim_settings, client, player, local)
        agent = app.build_agent(
            sim_settings, client, player, model=None, data_dir=None, control=control
        )
        return Segue(sim, app.build_pipeline(sim_settings, agent, client, None))

    return build

"""Fixtures for the sign-in tests: a redirect URI on a free port, a clock, auth and sim makers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from assistant.secrets import SecretStore
from assistant.sim import SIM_CLIENT_ID, SimulatedSpotify
from assistant.spotify.auth import SpotifyAuth
from tests.auth.support import FakeClock, free_port
from tests.support.spotify_contract import validate_exchanges


@pytest.fixture
def redirect_uri() -> str:
    return f"http://127.0.0.1:{free_port()}/callback"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_auth(
    secrets: SecretStore, redirect_uri: str, clock: FakeClock
) -> Callable[..., SpotifyAuth]:
    """Build a SpotifyAuth for a simulator (the shared test keyring and clock by default)."""

    def make(sim: SimulatedSpotify, **overrides: Any) -> SpotifyAuth:
        options: dict[str, Any] = {
            "client_id": SIM_CLIENT_ID,
            "redirect_uri": redirect_uri,
            "accounts_url": sim.accounts_url,
            "secrets": secrets,
            "timeout": 5.0,
            "clock": clock,
        }
        options.update(overrides)
        return SpotifyAuth(**options)

    return make


@pytest.fixture
def make_sim() -> Iterator[Callable[..., SimulatedSpotify]]:
    """Start a simulator with non-default options (consent mode, token rotation, ...)."""
    started: list[SimulatedSpotify] = []

    def make(**options: Any) -> SimulatedSpotify:
        sim = SimulatedSpotify(**options)
        sim.start()
        started.append(sim)
        return sim

    yield make
    for sim in started:
        sim.stop()
    # The same checks as the shared `sim` fixture: every /v1 exchange matches the spec, and the
    # simulator itself never failed.
    for sim in started:
        validate_exchanges(sim.exchanges)
        assert not sim.server_errors, sim.server_errors

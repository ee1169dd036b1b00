"""Fixtures for the Spotify client tests: a signed-in SpotifyAuth and clients against the sim."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from assistant.sim import Exchange, SimulatedSpotify
from assistant.sim.catalog import Catalog
from assistant.spotify.auth import SpotifyAuth
from assistant.spotify.client import SpotifyClient


class FakeClock:
    """A monotonic clock the test moves by hand (or a fake sleep moves for it)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Sleeps:
    """An injected ``sleep`` that records every wait and returns at once."""

    def __init__(self, clock: FakeClock | None = None) -> None:
        self.calls: list[float] = []
        self._clock = clock

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        if self._clock is not None:
            self._clock.advance(seconds)


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    """The simulator's bundled catalog, for URIs to play and add."""
    return Catalog.load()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sleeps() -> Sleeps:
    """Recorded waits that return at once."""
    return Sleeps()


@pytest.fixture
def make_client(
    sim: SimulatedSpotify, auth: SpotifyAuth, sleeps: Sleeps
) -> Iterator[Callable[..., SpotifyClient]]:
    """Build clients against the simulator; ``sleep`` records instead of waiting."""
    made: list[SpotifyClient] = []

    def make(**options: Any) -> SpotifyClient:
        options.setdefault("api_url", sim.api_url)
        options.setdefault("timeout", 5.0)
        options.setdefault("sleep", sleeps)
        client = SpotifyClient(auth, **options)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., SpotifyClient]) -> SpotifyClient:
    return make_client()


Calls = Callable[..., list[Exchange]]


@pytest.fixture
def api_calls(sim: SimulatedSpotify) -> Calls:
    """``api_calls(method=None, path=None)``: the Web API exchanges the simulator saw so far."""

    def calls(method: str | None = None, path: str | None = None) -> list[Exchange]:
        return [
            e
            for e in sim.exchanges
            if e.path.startswith("/v1/")
            and (method is None or e.method == method)
            and (path is None or e.path == path)
        ]

    return calls


@pytest.fixture
def computer(sim: SimulatedSpotify) -> dict[str, Any]:
    """The simulator's Computer device object (listed or not, it keeps its ID)."""
    return _device(sim, "Computer")


@pytest.fixture
def phone(sim: SimulatedSpotify) -> dict[str, Any]:
    """The simulator's Smartphone device object."""
    return _device(sim, "Smartphone")


def _device(sim: SimulatedSpotify, type_: str) -> dict[str, Any]:
    return next(d for d in sim.devices if d["type"] == type_)


@pytest.fixture(scope="session")
def tracks(catalog: Catalog) -> list[str]:
    """Every catalog track URI, in a fixed order (several hundred)."""
    return [f"spotify:track:{track_id}" for track_id in catalog.tracks]

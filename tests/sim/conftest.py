"""Fixtures for the simulator's own tests: a signed-in HTTP session and the catalog."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from assistant.sim import SimulatedSpotify
from assistant.sim.catalog import Catalog
from tests.support.sim_helpers import Api


@pytest.fixture
def api(sim: SimulatedSpotify) -> Iterator[Api]:
    """Requests to ``sim`` as the signed-in demo user."""
    client = Api(sim)
    yield client
    client.session.close()


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    """The bundled catalog."""
    return Catalog.load()

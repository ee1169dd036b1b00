"""Fixtures for the setup tests: a config file pointing at the simulator, clean SEGUE_ variables."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from assistant.sim import SimulatedSpotify
from tests.auth.support import free_port
from tests.support.spotify_contract import validate_exchanges


@pytest.fixture(autouse=True)
def _no_segue_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings come only from the test's config file."""
    for name in list(os.environ):
        if name.startswith("SEGUE_") or name == "OPENAI_API_KEY":
            monkeypatch.delenv(name)


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[[SimulatedSpotify], Path]:
    """Write a config.toml (with a comment and other keys) that points Segue at a simulator."""

    def write(sim: SimulatedSpotify, extra: str = "") -> Path:
        config_file = tmp_path / "config" / "segue" / "config.toml"
        config_file.parent.mkdir(parents=True, exist_ok=True)
        config_file.write_text(
            "# My Segue settings\n"
            f'spotify_api_url = "{sim.api_url}"\n'
            f'spotify_accounts_url = "{sim.accounts_url}"\n'
            f'spotify_redirect_uri = "http://127.0.0.1:{free_port()}/callback"\n'
            "http_timeout_seconds = 5  # seconds\n"
            "login_timeout_seconds = 20\n" + extra,
            encoding="utf-8",
        )
        return config_file

    return write


@pytest.fixture
def approving_sim() -> Iterator[SimulatedSpotify]:
    """A simulator whose consent page approves at once, checked like the shared ``sim``."""
    sim = SimulatedSpotify(consent="approve").start()
    try:
        yield sim
    finally:
        sim.stop()
    validate_exchanges(sim.exchanges)
    assert not sim.removed_endpoint_calls, sim.removed_endpoint_calls
    assert not sim.server_errors, sim.server_errors

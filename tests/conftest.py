"""Shared fixtures: the simulated Spotify (contract-checked), settings pointing at it, secrets.

Every test that talks to Spotify gets a started ``SimulatedSpotify`` from ``sim``. When the test
ends, each ``/v1`` exchange it caused (request and response) is checked against the Spotify Web API
spec in ``../shared/specs`` (or ``$SEGUE_SPEC_DIR``); a mismatch, a call to an endpoint closed to
development-mode apps, or a simulator bug (a 500) fails the test. Mark a test
``removed_endpoints_expected`` when it calls a closed endpoint on purpose.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from assistant.config import Settings
from assistant.secrets import MemoryKeyring, SecretStore
from assistant.sim import SIM_CLIENT_ID, SimulatedSpotify
from assistant.spotify.auth import SpotifyAuth
from assistant.spotify.client import SpotifyClient
from assistant.spotify.devices import LocalPlayer
from tests.support.openai_contract import openai_contract_summary
from tests.support.spotify_contract import session_summary, validate_exchanges

pytest_plugins = ["tests.fakes.pytest_plugin", "tests.support.speech", "tests.support.voices"]

REMOVED_ENDPOINTS_MARK = "removed_endpoints_expected"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{REMOVED_ENDPOINTS_MARK}: the test calls Spotify endpoints closed to development-mode "
        "apps on purpose (the sim fixture does not fail on them)",
    )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    terminalreporter.write_line(session_summary())
    terminalreporter.write_line(openai_contract_summary())


@pytest.fixture
def sim(request: pytest.FixtureRequest) -> Iterator[SimulatedSpotify]:
    """A started simulated Spotify; its exchanges are checked against the spec at teardown."""
    simulator = SimulatedSpotify().start()
    try:
        yield simulator
    finally:
        simulator.stop()
    problems: list[str] = []
    try:
        validate_exchanges(simulator.exchanges)
    except AssertionError as err:
        problems.append(str(err))
    removed = simulator.removed_endpoint_calls
    if removed and request.node.get_closest_marker(REMOVED_ENDPOINTS_MARK) is None:
        problems.append(
            "Calls to endpoints closed to new development-mode apps (February 2026):\n  "
            + "\n  ".join(removed)
        )
    if simulator.server_errors:
        problems.append("The simulator failed (500) on:\n  " + "\n  ".join(simulator.server_errors))
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.fixture
def sim_settings(sim: SimulatedSpotify) -> Settings:
    """Settings that point Segue at ``sim``, with short timeouts."""
    return Settings(
        spotify_client_id=SIM_CLIENT_ID,
        spotify_api_url=sim.api_url,
        spotify_accounts_url=sim.accounts_url,
        http_timeout_seconds=5,
        device_wait_seconds=3,
    )


@pytest.fixture
def secrets() -> SecretStore:
    """A secret store over an in-memory keyring."""
    return SecretStore(MemoryKeyring())


@pytest.fixture
def auth(sim: SimulatedSpotify, secrets: SecretStore) -> SpotifyAuth:
    """The real token manager, signed in to the simulator as segue-demo."""
    secrets.save_spotify_refresh_token(sim.sign_in()["refresh_token"], new_sign_in=True)
    return SpotifyAuth(
        client_id=SIM_CLIENT_ID,
        redirect_uri="http://127.0.0.1:8974/callback",
        accounts_url=sim.accounts_url,
        secrets=secrets,
        timeout=5,
    )


@pytest.fixture
def client(sim: SimulatedSpotify, auth: SpotifyAuth) -> Iterator[SpotifyClient]:
    """The real Spotify client against the simulator; retries wait no time."""
    with SpotifyClient(auth, api_url=sim.api_url, timeout=5.0, sleep=lambda _: None) as made:
        yield made


@pytest.fixture
def launched() -> list[list[str]]:
    """Commands the local player started (it must start nothing unless a test says so)."""
    return []


@pytest.fixture
def player(client: SpotifyClient, launched: list[list[str]]) -> LocalPlayer:
    """This computer's player (the simulator's Computer); starting the app is only recorded."""
    return LocalPlayer(
        client,
        device_name=None,
        wait_seconds=1,
        poll_interval=0.05,
        launch=lambda command: launched.append(list(command)),
    )

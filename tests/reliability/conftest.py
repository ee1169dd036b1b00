"""Fixtures for the reliability tests: `segue` subprocesses in a home of their own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from keyrings.alt.file import PlaintextKeyring

from assistant.sim import SIM_CLIENT_ID, SimulatedSpotify
from tests.support.env import isolated_env

SEGUE = [sys.executable, "-m", "assistant"]


class Home:
    """One person's home: settings pointing at the simulator and a file keyring."""

    def __init__(self, path: Path, sim: SimulatedSpotify) -> None:
        self.path = path
        self.sim = sim
        self.env = isolated_env(
            path,
            SEGUE_SPOTIFY_CLIENT_ID=SIM_CLIENT_ID,
            SEGUE_SPOTIFY_API_URL=sim.api_url,
            SEGUE_SPOTIFY_ACCOUNTS_URL=sim.accounts_url,
            SEGUE_HTTP_TIMEOUT_SECONDS="20",
        )

    def sign_in(self, monkeypatch: pytest.MonkeyPatch) -> str:
        """Store a refresh token in the home's file keyring, as `segue login` leaves it."""
        monkeypatch.setenv("XDG_DATA_HOME", self.env["XDG_DATA_HOME"])
        token = str(self.sim.sign_in()["refresh_token"])
        PlaintextKeyring().set_password("segue", "spotify-refresh-token", token)
        return token

    def start(self, *words: str) -> subprocess.Popen[str]:
        """Start `segue say WORDS` (stdout and stderr piped)."""
        return subprocess.Popen(
            [*SEGUE, "say", *words],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env,
        )

    def say(self, *words: str) -> subprocess.CompletedProcess[str]:
        """Run `segue say WORDS` to the end."""
        process = self.start(*words)
        out, err = process.communicate(timeout=60)
        return subprocess.CompletedProcess(process.args, process.returncode, out, err)


@pytest.fixture
def home(tmp_path: Path, sim: SimulatedSpotify) -> Home:
    return Home(tmp_path / "home", sim)

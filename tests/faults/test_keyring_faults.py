"""A keyring Segue cannot use: damaged file, no backend, a backend name that loads nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.sim import SIM_CLIENT_ID
from tests.faults.conftest import FaultySpotify, Segue, one_sentence
from tests.support.env import isolated_env

NO_KEYRING = (
    "No system keyring is available to keep the Spotify sign-in; install and unlock one "
    "(GNOME Keyring or KWallet on Linux) or set PYTHON_KEYRING_BACKEND."
)
FILE_BACKEND = "keyrings.alt.file.PlaintextKeyring"

# (what the keyring file holds, PYTHON_KEYRING_BACKEND, the sentence's start)
CASES = {
    "file-not-utf8": (
        b"[segue]\nspotify-refresh-token = \xff\xfe\n",
        FILE_BACKEND,
        "The keyring file",
    ),
    "file-garbled": (b"\x00garbage, no section\n", FILE_BACKEND, "The keyring file"),
    "backend-missing": (None, "keyring.backends.fail.Keyring", NO_KEYRING),
    "backend-unknown": (None, "no.such.Backend", "PYTHON_KEYRING_BACKEND names a keyring"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_keyring_fault(case: str, home: Path, spotify: FaultySpotify, segue: Segue) -> None:
    content, backend, expected = CASES[case]
    as_json = case.startswith("file-garbled") or case == "backend-unknown"  # --json prints JSON
    env = isolated_env(
        home,
        SEGUE_SPOTIFY_CLIENT_ID=SIM_CLIENT_ID,
        SEGUE_SPOTIFY_API_URL=spotify.sim.api_url,
        SEGUE_SPOTIFY_ACCOUNTS_URL=spotify.sim.accounts_url,
        PYTHON_KEYRING_BACKEND=backend,
    )
    keyring_file = Path(env["XDG_DATA_HOME"]) / "python_keyring" / "keyring_pass.cfg"
    if content is not None:
        keyring_file.parent.mkdir(parents=True)
        keyring_file.write_bytes(content)
    done = segue("say", *(["--json"] if as_json else []), "pause", env=env)
    said = one_sentence(done.stderr)
    assert said.startswith(expected)
    if content is not None:
        assert str(keyring_file) in said and "damaged" in said
    assert done.returncode == 1
    if as_json:
        assert json.loads(done.stdout)["reply"] == said
    else:
        assert done.stdout == ""

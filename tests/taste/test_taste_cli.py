"""`segue taste` and `segue taste forget` as a person runs them: subprocesses, the data dir.

The account's memory and the demo's are separate files; which one `segue taste` reads follows
what Segue would play (a signed-in account, or the demo).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from keyrings.alt.file import PlaintextKeyring

from assistant.secrets import SERVICE, SPOTIFY_REFRESH_TOKEN
from assistant.taste import Song, TasteMemory
from tests.support.env import isolated_env

CREEP = Song("spotify:track:70LcF31zb1H0PyJoS1Sx1r", "Creep", "4Z8W4fKeB5YxbusRsdQVPb", "Radiohead")
AIRBAG = Song(
    "spotify:track:6TqpBAGkGVmbuw9wO5u3Ve", "Airbag", "4Z8W4fKeB5YxbusRsdQVPb", "Radiohead"
)
HIGHWAY = Song(
    "spotify:track:2zYzyRzz6pRmhPzyfMEC8s", "Highway to Hell", "711MCceyCBcFnzjGY4Q7Un", "AC/DC"
)
QUEEN = Song(
    "spotify:track:4u7EnebtmKWzUH433cf5Qv", "Bohemian Rhapsody", "1dfeR4HaWDbWqFHLkxsg1d", "Queen"
)


def segue_taste(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "assistant", "taste", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home whose Spotify account is configured and signed in (the file keyring)."""
    home = tmp_path / "home"
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    PlaintextKeyring().set_password(SERVICE, SPOTIFY_REFRESH_TOKEN, "a-refresh-token")
    return home


def test_segue_taste_shows_and_forgets_the_accounts_memory_not_the_demos(home: Path) -> None:
    env = isolated_env(home, SEGUE_SPOTIFY_CLIENT_ID="0123456789abcdef0123456789abcdef")
    data = home / "data" / "segue"
    account = TasteMemory(data / "taste.sqlite3")
    account.note("liked", [CREEP])
    account.note("played", [CREEP, AIRBAG])
    account.note("artist_avoided", [HIGHWAY])
    account.note("played", [HIGHWAY])
    TasteMemory(data / "demo-taste.sqlite3").note("liked", [QUEEN])

    shown = segue_taste(env=env)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0].startswith("What Segue believes, from 5 pieces of evidence since ")
    assert f"(its taste memory, kept in {data / 'taste.sqlite3'}" in lines[0]
    assert "nothing leaves this computer" in lines[0]
    assert lines[1:7] == [
        "Artists you like:",
        "  Radiohead: 2 plays, 1 like (score 5)",
        "Artists Segue leaves out:",
        "  AC/DC: you said no more of them, 1 play",
        "Songs you like most:",
        "  “Creep” by Radiohead (score 4)",
    ]
    assert "Queen" not in shown.stdout

    demo = segue_taste("--demo", env=env)
    assert demo.returncode == 0, demo.stderr
    assert "(the demo's taste memory" in demo.stdout
    assert "  Queen: 1 like (score 3)" in demo.stdout
    assert "Radiohead" not in demo.stdout

    unknown = segue_taste("forget", "Nickelback", env=env)
    assert unknown.returncode == 1
    assert unknown.stderr.strip() == (
        "Nothing deleted: Segue's taste memory has no artist called “Nickelback”."
    )
    assert len(account.evidence()) == 5

    forgotten = segue_taste("forget", "ac", "dc", env=env)
    assert forgotten.returncode == 0, forgotten.stderr
    assert forgotten.stdout.strip() == "Forgot AC/DC: 2 pieces of evidence deleted."
    assert {e.song.artist for e in account.evidence()} == {"Radiohead"}

    everything = segue_taste("forget", "all", env=env)
    assert everything.returncode == 0, everything.stderr
    assert everything.stdout.startswith("Forgot everything: 3 pieces of evidence deleted")
    assert account.evidence() == []
    assert len(TasteMemory(data / "demo-taste.sqlite3").evidence()) == 1  # the demo's is its own

"""Undo across processes: `segue say "volume 30"`, then `segue say "undo"` in a new process.

The real CLI runs as subprocesses in a clean home of its own, in demo mode (no Spotify app is
configured there): the demo's world and its record for "undo" live in that home's data dir.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from assistant.agent.undo import NOTHING_MORE
from tests.support.env import isolated_env


def say(*commands: str, env: dict[str, str]) -> list[str]:
    """The replies of one `segue say` process to ``commands`` (one conversation)."""
    done = subprocess.run(
        [sys.executable, "-m", "assistant", "say"],
        input="".join(f"{c}\n" for c in commands),
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.splitlines()


def test_undo_in_a_new_process_puts_back_what_the_last_one_changed(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = isolated_env(home)
    assert say("play creep by radiohead", "volume 30", env=env) == [
        "Playing “Creep” by Radiohead.",
        "Volume 30%.",
    ]

    assert say("undo", env=env) == ["Volume back to 50%."]
    assert say("undo", "what's playing", env=env) == [
        NOTHING_MORE,
        "Playing “Creep” by Radiohead from “Pablo Honey” on this computer.",
    ]
    # The demo's record is its own: a real account's never sees it.
    data = home / "data" / "segue"
    assert (data / "demo-undo.sqlite3").exists()
    assert not (data / "undo.sqlite3").exists()

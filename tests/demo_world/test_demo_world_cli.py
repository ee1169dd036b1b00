"""One demo world for every `segue` process of a home, as a newcomer meets it in a terminal.

Each test runs the real CLI as subprocesses in a clean home of its own (HOME and the XDG dirs,
a file keyring there): the demo's simulated Spotify lives inside each process, and its world in
the data dir.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from keyrings.alt.file import PlaintextKeyring

from assistant.sim import SIM_CLIENT_ID, SimulatedSpotify
from tests.support.env import isolated_env

SEGUE = [sys.executable, "-m", "assistant"]
CREEP = "Playing “Creep” by Radiohead."
NOTHING = "Nothing is playing right now."
RESET = (
    "The demo world is back at its start: nothing is playing, and the demo's playlists and "
    "library are as they were."
)
DEMO_PLAYLISTS = 13  # the demo user's playlists at the start


def segue(
    *args: str, env: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SEGUE, *args],
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def replies(*commands: str, env: dict[str, str]) -> list[str]:
    """The replies of one `segue say` process to ``commands`` (one conversation)."""
    done = segue("say", env=env, stdin="".join(f"{c}\n" for c in commands))
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.splitlines()


def world_file(home: Path) -> Path:
    return home / "data" / "segue" / "demo-world.sqlite3"


def seconds_in(reply: str) -> int:
    """The position a seek reply ends at ("... to 2:00.") in seconds."""
    found = re.search(r"to (\d+):(\d\d)\.$", reply)
    assert found is not None, reply
    return int(found.group(1)) * 60 + int(found.group(2))


def test_two_say_processes_in_a_row_play_one_demo_world(tmp_path: Path) -> None:
    env = isolated_env(tmp_path / "home")
    assert replies("play creep by radiohead", env=env) == [CREEP]
    [playing] = replies("what's playing", env=env)
    assert playing.startswith("Playing “Creep” by Radiohead from “Pablo Honey”")


def test_the_position_is_kept_while_paused_and_runs_on_while_playing(tmp_path: Path) -> None:
    env = isolated_env(tmp_path / "home")
    replies("play creep by radiohead", "go to 1:30", "pause", env=env)
    assert replies("skip ahead 30 seconds", "resume", env=env) == [
        "Jumped forward 30 seconds to 2:00.",
        "Resumed.",
    ]
    resumed_before = time.monotonic()
    # The reply shows whole seconds: at least one passes between "resume" and the next seek
    # (the wait is what is left of it after the process above ended).
    time.sleep(max(0.0, 1.0 - (time.monotonic() - resumed_before)))
    [jumped] = replies("skip ahead 30 seconds", env=env)
    assert seconds_in(jumped) >= 2 * 60 + 31, jumped


def test_commands_at_once_take_turns_and_lose_nothing(tmp_path: Path) -> None:
    env = isolated_env(tmp_path / "home")
    names = {
        "a": [f"Amber {word}" for word in ("Road", "Lane", "Hill", "Brook", "Field", "Grove")],
        "b": [f"Birch {word}" for word in ("Road", "Lane", "Hill", "Brook", "Field", "Grove")],
    }
    procs = {
        key: subprocess.Popen(
            [*SEGUE, "say"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            env=env,
        )
        for key in names
    }
    try:
        # Each says once that the demo plays (no Spotify app is configured in this home).
        for proc in procs.values():
            assert proc.stdout is not None
            assert proc.stdout.readline().startswith("Demo mode: ")
        # Both processes are up with the world in memory, then change it in turns: each turn
        # must start from the other's last change.
        for step in range(2):
            for key, proc in procs.items():
                assert proc.stdin is not None and proc.stdout is not None
                proc.stdin.write(f"make a playlist called {names[key][step]}\n")
                proc.stdin.flush()
                created = proc.stdout.readline().strip()
                assert created == f"Created the empty playlist “{names[key][step]}”.", created
        # Then both at full speed at the same moment.
        for key, proc in procs.items():
            assert proc.stdin is not None
            proc.stdin.write("".join(f"make a playlist called {n}\n" for n in names[key][2:]))
            proc.stdin.close()
        for proc in procs.values():
            assert proc.stdout is not None
            out = proc.stdout.read()
            assert proc.wait(timeout=60) == 0, out
            assert out.count("Created the empty playlist") == 4, out
            assert "Demo mode" not in out  # said once, at the start
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    [listed] = replies("show my playlists", env=env)
    assert listed.startswith(f"You have {DEMO_PLAYLISTS + 12} playlists:"), listed


def test_sim_reset_puts_the_demo_world_back_at_its_start(tmp_path: Path) -> None:
    env = isolated_env(tmp_path / "home")
    replies(
        "play creep by radiohead",
        "i love this artist",
        "make a playlist called Amber Road",
        env=env,
    )
    assert "Radiohead" in segue("taste", env=env).stdout
    done = segue("sim", "--reset", env=env)
    assert (done.returncode, done.stdout.strip(), done.stderr) == (0, RESET, "")
    playing, listed, undone = replies("what's playing", "show my playlists", "undo", env=env)
    assert playing == NOTHING
    assert listed.startswith(f"You have {DEMO_PLAYLISTS} playlists:") and "Amber" not in listed
    # What the demo learned and could undo went with its world.
    assert undone.startswith("There's nothing to undo")
    assert segue("taste", env=env).stdout.startswith("Segue has not learned what you like yet")


def test_a_configured_account_never_sees_the_demo_world(
    tmp_path: Path, sim: SimulatedSpotify, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    demo_env = isolated_env(home)
    assert replies("play creep by radiohead", env=demo_env) == [CREEP]
    # The demo signed in without the keyring.
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    keyring = PlaintextKeyring()
    assert keyring.get_password("segue", "spotify-refresh-token") is None
    world = world_file(home)
    kept = (world.read_bytes(), world.stat().st_mtime_ns)

    # The person connects their account (this test's simulator stands in for Spotify).
    keyring.set_password("segue", "spotify-refresh-token", sim.sign_in()["refresh_token"])
    account_env = isolated_env(
        home,
        SEGUE_SPOTIFY_CLIENT_ID=SIM_CLIENT_ID,
        SEGUE_SPOTIFY_API_URL=sim.api_url,
        SEGUE_SPOTIFY_ACCOUNTS_URL=sim.accounts_url,
    )
    assert replies("what's playing", "volume 40", env=account_env)[0] == NOTHING
    assert sim.snapshot()["volume_percent"] == 40
    assert (world.read_bytes(), world.stat().st_mtime_ns) == kept
    signed_in = keyring.get_password("segue", "spotify-refresh-token")  # rotated by the refresh

    # `--demo` still plays the demo world, and leaves the account's sign-in alone.
    done = segue("say", "--demo", "what's playing", env=account_env)
    assert done.returncode == 0 and done.stdout.startswith("Playing “Creep” by Radiohead"), done
    assert keyring.get_password("segue", "spotify-refresh-token") == signed_in


def test_an_unusable_world_file_leaves_each_process_a_world_of_its_own(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = isolated_env(home)
    world_file(home).mkdir(parents=True)  # a folder where the file should be
    done = segue("say", "play creep by radiohead", env=env)
    # The terminal gets the one line every demo starts with, and no word of the world file.
    assert (done.returncode, done.stdout.strip()) == (0, CREEP)
    assert done.stderr.strip().startswith("Demo mode: ") and len(done.stderr.splitlines()) == 1
    log = (home / "state" / "segue" / "log" / "segue.log").read_text(encoding="utf-8")
    assert log.count("The demo world cannot be kept in") == 1, log


def test_a_damaged_world_file_is_moved_aside_and_the_demo_starts_afresh(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = isolated_env(home)
    world = world_file(home)
    world.parent.mkdir(parents=True)
    world.write_bytes(b"not a database; " * 256)
    assert replies("what's playing", "play creep by radiohead", env=env) == [NOTHING, CREEP]
    assert replies("what's playing", env=env)[0].startswith("Playing “Creep” by Radiohead")
    assert (world.parent / "demo-world.sqlite3.damaged").read_bytes() == b"not a database; " * 256

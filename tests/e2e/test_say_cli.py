"""`segue say` as a person or a script runs it: subprocesses, real HTTP to Spotify and OpenAI.

The demo runs its own simulated Spotify inside the subprocess; the other tests point the
subprocess at this test's simulator and fake OpenAI server through ``SEGUE_*`` settings, with
secrets in an isolated file keyring.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from keyrings.alt.file import PlaintextKeyring

from assistant.sim import SIM_CLIENT_ID, SimulatedSpotify
from tests.fakes.openai_server import FakeOpenAI
from tests.support.env import isolated_env

SEGUE = [sys.executable, "-m", "assistant"]
NOT_SIGNED_IN = "Segue is not signed in to Spotify; run `segue login` or choose Sign in."


def say(
    *args: str, env: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SEGUE, "say", *args],
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def sim_env(home: Path, sim: SimulatedSpotify, **extra: str) -> dict[str, str]:
    return isolated_env(
        home,
        SEGUE_SPOTIFY_CLIENT_ID=SIM_CLIENT_ID,
        SEGUE_SPOTIFY_API_URL=sim.api_url,
        SEGUE_SPOTIFY_ACCOUNTS_URL=sim.accounts_url,
        **extra,
    )


def sign_in(home: Path, sim: SimulatedSpotify, monkeypatch: pytest.MonkeyPatch) -> None:
    """Store a refresh token in the subprocess's file keyring, as `segue login` would."""
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    token = sim.sign_in()["refresh_token"]
    PlaintextKeyring().set_password("segue", "spotify-refresh-token", token)


def test_say_json_in_demo_mode(tmp_path: Path) -> None:
    done = say("--json", "volume 30", "--demo", env=isolated_env(tmp_path / "home"))
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert set(data) == {"ok", "reply", "used_llm", "tool_calls", "timings"}
    assert data["ok"] is True and data["reply"] == "Volume 30%." and data["used_llm"] is False
    assert data["tool_calls"] == [
        {"name": "set_volume", "arguments": {"percent": 30}, "ok": True, "result": "Volume 30%."}
    ]
    # The demo's Spotify app is open on this computer but not yet active: the volume before
    # is read (for "undo": none is active), the volume command finds no active device, moves
    # playback here and is sent again (5 requests, no model).
    assert data["timings"]["llm_calls"] == 0 and data["timings"]["spotify_calls"] == 5
    assert done.stderr == ""


def test_say_a_question_and_its_answer_from_stdin_in_demo_mode(tmp_path: Path) -> None:
    # No spotify_client_id: demo mode without --demo; no OpenAI key: the fast path only.
    dialogue = "play Creep by Radiohead\nadd this to deep\n2\n"
    done = say(env=isolated_env(tmp_path / "home"), stdin=dialogue)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "Playing “Creep” by Radiohead.",
        "Which playlist? 1. Deep Work 2. Deep Work II",
        "Added “Creep” by Radiohead to “Deep Work II”.",
    ]


def test_say_holds_a_conversation_from_stdin(
    tmp_path: Path,
    sim: SimulatedSpotify,
    fake_openai: FakeOpenAI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    home = tmp_path / "home"
    env = sim_env(home, sim, SEGUE_OPENAI_BASE_URL=fake_openai.base_url, OPENAI_API_KEY="sk-test")
    sign_in(home, sim, monkeypatch)

    def remembers_creep(request: dict[str, object]) -> None:
        assert "Creep" in json.dumps(request["messages"])

    fake_openai.chat(
        tool_calls=[("add_to_playlist", {"playlist": "Workout Mix", "tracks": None})],
        check=remembers_creep,
    )
    dialogue = "play Creep by Radiohead\nadd that to my Workout Mix\nlouder\n"
    done = say("--json", env=env, stdin=dialogue)
    assert done.returncode == 0, done.stderr
    replies = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(r["reply"], r["used_llm"]) for r in replies] == [
        ("Playing “Creep” by Radiohead.", False),
        ("Added “Creep” by Radiohead to “Workout Mix”.", True),
        ("Volume 60%.", False),
    ]
    state = sim.snapshot()
    workout = next(p for p in state["playlists"].values() if p["name"] == "Workout Mix")
    assert workout["track_uris"][-1] == state["track_uri"]
    assert state["volume_percent"] == 60 and state["is_playing"]


def test_before_the_first_sign_in_the_demo_plays_and_says_how_to_finish(
    tmp_path: Path, sim: SimulatedSpotify
) -> None:
    # A Client ID saved (setup stopped before signing in): the demo, not a failing command.
    done = say("volume 30", env=sim_env(tmp_path / "home", sim))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Volume 30%."
    assert "not signed in yet; run `segue login` to finish" in done.stderr
    assert not sim.exchanges  # the person's Spotify (here: this simulator) is left alone


def test_a_sign_in_spotify_refused_is_one_sentence_and_exit_1(
    tmp_path: Path, sim: SimulatedSpotify, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Signed in once (the date stays when Spotify refuses the sign-in): not the demo.
    home = tmp_path / "home"
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    PlaintextKeyring().set_password("segue", "spotify-signed-in-at", "2026-05-01T10:00:00+00:00")
    done = say("pause", env=sim_env(home, sim))
    assert done.returncode == 1
    assert done.stderr.strip() == NOT_SIGNED_IN and done.stdout == ""


def test_a_dialogue_puts_failures_on_stderr_and_prompts_on_a_terminal(tmp_path: Path) -> None:
    import os
    import pty
    import select

    env = isolated_env(tmp_path / "home")
    # Piped: replies on stdout, the failure on stderr, the next line still runs; no prompt.
    done = say("--demo", env=env, stdin="volume 30\nplay a game with me\nvolume 40\n")
    assert done.stdout.splitlines() == ["Volume 30%.", "Volume 40%."]
    assert done.stderr.strip().startswith("I can't do that without an OpenAI key.")
    assert "segue>" not in done.stderr and done.returncode == 1
    # At a terminal: a prompt says Segue waits for a command (it looked hung before).
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [*SEGUE, "say", "--demo"], stdin=follower, stdout=follower, stderr=follower, env=env
    )
    os.close(follower)
    seen = b""
    try:
        for typed in (b"volume 35\n", b"\x04"):  # a command, then Ctrl-D
            deadline = time.monotonic() + 30
            while seen.count(b"segue> ") < (1 if typed != b"\x04" else 2):
                assert time.monotonic() < deadline, seen.decode(errors="replace")
                if select.select([leader], [], [], 0.5)[0]:
                    seen += os.read(leader, 4096)
            os.write(leader, typed)
        assert process.wait(timeout=30) == 0
    finally:
        process.kill()
        os.close(leader)
    text = seen.decode(errors="replace")
    assert "Ctrl-D ends" in text and "Volume 35%." in text

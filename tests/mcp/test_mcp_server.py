"""`segue mcp` as an MCP host meets it: the SDK's own client over stdio against the real command.

One demo server (its own home: HOME, the XDG dirs and a file keyring in a temporary folder, so it
plays the demo world there) serves the tests that need one; each test sets up what it reads. The
sign-in test points a server of its own at this test's simulator as a configured account.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from keyrings.alt.file import PlaintextKeyring

from assistant import app
from assistant.agent.tools import ToolCall, ToolRegistry
from assistant.config import Settings
from assistant.mcp_server import ProbeFailed, probe
from assistant.sim import SIM_CLIENT_ID, SimulatedSpotify
from tests.support.env import isolated_env
from tests.support.mcp_host import McpHost, text_of

SEGUE = [sys.executable, "-m", "assistant"]
NOT_SIGNED_IN = "Segue is not signed in to Spotify; run `segue login` or choose Sign in."
SIGN_IN_EXPIRED = "Spotify sign-in expired; choose Sign in from the tray menu."
DEMO = "Demo mode: Segue is playing a simulated Spotify; run `segue setup` to use yours."


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ToolRegistry]:
    """The registry every entry point builds (here: an in-process demo with a data dir)."""
    data_dir = tmp_path_factory.mktemp("registry")
    with app.build_assistant(Settings(), data_dir=data_dir, demo=True) as built:
        yield built.pipeline.agent.registry


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mcp") / "home"


@pytest.fixture(scope="module")
def demo(demo_home: Path) -> Iterator[McpHost]:
    """One `segue mcp` in demo mode (no Spotify app configured), shared by this module."""
    with McpHost(isolated_env(demo_home), demo_home.parent / "stderr.txt") as host:
        yield host


def test_the_tools_are_the_registry_s_with_strict_schemas_and_hints(
    demo: McpHost, registry: ToolRegistry
) -> None:
    listed = {t.name: t for t in demo.list_tools().tools}

    assert list(listed) == registry.names
    for tool in registry:
        served = listed[tool.name]
        assert served.description == tool.description
        assert served.input_schema == tool.parameters
        schema = served.input_schema
        assert schema["type"] == "object" and schema["additionalProperties"] is False
        assert schema["required"] == list(schema["properties"])
        assert served.annotations is not None
        assert served.annotations.read_only_hint is tool.read_only, tool.name
        assert served.annotations.destructive_hint is tool.destructive, tool.name
    named = ("now_playing", "search", "remove_from_playlist", "remove_from_library", "pause")
    hints = {
        name: (annotations.read_only_hint, annotations.destructive_hint)
        for name in named
        if (annotations := listed[name].annotations) is not None
    }
    assert hints == {
        "now_playing": (True, False),
        "search": (True, False),
        "remove_from_playlist": (False, True),
        "remove_from_library": (False, True),
        "pause": (False, False),
    }
    # The host is told what the tools are for, and that this is the demo.
    assert demo.initialized.server_info.name == "segue"
    assert demo.initialized.instructions is not None and DEMO in demo.initialized.instructions


def test_pause_and_now_playing_act_on_the_demo_world_segue_say_plays(
    demo: McpHost, demo_home: Path
) -> None:
    played = demo.call("play", {"query": "Creep", "kind": "track", "artist": "Radiohead"})
    assert not played.is_error and 'Playing track "Creep" by "Radiohead"' in text_of(played)

    playing = demo.call("now_playing", {"about": "song"})
    assert not playing.is_error and text_of(playing).startswith('Playing track "Creep"')
    paused = demo.call("pause")
    assert (paused.is_error, text_of(paused)) == (False, "Paused.")
    now = demo.call("now_playing", {"about": "song"})
    assert text_of(now).startswith('Paused track "Creep" by "Radiohead"'), text_of(now)

    # Another Segue process plays the same demo world.
    said = subprocess.run(
        [*SEGUE, "say", "what's playing"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=isolated_env(demo_home),
        timeout=60,
        check=False,
    )
    assert said.returncode == 0, said.stderr
    assert said.stdout.startswith("Paused: “Creep” by Radiohead"), said.stdout


def test_a_destructive_tool_runs_when_called_with_no_question_of_segue_s(demo: McpHost) -> None:
    creep = {"playlist": "Deep Work", "tracks": ["Creep by Radiohead"]}
    added = demo.call("add_to_playlist", creep)
    assert not added.is_error and "added ['spotify:track:" in text_of(added), text_of(added)

    removed = demo.call("remove_from_playlist", creep)

    assert not removed.is_error
    assert "removed ['spotify:track:" in text_of(removed), text_of(removed)
    assert "confirm" not in text_of(removed)


def test_bad_arguments_are_error_results_with_the_registry_s_sentence_and_the_server_goes_on(
    demo: McpHost, registry: ToolRegistry
) -> None:
    bad_calls = [
        ("set_volume", {"percent": "loud", "relative": False}),  # not a number
        ("set_volume", {"percent": 30, "relative": False, "device": "Kitchen"}),  # unknown
        ("search", {"query": "x" * 301, "kind": "track", "artist": None}),  # over the cap
        ("shuffle_everything", {}),  # no such tool
    ]
    for name, arguments in bad_calls:
        result = demo.call(name, arguments)
        expected = registry.invoke(ToolCall(name, arguments))
        assert not expected.ok
        assert (result.is_error, text_of(result)) == (True, expected.output.summary)
    assert text_of(demo.call("search", {"query": "x" * 301, "kind": "track", "artist": None})) == (
        "The search is too long: Segue takes at most 300 characters (301 were given); say it in "
        "fewer words."
    )
    # Spotify's side: nothing matched, or two playlists did; the sentence says which.
    missing = demo.call("play", {"query": "zzqx nothing like it", "kind": "track", "artist": None})
    assert (missing.is_error, text_of(missing)) == (
        True,
        "Nothing on Spotify matched “zzqx nothing like it”.",
    )
    both = demo.call("remove_from_playlist", {"playlist": "deep", "tracks": None})
    assert both.is_error
    assert text_of(both) == (
        "More than one playlist matches: “Deep Work”, “Deep Work II”. Which one?"
    )

    volume = demo.call("set_volume", {"percent": 35, "relative": False})
    assert (volume.is_error, text_of(volume)) == (False, "Volume 35%.")


def test_stdout_carries_the_protocol_only_and_the_log_the_rest(
    demo: McpHost, demo_home: Path
) -> None:
    demo.call("list_devices")
    assert demo.transport_errors == []
    # stderr: the one sentence every demo starts with; the log file: the server's own lines.
    assert demo.stderr.read_text(encoding="utf-8").strip() == DEMO
    log = (demo_home / "state" / "segue" / "log" / "segue.log").read_text(encoding="utf-8")
    assert "MCP server ready" in log and "MCP call list_devices: ok" in log


def test_nothing_else_reaches_the_protocol_s_stdout() -> None:
    # Whatever prints after the server took stdout (our code, a library, a child process)
    # lands on stderr.
    script = (
        "import os, subprocess, sys\n"
        "from assistant.mcp_server import protocol_stdout\n"
        "with protocol_stdout() as wire:\n"
        "    print('a stray print')\n"
        "    os.write(1, b'a stray write\\n')\n"
        "    subprocess.run(['echo', 'a child process'], check=True)\n"
        "    wire.write(b'protocol\\n')\n"
        "print('after the server')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30, check=True
    )
    assert done.stdout == "protocol\nafter the server\n"
    assert done.stderr.splitlines() == ["a stray print", "a stray write", "a child process"]


def test_segue_say_does_not_load_the_sdk(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from assistant import app, cli, mcp_server\n"
        "status = cli.main(['say', '--demo', 'volume 30'])\n"
        "print(status, sorted(m for m in sys.modules if m.split('.')[0] in ('mcp', 'mcp_types')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=isolated_env(tmp_path / "home"),
        timeout=60,
        check=True,
    )
    assert done.stdout.splitlines() == ["Volume 30%.", "0 []"], done.stderr


def test_a_sign_in_problem_is_an_error_result_with_its_sentence(
    tmp_path: Path, sim: SimulatedSpotify, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    env = isolated_env(
        home,
        SEGUE_SPOTIFY_CLIENT_ID=SIM_CLIENT_ID,
        SEGUE_SPOTIFY_API_URL=sim.api_url,
        SEGUE_SPOTIFY_ACCOUNTS_URL=sim.accounts_url,
    )
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    keyring = PlaintextKeyring()  # the server's file keyring
    # The app is configured but was never signed in: no demo here (a host's calls would act
    # on a Spotify nobody hears), each call says how to sign in.
    with McpHost(env, tmp_path / "stderr.txt") as host:
        assert host.list_tools().tools
        paused = host.call("pause")
        assert (paused.is_error, text_of(paused)) == (True, NOT_SIGNED_IN)

        keyring.set_password("segue", "spotify-refresh-token", "a-token-spotify-refuses")
        refused = host.call("now_playing", {"about": "song"})
        assert (refused.is_error, text_of(refused)) == (True, SIGN_IN_EXPIRED)

        # Signed in meanwhile (`segue login` in a terminal): the same server works.
        keyring.set_password("segue", "spotify-refresh-token", sim.sign_in()["refresh_token"])
        volume = host.call("set_volume", {"percent": 40, "relative": False})
        assert (volume.is_error, text_of(volume)) == (False, "Volume 40%.")
        assert host.transport_errors == []
    assert sim.snapshot()["volume_percent"] == 40
    assert "Demo mode" not in (tmp_path / "stderr.txt").read_text(encoding="utf-8")


def test_the_doctor_s_probe_says_why_a_server_did_not_start(tmp_path: Path) -> None:
    env = isolated_env(tmp_path / "home")
    said = "import sys; print('Segue cannot start here.', file=sys.stderr); sys.exit(1)"
    with pytest.raises(ProbeFailed) as ended:
        probe(sys.executable, ["-c", said], env=env, timeout=20)
    assert str(ended.value) == "it ended before answering (Segue cannot start here.)"
    silent = "import sys; sys.stdin.read()"  # reads requests, never answers
    with pytest.raises(ProbeFailed) as silence:
        probe(sys.executable, ["-c", silent], env=env, timeout=1)
    assert str(silence.value) == "no tool list within 1 s"
    with pytest.raises(ProbeFailed) as missing:
        probe(str(tmp_path / "no-such-segue"), ["mcp"], env=env)
    assert str(missing.value) == "it cannot be run (No such file or directory)"
    # The real server after a stray line on its stdout: a host would choke on it.
    stray = f"echo 'a stray line'; exec {sys.executable} -m assistant mcp"
    with pytest.raises(ProbeFailed) as garbled:
        probe("sh", ["-c", stray], env=env, timeout=20)
    assert str(garbled.value) == (
        "it wrote something other than the protocol to stdout, which breaks MCP hosts"
    )

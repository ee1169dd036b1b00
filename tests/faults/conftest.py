"""The fault matrix: `segue` run as a person runs it, with one fault injected per case.

Every case runs the real CLI in a subprocess with its own home (tests/support/env.py), against
this test's simulated Spotify (faults injected with ``Fault``) and scripted fake OpenAI server
(answers that are not JSON, HTML pages), or against a broken settings file, log directory or
keyring. Each case asserts what the person sees: one sentence, the exit status, no traceback,
no line of a conversation lost. The session's terminal summary adds one line: cases run,
crashes (a traceback or "Something went wrong"), commands lost and requests that left the
computer in demo mode.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from keyrings.alt.file import PlaintextKeyring

from assistant.sim import SIM_CLIENT_ID, SimulatedSpotify
from assistant.sim.server import Fault
from tests.fakes.openai_server import FakeOpenAI
from tests.support.env import isolated_env
from tests.support.sim_helpers import Api
from tests.support.spotify_contract import validate_exchanges

SEGUE = [sys.executable, "-m", "assistant"]
# sysfs refuses to create anything at its top, to every user (root included), so a directory
# under it can be neither created nor written in any test environment: PermissionError.
UNWRITABLE = Path("/sys/segue-fault-matrix")


@dataclass
class FaultMatrix:
    """What the fault cases saw, for the terminal summary."""

    cases: set[str] = field(default_factory=set)
    crashes: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)

    def line(self) -> str:
        """The summary line."""
        return (
            f"fault matrix: {len(self.cases)} cases run, {len(self.crashes)} crashes "
            f"(traceback or 'Something went wrong'), {len(self.lost)} commands lost, "
            f"{len(self.leaks)} requests out of demo mode"
        )


_MATRIX = pytest.StashKey[FaultMatrix]()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    matrix = terminalreporter.config.stash.get(_MATRIX, None)
    if matrix is not None and matrix.cases:
        terminalreporter.write_line(matrix.line())
        for crash in matrix.crashes:
            terminalreporter.write_line(f"  crash: {crash}")


@pytest.fixture
def matrix(request: pytest.FixtureRequest) -> FaultMatrix:
    """The session's fault matrix; this case is counted in it."""
    found = request.config.stash.setdefault(_MATRIX, FaultMatrix())
    found.cases.add(request.node.nodeid)
    return found


@dataclass(frozen=True)
class Outcome:
    """One `segue` run: exit status, stdout and stderr (decoded leniently)."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        """The stdout lines."""
        return self.stdout.splitlines()

    @property
    def replies(self) -> list[str]:
        """The replies of a ``--json`` conversation, in order (failures included)."""
        return [json.loads(line)["reply"] for line in self.lines]


Segue = Callable[..., Outcome]


@pytest.fixture
def segue(request: pytest.FixtureRequest, matrix: FaultMatrix) -> Segue:
    """Run ``segue ARGS`` in a subprocess; crashes and lost conversation lines are counted.

    Call as ``segue(*args, env=..., stdin=b"..." | "...", replies=N)``: ``replies`` is how many
    stdout lines a conversation must answer with (one per non-empty input line; conversations
    run with ``--json``, since without it failures go to stderr).
    """
    case = request.node.name

    def run(
        *args: str | bytes,
        env: dict[str, str],
        stdin: str | bytes | None = None,
        replies: int | None = None,
        timeout: float = 60,
    ) -> Outcome:
        data = stdin.encode() if isinstance(stdin, str) else stdin
        done = subprocess.run(
            [*SEGUE, *args],
            input=data,
            stdin=None if data is not None else subprocess.DEVNULL,
            capture_output=True,
            env=env,
            timeout=timeout,
            check=False,
        )
        outcome = Outcome(
            done.returncode,
            done.stdout.decode("utf-8", "replace"),
            done.stderr.decode("utf-8", "replace"),
        )
        both = outcome.stdout + outcome.stderr
        if "Traceback" in both or "Something went wrong" in both:
            matrix.crashes.append(f"{case}: {both.strip().splitlines()[-1][:160]}")
        if replies is not None and len(outcome.lines) < replies:
            matrix.lost.append(f"{case}: {replies - len(outcome.lines)} of {replies}")
        return outcome

    return run


def one_sentence(text: str) -> str:
    """The single line ``text`` holds, checked to be one plain sentence for a person."""
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line, got:\n{text}"
    line = lines[0].strip()
    assert "Traceback" not in line and not line.startswith("Something went wrong"), line
    assert not re.search(r"<\s*/?\s*(html|body|head|h1|title|!doctype)", line, re.I), line
    assert line.endswith((".", "?")), line
    return line


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A fresh home for one case."""
    made = tmp_path / "home"
    made.mkdir()
    return made


@pytest.fixture
def unwritable() -> Path:
    """A directory path that cannot be created or written, checked before use."""
    with pytest.raises(OSError):
        (UNWRITABLE / "probe").mkdir(parents=True)
    return UNWRITABLE


class FaultySpotify:
    """A started simulator plus the faults a case injects.

    Its exchanges are checked against the Spotify spec at teardown, except the answers of the
    injected faults (off-spec on purpose: HTML pages, cut bodies); Segue's requests are all
    checked.
    """

    def __init__(self) -> None:
        self.sim = SimulatedSpotify().start()
        self._faults: list[Fault] = []

    def inject(self, fault: Fault) -> None:
        """Start injecting ``fault``."""
        self._faults.append(fault)
        self.sim.add_fault(fault)

    def start_playing(self, query: str = "Creep Radiohead") -> None:
        """Play the first track found for ``query`` on the Computer, as the app would."""
        api = Api(self.sim)
        found = api.get("/search", q=query, type="track", limit=1).json()
        uri = found["tracks"]["items"][0]["uri"]
        started = api.put(
            "/me/player/play", json={"uris": [uri]}, device_id=api.device_id("Computer")
        )
        assert started.status_code in (200, 202, 204), started.text
        assert api.playback()["is_playing"]

    def requests_to(self, method: str, path: str) -> int:
        """How many requests reached ``method path`` (a regex over the path)."""
        pattern = re.compile(path)
        return sum(
            1 for e in self.sim.exchanges if e.method == method and pattern.fullmatch(e.path)
        )

    def checked_exchanges(self) -> Sequence[object]:
        """The exchanges whose answers the simulator gave itself."""

        def faulted(exchange: object) -> bool:
            return any(
                re.fullmatch(f.path, getattr(exchange, "path", ""))
                and f.method in (None, getattr(exchange, "method", None))
                for f in self._faults
            )

        return [e for e in self.sim.exchanges if not faulted(e)]


@pytest.fixture
def spotify() -> Iterator[FaultySpotify]:
    """A simulated Spotify with fault injection; its own answers are checked at teardown."""
    faulty = FaultySpotify()
    try:
        yield faulty
    finally:
        faulty.sim.stop()
    validate_exchanges(faulty.checked_exchanges())
    assert not faulty.sim.server_errors, faulty.sim.server_errors


def signed_in_env(
    home: Path, sim: SimulatedSpotify, monkeypatch: pytest.MonkeyPatch, **extra: str
) -> dict[str, str]:
    """An environment for `segue` pointed at ``sim``, signed in as its demo user."""
    env = isolated_env(
        home,
        SEGUE_SPOTIFY_CLIENT_ID=SIM_CLIENT_ID,
        SEGUE_SPOTIFY_API_URL=sim.api_url,
        SEGUE_SPOTIFY_ACCOUNTS_URL=sim.accounts_url,
        SEGUE_HTTP_TIMEOUT_SECONDS="5",
        SEGUE_DEVICE_WAIT_SECONDS="3",
        **extra,
    )
    # The file keyring reads XDG_DATA_HOME when it is used: store the token as `segue login` does.
    monkeypatch.setenv("XDG_DATA_HOME", env["XDG_DATA_HOME"])
    PlaintextKeyring().set_password(
        "segue", "spotify-refresh-token", sim.sign_in()["refresh_token"]
    )
    return env


@pytest.fixture
def model_env(
    home: Path, spotify: FaultySpotify, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """An environment signed in to ``spotify``, with an OpenAI key for the fake OpenAI server."""
    return signed_in_env(
        home,
        spotify.sim,
        monkeypatch,
        OPENAI_API_KEY="sk-test",
        SEGUE_OPENAI_BASE_URL=fake_openai.base_url,
        SEGUE_OPENAI_TIMEOUT_SECONDS="5",
    )

"""`segue login` and `segue logout` as a user runs them: subprocesses against `segue sim`.

The browser is either a small script that behaves like a person (opens the consent page, clicks
Agree, follows the redirect) or real headless Chromium. Secrets go to an isolated file keyring.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from keyrings.alt.file import PlaintextKeyring

from assistant.sim import SIM_CLIENT_ID
from tests.support.env import isolated_env
from tests.support.spotify_contract import validate_exchange_log

SEGUE = [sys.executable, "-m", "assistant"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class SimProcess:
    process: subprocess.Popen[str]
    base_url: str
    exchange_log: Path

    def exchanges(self) -> list[dict[str, object]]:
        lines = self.exchange_log.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]


def start_sim(tmp_path: Path, consent: str) -> SimProcess:
    port = free_port()
    log = tmp_path / f"exchanges-{consent}.jsonl"
    process = subprocess.Popen(
        [*SEGUE, "sim", "--port", str(port), "--consent", consent, "--exchange-log", str(log)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=isolated_env(tmp_path / "sim-home"),
    )
    base_url = f"http://127.0.0.1:{port}"
    assert process.stdout is not None
    seen = []
    for line in process.stdout:  # the announcement is the readiness event
        seen.append(line)
        if base_url in line:
            break
    else:
        pytest.fail("segue sim exited without announcing its URL:\n" + "".join(seen))
    return SimProcess(process, base_url, log)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def login_env(home: Path, sim: SimProcess, browser: str, **extra: str) -> dict[str, str]:
    return isolated_env(
        home,
        SEGUE_SPOTIFY_CLIENT_ID=SIM_CLIENT_ID,
        SEGUE_SPOTIFY_API_URL=sim.base_url + "/v1",
        SEGUE_SPOTIFY_ACCOUNTS_URL=sim.base_url,
        SEGUE_SPOTIFY_REDIRECT_URI=f"http://127.0.0.1:{free_port()}/callback",
        BROWSER=browser,
        **extra,
    )


def person_browser(tmp_path: Path) -> str:
    """A BROWSER command that opens the consent page, clicks Agree and follows the redirect."""
    script = tmp_path / "person-browser"
    script.write_text(
        textwrap.dedent(
            f"""\
            #!{sys.executable}
            import re, sys, urllib.parse, urllib.request

            class NoRedirect(urllib.request.HTTPRedirectHandler):
                def redirect_request(self, *args):
                    return None

            page = urllib.request.urlopen(sys.argv[1], timeout=10).read().decode()
            href = re.search(r'<a[^>]*id="agree"[^>]*href="([^"]+)"', page)
            href = href or re.search(r'<a[^>]*href="([^"]+)"[^>]*id="agree"', page)
            agree = urllib.parse.urljoin(sys.argv[1], href.group(1).replace("&amp;", "&"))
            opener = urllib.request.build_opener(NoRedirect)
            try:
                opener.open(agree, timeout=10)
                sys.exit("no redirect after Agree")
            except urllib.error.HTTPError as redirect:
                callback = redirect.headers["Location"]
            print(urllib.request.urlopen(callback, timeout=10).read().decode())
            """
        ),
        encoding="utf-8",
    )
    script.chmod(0o755)
    return str(script)


@pytest.fixture
def sim_ask(tmp_path: Path) -> Iterator[SimProcess]:
    sim = start_sim(tmp_path, "ask")
    yield sim
    stop(sim)


def stop(sim: SimProcess) -> None:
    sim.process.terminate()
    sim.process.wait(timeout=10)
    assert sim.process.returncode in (0, -15), "segue sim did not stop cleanly on SIGTERM"
    validate_exchange_log(sim.exchange_log)


def secrets_seen(sim: SimProcess) -> dict[str, str]:
    """The code, verifier and tokens of the sign-in, read from the simulator's exchange log."""
    found: dict[str, str] = {}
    for ex in sim.exchanges():
        if ex["path"] == "/api/token":
            form = parse_qs(str(ex["request_body"]))
            for key in ("code", "code_verifier"):
                if key in form:
                    found[key] = form[key][0]
            body = json.loads(str(ex["response_body"]))
            for key in ("access_token", "refresh_token"):
                if key in body:
                    found[key] = body[key]
    return found


def segue_files(home: Path) -> list[Path]:
    roots = [
        home / "config" / "segue",
        home / "data" / "segue",
        home / "state" / "segue",
        home / "cache" / "segue",
    ]
    return [p for root in roots if root.exists() for p in root.rglob("*") if p.is_file()]


def run_segue(
    *args: str, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SEGUE, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def stored_refresh_token(home: Path, monkeypatch: pytest.MonkeyPatch) -> str | None:
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    value: str | None = PlaintextKeyring().get_password("segue", "spotify-refresh-token")
    return value


def test_login_through_the_consent_page_then_logout(
    tmp_path: Path, home: Path, sim_ask: SimProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = login_env(home, sim_ask, person_browser(tmp_path))
    done = run_segue("login", env=env)
    assert done.returncode == 0, done.stderr
    assert "Signed in to Spotify as Demo Listener" in done.stdout
    # The sign-in URL is printed on a line of its own, for a browser that did not open.
    assert any(
        line.strip().startswith(sim_ask.base_url + "/authorize?")
        for line in done.stdout.splitlines()
    )

    seen = secrets_seen(sim_ask)
    assert set(seen) == {"code", "code_verifier", "access_token", "refresh_token"}
    assert stored_refresh_token(home, monkeypatch) == seen["refresh_token"]

    files = segue_files(home)
    assert any(p.name == "segue.log" for p in files), "the sign-in was not logged"
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        for name, value in seen.items():
            assert value not in text, f"{name} found in {path}"

    out = run_segue("logout", env=env)
    assert out.returncode == 0 and "Signed out of Spotify" in out.stdout
    assert stored_refresh_token(home, monkeypatch) is None


def test_denied_consent_is_one_sentence_and_stores_nothing(
    tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = start_sim(tmp_path, "deny")
    try:
        env = login_env(home, sim, person_browser_following_redirects(tmp_path))
        done = run_segue("login", env=env)
    finally:
        stop(sim)
    assert done.returncode == 1
    assert "cancelled" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr + done.stdout
    assert stored_refresh_token(home, monkeypatch) is None


def person_browser_following_redirects(tmp_path: Path) -> str:
    script = tmp_path / "redirect-browser"
    script.write_text(
        f"#!{sys.executable}\nimport sys, urllib.request\n"
        "urllib.request.urlopen(sys.argv[1], timeout=10).read()\n",
        encoding="utf-8",
    )
    script.chmod(0o755)
    return str(script)


def test_login_without_a_browser_answer_times_out_clearly(
    tmp_path: Path, home: Path, sim_ask: SimProcess
) -> None:
    env = login_env(home, sim_ask, "true", SEGUE_LOGIN_TIMEOUT_SECONDS="1")
    done = run_segue("login", env=env)
    assert done.returncode == 1
    assert "segue login" in done.stderr and "Traceback" not in done.stderr


def test_login_without_a_client_id_says_where_to_put_it(home: Path) -> None:
    done = run_segue("login", env=isolated_env(home))
    assert done.returncode == 2
    assert "spotify_client_id" in done.stderr and "config.toml" in done.stderr


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.browser
@pytest.mark.skipif(
    CHROMIUM is None, reason="chromium missing (installer/test.sh installs it as root)"
)
def test_login_with_headless_chromium(
    tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A user who approved the app before is sent straight back to the loopback callback.
    sim = start_sim(tmp_path, "approve")
    wrapper = tmp_path / "chromium-headless"
    wrapper.write_text(
        "#!/bin/sh\n"
        f"exec {CHROMIUM} --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
        "--disable-background-networking --disable-component-update --disable-sync "
        f'--user-data-dir="{tmp_path / "chromium-profile"}" --dump-dom "$1" >/dev/null 2>&1\n',
        encoding="utf-8",
    )
    wrapper.chmod(0o755)
    try:
        done = run_segue("login", env=login_env(home, sim, str(wrapper)), timeout=90)
    finally:
        stop(sim)
    assert done.returncode == 0, done.stderr
    assert "Signed in to Spotify as Demo Listener" in done.stdout
    assert stored_refresh_token(home, monkeypatch) == secrets_seen(sim)["refresh_token"]

"""The "Connect Spotify" window on a real X server (Xvfb), clicked and typed into with xdotool."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from keyrings.alt.file import PlaintextKeyring

from assistant.config import load_settings
from assistant.desktop.setup_window import CLIENT_ID_OK, TITLE, open_setup_window
from assistant.secrets import SecretStore
from assistant.setup import CLIENT_ID_FORMAT, DASHBOARD_URL
from assistant.sim import SimulatedSpotify
from tests.fakes.openai_server import FakeOpenAI
from tests.support.desktop import VirtualDesktop

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
FAKE_BROWSER = Path(__file__).with_name("fake_browser.py")
GOOD_ID = "0123456789abcdef0123456789abcdef"


class SetupWindowDriver:
    """The setup window process started with ``--control``; its reports arrive on a queue."""

    def __init__(self, desktop: VirtualDesktop, config_file: Path, env: dict[str, str]) -> None:
        self.desktop = desktop
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "assistant.desktop.setup_window",
                "--control",
                "--config-file",
                str(config_file),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self.seen: list[dict[str, Any]] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.events.put(json.loads(line))
        self.events.put({"type": "<exited>"})

    def wait_for(self, kind: str, timeout: float = 15) -> dict[str, Any]:
        """The next report of type ``kind`` (other reports are kept in ``seen``)."""
        deadline = time.monotonic() + timeout
        while True:
            event = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            self.seen.append(event)
            if event["type"] == kind:
                return event
            assert event["type"] != "<exited>", f"the window exited; reports: {self.seen}"

    def state(self) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write('{"type": "state"}\n')
        self.proc.stdin.flush()
        return self.wait_for("state", timeout=5)

    def wait_state(self, condition: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """Ask for the state until ``condition`` holds (the window answers each X event batch)."""
        deadline = time.monotonic() + 10
        while True:
            state = self.state()
            if condition(state) or time.monotonic() > deadline:
                return state

    def click(self, name: str) -> None:
        x, y, width, height = self.state()["boxes"][name]
        self.desktop.xdotool("mousemove", str(x + width // 2), str(y + height // 2), "click", "1")

    def type_into(self, name: str, text: str) -> None:
        self.click(name)
        self.desktop.xdotool("key", "End")
        self.desktop.xdotool("key", "--repeat", "40", "BackSpace")
        self.desktop.xdotool("type", "--delay", "5", text)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=5)


@pytest.fixture
def desktop(tmp_path: Path) -> Iterator[VirtualDesktop]:
    with VirtualDesktop(tmp_path / "desktop", tray=False, notifications=False) as desk:
        yield desk


def read_clipboard(env: dict[str, str]) -> str:
    """The CLIPBOARD selection as another X client sees it."""
    script = "import tkinter; r = tkinter.Tk(); r.withdraw(); print(r.clipboard_get(), end='')"
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=10
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_window_walks_through_connecting_spotify(
    desktop: VirtualDesktop,
    approving_sim: SimulatedSpotify,
    fake_openai: FakeOpenAI,
    write_config: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config_file = write_config(approving_sim, f'openai_base_url = "{fake_openai.base_url}"\n')
    redirect_uri = load_settings(config_file).spotify_redirect_uri
    browser_log = tmp_path / "browser.log"
    browser = tmp_path / "browser"
    browser.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE_BROWSER}" "$@"\n')
    browser.chmod(0o755)
    data_home = tmp_path / "data"
    env = {
        **os.environ,
        **desktop.env,
        "BROWSER": str(browser),
        "SETUP_BROWSER_LOG": str(browser_log),
        "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring",
        "XDG_DATA_HOME": str(data_home),
    }
    env.pop("WAYLAND_DISPLAY", None)
    fake_openai.error(401)
    window = SetupWindowDriver(desktop, config_file, env)
    try:
        window.wait_for("ready")
        desktop.xdotool("search", "--sync", "--onlyvisible", "--name", "Connect Spotify")
        state = window.state()
        assert state["redirect_uri"] == redirect_uri
        assert state["client_id_message"] == ""

        # A malformed Client ID is pointed out as it is typed.
        window.type_into("client_id", "12345")
        state = window.wait_state(lambda s: s["client_id"] == "12345")
        assert state["client_id_message"] == CLIENT_ID_FORMAT

        # Copy puts the exact redirect URI on the clipboard.
        window.click("copy")
        state = window.wait_state(lambda s: s["copy_status"] != "")
        assert state["copy_status"].startswith("Copied.")
        assert read_clipboard(env) == redirect_uri

        # The dashboard button opens the dashboard in the browser.
        window.click("dashboard")
        deadline = time.monotonic() + 10
        while DASHBOARD_URL not in (browser_log.read_text() if browser_log.exists() else ""):
            assert time.monotonic() < deadline, "the dashboard was not opened"
            time.sleep(0.05)

        # A good Client ID, then Sign in: the browser approves and the sign-in completes.
        window.type_into("client_id", GOOD_ID)
        state = window.wait_state(lambda s: s["client_id"] == GOOD_ID)
        assert state["client_id_message"] == CLIENT_ID_OK
        window.click("sign_in")
        window.wait_for("client_id_saved")
        assert window.wait_for("signed_in", timeout=30)["name"] == "Demo Listener"
        state = window.state()
        assert state["sign_in_status"] == "Signed in to Spotify as Demo Listener."

        # A wrong OpenAI key gets the sentence; Show reveals what was typed.
        window.type_into("openai_key", "sk-wrong")
        window.click("show_key")
        window.click("check_key")
        refused = window.wait_for("openai_key")
        assert not refused["ok"]
        assert refused["message"].startswith("OpenAI refused this API key;")
        state = window.wait_state(lambda s: s["openai_status"] == refused["message"])
        assert state["openai_key_shown"]

        x, y, width, height = state["geometry"]
        desktop.screenshot(ARTIFACTS / "setup-window.png", crop=(x, y, x + width, y + height))

        window.click("done")
        result = window.wait_for("result")
        assert result == {
            "type": "result",
            "client_id_saved": True,
            "signed_in": True,
            "openai_key_saved": False,
        }
        assert window.proc.wait(timeout=5) == 0
    finally:
        window.close()

    assert load_settings(config_file).spotify_client_id == GOOD_ID
    assert "# My Segue settings" in config_file.read_text(encoding="utf-8")
    monkeypatch.setenv("XDG_DATA_HOME", str(data_home))
    stored = SecretStore(PlaintextKeyring())
    assert stored.spotify_refresh_token()
    assert stored.spotify_signed_in_at() is not None
    authorize = [line for line in browser_log.read_text().splitlines() if "/authorize" in line]
    assert len(authorize) == 1 and f"client_id={GOOD_ID}" in authorize[0]


def test_without_a_display_the_window_says_it_cannot_open(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "assistant.desktop.setup_window",
            "--config-file",
            str(tmp_path / "config.toml"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert done.returncode == 1
    message = json.loads(done.stdout)
    assert message["type"] == "error"
    assert message["message"].startswith("The setup window cannot open:")
    assert TITLE.startswith("Connect Spotify")


def test_the_tray_starts_the_window_and_reads_its_result(
    desktop: VirtualDesktop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in desktop.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    proc = open_setup_window(config_file=tmp_path / "config.toml")
    try:
        assert proc.stdout is not None
        assert json.loads(proc.stdout.readline()) == {"type": "ready"}
        window = desktop.xdotool("search", "--sync", "--onlyvisible", "--name", "Connect Spotify")
        desktop.xdotool("windowfocus", "--sync", window)
        desktop.xdotool("key", "Escape")  # closes it, as the window's close button does
        assert json.loads(proc.stdout.readline()) == {
            "type": "result",
            "client_id_saved": False,
            "signed_in": False,
            "openai_key_saved": False,
        }
        assert proc.wait(timeout=5) == 0
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=5)
        if proc.stdout is not None:
            proc.stdout.close()
    assert not (tmp_path / "config.toml").exists()

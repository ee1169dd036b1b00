from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant import __version__
from assistant.cli import main


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["--version"])
    assert stopped.value.code == 0
    assert capsys.readouterr().out.strip() == f"segue {__version__}"


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for command in ("sim", "login", "logout"):
        assert command in out


def env_with_config(tmp_path: Path, text: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SEGUE_", "XDG_"))}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    env["XDG_STATE_HOME"] = str(tmp_path / "state")
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    config = tmp_path / "config" / "segue" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(text, encoding="utf-8")
    return env


def test_python_dash_m_runs_the_same_cli() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "assistant", "--version"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0 and done.stdout.strip() == f"segue {__version__}"


def test_a_bad_config_file_is_one_sentence_and_exit_2(tmp_path: Path) -> None:
    env = env_with_config(tmp_path, "http_timeout_seconds = 'soon'\n")
    done = subprocess.run(
        [sys.executable, "-m", "assistant", "logout"],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "http_timeout_seconds" in done.stderr and "config.toml" in done.stderr
    assert "Traceback" not in done.stderr

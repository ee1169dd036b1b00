"""Start-up faults: the settings file, the log, home and data directories.

A settings file Segue cannot read is one sentence naming it and exit 2; a log or data directory
it cannot write is one sentence on stderr, and the command still runs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.faults.conftest import FaultMatrix, Segue, one_sentence
from tests.support.env import isolated_env


def _invalid_utf8(path: Path) -> None:
    path.write_bytes(b'log_level = "INFO"\n# caf\xe9 \xff\xfe\n')


def _deeply_nested(path: Path) -> None:
    path.write_text("log_level = " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")


def _a_directory(path: Path) -> None:
    path.mkdir()


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        pytest.param(_invalid_utf8, "is not UTF-8 text", id="config-invalid-utf8"),
        pytest.param(
            _deeply_nested, "nests arrays or tables too deeply", id="config-deeply-nested"
        ),
        pytest.param(_a_directory, "Cannot read", id="config-is-a-directory"),
    ],
)
def test_startup_fault(
    make: Callable[[Path], None], expected: str, home: Path, segue: Segue
) -> None:
    env = isolated_env(home)
    config = Path(env["XDG_CONFIG_HOME"]) / "segue" / "config.toml"
    config.parent.mkdir(parents=True)
    make(config)
    done = segue("say", "--demo", "volume 30", env=env)
    said = one_sentence(done.stderr)
    assert expected in said and str(config) in said
    assert done.returncode == 2 and done.stdout == ""


def _log_dir_unwritable(home: Path, unwritable: Path) -> dict[str, str]:
    return {"XDG_STATE_HOME": str(unwritable / "state")}


def _log_dir_is_a_file(home: Path, unwritable: Path) -> dict[str, str]:
    state = home / "state"
    state.mkdir(parents=True, exist_ok=True)
    (state / "segue").write_text("not a directory", encoding="utf-8")
    return {"XDG_STATE_HOME": str(state)}


def _home_read_only(home: Path, unwritable: Path) -> dict[str, str]:
    # Every directory of Segue's (settings, data, log, cache) under a home it cannot write.
    return {
        "HOME": str(unwritable),
        **{
            f"XDG_{kind}_HOME": str(unwritable / kind.lower())
            for kind in ("CONFIG", "DATA", "STATE", "CACHE")
        },
    }


@pytest.mark.parametrize(
    "place",
    [
        pytest.param(_log_dir_unwritable, id="log-dir-unwritable"),
        pytest.param(_log_dir_is_a_file, id="log-dir-is-a-file"),
        pytest.param(_home_read_only, id="home-read-only"),
    ],
)
def test_unwritable_directories_leave_segue_running(
    place: Callable[[Path, Path], dict[str, str]],
    home: Path,
    unwritable: Path,
    segue: Segue,
    matrix: FaultMatrix,
) -> None:
    env = isolated_env(home)
    env.update(place(home, unwritable))
    done = segue("say", "--demo", "volume 30", env=env, replies=1)
    said = one_sentence(done.stderr)
    assert said.startswith("Segue cannot write its log in ") and "without a log file" in said
    assert done.lines == ["Volume 30%."] and done.returncode == 0

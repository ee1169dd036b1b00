"""Segue finds its bundled files in each way it can be installed, and can start its helpers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assistant import resources
from assistant.resources import RUN_MODULE_FLAG, module_command, resources_dir
from assistant.sim.catalog import DEFAULT_CATALOG_PATH, Catalog
from assistant.voice.cues import CUE_FILES, SOUNDS_DIR
from assistant.voice.tts import read_sound

REPO = Path(__file__).resolve().parents[2]


def test_from_source_the_catalog_and_the_cue_sounds_are_found() -> None:
    assert resources_dir() == REPO / "resources"
    assert DEFAULT_CATALOG_PATH == REPO / "resources" / "sim" / "catalog.json"
    catalog = Catalog.load()
    assert catalog.tracks  # the simulator has music to play
    for name in CUE_FILES.values():
        samples, rate = read_sound(SOUNDS_DIR / name)
        assert rate > 0
        assert len(samples) > 0


def test_in_a_pyinstaller_bundle_the_files_come_from_the_bundle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PyInstaller sets sys.frozen and sys._MEIPASS (the unpacked bundle) before any import.
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "segue"))
    assert resources_dir() == tmp_path / "resources"
    assert module_command("assistant.desktop.popup") == [
        str(tmp_path / "segue"),
        RUN_MODULE_FLAG,
        "assistant.desktop.popup",
    ]


def test_from_a_wheel_the_files_come_from_the_package_data(tmp_path: Path) -> None:
    # The layout `pip install` / `pipx install` leaves: no resources/ next to the package, the
    # files copied into assistant/_resources/.
    site = tmp_path / "site-packages"
    package = site / "assistant"
    package.mkdir(parents=True)
    for name in ("__init__.py", "resources.py"):
        shutil.copy(REPO / "assistant" / name, package / name)
    shutil.copytree(REPO / "resources" / "sim", package / "_resources" / "sim")
    probe = "from assistant.resources import resources_dir; print(resources_dir())"
    found = subprocess.run(
        [sys.executable, "-c", probe],
        env={**os.environ, "PYTHONPATH": str(site)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout.strip()
    assert Path(found) == package.resolve() / "_resources"
    assert (Path(found) / "sim" / "catalog.json").is_file()


def test_helpers_run_as_python_modules_from_source() -> None:
    assert module_command("assistant.desktop.popup") == [
        sys.executable,
        "-m",
        "assistant.desktop.popup",
    ]
    assert resources.is_frozen() is False
    with pytest.raises(ValueError, match="Segue's own modules"):
        module_command("os")


def test_the_entry_point_runs_a_helper_module_when_asked() -> None:
    # What a frozen `segue --run-module assistant.desktop.popup` does, through the same entry
    # script: with no display the popup answers with its error line and exits 1.
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    done = subprocess.run(
        [sys.executable, "-m", "assistant", RUN_MODULE_FLAG, "assistant.desktop.popup"],
        input="",
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 1
    message = json.loads(done.stdout.splitlines()[0])
    assert message["type"] == "error"
    assert "cannot open" in message["message"]


def test_the_entry_point_refuses_modules_that_are_not_segue_s() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "assistant", RUN_MODULE_FLAG, "os"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert "Only Segue's own modules" in done.stderr

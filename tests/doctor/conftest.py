"""Helpers for the ``segue doctor`` tests: a clean environment and a way to run the doctor in it.

The doctor runs in a subprocess, as a user would run it: the environment decides what it finds
(no display, no sound server, which keyring backend), and those are read once per process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from keyrings.alt.file import PlaintextKeyring

from assistant.secrets import SecretStore

# Until `segue doctor` is wired into the CLI, the tests start it the way the CLI will.
DOCTOR_ENTRY = (
    "import argparse, sys\n"
    "from assistant import doctor\n"
    "from assistant.config import Paths, load_settings\n"
    "parser = argparse.ArgumentParser(prog='segue doctor')\n"
    "doctor.add_arguments(parser)\n"
    "args = parser.parse_args(sys.argv[1:])\n"
    "paths = Paths.default()\n"
    "sys.exit(doctor.run(args, load_settings(paths.config_file), paths))\n"
)

PLAINTEXT_BACKEND = "keyrings.alt.file.PlaintextKeyring"
FAIL_BACKEND = "keyring.backends.fail.Keyring"


@dataclass
class DoctorRun:
    """One finished ``segue doctor`` run."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def report(self) -> dict[str, Any]:
        """The ``--json`` report."""
        data: dict[str, Any] = json.loads(self.stdout)
        return data

    def check(self, name: str) -> dict[str, Any]:
        """The check called ``name`` in the ``--json`` report."""
        matches = [c for c in self.report["checks"] if c["name"] == name]
        assert len(matches) == 1, f"{name!r} reported {len(matches)} times: {self.stdout}"
        return matches[0]


class CleanEnvironment:
    """A fresh user: temporary HOME and XDG dirs, no display, no sound server, no D-Bus.

    Attributes:
        env: The environment the doctor runs in; tests add to it.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        home = root / "home"
        runtime = root / "run"
        for path in (home, runtime):
            path.mkdir(parents=True)
        runtime.chmod(0o700)
        self.data_home = root / "data"
        self.env: dict[str, str] = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(root / "config"),
            "XDG_DATA_HOME": str(self.data_home),
            "XDG_CACHE_HOME": str(root / "cache"),
            "XDG_STATE_HOME": str(root / "state"),
            "XDG_RUNTIME_DIR": str(runtime),
            "PYTHON_KEYRING_BACKEND": FAIL_BACKEND,
            # No PulseAudio: the default ALSA device then has no sound server behind it.
            "PULSE_SERVER": f"unix:{root / 'no-pulse'}",
        }

    def use_file_keyring(self) -> SecretStore:
        """Make the doctor use a plaintext file keyring; return a store over the same file."""
        self.env["PYTHON_KEYRING_BACKEND"] = PLAINTEXT_BACKEND
        backend = PlaintextKeyring()
        backend.file_path = str(self.data_home / "python_keyring" / "keyring_pass.cfg")
        return SecretStore(backend)

    def run(self, *args: str, timeout: float = 60.0) -> DoctorRun:
        """Run the doctor with ``args`` in this environment."""
        done = subprocess.run(
            [sys.executable, "-c", DOCTOR_ENTRY, *args],
            env=self.env,
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return DoctorRun(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def clean(tmp_path: Path) -> CleanEnvironment:
    """A clean environment for one doctor run."""
    return CleanEnvironment(tmp_path)

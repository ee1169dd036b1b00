"""Environments for `segue` subprocesses: their own home, config, data, state, cache and keyring."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

_DROPPED = (
    "SEGUE_",
    "XDG_CONFIG",
    "XDG_DATA",
    "XDG_STATE",
    "XDG_CACHE",
    "OPENAI_",
    "PYTHON_KEYRING",
)


def isolated_env(home: Path, base: Mapping[str, str] | None = None, **extra: str) -> dict[str, str]:
    """An environment of its own for a `segue` subprocess.

    It is ``base`` (default ``os.environ``) without Segue's, XDG, OpenAI and keyring variables,
    with a fresh HOME and XDG dirs under ``home``, a file keyring there, and ``extra`` on top. No
    OpenAI key is passed on: subprocesses use the fast path and the local speech model unless a
    test sets one.
    """
    env = {
        k: v
        for k, v in (os.environ if base is None else base).items()
        if not k.startswith(
            (
                "SEGUE_",
                "XDG_CONFIG",
                "XDG_DATA",
                "XDG_STATE",
                "XDG_CACHE",
                "OPENAI_",
                "PYTHON_KEYRING",
            )
        )
    }
    dirs = {
        "HOME": home,
        "XDG_CONFIG_HOME": home / "config",
        "XDG_DATA_HOME": home / "data",
        "XDG_STATE_HOME": home / "state",
        "XDG_CACHE_HOME": home / "cache",
    }
    for path in dirs.values():
        path.mkdir(parents=True, exist_ok=True)
    env.update({k: str(v) for k, v in dirs.items()})
    env["PYTHON_KEYRING_BACKEND"] = "keyrings.alt.file.PlaintextKeyring"
    env.update(extra)
    return env

"""Where Segue's bundled files are, and how to start one of its helper processes, in every install.

Segue ships data files (the simulator's catalog, the cue sounds) in the repository's top-level
``resources/`` folder and starts some windows as processes of their own (``python -m
assistant.desktop.popup``). Both depend on how Segue was installed:

- from a source checkout or an editable install, ``resources/`` sits next to the ``assistant``
  package and ``sys.executable`` is a Python interpreter;
- from a wheel (``pipx install .``), the files are package data in ``assistant/_resources/``;
- in a PyInstaller build, they are in ``resources/`` inside the bundle (``sys._MEIPASS``), and
  ``sys.executable`` is the ``segue`` program itself, which runs a helper module when started as
  ``segue --run-module MODULE`` (see ``assistant/__main__.py``).
"""

from __future__ import annotations

import runpy
import sys
from collections.abc import Sequence
from pathlib import Path

RUN_MODULE_FLAG = "--run-module"
"""The hidden first argument that makes a frozen ``segue`` run one of its modules as a program."""

_PACKAGE_DIR = Path(__file__).resolve().parent
_MARKER = Path("sim") / "catalog.json"  # a file every complete resources folder holds


def is_frozen() -> bool:
    """Return whether Segue runs from a PyInstaller build (not from a Python interpreter)."""
    return bool(getattr(sys, "frozen", False))


def resources_dir() -> Path:
    """Return the folder holding Segue's bundled files (``sim/catalog.json``, ``sounds/``...).

    Returns:
        ``resources/`` inside the PyInstaller bundle when frozen; otherwise the repository's
        ``resources/`` next to the package (source checkout, editable install) when it is there,
        else the package data folder ``assistant/_resources/`` of a wheel install. The path is
        returned even when it does not exist; readers report the missing file.
    """
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle is not None:
        return Path(bundle) / "resources"
    source = _PACKAGE_DIR.parent / "resources"
    # The marker check keeps an unrelated top-level "resources" folder in site-packages from
    # being taken for ours.
    if (source / _MARKER).is_file():
        return source
    return _PACKAGE_DIR / "_resources"


def module_command(module: str, *, python: str | None = None) -> list[str]:
    """Return the command that runs one of Segue's modules as a process of its own.

    Args:
        module: A module under ``assistant`` that runs as a program (``python -m``), e.g.
            ``"assistant.desktop.popup"``.
        python: The interpreter to use when not frozen; defaults to ``sys.executable``.

    Returns:
        ``[python, "-m", module]``, or ``[segue, "--run-module", module]`` in a PyInstaller build
        (where ``sys.executable`` is the ``segue`` program and there is no ``-m``).
    """
    _check_module_name(module)
    if is_frozen():
        return [sys.executable, RUN_MODULE_FLAG, module]
    return [python or sys.executable, "-m", module]


def run_module_if_asked(argv: Sequence[str]) -> int | None:
    """Run a helper module as ``__main__`` when ``argv`` starts with ``--run-module MODULE``.

    The frozen ``segue`` program's entry point calls this first. The module runs as
    ``python -m MODULE`` would run it (its ``if __name__ == "__main__":`` block included) and sees
    the arguments after its name as ``sys.argv[1:]``.

    Args:
        argv: The program's arguments without the program name (``sys.argv[1:]``).

    Returns:
        The module's exit status, or None when ``argv`` does not ask for a module.

    Raises:
        ValueError: ``--run-module`` without a module name, or a module outside ``assistant``.
    """
    if not argv or argv[0] != RUN_MODULE_FLAG:
        return None
    if len(argv) < 2:
        raise ValueError(f"{RUN_MODULE_FLAG} needs a module name.")
    module = argv[1]
    _check_module_name(module)
    sys.argv = [sys.argv[0], *argv[2:]]
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except SystemExit as exit_:
        code = exit_.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0


def _check_module_name(module: str) -> None:
    if module != "assistant" and not module.startswith("assistant."):
        raise ValueError(f"Only Segue's own modules can run as helpers, not {module!r}.")

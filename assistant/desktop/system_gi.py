"""PyGObject for the tray's menu, from this environment or else from the system's Python.

pystray's Linux backends with a menu (AppIndicator, GTK) need PyGObject (``gi``). Installed from
PyPI, PyGObject builds from source against the cairo and GObject-introspection headers, so a
plain ``pip install segue`` or ``pipx install segue`` failed on desktops without a compiler and
``libcairo2-dev``/``libgirepository1.0-dev``. Segue therefore installs without it (the ``gtk``
extra builds it, and ``installer/run.sh`` installs that extra with the headers it needs) and,
when this environment has none, uses the one the desktop already has: the distribution's
``python3-gi`` package, which GNOME and KDE systems ship.

Only the ``gi`` package is taken from the system directory (not the whole directory put on
``sys.path``, which would let every other system package shadow a missing one), and only when
its compiled part was built for this interpreter (the same ``EXT_SUFFIX``: CPython version and
platform). Without either, pystray falls back to its xorg backend, whose icon has no menu;
``segue doctor`` says how to get one.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import sys
import sysconfig
from pathlib import Path
from typing import Literal

logger = logging.getLogger(__name__)

__all__ = ["SYSTEM_DIRS", "ensure_gi", "from_system"]

# Where Linux distributions put their Python's packages (Debian/Ubuntu, then Fedora/Arch/openSUSE).
SYSTEM_DIRS: tuple[str, ...] = (
    "/usr/lib/python3/dist-packages",
    f"/usr/lib64/python{sys.version_info.major}.{sys.version_info.minor}/site-packages",
    f"/usr/lib/python{sys.version_info.major}.{sys.version_info.minor}/site-packages",
)

Source = Literal["environment", "system"]


def ensure_gi(dirs: tuple[str, ...] = SYSTEM_DIRS) -> Source | None:
    """Make ``import gi`` work if this environment or the system has a usable PyGObject.

    Args:
        dirs: System package directories to look in, in order.

    Returns:
        Where ``gi`` comes from, or None when there is none to use (not on Linux, or not
        installed, or built for another Python).
    """
    if "gi" in sys.modules:
        return "system" if from_system(sys.modules["gi"]) else "environment"
    if importlib.util.find_spec("gi") is not None:
        return "environment"
    if not sys.platform.startswith("linux"):
        return None
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ""
    for directory in dirs:
        package = Path(directory) / "gi"
        init = package / "__init__.py"
        if not init.is_file() or not suffix or not (package / f"_gi{suffix}").exists():
            continue
        spec = importlib.util.spec_from_file_location(
            "gi", init, submodule_search_locations=[str(package)]
        )
        if spec is None or spec.loader is None:
            continue
        module = importlib.util.module_from_spec(spec)
        sys.modules["gi"] = module
        try:
            spec.loader.exec_module(module)
        except (ImportError, OSError) as err:
            del sys.modules["gi"]
            logger.info("The system's PyGObject in %s cannot be used: %s", directory, err)
            continue
        logger.info("Using the system's PyGObject from %s for the tray's menu", directory)
        return "system"
    return None


def from_system(module: object) -> bool:
    """Whether a loaded ``gi`` module is the system's (see :func:`ensure_gi`)."""
    origin = str(getattr(module, "__file__", None) or "")
    return any(origin.startswith(directory + "/") for directory in SYSTEM_DIRS)

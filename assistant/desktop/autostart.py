r"""``segue autostart on|off|status``: start Segue in the tray when the user logs in.

- Linux (and the BSDs): an XDG autostart entry, ``$XDG_CONFIG_HOME/autostart/segue.desktop``
  (``~/.config`` when the variable is unset or not absolute).
- macOS: a LaunchAgent, ``~/Library/LaunchAgents/com.segue.tray.plist``, loaded at the next login.
- Windows: a per-user Run entry, ``HKCU\Software\Microsoft\Windows\CurrentVersion\Run``,
  value ``Segue``.

The artefacts are built by pure functions (:func:`desktop_entry`, :func:`launch_agent_plist`,
:func:`run_entry`), so each platform's file can be generated and checked anywhere. The command
started is the running ``segue`` console script when there is one, else
``python -m assistant`` with this interpreter; with no subcommand Segue starts quietly in the tray.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import plistlib
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from assistant.config import Paths, Settings

logger = logging.getLogger(__name__)

DESKTOP_FILE_NAME = "segue.desktop"
LAUNCH_AGENT_LABEL = "com.segue.tray"
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
RUN_VALUE_NAME = "Segue"
COMMENT = "Control Spotify by voice or by typing, from the system tray"

# Characters that make an argument need quoting in a desktop entry's Exec key (Desktop Entry
# Specification, "The Exec key").
_EXEC_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")
_EXEC_ESCAPED_IN_QUOTES = set('"`$\\')


def launch_command(
    argv0: str | None = None,
    executable: str | None = None,
    *,
    frozen: bool | None = None,
    platform: str | None = None,
) -> list[str]:
    """The command that starts Segue in the tray, with absolute paths.

    Args:
        argv0: How this process was started (default ``sys.argv[0]``).
        executable: This interpreter (default ``sys.executable``).
        frozen: Whether this is a PyInstaller build (default: ``sys.frozen``).
        platform: ``sys.platform`` to build for (default: this one).

    Returns:
        The running ``segue`` console script (or frozen app) when there is one, else this
        interpreter with ``-m assistant`` (``pythonw.exe`` on Windows, so no console opens).
    """
    argv0 = sys.argv[0] if argv0 is None else argv0
    executable = sys.executable if executable is None else executable
    frozen = bool(getattr(sys, "frozen", False)) if frozen is None else frozen
    platform = sys.platform if platform is None else platform
    if frozen:
        return [str(Path(executable).resolve())]
    script = Path(argv0) if argv0 else None
    if script is not None and script.stem.lower() == "segue" and script.is_file():
        return [str(script.resolve())]
    python = Path(executable)
    if platform == "win32" and python.name.lower() == "python.exe":
        windowless = python.with_name("pythonw.exe")
        if windowless.exists():
            python = windowless
    return [str(python), "-m", "assistant"]


def _exec_argument(arg: str) -> str:
    """One argument of an Exec key: quoted and escaped when it has reserved characters."""
    if arg and not any(c in _EXEC_RESERVED for c in arg):
        return arg.replace("%", "%%")
    inner = "".join("\\" + c if c in _EXEC_ESCAPED_IN_QUOTES else c for c in arg)
    return '"' + inner.replace("%", "%%") + '"'


def exec_line(command: Sequence[str]) -> str:
    r"""The value of a desktop entry's Exec key for ``command``, as written in the file.

    Arguments with reserved characters are double-quoted with ``"`` `` ` `` ``$`` ``\``
    backslash-escaped, ``%`` is doubled (field codes), and then, because Exec is a string value,
    every backslash is escaped once more.
    """
    value = " ".join(_exec_argument(a) for a in command)
    return value.replace("\\", "\\\\")


def desktop_entry(command: Sequence[str], *, icon: str | None = None) -> str:
    """The XDG autostart entry that runs ``command`` at login.

    Args:
        command: The program and its arguments (absolute program path).
        icon: An icon name or an absolute path to a picture; None for a generic one.
    """
    lines = [
        "[Desktop Entry]",
        "Type=Application",
        "Version=1.5",
        "Name=Segue",
        f"Comment={COMMENT}",
        f"Exec={exec_line(command)}",
        f"Icon={icon or 'audio-input-microphone'}",
        "Terminal=false",
        "Categories=AudioVideo;Audio;",
        "StartupNotify=false",
        "X-GNOME-Autostart-enabled=true",
        "",
    ]
    return "\n".join(lines)


def launch_agent_plist(command: Sequence[str]) -> bytes:
    """The macOS LaunchAgent that runs ``command`` once at login (not restarted when it quits)."""
    agent: dict[str, Any] = {
        "Label": LAUNCH_AGENT_LABEL,
        "ProgramArguments": list(command),
        "RunAtLoad": True,
        "KeepAlive": False,
        "ProcessType": "Interactive",
        "LimitLoadToSessionType": "Aqua",
    }
    return plistlib.dumps(agent, fmt=plistlib.FMT_XML)


def run_entry(command: Sequence[str]) -> tuple[str, str]:
    r"""The Windows Run value for ``command``: (value name, command line).

    The program is always double-quoted (a path with spaces would otherwise be split at the first
    space, ``C:\Program`` being run); the arguments follow Windows' quoting rules.
    """
    program, *arguments = command
    line = f'"{program}"'
    if arguments:
        line += " " + subprocess.list2cmdline(arguments)
    return RUN_VALUE_NAME, line


@dataclass(frozen=True)
class AutostartStatus:
    """Whether Segue starts at login.

    Attributes:
        enabled: Whether it does.
        where: The file or registry value that makes it so (or would).
        command: The command it starts, when enabled.
    """

    enabled: bool
    where: str
    command: str | None = None


class Autostart(Protocol):
    """One platform's way of starting Segue at login."""

    def enable(self, command: Sequence[str]) -> AutostartStatus:
        """Start ``command`` at login (replacing an earlier entry)."""
        ...

    def disable(self) -> AutostartStatus:
        """Stop starting Segue at login; nothing happens when it was off."""
        ...

    def status(self) -> AutostartStatus:
        """Whether Segue starts at login."""
        ...


def xdg_config_home(environ: Mapping[str, str], home: Path) -> Path:
    """``$XDG_CONFIG_HOME`` when set to an absolute path, else ``~/.config`` (XDG spec)."""
    value = environ.get("XDG_CONFIG_HOME", "")
    if value and os.path.isabs(value):
        return Path(value)
    return home / ".config"


class XdgAutostart:
    """An XDG autostart entry (GNOME, KDE, XFCE and other freedesktop sessions).

    Args:
        config_home: The XDG config dir; the entry is ``autostart/segue.desktop`` in it.
        icon: The entry's icon (a name or an absolute path).
    """

    def __init__(self, config_home: Path, *, icon: str | None = None) -> None:
        self.path = config_home / "autostart" / DESKTOP_FILE_NAME
        self._icon = icon

    def enable(self, command: Sequence[str]) -> AutostartStatus:
        """Write the entry (atomically)."""
        _write_atomically(self.path, desktop_entry(command, icon=self._icon).encode("utf-8"))
        return self.status()

    def disable(self) -> AutostartStatus:
        """Remove the entry."""
        self.path.unlink(missing_ok=True)
        return self.status()

    def status(self) -> AutostartStatus:
        """On when the entry exists and the session has not been told to skip it."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return AutostartStatus(False, str(self.path))
        keys = _desktop_keys(text)
        # Desktop settings panels turn an entry off with Hidden=true or
        # X-GNOME-Autostart-enabled=false instead of deleting it.
        enabled = (
            keys.get("Hidden", "false").lower() != "true"
            and keys.get("X-GNOME-Autostart-enabled", "true").lower() != "false"
        )
        return AutostartStatus(enabled, str(self.path), keys.get("Exec") if enabled else None)


class LaunchAgentAutostart:
    """A macOS LaunchAgent in ``~/Library/LaunchAgents``.

    Args:
        home: The user's home directory.
    """

    def __init__(self, home: Path) -> None:
        self.path = home / "Library" / "LaunchAgents" / f"{LAUNCH_AGENT_LABEL}.plist"

    def enable(self, command: Sequence[str]) -> AutostartStatus:
        """Write the LaunchAgent; launchd loads it at the next login."""
        _write_atomically(self.path, launch_agent_plist(command))
        return self.status()

    def disable(self) -> AutostartStatus:
        """Remove the LaunchAgent."""
        self.path.unlink(missing_ok=True)
        return self.status()

    def status(self) -> AutostartStatus:
        """On when the LaunchAgent exists and is readable."""
        try:
            agent = plistlib.loads(self.path.read_bytes())
        except FileNotFoundError:
            return AutostartStatus(False, str(self.path))
        except (plistlib.InvalidFileException, ValueError):
            logger.warning("Unreadable LaunchAgent at %s", self.path)
            return AutostartStatus(False, str(self.path))
        arguments = agent.get("ProgramArguments") if isinstance(agent, dict) else None
        command = " ".join(str(a) for a in arguments) if isinstance(arguments, list) else None
        return AutostartStatus(True, str(self.path), command)


class RunKeyAutostart:
    """A value under the current user's Run key in the Windows registry."""

    where = f"HKEY_CURRENT_USER\\{RUN_KEY}\\{RUN_VALUE_NAME}"

    def enable(self, command: Sequence[str]) -> AutostartStatus:
        """Write the Run value."""
        winreg = _winreg()
        name, value = run_entry(command)
        with winreg.CreateKeyEx(winreg.HKEY_CURRENT_USER, RUN_KEY, 0, winreg.KEY_SET_VALUE) as key:
            winreg.SetValueEx(key, name, 0, winreg.REG_SZ, value)
        return self.status()

    def disable(self) -> AutostartStatus:
        """Delete the Run value."""
        winreg = _winreg()
        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY, 0, winreg.KEY_SET_VALUE) as key:
                winreg.DeleteValue(key, RUN_VALUE_NAME)
        except FileNotFoundError:
            pass
        return self.status()

    def status(self) -> AutostartStatus:
        """On when the Run value exists."""
        winreg = _winreg()
        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY, 0, winreg.KEY_READ) as key:
                value, _kind = winreg.QueryValueEx(key, RUN_VALUE_NAME)
        except FileNotFoundError:
            return AutostartStatus(False, self.where)
        return AutostartStatus(True, self.where, str(value))


def _winreg() -> Any:
    # Imported by name: the module exists only on Windows.
    return importlib.import_module("winreg")


def for_platform(
    platform: str | None = None,
    environ: Mapping[str, str] | None = None,
    home: Path | None = None,
    *,
    icon: str | None = None,
) -> Autostart:
    """The autostart mechanism of ``platform`` (default: this one)."""
    platform = sys.platform if platform is None else platform
    env = os.environ if environ is None else environ
    home = Path.home() if home is None else home
    if platform == "darwin":
        return LaunchAgentAutostart(home)
    if platform in ("win32", "cygwin"):
        return RunKeyAutostart()
    return XdgAutostart(xdg_config_home(env, home), icon=icon)


def _desktop_keys(text: str) -> dict[str, str]:
    """The keys of the [Desktop Entry] group (values as written, case kept)."""
    keys: dict[str, str] = {}
    in_group = False
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("["):
            in_group = line == "[Desktop Entry]"
        elif in_group and "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            keys[key.strip()] = value.strip()
    return keys


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(data)
    os.replace(partial, path)


def _icon_file(paths: Paths) -> str | None:
    """Segue's idle tray picture as a PNG in the data dir, for the autostart entry."""
    try:
        from assistant.desktop.icons import draw_icon
        from assistant.desktop.state import UiState

        target = paths.data_dir / "segue.png"
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            draw_icon(UiState.IDLE, 128).save(target, format="PNG")
        return str(target)
    except (OSError, ValueError, ImportError):
        logger.info("No icon file for the autostart entry")
        return None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``segue autostart``'s arguments to its subparser."""
    parser.add_argument(
        "action",
        choices=("on", "off", "status"),
        help="on: start Segue in the tray at login; off: stop that; status: say which",
    )


def run(args: argparse.Namespace, settings: Settings, paths: Paths) -> int:
    """Run ``segue autostart on|off|status`` and say where the entry is.

    Returns:
        0; status exits 0 whether autostart is on or off.
    """
    icon = _icon_file(paths) if args.action == "on" and sys.platform.startswith("linux") else None
    autostart = for_platform(icon=icon)
    if args.action == "on":
        command = launch_command()
        state = autostart.enable(command)
        logger.info("Autostart turned on at %s", state.where)
        print(f"Segue will start in the tray at login ({state.where}).")
    elif args.action == "off":
        was_on = autostart.status().enabled
        state = autostart.disable()
        print(
            f"Segue will no longer start at login (removed {state.where})."
            if was_on
            else "Autostart was already off."
        )
    else:
        state = autostart.status()
        if state.enabled:
            print(f"Autostart is on: {state.where} runs {state.command}")
        else:
            print(f"Autostart is off ({state.where}).")
    return 0

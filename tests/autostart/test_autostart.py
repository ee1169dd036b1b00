"""``segue autostart``: the XDG entry for real under a temporary HOME.

The macOS and Windows artefacts are generated here and parsed back.
"""

from __future__ import annotations

import argparse
import configparser
import plistlib
import subprocess
import sys
from pathlib import Path

import pytest

from assistant import __version__
from assistant.config import Paths, Settings
from assistant.desktop import autostart


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary HOME with XDG_CONFIG_HOME unset."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    return home


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    return Paths(
        config_dir=tmp_path / "config" / "segue",
        data_dir=tmp_path / "data" / "segue",
        cache_dir=tmp_path / "cache" / "segue",
        log_dir=tmp_path / "state" / "segue",
    )


def _segue_autostart(action: str, paths: Paths, capsys: pytest.CaptureFixture[str]) -> str:
    parser = argparse.ArgumentParser(prog="segue autostart")
    autostart.add_arguments(parser)
    assert autostart.run(parser.parse_args([action]), Settings(), paths) == 0
    return capsys.readouterr().out


def _read_entry(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment, method-assign]  # keys are case-sensitive
    parser.read_string(path.read_text(encoding="utf-8"))
    return parser["Desktop Entry"]


def _exec_argv(value: str) -> list[str]:
    """The argv a desktop session runs for an Exec value read from the file.

    Follows the Desktop Entry Specification: first the string-value escape (a doubled
    backslash is one), then the Exec quoting (double quotes, inside which a backslash escapes the
    next character), then a doubled percent sign is one.
    """
    text = value.replace("\\\\", "\\")
    argv: list[str] = []
    current: list[str] | None = None
    index = 0
    while index < len(text):
        char = text[index]
        if char == " ":
            if current is not None:
                argv.append("".join(current))
                current = None
        elif char == '"':
            current = current if current is not None else []
            index += 1
            while text[index] != '"':
                if text[index] == "\\":
                    index += 1
                current.append(text[index])
                index += 1
        else:
            current = current if current is not None else []
            current.append(char)
        index += 1
    if current is not None:
        argv.append("".join(current))
    return [arg.replace("%%", "%") for arg in argv]


def test_on_status_off_with_a_real_entry(
    home: Path, paths: Paths, capsys: pytest.CaptureFixture[str]
) -> None:
    entry_path = home / ".config" / "autostart" / "segue.desktop"
    assert "Autostart is off" in _segue_autostart("status", paths, capsys)

    out = _segue_autostart("on", paths, capsys)

    assert str(entry_path) in out
    entry = _read_entry(entry_path)
    assert entry["Type"] == "Application"
    assert entry["Name"] == "Segue"
    assert entry["Terminal"] == "false"
    assert entry["X-GNOME-Autostart-enabled"] == "true"
    assert Path(entry["Icon"]).is_file()
    argv = _exec_argv(entry["Exec"])
    assert argv == [sys.executable, "-m", "assistant"]  # pytest is not the segue script
    # What the session will start really is Segue.
    version = subprocess.run(
        [*argv, "--version"], capture_output=True, text=True, timeout=30, check=True
    )
    assert version.stdout.strip() == f"segue {__version__}"
    status = _segue_autostart("status", paths, capsys)
    assert status.startswith(f"Autostart is on: {entry_path} runs ")

    # Turning it on again rewrites the same single entry.
    _segue_autostart("on", paths, capsys)
    assert [p.name for p in entry_path.parent.iterdir()] == ["segue.desktop"]

    assert str(entry_path) in _segue_autostart("off", paths, capsys)
    assert not entry_path.exists()
    assert _segue_autostart("off", paths, capsys).strip() == "Autostart was already off."
    assert "Autostart is off" in _segue_autostart("status", paths, capsys)


def test_xdg_config_home_is_respected(
    home: Path,
    tmp_path: Path,
    paths: Paths,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config_home = tmp_path / "xdg-config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config_home))

    _segue_autostart("on", paths, capsys)

    assert (config_home / "autostart" / "segue.desktop").is_file()
    assert not (home / ".config").exists()


def test_entry_turned_off_by_the_desktop_counts_as_off(home: Path) -> None:
    entry = autostart.XdgAutostart(home / ".config")
    entry.enable(["/usr/bin/segue"])
    text = entry.path.read_text(encoding="utf-8")
    entry.path.write_text(text + "Hidden=true\n", encoding="utf-8")

    assert entry.status().enabled is False


def test_console_script_with_spaces_round_trips_through_exec(tmp_path: Path) -> None:
    script = tmp_path / "my apps" / "bin" / "segue"
    script.parent.mkdir(parents=True)
    script.write_text("#!/bin/sh\n", encoding="utf-8")

    command = autostart.launch_command(argv0=str(script), executable="/usr/bin/python3")

    assert command == [str(script.resolve())]
    tricky = [*command, "--demo", 'say "hi" $HOME 100%']
    text = autostart.desktop_entry(tricky)
    path = tmp_path / "segue.desktop"
    path.write_text(text, encoding="utf-8")
    assert _exec_argv(_read_entry(path)["Exec"]) == tricky


def test_macos_launch_agent_parses_back(tmp_path: Path) -> None:
    command = ["/Applications/Segue.app/Contents/MacOS/segue"]
    agent = plistlib.loads(autostart.launch_agent_plist(command))
    assert agent["Label"] == "com.segue.tray"
    assert agent["ProgramArguments"] == command
    assert agent["RunAtLoad"] is True
    assert agent["KeepAlive"] is False

    mac = autostart.for_platform("darwin", {}, tmp_path)
    state = mac.enable(command)
    path = tmp_path / "Library" / "LaunchAgents" / "com.segue.tray.plist"
    assert (state.enabled, state.where) == (True, str(path))
    with path.open("rb") as fh:
        assert plistlib.load(fh)["ProgramArguments"] == command
    assert mac.disable().enabled is False
    assert not path.exists()


def test_windows_run_entry_is_quoted() -> None:
    exe = r"C:\Program Files\Segue\segue.exe"
    assert autostart.run_entry([exe]) == ("Segue", f'"{exe}"')
    python = r"C:\Users\Ann Lee\AppData\Local\Programs\Python\Python311\pythonw.exe"
    name, value = autostart.run_entry([python, "-m", "assistant"])
    assert (name, value) == ("Segue", f'"{python}" -m assistant')


def test_windows_command_uses_pythonw(tmp_path: Path) -> None:
    python = tmp_path / "python.exe"
    python.write_bytes(b"")
    (tmp_path / "pythonw.exe").write_bytes(b"")

    command = autostart.launch_command(argv0="", executable=str(python), platform="win32")

    assert command == [str(tmp_path / "pythonw.exe"), "-m", "assistant"]


def test_frozen_app_starts_itself() -> None:
    command = autostart.launch_command(argv0="segue", executable="/opt/segue/segue", frozen=True)
    assert command == ["/opt/segue/segue"]

"""``segue doctor``: every check, in a clean environment, failing one by one, and healthy."""

from __future__ import annotations

import json
import re
import socket
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from assistant import doctor
from assistant.errors import ModelKeyRefused
from assistant.secrets import SPOTIFY_SIGNED_IN_AT, SecretStore
from assistant.sim import SIM_CLIENT_ID, SimulatedSpotify
from tests.doctor.conftest import CleanEnvironment
from tests.fakes.openai_server import FakeOpenAI


def _connect(clean: CleanEnvironment, sim: SimulatedSpotify) -> SecretStore:
    """Configure the simulated Spotify's app; return the (empty) file keyring the doctor reads."""
    clean.env.update(
        {
            "SEGUE_SPOTIFY_CLIENT_ID": SIM_CLIENT_ID,
            "SEGUE_SPOTIFY_API_URL": sim.api_url,
            "SEGUE_SPOTIFY_ACCOUNTS_URL": sim.accounts_url,
        }
    )
    return clean.use_file_keyring()


def _sign_in(clean: CleanEnvironment, sim: SimulatedSpotify) -> SecretStore:
    secrets = _connect(clean, sim)
    secrets.save_spotify_refresh_token(sim.sign_in()["refresh_token"], new_sign_in=True)
    return secrets


def test_clean_environment_reports_every_check_and_fails(clean: CleanEnvironment) -> None:
    run = clean.run("--json")

    assert run.returncode == 1, run.stderr
    report = run.report
    assert report["ok"] is False
    assert [c["name"] for c in report["checks"]] == list(doctor.CHECK_NAMES)
    statuses = {c["name"]: c["status"] for c in report["checks"]}
    assert statuses == {
        doctor.SYSTEM: "ok",
        doctor.INPUT_DEVICES: "fail",
        doctor.MICROPHONE_LEVEL: "warn",
        doctor.HOTKEY: "warn",
        doctor.TRAY: "fail",
        doctor.NOTIFICATIONS: "warn",
        doctor.KEYRING: "fail",
        doctor.SPOTIFY_ACCOUNT: "warn",
        doctor.SPOTIFY_SIGN_IN: "warn",
        doctor.SPOTIFY_PREMIUM: "warn",
        doctor.SPOTIFY_DEVICES: "warn",
        doctor.LOCAL_CONTROL: "warn",  # no session bus, so no Spotify app to reach
        doctor.OPENAI: "warn",
        doctor.LOCAL_SPEECH: "ok",
        doctor.MCP_SERVER: "ok",
    }
    assert run.check(doctor.SYSTEM)["detail"].startswith("Linux")
    assert "Python 3." in run.check(doctor.SYSTEM)["detail"]
    assert run.check(doctor.INPUT_DEVICES)["fix"] == doctor.NO_MICROPHONE_FIX
    assert run.check(doctor.TRAY)["detail"] == "no display"
    assert run.check(doctor.TRAY)["fix"] == doctor.NO_DISPLAY_FIX
    assert "segue listen" in run.check(doctor.HOTKEY)["fix"]
    assert run.check(doctor.NOTIFICATIONS)["fix"] == doctor.NOTIFICATIONS_FIX
    assert run.check(doctor.KEYRING)["fix"] == doctor.KEYRING_FAIL_FIX
    assert run.check(doctor.SPOTIFY_ACCOUNT)["detail"] == "no account: demo mode"
    assert "segue setup" in run.check(doctor.SPOTIFY_ACCOUNT)["fix"]
    assert run.check(doctor.OPENAI)["detail"] == "no key: fast path and local speech only"
    assert run.check(doctor.OPENAI)["fix"] == doctor.NO_OPENAI_KEY_FIX
    # `segue mcp` started as a host starts it, and the host's settings for it are shown.
    mcp = run.check(doctor.MCP_SERVER)["detail"]
    started = r"`segue mcp` lists \d+ tools after \d+\.\d s; in an MCP host's settings: "
    assert re.match(started, mcp), mcp
    host = json.loads(mcp.split("settings: ", 1)[1])
    segue = Path(sys.executable).with_name("segue")
    assert host == {"mcpServers": {"segue": {"command": str(segue), "args": ["mcp"]}}}
    for check in report["checks"]:
        if check["status"] == "ok":
            assert check["fix"] is None
        else:
            assert check["fix"] and check["fix"].endswith("."), check


def test_table_shows_marks_aligned_and_the_fixes_below(clean: CleanEnvironment) -> None:
    run = clean.run()

    assert run.returncode == 1, run.stderr
    table, fixes = run.stdout.split("\nTo fix:\n")
    rows = table.strip().splitlines()
    assert len(rows) == len(doctor.CHECK_NAMES)
    assert rows[0].startswith("✓ System ")
    assert any(row.startswith("✗ Tray icon ") for row in rows)
    assert any(row.startswith("! OpenAI ") for row in rows)
    # Every detail starts in the same column.
    width = max(len(name) for name in doctor.CHECK_NAMES)
    for row, name in zip(rows, doctor.CHECK_NAMES, strict=True):
        assert row[2 : 2 + width].rstrip() == name
        assert row[2 + width : 4 + width] == "  " and row[4 + width] != " "
    assert f"✗ Tray icon: {doctor.NO_DISPLAY_FIX}" in fixes
    assert f"✗ Keyring: {doctor.KEYRING_FAIL_FIX}" in fixes
    assert "failed" in fixes.strip().splitlines()[-1]


def test_plaintext_keyring_is_a_warning(clean: CleanEnvironment) -> None:
    clean.use_file_keyring()

    keyring_check = clean.run("--json").check(doctor.KEYRING)

    assert keyring_check["status"] == "warn"
    assert keyring_check["detail"].startswith("plaintext file")
    assert keyring_check["fix"] == doctor.KEYRING_PLAINTEXT_FIX


def test_not_signed_in_fails_and_skips_premium_and_devices(
    clean: CleanEnvironment, sim: SimulatedSpotify
) -> None:
    _connect(clean, sim)

    run = clean.run("--json")

    assert run.returncode == 1
    assert run.check(doctor.SPOTIFY_ACCOUNT)["status"] == "ok"
    sign_in = run.check(doctor.SPOTIFY_SIGN_IN)
    assert (sign_in["status"], sign_in["detail"], sign_in["fix"]) == (
        "fail",
        "not signed in",
        doctor.SIGN_IN_FIX,
    )
    for name in (doctor.SPOTIFY_PREMIUM, doctor.SPOTIFY_DEVICES):
        assert run.check(name)["status"] == "warn"
        assert run.check(name)["detail"] == "not checked: not signed in"
    assert [e.path for e in sim.exchanges] == []  # nothing to ask Spotify without a sign-in


def test_signed_in_against_the_simulator_is_healthy(
    clean: CleanEnvironment, sim: SimulatedSpotify, fake_openai: FakeOpenAI
) -> None:
    _sign_in(clean, sim)
    fake_openai.chat("OK")
    clean.env.update({"OPENAI_API_KEY": "sk-test", "SEGUE_OPENAI_BASE_URL": fake_openai.base_url})

    run = clean.run("--json")

    for name in (
        doctor.SPOTIFY_ACCOUNT,
        doctor.SPOTIFY_SIGN_IN,
        doctor.SPOTIFY_PREMIUM,
        doctor.SPOTIFY_DEVICES,
        doctor.OPENAI,
        doctor.LOCAL_SPEECH,
    ):
        assert run.check(name)["status"] == "ok", run.check(name)
    assert "Demo Listener" in run.check(doctor.SPOTIFY_SIGN_IN)["detail"]
    devices = run.check(doctor.SPOTIFY_DEVICES)["detail"]
    assert f"this computer's player: {socket.gethostname()}" in devices
    assert "Pixel 8 (Smartphone)" in devices
    assert run.check(doctor.OPENAI)["detail"].startswith("gpt-5.4-mini at http://127.0.0.1:")
    # The Premium probe changed nothing: no device became active, nothing plays.
    assert sim.snapshot()["active_device_id"] is None
    assert sim.snapshot()["is_playing"] is False


def test_sign_in_two_weeks_before_expiry_warns(
    clean: CleanEnvironment, sim: SimulatedSpotify
) -> None:
    secrets = _sign_in(clean, sim)
    five_months_ago = doctor._add_months(datetime.now(UTC), -5)
    signed_in_at = five_months_ago - timedelta(days=20)
    secrets.set(SPOTIFY_SIGNED_IN_AT, signed_in_at.isoformat(timespec="seconds"))

    sign_in = clean.run("--json").check(doctor.SPOTIFY_SIGN_IN)

    assert sign_in["status"] == "warn"
    expiry = doctor.sign_in_expiry(signed_in_at)
    assert f"expires {expiry:%Y-%m-%d}" in sign_in["detail"]
    assert "segue login" in sign_in["fix"]


def test_no_premium_fails(clean: CleanEnvironment, sim: SimulatedSpotify) -> None:
    _sign_in(clean, sim)
    sim.set_user_status("segue-demo", premium=False)

    run = clean.run("--json")

    premium = run.check(doctor.SPOTIFY_PREMIUM)
    assert premium["status"] == "fail"
    assert premium["detail"] == "Controlling playback needs Spotify Premium."
    assert premium["fix"] == doctor.PREMIUM_FIX
    assert run.returncode == 1


def test_refused_openai_key_fails_with_the_key_sentence(
    clean: CleanEnvironment, fake_openai: FakeOpenAI
) -> None:
    fake_openai.error(401)
    clean.env.update({"OPENAI_API_KEY": "sk-wrong", "SEGUE_OPENAI_BASE_URL": fake_openai.base_url})

    run = clean.run("--json")

    check = run.check(doctor.OPENAI)
    assert check["status"] == "fail"
    assert check["detail"] == f"the key was refused at {fake_openai.base_url}"
    assert check["fix"] == ModelKeyRefused.default_message
    assert run.returncode == 1


def test_missing_local_model_fails_when_it_is_the_one_in_use(
    clean: CleanEnvironment, tmp_path: Path
) -> None:
    missing = tmp_path / "models" / "whisper-small"
    clean.env["SEGUE_LOCAL_STT_MODEL"] = str(missing)

    check = clean.run("--json").check(doctor.LOCAL_SPEECH)

    assert check["status"] == "fail"
    assert check["detail"] == f"no model at {missing}"
    assert "local_stt_model" in check["fix"]


def test_sign_in_expiry_is_six_calendar_months_later() -> None:
    assert doctor.sign_in_expiry(datetime(2026, 8, 31, 9, 0, tzinfo=UTC)) == datetime(
        2027, 2, 28, 9, 0, tzinfo=UTC
    )
    assert doctor.sign_in_expiry(datetime(2026, 1, 15, tzinfo=UTC)) == datetime(
        2026, 7, 15, tzinfo=UTC
    )


def test_desktop_checks_pass_on_a_virtual_desktop(clean: CleanEnvironment, tmp_path: Path) -> None:
    from tests.support.desktop import VirtualDesktop

    with VirtualDesktop(tmp_path / "desktop", audio=True) as desktop:
        clean.env.update(desktop.env)
        run = clean.run("--json")

    devices = run.check(doctor.INPUT_DEVICES)
    assert devices["status"] == "ok", devices
    # The virtual microphone hears nothing: a silent microphone is a warning with its fix.
    level = run.check(doctor.MICROPHONE_LEVEL)
    assert (level["status"], level["fix"]) == ("warn", doctor.SILENT_FIX), level
    assert level["detail"].startswith("silent: peak level 0.00 in 1 s from ")
    hotkey = run.check(doctor.HOTKEY)
    assert hotkey["status"] == "ok", hotkey
    assert hotkey["detail"] == f"<ctrl>+<alt>+<space> on X11 display {desktop.display}"
    tray = run.check(doctor.TRAY)
    assert tray["status"] == "ok", tray
    assert "with a menu" in tray["detail"]
    notifications = run.check(doctor.NOTIFICATIONS)
    assert notifications["status"] == "ok", notifications
    assert notifications["detail"].startswith("dunst ")

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from assistant.logs import configure_logging, redact


@pytest.mark.parametrize(
    "line",
    [
        "Headers: {'Authorization': 'Bearer BQDx9-abc_DEF.123'}",
        "POST body grant_type=refresh_token&refresh_token=AQBx-secret_9&client_id=abc",
        '{"access_token": "BQDx9abc", "token_type": "Bearer"}',
        "GET /callback?code=AQCsecretcode123&state=xyz",
        "code_verifier=verysecretverifier",
        "using key sk-proj-abcdefghijklmnop",
    ],
)
def test_redact_removes_every_secret(line: str) -> None:
    cleaned = redact(line)
    for secret in ("BQDx9", "AQBx-secret_9", "AQCsecretcode123", "verysecretverifier", "sk-proj"):
        assert secret not in cleaned
    assert "<redacted>" in cleaned


def test_redact_keeps_ordinary_text() -> None:
    line = "Spotify answered 404 NO_ACTIVE_DEVICE for PUT /v1/me/player/play"
    assert redact(line) == line


def test_log_file_never_holds_a_token_even_from_libraries(tmp_path: Path) -> None:
    path = configure_logging(tmp_path / "logs", "DEBUG")
    logging.getLogger("assistant.test").info("refresh_token=%s", "AQBsecret")
    logging.getLogger("spotipy.client").warning(
        "Headers: %s", {"Authorization": "Bearer BQDsecret"}
    )
    try:
        raise ValueError("access_token: BQDsecret2")
    except ValueError:
        logging.getLogger("assistant.test").exception("failed")
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = path.read_text(encoding="utf-8")
    assert "failed" in text and "Traceback" in text
    assert "AQBsecret" not in text and "BQDsecret" not in text


def test_gtk_messages_go_to_the_log_and_never_to_the_terminal(tmp_path: Path) -> None:
    # GTK reports its assertions through GLib's log, which prints on stderr unless routed: a
    # real GLib message (g_log from libglib itself) in a process that routes them.
    script = textwrap.dedent(
        """
        import ctypes, ctypes.util, sys
        from pathlib import Path
        from assistant.logs import configure_logging, route_glib_messages
        configure_logging(Path(sys.argv[1]))
        assert route_glib_messages()
        glib = ctypes.CDLL(ctypes.util.find_library("glib-2.0"))
        G_LOG_LEVEL_CRITICAL = 1 << 3
        glib.g_log(b"Gdk", G_LOG_LEVEL_CRITICAL, b"%s", b"gdk_window_thaw_toplevel_updates: "
                   b"assertion 'window->update_and_descendants_freeze_count > 0' failed")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == "" and done.stdout == ""
    log = (tmp_path / "segue.log").read_text(encoding="utf-8")
    assert "glib: Gdk-CRITICAL: gdk_window_thaw_toplevel_updates: assertion" in log

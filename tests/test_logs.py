from __future__ import annotations

import logging
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

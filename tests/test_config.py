from __future__ import annotations

from pathlib import Path

import pytest

from assistant.config import Settings, load_settings
from assistant.errors import ConfigError

CLIENT_ID = "0123456789abcdef0123456789ABCDEF"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_a_file_mean_demo_mode(tmp_path: Path) -> None:
    settings = load_settings(tmp_path / "missing.toml", environ={})
    assert settings == Settings()
    assert settings.demo
    assert settings.spotify_redirect_uri.startswith("http://127.0.0.1:")
    assert settings.spotify_api_url == "https://api.spotify.com/v1"


def test_file_values_are_read_and_typed(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f'spotify_client_id = "{CLIENT_ID}"\nhttp_timeout_seconds = 3\n'
        'spotify_api_url = "http://127.0.0.1:9000/v1/"\n',
    )
    settings = load_settings(path, environ={})
    assert settings.spotify_client_id == CLIENT_ID.lower()
    assert not settings.demo
    assert settings.http_timeout_seconds == 3.0
    assert settings.spotify_api_url == "http://127.0.0.1:9000/v1"


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "device_wait_seconds = 20\n")
    settings = load_settings(path, environ={"SEGUE_DEVICE_WAIT_SECONDS": "7.5"})
    assert settings.device_wait_seconds == 7.5


def test_unknown_key_names_the_key_and_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "push_to_talk_key = 'f9'\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert "push_to_talk_key" in caught.value.user_message
    assert str(path) in caught.value.user_message


def test_a_secret_in_the_file_is_refused_with_a_pointer_to_the_keyring(tmp_path: Path) -> None:
    path = write(tmp_path, "spotify_refresh_token = 'AQD...'\n")
    with pytest.raises(ConfigError, match="keyring"):
        load_settings(path, environ={})


@pytest.mark.parametrize(
    ("text", "key", "reason"),
    [
        ("http_timeout_seconds = 'soon'", "http_timeout_seconds", "number"),
        ("spotify_client_id = 'not-an-id'", "spotify_client_id", "32 hexadecimal"),
        (
            "spotify_redirect_uri = 'http://localhost:8974/callback'",
            "spotify_redirect_uri",
            "localhost",
        ),
        ("spotify_redirect_uri = 'http://127.0.0.1/callback'", "spotify_redirect_uri", "port"),
        ("log_level = 'LOUD'", "log_level", "DEBUG"),
    ],
)
def test_bad_values_get_one_sentence_naming_key_and_file(
    tmp_path: Path, text: str, key: str, reason: str
) -> None:
    path = write(tmp_path, text + "\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    message = caught.value.user_message
    assert key in message and str(path) in message and reason in message
    assert "\n" not in message


def test_bad_environment_value_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SEGUE_HTTP_TIMEOUT_SECONDS"):
        load_settings(tmp_path / "none.toml", environ={"SEGUE_HTTP_TIMEOUT_SECONDS": "-1"})


def test_broken_toml_is_reported_with_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "spotify_client_id = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(path, environ={})

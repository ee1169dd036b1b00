"""`segue setup` in a terminal, driven with scripted stdin against the simulator and fake OpenAI."""

from __future__ import annotations

import argparse
import io
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from assistant.config import Paths, load_settings
from assistant.errors import ConfigError, ModelKeyRefused, ModelUnavailable
from assistant.secrets import OPENAI_API_KEY, SecretStore
from assistant.setup import (
    CLIENT_ID_FORMAT,
    DASHBOARD_URL,
    add_arguments,
    check_openai_key,
    interactive_setup,
    run,
    save_client_id,
    validate_client_id,
)
from assistant.sim import SimulatedSpotify
from tests.auth.support import FakeBrowser, free_port
from tests.fakes.openai_server import FakeOpenAI

GOOD_ID = "0123456789ABCDEF0123456789abcdef"
SAVED_ID = GOOD_ID.lower()
WriteConfig = Callable[..., Path]


def feed(monkeypatch: pytest.MonkeyPatch, *lines: str) -> None:
    """Pipe these answers into stdin (not a terminal), one per line."""
    monkeypatch.setattr("sys.stdin", io.StringIO("".join(line + "\n" for line in lines)))


def paths_for(config_file: Path) -> Paths:
    base = config_file.parent
    return Paths(config_dir=base, data_dir=base / "data", cache_dir=base / "cache", log_dir=base)


def test_client_id_format_is_checked_with_one_sentence() -> None:
    assert validate_client_id(f"  {GOOD_ID}\n") == SAVED_ID
    for bad in ("abc", "z" * 32, GOOD_ID + "0", ""):
        with pytest.raises(ConfigError) as caught:
            validate_client_id(bad)
        assert CLIENT_ID_FORMAT in caught.value.user_message


def test_saving_the_client_id_keeps_comments_and_other_settings(tmp_path: Path) -> None:
    config_file = tmp_path / "config.toml"
    config_file.write_text(
        '# mine\nspotify_client_id = "ffffffffffffffffffffffffffffffff"  # old app\n'
        "notifications = false\n",
        encoding="utf-8",
    )
    save_client_id(config_file, GOOD_ID)
    text = config_file.read_text(encoding="utf-8")
    assert text == f'# mine\nspotify_client_id = "{SAVED_ID}"\nnotifications = false\n'
    assert load_settings(config_file, environ={}).spotify_client_id == SAVED_ID

    fresh = tmp_path / "new" / "config.toml"
    save_client_id(fresh, GOOD_ID)
    assert tomllib.loads(fresh.read_text(encoding="utf-8")) == {"spotify_client_id": SAVED_ID}

    broken = tmp_path / "broken.toml"
    broken.write_text("notifications = \n", encoding="utf-8")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        save_client_id(broken, GOOD_ID)
    assert broken.read_text(encoding="utf-8") == "notifications = \n"


def test_setup_saves_the_id_signs_in_and_stores_the_openai_key(
    sim: SimulatedSpotify,
    write_config: WriteConfig,
    secrets: SecretStore,
    fake_openai: FakeOpenAI,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config_file = write_config(sim, f'openai_base_url = "{fake_openai.base_url}"\n')
    before = tomllib.loads(config_file.read_text(encoding="utf-8"))
    fake_openai.error(401)

    def small_request(body: dict[str, Any]) -> None:
        assert body["model"] == "gpt-5.4-mini"
        assert body["max_completion_tokens"] <= 16

    fake_openai.chat("OK", check=small_request)
    feed(monkeypatch, "not-an-id", GOOD_ID, "", "sk-wrong", "sk-right")  # Enter: sign in
    browser = FakeBrowser("agree")

    status = interactive_setup(
        load_settings(config_file),
        config_file=config_file,
        secrets_factory=lambda: secrets,
        open_browser=browser,
    )

    out = capsys.readouterr().out
    assert status == 0, out
    assert DASHBOARD_URL in out
    assert before["spotify_redirect_uri"] in out  # the exact URI to register
    assert "development mode" in out and "Premium" in out
    assert out.count(CLIENT_ID_FORMAT) == 1  # the bad ID got the sentence once
    text = config_file.read_text(encoding="utf-8")
    assert text.startswith("# My Segue settings\n")
    assert "http_timeout_seconds = 5  # seconds\n" in text
    assert tomllib.loads(text) == {**before, "spotify_client_id": SAVED_ID}
    # Signed in through the consent page: the refresh token is in the keyring.
    assert browser.result().status_code == 200
    assert secrets.spotify_refresh_token()
    assert secrets.spotify_signed_in_at() is not None
    assert "Signed in to Spotify as Demo Listener." in out
    assert "Sign in to Spotify now? [Y/n]" in out
    assert "for the browser (Ctrl-C cancels)." in out  # how long it waits, and how to stop
    # The wrong key was refused with a sentence; the right one was checked and stored.
    assert "OpenAI refused this API key" in out
    assert secrets.get(OPENAI_API_KEY) == "sk-right"
    assert "sk-right" not in out and "sk-wrong" not in out
    assert "OpenAI key: stored in the keyring" in out


def test_setup_without_sign_in_or_key_leaves_the_keyring_alone(
    sim: SimulatedSpotify,
    write_config: WriteConfig,
    secrets: SecretStore,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config_file = write_config(sim)
    feed(monkeypatch, GOOD_ID, "n", "")
    made: list[SecretStore] = []

    status = interactive_setup(
        load_settings(config_file),
        config_file=config_file,
        secrets_factory=lambda: made.append(secrets) or secrets,
    )

    out = capsys.readouterr().out
    assert status == 0
    assert load_settings(config_file).spotify_client_id == SAVED_ID
    assert made == []
    assert "not signed in yet; run `segue login`" in out
    assert "Until you sign in, Segue plays the simulated Spotify (demo mode)." in out
    assert not sim.exchanges


def test_three_bad_client_ids_give_up_with_a_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config_file = tmp_path / "config.toml"
    feed(monkeypatch, "one", "two", "three", GOOD_ID)
    parser = argparse.ArgumentParser()
    add_arguments(parser)

    status = run(parser.parse_args([]), load_settings(config_file), paths_for(config_file))

    captured = capsys.readouterr()
    assert status == 1
    assert captured.out.count(CLIENT_ID_FORMAT) == 3
    assert captured.err.strip() == (
        "No valid Client ID after 3 tries; run `segue setup` again when you have it."
    )
    assert not config_file.exists()


@pytest.mark.parametrize("answers", [(), (GOOD_ID,), (GOOD_ID, "n")])
def test_end_of_input_ends_setup_with_one_sentence(
    answers: tuple[str, ...],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config_file = tmp_path / "config.toml"
    feed(monkeypatch, *answers)

    status = run(argparse.Namespace(), load_settings(config_file), paths_for(config_file))

    captured = capsys.readouterr()
    assert status == 1
    assert captured.err == (
        "Setup ended before it was finished (no more input); run `segue setup` again to "
        "finish it.\n"
    )
    assert "Traceback" not in captured.out
    # What was answered before the end is kept.
    assert config_file.exists() == bool(answers)


def test_key_check_says_why_a_key_does_not_work(fake_openai: FakeOpenAI) -> None:
    fake_openai.error(401)
    with pytest.raises(ModelKeyRefused) as refused:
        check_openai_key("sk-nope", base_url=fake_openai.base_url, timeout=5)
    assert refused.value.user_message.startswith("OpenAI refused this API key;")

    fake_openai.error(503)
    with pytest.raises(ModelUnavailable, match="had a problem on its side"):
        check_openai_key("sk-x", base_url=fake_openai.base_url, timeout=5)

    closed = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(ModelUnavailable) as unreachable:
        check_openai_key("sk-x", base_url=closed, timeout=5)
    assert unreachable.value.user_message == (
        f"Segue couldn't reach {closed}; check the internet connection "
        "(or the openai_base_url setting)."
    )

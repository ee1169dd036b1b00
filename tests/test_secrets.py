from __future__ import annotations

from datetime import UTC, datetime, timedelta

import keyring.backend
import keyring.errors
import pytest

from assistant.errors import SecretStoreUnavailable
from assistant.secrets import MemoryKeyring, SecretStore


class NoKeyring(keyring.backend.KeyringBackend):
    """The state of a headless Linux machine with no keyring daemon."""

    priority = 0

    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.NoKeyringError("No recommended backend was available.")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.NoKeyringError("No recommended backend was available.")

    def delete_password(self, service: str, username: str) -> None:
        raise keyring.errors.NoKeyringError("No recommended backend was available.")


def test_sign_in_is_stored_with_its_date_and_forgotten() -> None:
    store = SecretStore(MemoryKeyring())
    assert store.spotify_refresh_token() is None
    store.save_spotify_refresh_token("first", new_sign_in=True)
    signed_in = store.spotify_signed_in_at()
    assert signed_in is not None
    assert abs(datetime.now(UTC) - signed_in) < timedelta(minutes=1)

    store.save_spotify_refresh_token("rotated")
    assert store.spotify_refresh_token() == "rotated"
    assert store.spotify_signed_in_at() == signed_in  # a refresh does not extend the sign-in

    store.clear_spotify()
    assert store.spotify_refresh_token() is None
    assert store.spotify_signed_in_at() is None
    store.clear_spotify()  # forgetting twice is harmless


def test_missing_keyring_is_one_clear_error() -> None:
    store = SecretStore(NoKeyring())
    with pytest.raises(SecretStoreUnavailable, match="keyring"):
        store.spotify_refresh_token()
    with pytest.raises(SecretStoreUnavailable):
        store.save_spotify_refresh_token("x")

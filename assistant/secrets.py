"""Secrets in the OS keyring: the Spotify refresh token, its sign-in date, API keys.

Only what must survive a restart is stored, each as a short string (Windows Credential Manager caps
one secret at 2560 bytes, so the refresh token is stored alone, never a whole token JSON).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import keyring
import keyring.backend
import keyring.errors

from assistant.errors import SecretStoreUnavailable

logger = logging.getLogger(__name__)

SERVICE = "segue"
SPOTIFY_REFRESH_TOKEN = "spotify-refresh-token"
SPOTIFY_SIGNED_IN_AT = "spotify-signed-in-at"
OPENAI_API_KEY = "openai-api-key"


class SecretStore:
    """Named secrets kept in a keyring backend.

    Args:
        backend: The keyring backend to use; defaults to the one keyring selects
            (honouring ``PYTHON_KEYRING_BACKEND``).
        service: The keyring service name the entries are filed under.
    """

    def __init__(
        self, backend: keyring.backend.KeyringBackend | None = None, service: str = SERVICE
    ) -> None:
        self._backend = backend
        self._service = service

    def _keyring(self) -> keyring.backend.KeyringBackend:
        return self._backend or keyring.get_keyring()

    def get(self, name: str) -> str | None:
        """Return the secret called ``name``, or None when none is stored."""
        try:
            return self._keyring().get_password(self._service, name)
        except keyring.errors.KeyringError as err:
            raise SecretStoreUnavailable() from err

    def set(self, name: str, value: str) -> None:
        """Store ``value`` as the secret called ``name``, replacing any earlier one."""
        try:
            self._keyring().set_password(self._service, name, value)
        except keyring.errors.KeyringError as err:
            raise SecretStoreUnavailable() from err

    def delete(self, name: str) -> None:
        """Forget the secret called ``name``; nothing happens when none is stored."""
        try:
            self._keyring().delete_password(self._service, name)
        except keyring.errors.PasswordDeleteError:
            pass
        except keyring.errors.KeyringError as err:
            raise SecretStoreUnavailable() from err

    # The Spotify sign-in: a refresh token and the date it was granted (refresh tokens expire
    # six months after sign-in, and refreshing does not extend that).

    def spotify_refresh_token(self) -> str | None:
        """The stored Spotify refresh token, if signed in."""
        return self.get(SPOTIFY_REFRESH_TOKEN)

    def save_spotify_refresh_token(self, token: str, *, new_sign_in: bool = False) -> None:
        """Store a (possibly rotated) refresh token; a new sign-in also records today's date."""
        self.set(SPOTIFY_REFRESH_TOKEN, token)
        if new_sign_in:
            self.set(SPOTIFY_SIGNED_IN_AT, datetime.now(UTC).isoformat(timespec="seconds"))

    def spotify_signed_in_at(self) -> datetime | None:
        """When the stored sign-in was granted, if known."""
        raw = self.get(SPOTIFY_SIGNED_IN_AT)
        if raw is None:
            return None
        try:
            return datetime.fromisoformat(raw)
        except ValueError:
            logger.warning("Ignoring an unreadable sign-in date in the keyring")
            return None

    def clear_spotify(self) -> None:
        """Forget the Spotify sign-in."""
        self.delete(SPOTIFY_REFRESH_TOKEN)
        self.delete(SPOTIFY_SIGNED_IN_AT)


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring that lives only in this process: demo mode and tests use it."""

    priority = 0  # never chosen by keyring's own backend discovery

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        """Return the stored password, or None."""
        return self._items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        """Store a password."""
        self._items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        """Forget a password; raise PasswordDeleteError when there is none."""
        try:
            del self._items[(service, username)]
        except KeyError:
            raise keyring.errors.PasswordDeleteError(username) from None

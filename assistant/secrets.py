"""Secrets in the OS keyring: the Spotify tokens, the sign-in date, API keys.

Only what must survive a restart is stored, each as a short string (Windows Credential Manager caps
one secret at 2560 bytes, so each token is stored alone, never a whole token JSON).

Several Segue processes share one keyring (the tray, `segue say`, `segue login`): with a lock file,
every read and write runs under one lock across processes, and :meth:`SecretStore.exclusive`
holds it around a read-then-write (a token refresh) so no other process acts in between. It also
keeps a reader from seeing a keyring file half written (the keyrings.alt file backends rewrite the
whole file in place).
"""

from __future__ import annotations

import configparser
import logging
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path

import keyring
import keyring.backend
import keyring.errors

from assistant.errors import SecretStoreUnavailable
from assistant.locks import SharedLock

logger = logging.getLogger(__name__)

SERVICE = "segue"
SPOTIFY_REFRESH_TOKEN = "spotify-refresh-token"
SPOTIFY_SIGNED_IN_AT = "spotify-signed-in-at"
# "<expires at, Unix seconds> <access token>": kept until it expires, so a short command (`segue
# say pause`) uses the token another process fetched instead of refreshing on its own.
SPOTIFY_ACCESS_TOKEN = "spotify-access-token"
OPENAI_API_KEY = "openai-api-key"

NO_SUCH_BACKEND = (
    "PYTHON_KEYRING_BACKEND names a keyring Segue cannot load; correct it "
    "(e.g. keyring.backends.SecretService.Keyring) or unset it."
)
# What a keyring backend raises when it cannot be used: keyring's own errors (no backend, a
# locked one), an unreadable or unwritable keyring file (OSError), and a damaged one (the file
# backends' configparser and base64 decoding, invalid UTF-8: ValueError).
KEYRING_FAULTS = (keyring.errors.KeyringError, OSError, ValueError, configparser.Error)


class SecretStore:
    """Named secrets kept in a keyring backend.

    Args:
        backend: The keyring backend to use; defaults to the one keyring selects
            (honouring ``PYTHON_KEYRING_BACKEND``).
        service: The keyring service name the entries are filed under.
        lock_file: The file locked across processes while the keyring is used; None locks only
            within this process (demo mode, tests with an in-memory keyring).
        lock_timeout: Seconds to wait for another process to let go of the lock.
    """

    def __init__(
        self,
        backend: keyring.backend.KeyringBackend | None = None,
        service: str = SERVICE,
        *,
        lock_file: Path | None = None,
        lock_timeout: float = 30.0,
    ) -> None:
        self._backend = backend
        self._service = service
        self._lock = SharedLock(
            lock_file,
            timeout=lock_timeout,
            busy=lambda: SecretStoreUnavailable(
                "Another Segue program is holding the keyring; try again in a moment.",
                retryable=True,
            ),
        )

    def exclusive(self) -> AbstractContextManager[None]:
        """Hold the keyring lock: no other Segue process or thread reads or writes meanwhile.

        Reentrant: a refresh reads and writes under the lock it holds.

        Raises:
            SecretStoreUnavailable: Another process held the lock for longer than the timeout.
        """
        return self._lock.held()

    def _keyring(self) -> keyring.backend.KeyringBackend:
        if self._backend is not None:
            return self._backend
        try:
            return keyring.get_keyring()
        except (ImportError, AttributeError) as err:
            # PYTHON_KEYRING_BACKEND names a module or class that does not exist.
            raise SecretStoreUnavailable(NO_SUCH_BACKEND) from err

    def get(self, name: str) -> str | None:
        """Return the secret called ``name``, or None when none is stored."""
        try:
            with self.exclusive():
                return self._keyring().get_password(self._service, name)
        except KEYRING_FAULTS as err:
            raise _unavailable(err, self._backend) from err

    def set(self, name: str, value: str) -> None:
        """Store ``value`` as the secret called ``name``, replacing any earlier one."""
        try:
            with self.exclusive():
                self._keyring().set_password(self._service, name, value)
        except KEYRING_FAULTS as err:
            raise _unavailable(err, self._backend) from err

    def delete(self, name: str) -> None:
        """Forget the secret called ``name``; nothing happens when none is stored."""
        try:
            with self.exclusive():
                self._keyring().delete_password(self._service, name)
        except keyring.errors.PasswordDeleteError:
            pass
        except KEYRING_FAULTS as err:
            raise _unavailable(err, self._backend) from err

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

    def spotify_access_token(self) -> tuple[str, float] | None:
        """The stored Spotify access token and when it expires (Unix seconds), if any."""
        raw = self.get(SPOTIFY_ACCESS_TOKEN)
        expires_at, _, token = (raw or "").partition(" ")
        try:
            return (token, float(expires_at)) if token else None
        except ValueError:
            return None

    def save_spotify_access_token(self, token: str, expires_at: float) -> None:
        """Keep an access token until ``expires_at`` (Unix seconds) for other processes."""
        self.set(SPOTIFY_ACCESS_TOKEN, f"{expires_at:.0f} {token}")

    def forget_spotify_access_token(self) -> None:
        """Drop the stored access token (Spotify refused it)."""
        self.delete(SPOTIFY_ACCESS_TOKEN)

    def forget_spotify_tokens(self) -> None:
        """Forget the tokens of a sign-in Spotify refused, keeping its date.

        The date marks that this person uses their own Spotify: Segue then says the sign-in
        expired rather than falling back to the demo (``app.signed_in_ever``).
        """
        with self.exclusive():
            self.delete(SPOTIFY_ACCESS_TOKEN)
            self.delete(SPOTIFY_REFRESH_TOKEN)

    def clear_spotify(self) -> None:
        """Forget the Spotify sign-in (signing out): its tokens and its date."""
        with self.exclusive():
            self.delete(SPOTIFY_ACCESS_TOKEN)
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


def _unavailable(
    err: BaseException, backend: keyring.backend.KeyringBackend | None
) -> SecretStoreUnavailable:
    """The sentence for a keyring that failed with ``err`` (one of :data:`KEYRING_FAULTS`)."""
    if isinstance(err, keyring.errors.KeyringError):
        return SecretStoreUnavailable()
    path = getattr(backend or keyring.get_keyring(), "file_path", None)
    place = f"the keyring file {path}" if path else "the system keyring"
    logger.warning("Keyring failed: %s", type(err).__name__)
    if isinstance(err, OSError):
        reason = err.strerror or type(err).__name__
        return SecretStoreUnavailable(
            f"Segue cannot use {place} ({reason}); make it readable and writable, or set "
            "PYTHON_KEYRING_BACKEND to another keyring."
        )
    return SecretStoreUnavailable(
        f"{place[0].upper()}{place[1:]} is damaged and cannot be read; move it aside and sign "
        "in again with `segue login`."
    )

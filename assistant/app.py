"""The composition root: the only place that builds Segue's parts from Settings.

Nothing imports this module but the entry points (``cli.py`` and, later, the tray), so every
other module receives what it needs through its constructor.
"""

from __future__ import annotations

import shlex

from assistant.config import Settings
from assistant.secrets import SecretStore
from assistant.spotify.auth import SpotifyAuth
from assistant.spotify.client import SpotifyClient
from assistant.spotify.devices import LocalPlayer


def build_secrets() -> SecretStore:
    """The secret store over the system keyring (``PYTHON_KEYRING_BACKEND`` is honoured)."""
    return SecretStore()


def build_auth(settings: Settings, secrets: SecretStore) -> SpotifyAuth:
    """The Spotify sign-in for the configured app."""
    if settings.spotify_client_id is None:
        raise ValueError("build_auth needs a configured spotify_client_id")
    return SpotifyAuth(
        client_id=settings.spotify_client_id,
        redirect_uri=settings.spotify_redirect_uri,
        accounts_url=settings.spotify_accounts_url,
        secrets=secrets,
        timeout=settings.http_timeout_seconds,
    )


def build_spotify(settings: Settings, auth: SpotifyAuth) -> SpotifyClient:
    """The Spotify Web API client, signed in through ``auth``."""
    return SpotifyClient(
        api_url=settings.spotify_api_url,
        auth=auth,
        timeout=settings.http_timeout_seconds,
        rate_limit_max_wait=settings.rate_limit_max_wait_seconds,
    )


def build_local_player(settings: Settings, client: SpotifyClient) -> LocalPlayer:
    """This computer's Spotify desktop player, started on demand."""
    command = shlex.split(settings.spotify_app_command) if settings.spotify_app_command else None
    return LocalPlayer(
        client,
        device_name=settings.spotify_device_name,
        launch_command=command,
        wait_seconds=settings.device_wait_seconds,
    )

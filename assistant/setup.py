"""Connecting Spotify (and optionally OpenAI) on first run: the shared steps and `segue setup`.

The setup window (``assistant.desktop.setup_window``) and the terminal command ``segue setup`` do
the same things with the functions here: check and save the Spotify Client ID in ``config.toml``,
run the browser sign-in, and check and store an optional OpenAI API key in the keyring.

``segue setup`` reads its answers with ``input()``, so it works over SSH and from a script that
pipes the answers in, one per line.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import re
import sys
import tempfile
import tomllib
import webbrowser
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from assistant.config import ENV_PREFIX, Paths, Settings, load_settings
from assistant.errors import ConfigError, ModelKeyRefused, SegueError
from assistant.openai_errors import ModelService, model_error, not_json
from assistant.secrets import OPENAI_API_KEY, SecretStore

if TYPE_CHECKING:
    from assistant.spotify.auth import SpotifyAuth

logger = logging.getLogger(__name__)

DASHBOARD_URL = "https://developer.spotify.com/dashboard"
OWN_APP_NOTE = (
    "Each person uses their own Spotify app: it stays in development mode, its owner needs "
    "Premium, and up to 5 Spotify accounts can use it."
)
CLIENT_ID_FORMAT = (
    "A Spotify Client ID is 32 characters, only digits and the letters a-f; copy it from your "
    "app's Settings page in the dashboard."
)
CLIENT_ID_KEY = "spotify_client_id"
EXIT_OK = 0
EXIT_FAILED = 1
CLIENT_ID_TRIES = 3
OPENAI_KEY_TRIES = 3
# The answer a check gets: at most this many tokens (a fraction of a cent).
_CHECK_MAX_TOKENS = 16
KEY_REFUSED = (
    "OpenAI refused this API key; copy the whole key (it starts with “sk-”) from "
    "platform.openai.com/api-keys."
)
_CLIENT_ID_LINE = re.compile(r"^[ \t]*spotify_client_id[ \t]*=")
_TABLE_HEADER = re.compile(r"^[ \t]*\[")


def validate_client_id(text: str) -> str:
    """Return ``text`` as a Client ID (trimmed, lower case) or raise with one sentence.

    Args:
        text: What the person pasted.

    Raises:
        ConfigError: It is empty or not 32 hexadecimal characters.
    """
    value = text.strip()
    if not value:
        raise ConfigError(f"No Client ID was given. {CLIENT_ID_FORMAT}")
    try:
        # The same rule the settings apply to spotify_client_id.
        settings = Settings.model_validate({CLIENT_ID_KEY: value})
    except ValidationError:
        raise ConfigError(CLIENT_ID_FORMAT) from None
    assert settings.spotify_client_id is not None
    return settings.spotify_client_id


def save_client_id(config_file: Path, client_id: str) -> None:
    """Write ``spotify_client_id = "..."`` into ``config_file``, keeping everything else.

    An existing ``spotify_client_id`` line is replaced; otherwise the line is added before the
    first table (Segue's settings are all top-level keys) or at the end. Comments, other keys and
    their order stay as they were. The file is re-read after the edit and replaced atomically
    only when it still holds exactly the old settings plus the new Client ID.

    Args:
        config_file: The TOML settings file (created, with its folder, when missing).
        client_id: The Client ID; checked with :func:`validate_client_id`.

    Raises:
        ConfigError: The Client ID is malformed, the file is not valid TOML, or it cannot be
            read or written.
    """
    client_id = validate_client_id(client_id)
    old_text = ""
    try:
        old_text = config_file.read_text(encoding="utf-8")
    except FileNotFoundError:
        pass
    except OSError as err:
        raise ConfigError(f"Cannot read {config_file}: {err.strerror}.") from err
    old_data = _parse_toml(config_file, old_text)

    new_line = f'{CLIENT_ID_KEY} = "{client_id}"'
    lines = old_text.splitlines()
    replaced = False
    for index, line in enumerate(lines):
        if _TABLE_HEADER.match(line):
            lines.insert(index, new_line)
            replaced = True
            break
        if _CLIENT_ID_LINE.match(line):
            lines[index] = new_line
            replaced = True
            break
    if not replaced:
        lines.append(new_line)
    new_text = "\n".join(lines) + "\n"

    expected = {**old_data, CLIENT_ID_KEY: client_id}
    if _parse_toml(config_file, new_text) != expected:
        # A layout the line edit cannot handle (e.g. the key inside a multi-line string).
        raise ConfigError(
            f"Segue could not update {config_file} safely; add the line {new_line} to it yourself."
        )
    _write_atomically(config_file, new_text)
    logger.info("Saved the Spotify Client ID in %s", config_file)


def _parse_toml(config_file: Path, text: str) -> dict[str, object]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{config_file} is not valid TOML: {err}.") from err


def _write_atomically(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        mode = path.stat().st_mode & 0o777 if path.exists() else None
        fd, temp_name = tempfile.mkstemp(prefix=".config-", suffix=".toml", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(text)
            if mode is not None:
                os.chmod(temp_name, mode)
            os.replace(temp_name, path)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
    except OSError as err:
        raise ConfigError(f"Cannot write {path}: {err.strerror}.") from err


def check_openai_key(
    key: str,
    *,
    base_url: str | None,
    timeout: float,
    model: str | None = None,
) -> None:
    """Check an OpenAI API key with one small request; return quietly when it works.

    The request is one chat completion of at most a few tokens with the configured model: it
    checks the key and the model together, and every OpenAI-compatible server answers it.

    Args:
        key: The API key.
        base_url: An OpenAI-compatible server's base URL; None for OpenAI itself.
        timeout: Seconds to wait for the answer.
        model: The chat model to try; the ``openai_model`` default when None.

    Raises:
        ModelKeyRefused: The server refused the key (401).
        ModelRateLimited: The account has no credit left.
        ModelUnavailable: The server could not be reached, timed out or failed (5xx).
        ModelRequestRejected: The model does not exist, or the request was refused otherwise.
    """
    import openai
    from openai.types.chat import ChatCompletion

    key = key.strip()
    if not key:
        raise ModelKeyRefused("No OpenAI API key was given.")
    model = model or str(Settings.model_fields["openai_model"].default)
    service = ModelService(name=base_url or "OpenAI", model=model, timeout=timeout)
    client = openai.OpenAI(api_key=key, base_url=base_url, timeout=timeout, max_retries=0)
    try:
        answer = client.chat.completions.create(
            model=model,
            messages=[{"role": "user", "content": "Reply with OK."}],
            max_completion_tokens=_CHECK_MAX_TOKENS,
        )
    except (openai.APIError, ValueError) as err:
        # ValueError: an answer declared JSON that is not.
        logger.info(
            "OpenAI key check failed: %s (status %s)",
            type(err).__name__,
            getattr(err, "status_code", None),
        )
        if isinstance(err, openai.RateLimitError) and err.code != "insufficient_quota":
            # Too many requests right now: the key itself was accepted.
            return
        mapped = model_error(err, service)
        if isinstance(mapped, ModelKeyRefused):
            mapped = ModelKeyRefused(KEY_REFUSED)
        raise mapped from None
    finally:
        client.close()
    if not isinstance(answer, ChatCompletion):
        raise not_json(service)
    logger.info("OpenAI key check passed")


def store_openai_key(secrets: SecretStore, key: str) -> None:
    """Keep the OpenAI API key in the keyring (where Segue reads it when OPENAI_API_KEY is unset).

    Raises:
        ModelKeyRefused: The key is empty.
        SecretStoreUnavailable: No keyring can be used.
    """
    key = key.strip()
    if not key:
        raise ModelKeyRefused("No OpenAI API key was given.")
    secrets.set(OPENAI_API_KEY, key)
    logger.info("Stored the OpenAI API key in the keyring")


def connect_spotify(
    settings: Settings,
    secrets: SecretStore,
    *,
    open_browser: Callable[[str], bool] = webbrowser.open,
    announce: Callable[[str], None] = print,
) -> str:
    """Sign in to Spotify in the browser for the configured app; return the account's name.

    Args:
        settings: Settings with ``spotify_client_id`` set.
        secrets: Where the sign-in is kept.
        open_browser: Opens the consent page (``webbrowser.open`` honours ``BROWSER``).
        announce: Shows one line to the person.

    Raises:
        ConfigError: No Client ID is configured.
        AuthError: The sign-in did not complete.
        SpotifyError: Spotify refused the signed-in account (e.g. not on the app's user list).
    """
    from assistant import app
    from assistant.spotify.auth import sign_in

    if settings.spotify_client_id is None:
        raise ConfigError("Save your app's Client ID before signing in.")
    auth: SpotifyAuth = app.build_auth(settings, secrets)
    sign_in(
        auth,
        timeout=settings.login_timeout_seconds,
        open_browser=open_browser,
        announce=announce,
    )
    client = app.build_spotify(settings, auth)
    try:
        user = client.me()
    finally:
        client.close()
    return user.display_name or user.id


def env_override_note(client_id: str, environ: dict[str, str] | None = None) -> str | None:
    """A sentence when ``SEGUE_SPOTIFY_CLIENT_ID`` overrides the Client ID just saved."""
    environ = dict(os.environ) if environ is None else environ
    name = ENV_PREFIX + CLIENT_ID_KEY.upper()
    value = environ.get(name, "").strip().lower()
    if value and value != client_id:
        return f"Note: the environment variable {name} overrides the saved Client ID."
    return None


# -- `segue setup` ----------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``segue setup`` (it has none: it asks)."""
    parser.description = (
        "Connect Segue to your own Spotify app step by step (Client ID, sign-in) and optionally "
        "store an OpenAI API key. Answers are read one per line, so they can be piped in."
    )


def run(args: argparse.Namespace, settings: Settings, paths: Paths) -> int:
    """Run ``segue setup`` in the terminal; return the exit status."""
    from assistant import app

    return interactive_setup(
        settings,
        config_file=paths.config_file,
        secrets_factory=app.build_secrets,
    )


class _Ended(Exception):
    """The input ended (EOF) before setup was finished."""


def interactive_setup(
    settings: Settings,
    *,
    config_file: Path,
    secrets_factory: Callable[[], SecretStore],
    open_browser: Callable[[str], bool] = webbrowser.open,
    read_line: Callable[[str], str] = input,
    read_secret: Callable[[str], str] | None = None,
    out: Callable[[str], None] | None = None,
) -> int:
    """Ask for the Client ID, sign in, ask for an OpenAI key; return the exit status.

    Args:
        settings: The settings as loaded before setup (for the redirect URI, a current ID).
        config_file: Where the Client ID is saved.
        secrets_factory: Builds the secret store (the system keyring) when it is first needed.
        open_browser: Opens the Spotify consent page.
        read_line: Asks one question and returns the answer line (raises EOFError at the end).
        read_secret: Asks for the API key; ``getpass`` on a terminal, else ``read_line``.
        out: Prints one line; ``print`` to stdout (flushed) by default.
    """
    say = out or (lambda line: print(line, flush=True))
    # Answers piped in are not echoed by a terminal: echo them (never the key), so that the
    # transcript reads like a terminal session.
    echo = not _interactive()
    read_key = read_secret or (read_line if echo else getpass.getpass)

    def ask(prompt: str) -> str:
        try:
            answer = read_line(prompt)
        except EOFError:
            raise _Ended() from None
        if echo:
            say(answer.strip())
        return answer

    def ask_secret(prompt: str) -> str:
        try:
            answer = read_key(prompt)
        except EOFError:
            raise _Ended() from None
        if echo:
            say("")
        return answer

    try:
        return _steps(settings, config_file, secrets_factory, open_browser, ask, ask_secret, say)
    except _Ended:
        say("")
        print(
            "Setup ended before it was finished (no more input); run `segue setup` again to "
            "finish it.",
            file=sys.stderr,
            flush=True,
        )
        return EXIT_FAILED


def _interactive() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def _steps(
    settings: Settings,
    config_file: Path,
    secrets_factory: Callable[[], SecretStore],
    open_browser: Callable[[str], bool],
    ask: Callable[[str], str],
    read_secret: Callable[[str], str],
    say: Callable[[str], None],
) -> int:
    say("Connect Segue to Spotify.")
    say(OWN_APP_NOTE)
    say("")
    say(f"1. Open the Spotify developer dashboard: {DASHBOARD_URL}")
    say("2. Create an app (any name), tick “Web API”, and add this exact Redirect URI:")
    say(f"     {settings.spotify_redirect_uri}")
    say("3. Copy the app's Client ID from its Settings page.")
    say("")

    # The Client ID: re-asked on a bad format, at most three times.
    current = settings.spotify_client_id
    client_id: str | None = None
    for _attempt in range(CLIENT_ID_TRIES):
        if current:
            answer = ask(f"Client ID [{current}, Enter keeps it]: ")
            if not answer.strip():
                client_id = current
                break
        else:
            answer = ask("Client ID: ")
        try:
            client_id = validate_client_id(answer)
            break
        except ConfigError as err:
            say(err.user_message)
    if client_id is None:
        print(
            f"No valid Client ID after {CLIENT_ID_TRIES} tries; run `segue setup` again when "
            "you have it.",
            file=sys.stderr,
            flush=True,
        )
        return EXIT_FAILED
    if client_id != current:
        save_client_id(config_file, client_id)
        say(f"Saved the Client ID in {config_file}.")
    note = env_override_note(client_id)
    if note:
        say(note)

    # Settings as they are now (the file just changed), for the sign-in and the key check.
    settings = load_settings(config_file)
    secrets: SecretStore | None = None
    signed_in_as: str | None = None
    sign_in_problem: str | None = None
    # Signing in is what setup is for: Enter says yes.
    if _yes(ask("Sign in to Spotify now? [Y/n]: "), default=True):
        secrets = secrets_factory()
        try:
            signed_in_as = connect_spotify(
                settings, secrets, open_browser=open_browser, announce=say
            )
            say(f"Signed in to Spotify as {signed_in_as}.")
        except SegueError as err:
            sign_in_problem = err.user_message
            say(err.user_message)

    # The optional OpenAI key.
    say("")
    say(
        "An OpenAI API key lets Segue understand free-form commands and use OpenAI's speech "
        "recognition; without one it uses the local speech model and the built-in commands."
    )
    key_stored = False
    for _attempt in range(OPENAI_KEY_TRIES):
        key = read_secret("OpenAI API key (optional, Enter skips): ").strip()
        if not key:
            break
        try:
            check_openai_key(
                key,
                base_url=settings.openai_base_url,
                timeout=settings.openai_timeout_seconds,
                model=settings.openai_model,
            )
        except SegueError as err:
            say(err.user_message)
            continue
        if secrets is None:
            secrets = secrets_factory()
        store_openai_key(secrets, key)
        key_stored = True
        say("The OpenAI key works; it is stored in the system keyring.")
        break

    say("")
    say("Summary:")
    say(f"  Spotify Client ID: {client_id} (in {config_file})")
    if signed_in_as is not None:
        say(f"  Spotify: signed in as {signed_in_as}")
    elif sign_in_problem is not None:
        say(f"  Spotify: not signed in ({sign_in_problem.rstrip('.')}); run `segue login`.")
    else:
        say("  Spotify: not signed in yet; run `segue login`.")
    if signed_in_as is None:
        say("  Until you sign in, Segue plays the simulated Spotify (demo mode).")
    say(
        "  OpenAI key: stored in the keyring"
        if key_stored
        else "  OpenAI key: none (local speech model and built-in commands)"
    )
    return EXIT_OK if sign_in_problem is None else EXIT_FAILED


def _yes(answer: str, *, default: bool = False) -> bool:
    word = answer.strip().lower()
    return default if not word else word in ("y", "yes")

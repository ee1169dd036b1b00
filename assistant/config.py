"""Settings: typed defaults, a TOML file in the user's config dir, and ``SEGUE_<NAME>`` overrides.

Precedence, lowest first: the defaults below, ``config.toml`` in the platformdirs config dir for
"segue", then environment variables (``SEGUE_SPOTIFY_CLIENT_ID`` overrides ``spotify_client_id``).
Secrets never live here: the Spotify refresh token and API keys are kept by ``secrets.SecretStore``.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from assistant.errors import ConfigError

APP_NAME = "segue"
ENV_PREFIX = "SEGUE_"

ReasoningEffort = Literal["none", "minimal", "low", "medium", "high", "xhigh"]

# Names that look like secrets: refused in the file with a pointer to the keyring.
_SECRET_HINTS = ("token", "secret", "api_key", "password")


class Settings(BaseModel):
    """Every user-adjustable setting, with its default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    spotify_client_id: str | None = Field(
        None,
        description="Client ID of your own app in the Spotify developer dashboard. "
        "Without one Segue runs against the simulated Spotify.",
    )
    spotify_redirect_uri: str = Field(
        "http://127.0.0.1:8974/callback",
        description="Redirect URI registered for the app; must be http://127.0.0.1:PORT/... "
        "(Spotify refuses `localhost`).",
    )
    spotify_api_url: str = Field(
        "https://api.spotify.com/v1", description="Base URL of the Spotify Web API."
    )
    spotify_accounts_url: str = Field(
        "https://accounts.spotify.com", description="Base URL of the Spotify accounts service."
    )
    spotify_device_name: str | None = Field(
        None,
        description="Name of this computer's Spotify player, when it differs from the host name.",
    )
    spotify_app_command: str | None = Field(
        None,
        description="Command that starts the Spotify desktop app (default: `spotify` on Linux, "
        "`open -a Spotify` on macOS, the spotify: protocol on Windows).",
    )
    device_wait_seconds: float = Field(
        15.0, ge=0, le=120, description="How long to wait for the desktop player to appear."
    )
    http_timeout_seconds: float = Field(
        10.0, gt=0, le=120, description="Timeout of every request to Spotify."
    )
    rate_limit_max_wait_seconds: float = Field(
        5.0,
        ge=0,
        le=60,
        description="Longest Retry-After Segue waits out by itself; longer waits are reported.",
    )
    login_timeout_seconds: float = Field(
        300.0, gt=0, le=3600, description="How long `segue login` waits for the browser."
    )
    openai_model: str = Field(
        "gpt-5.4-mini",
        min_length=1,
        description="Chat model that understands commands Segue's fast path does not (tool "
        "calling); any model of an OpenAI-compatible server works.",
    )
    openai_base_url: str | None = Field(
        None,
        description="Base URL of an OpenAI-compatible server (e.g. Ollama's "
        "http://127.0.0.1:11434/v1); empty for OpenAI itself (or OPENAI_BASE_URL).",
    )
    openai_timeout_seconds: float = Field(
        15.0, gt=0, le=120, description="Timeout of every request to the model."
    )
    openai_reasoning_effort: ReasoningEffort | None = Field(
        "low",
        description="reasoning_effort sent with each model request; empty to leave it out "
        "(for servers and models that do not take it).",
    )
    openai_stream: Literal["auto", "on", "off"] = Field(
        "auto",
        description="Ask for the model's answers as a stream, so a playlist's songs are searched "
        "while the model still names them: on, off (for servers that do not stream), or auto "
        "(stream until the server shows it does not).",
    )
    llm_max_steps: int = Field(6, ge=1, le=20, description="Most model calls one command may take.")
    conversation_minutes: float = Field(
        5.0,
        ge=0,
        le=120,
        description="How long earlier commands are remembered (for “add that to ...”, "
        "“the other one”), and the last one can be undone.",
    )
    # --- speed (false/1 reproduce the original prototypes' design, for the benchmarks) ---------
    fast_path: bool = Field(
        True,
        description="Run common commands (pause, volume, play X by Y ...) without the model; "
        "false sends every command to the model.",
    )
    compose_replies: bool = Field(
        True,
        description="Compose the reply to an action from the tool results; false sends the "
        "results back to the model for a second call that phrases the reply.",
    )
    devices_before_play: bool = Field(
        False, description="Fetch the device list before every play command (the old design)."
    )
    local_control: bool = Field(
        True,
        description="Send pause, skips, seeking, shuffle, repeat and what's playing straight "
        "to this computer's Spotify app (MPRIS, AppleScript, the Windows media session) while it "
        "plays; false sends them through the Web API.",
    )
    search_concurrency: int = Field(
        4, ge=1, le=16, description="Searches run at once when resolving a list of songs."
    )
    connection_reuse: bool = Field(
        True,
        description="Keep HTTP connections to Spotify and OpenAI open between requests; false "
        "opens a new connection for every request.",
    )
    # --- voice -------------------------------------------------------------------------------
    stt: Literal["auto", "openai", "local"] = Field(
        "auto",
        description="Speech to text: OpenAI, the local Whisper model, or auto (OpenAI when a key "
        "is set, else local).",
    )
    stt_model: str = Field("gpt-transcribe", description="OpenAI transcription model.")
    stt_language: str | None = Field(
        "en", description="Language spoken, as an ISO 639-1 code; empty to let the model guess."
    )
    local_stt_model: str | None = Field(
        None,
        description="Local Whisper model: a path or a size name; empty for the bundled tiny.en.",
    )
    input_device: str | None = Field(
        None, description="Microphone name (or part of it); empty for the system default."
    )
    max_recording_seconds: float = Field(30.0, gt=0, le=300, description="Longest recording.")
    end_silence_seconds: float = Field(
        0.8, gt=0, le=5, description="Silence that ends a hands-free recording."
    )
    min_speech_seconds: float = Field(
        0.3, ge=0, le=5, description="Less speech than this is treated as nothing said."
    )
    upload_format: Literal["flac", "ogg"] = Field(
        "flac", description="Audio format uploaded to OpenAI (Ogg/Opus is smaller, lossy)."
    )
    save_recordings_dir: str | None = Field(
        None, description="Keep every recording as a WAV file here; empty keeps none on disk."
    )
    tts: Literal["system", "openai", "off"] = Field(
        "system", description="Spoken replies: the system voice, OpenAI speech, or off."
    )
    tts_model: str = Field("gpt-4o-mini-tts", description="OpenAI speech model.")
    tts_voice: str = Field("alloy", description="OpenAI speech voice.")
    cues: bool = Field(True, description="Play short sounds when recording starts and stops.")
    ducking: bool = Field(True, description="Lower Spotify's volume while recording.")
    ducking_percent: int = Field(
        25, ge=0, le=100, description="Volume while recording, as a percent of the volume before."
    )
    # --- desktop -----------------------------------------------------------------------------
    hotkey: str = Field("<ctrl>+<alt>+space", description="Global hotkey to talk.")
    hotkey_mode: Literal["hold", "toggle"] = Field(
        "hold",
        description="Hold the hotkey while speaking, or press once to start and once to stop.",
    )
    busy_press: Literal["queue", "cancel"] = Field(
        "queue",
        description="A new command while one runs: queue it, or cancel the running one's reply.",
    )
    notifications: bool = Field(True, description="Show a desktop notification for each reply.")
    popup_theme: Literal["system", "light", "dark"] = Field(
        "system", description="The popup's colours: as the system's appearance, light or dark."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Level of the log file."
    )

    @field_validator("spotify_client_id")
    @classmethod
    def _client_id_format(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        value = value.strip()
        if len(value) != 32 or any(c not in "0123456789abcdefABCDEF" for c in value):
            raise ValueError("a Spotify Client ID is 32 hexadecimal characters")
        return value.lower()

    @field_validator(
        "openai_base_url",
        "openai_reasoning_effort",
        "stt_language",
        "local_stt_model",
        "input_device",
        "save_recordings_dir",
        mode="before",
    )
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        # TOML has no null and environment variables are strings: "" means "not set".
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("openai_base_url")
    @classmethod
    def _openai_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")

    @field_validator("spotify_redirect_uri")
    @classmethod
    def _loopback_redirect(cls, value: str) -> str:
        # Spotify accepts plain HTTP only for loopback IP literals; `localhost` has been refused
        # for every app since 2025-11-27.
        parts = urlsplit(value)
        if parts.scheme != "http" or parts.hostname not in ("127.0.0.1", "::1"):
            raise ValueError("must be http://127.0.0.1:PORT/PATH (Spotify refuses `localhost`)")
        if parts.port is None:
            raise ValueError("must name a port, e.g. http://127.0.0.1:8974/callback")
        return value

    @field_validator("spotify_api_url", "spotify_accounts_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")

    @property
    def demo(self) -> bool:
        """Whether no Spotify app is configured, so Segue runs against the simulator."""
        return self.spotify_client_id is None


@dataclass(frozen=True)
class Paths:
    """Where Segue keeps its files (platformdirs locations for "segue")."""

    config_dir: Path
    data_dir: Path
    cache_dir: Path
    log_dir: Path

    @property
    def config_file(self) -> Path:
        """The TOML settings file."""
        return self.config_dir / "config.toml"

    @classmethod
    def default(cls) -> Paths:
        """The platform's per-user directories for Segue."""
        return cls(
            config_dir=Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
            data_dir=Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
            cache_dir=Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)),
            log_dir=Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
        )


def _read_toml(config_file: Path) -> dict[str, Any] | None:
    """The settings file's table, or None when there is no file.

    Raises:
        ConfigError: The file cannot be read or is not TOML; the sentence names the file.
    """
    try:
        with config_file.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        return None
    except UnicodeDecodeError as err:
        # tomllib decodes the whole file first: one stray byte stops it.
        raise ConfigError(
            f"{config_file} is not UTF-8 text (byte {err.start + 1} is not); save it as UTF-8."
        ) from err
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{config_file} is not valid TOML: {err}.") from err
    except RecursionError as err:
        # tomllib parses nested arrays and tables recursively.
        raise ConfigError(
            f"{config_file} nests arrays or tables too deeply to read; settings are single "
            "values, so remove the nesting."
        ) from err
    except OSError as err:
        raise ConfigError(f"Cannot read {config_file}: {err.strerror or err}.") from err


def load_settings(
    config_file: Path | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Read settings from the TOML file and the environment.

    Args:
        config_file: The TOML file; defaults to ``config.toml`` in the user's config dir.
            A missing file means "all defaults".
        environ: Environment to read ``SEGUE_*`` overrides from; defaults to ``os.environ``.

    Returns:
        The validated settings.

    Raises:
        ConfigError: A key is unknown or a value is invalid; the message names both the key and
            where it came from.
    """
    config_file = config_file or Paths.default().config_file
    environ = os.environ if environ is None else environ
    fields = Settings.model_fields

    values: dict[str, Any] = {}
    origin: dict[str, str] = {}
    data = _read_toml(config_file)
    if data is not None:
        for key, value in data.items():
            if key not in fields:
                hint = ""
                if any(h in key.lower() for h in _SECRET_HINTS):
                    hint = " Secrets are kept in the system keyring, never in this file."
                raise ConfigError(f"Unknown setting “{key}” in {config_file}.{hint}")
            values[key] = value
            origin[key] = f"“{key}” in {config_file}"

    for name in fields:
        env_name = ENV_PREFIX + name.upper()
        if env_name in environ:
            values[name] = environ[env_name]
            origin[name] = f"environment variable {env_name}"

    try:
        return Settings.model_validate(values)
    except ValidationError as err:
        first = err.errors()[0]
        key = str(first["loc"][0]) if first["loc"] else "?"
        where = origin.get(key, f"“{key}”")
        message = first["msg"].removeprefix("Value error, ")
        raise ConfigError(f"Setting {where}: {message}.") from err

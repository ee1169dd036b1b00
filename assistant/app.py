"""The composition root: the only place that builds Segue's parts from Settings.

Nothing imports this module but the entry points (``cli.py`` and, later, the tray), so every
other module receives what it needs through its constructor.
"""

from __future__ import annotations

import logging
import os
import shlex
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.config import Settings
from assistant.errors import SecretStoreUnavailable
from assistant.secrets import OPENAI_API_KEY, MemoryKeyring, SecretStore
from assistant.spotify.auth import SpotifyAuth
from assistant.spotify.client import SpotifyClient
from assistant.spotify.devices import LocalPlayer

if TYPE_CHECKING:
    import openai

    from assistant.agent.agent import Agent
    from assistant.agent.llm import ChatModel
    from assistant.pipeline import Pipeline

logger = logging.getLogger(__name__)

KNOWLEDGE_FILE = "knowledge.sqlite3"


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


def openai_api_key(
    secrets: SecretStore | None, environ: Mapping[str, str] | None = None
) -> str | None:
    """The OpenAI API key: ``OPENAI_API_KEY`` in the environment, else the keyring's.

    A keyring that cannot be used counts as "no key" (the fast path still works).
    """
    environ = os.environ if environ is None else environ
    key = environ.get("OPENAI_API_KEY", "").strip()
    if key:
        return key
    if secrets is None:
        return None
    try:
        stored = secrets.get(OPENAI_API_KEY)
    except SecretStoreUnavailable:
        logger.info("No keyring to read the OpenAI key from")
        return None
    return stored.strip() if stored and stored.strip() else None


def build_openai(settings: Settings, api_key: str) -> openai.OpenAI:
    """The OpenAI SDK client, with a short timeout and at most one retry.

    The SDK's defaults (a 600 s timeout, waiting out a retry-after of up to 120 s) do not suit a
    voice command; :class:`~assistant.agent.llm.ChatModel` does the one retry itself, with
    short waits only.
    """
    import openai

    return openai.OpenAI(
        api_key=api_key,
        base_url=settings.openai_base_url,
        timeout=settings.openai_timeout_seconds,
        max_retries=1,
    )


def build_chat_model(settings: Settings, client: openai.OpenAI) -> ChatModel:
    """The chat model the agent and the knowledge tools use."""
    from assistant.agent.llm import ChatModel

    return ChatModel(
        client, model=settings.openai_model, reasoning_effort=settings.openai_reasoning_effort
    )


def build_agent(
    settings: Settings,
    client: SpotifyClient,
    player: LocalPlayer,
    *,
    model: ChatModel | None,
    data_dir: Path | None,
) -> Agent:
    """The agent: the Spotify tools, the fast path and (with a model) the tool loop.

    Args:
        settings: The settings.
        client: The Spotify client.
        player: This computer's Spotify player.
        model: The chat model; None when no OpenAI key is configured (fast path only).
        data_dir: Where the music-knowledge cache lives; None keeps no cache.
    """
    from assistant.agent.agent import Agent
    from assistant.agent.knowledge import KnowledgeCache
    from assistant.agent.llm import Conversation, SpotifyFacts, ToolLoop
    from assistant.agent.spotify_tools import SpotifyTools
    from assistant.agent.tools import ToolRegistry

    knowledge = KnowledgeCache(data_dir / KNOWLEDGE_FILE) if data_dir is not None else None
    tools = SpotifyTools(
        client, player, ask_model=model.ask if model is not None else None, knowledge=knowledge
    )
    registry = ToolRegistry(tools)
    loop = None
    if model is not None:
        loop = ToolLoop(
            model,
            registry,
            facts=SpotifyFacts(client),
            max_steps=settings.llm_max_steps,
            conversation=Conversation(max_age=settings.conversation_minutes * 60),
        )
    return Agent(registry, llm=loop, spotify_calls=lambda: client.calls)


@dataclass
class Assistant:
    """A working Segue: the pipeline and what has to be closed after it.

    Attributes:
        pipeline: The entry for every command.
        demo: Whether it runs against the in-process simulated Spotify.
    """

    pipeline: Pipeline
    demo: bool
    _closers: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        """Close the Spotify connections and stop the simulator, if any."""
        while self._closers:
            self._closers.pop()()

    def __enter__(self) -> Assistant:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def build_assistant(
    settings: Settings,
    *,
    data_dir: Path | None,
    demo: bool = False,
    secrets: SecretStore | None = None,
    environ: Mapping[str, str] | None = None,
) -> Assistant:
    """Build the pipeline for the configured Spotify account, or for the demo.

    In demo mode (asked for, or no ``spotify_client_id``) a simulated Spotify runs in this
    process with a signed-in demo user, and the real sign-in, client and local player are built
    against it: the same code path as the real thing, its Computer device named after this host.

    Args:
        settings: The settings.
        data_dir: Segue's data dir (the music-knowledge cache); None keeps no cache.
        demo: Run against the simulated Spotify.
        secrets: The secret store (the Spotify sign-in, the OpenAI key); the system keyring by
            default.
        environ: Where ``OPENAI_API_KEY`` is read; ``os.environ`` by default.
    """
    from assistant.pipeline import Pipeline

    closers: list[Callable[[], None]] = []
    key_store = secrets
    if demo or settings.demo:
        from assistant.sim import SIM_CLIENT_ID, SimulatedSpotify

        sim = SimulatedSpotify(computer_name=socket.gethostname()).start()
        closers.append(sim.stop)
        demo_secrets = SecretStore(MemoryKeyring())
        demo_secrets.save_spotify_refresh_token(sim.sign_in()["refresh_token"], new_sign_in=True)
        settings = settings.model_copy(
            update={
                "spotify_client_id": SIM_CLIENT_ID,
                "spotify_api_url": sim.api_url,
                "spotify_accounts_url": sim.accounts_url,
            }
        )
        spotify_secrets = demo_secrets
        demo = True
    else:
        spotify_secrets = secrets if secrets is not None else build_secrets()
        key_store = spotify_secrets
    if key_store is None:
        key_store = build_secrets()
    client = build_spotify(settings, build_auth(settings, spotify_secrets))
    closers.append(client.close)
    api_key = openai_api_key(key_store, environ)
    model = build_chat_model(settings, build_openai(settings, api_key)) if api_key else None
    player = build_local_player(settings, client)
    if demo:
        # The demo user has Spotify open on this computer: its player is the active device
        # (paused), so "volume 30" or "next" work before anything was played.
        computer = player.find(client.devices())
        if computer is not None and computer.id is not None:
            client.transfer(computer.id, play=False)
    agent = build_agent(settings, client, player, model=model, data_dir=data_dir)
    return Assistant(pipeline=Pipeline(agent), demo=demo, _closers=closers)

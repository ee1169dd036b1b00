"""The composition root: the only place that builds Segue's parts from Settings.

Nothing imports this module but the entry points (``cli.py`` and, later, the tray), so every
other module receives what it needs through its constructor.
"""

from __future__ import annotations

import logging
import os
import shlex
import socket
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from assistant.agent.agent import QUESTION_TTL
from assistant.config import Settings
from assistant.errors import ConfigError, SecretStoreUnavailable, SegueError
from assistant.secrets import OPENAI_API_KEY, MemoryKeyring, SecretStore
from assistant.spotify.auth import SpotifyAuth
from assistant.spotify.client import SpotifyClient
from assistant.spotify.devices import LocalPlayer
from assistant.spotify.ducking import VolumeDucker

if TYPE_CHECKING:
    import openai

    from assistant.agent.agent import Agent
    from assistant.agent.llm import ChatModel
    from assistant.agent.undo import UndoJournal
    from assistant.desktop.notify import Notifier
    from assistant.pipeline import Pipeline
    from assistant.spotify.control import PlayerControl
    from assistant.spotify.local import LocalApp
    from assistant.taste import TasteMemory
    from assistant.voice.audio import Recording
    from assistant.voice.stt import Rescored, SpeechToText, Transcript
    from assistant.voice.tts import Speaker

logger = logging.getLogger(__name__)

KNOWLEDGE_FILE = "knowledge.sqlite3"
BUILDS_FILE = "builds.sqlite3"
# How far back "try again" reaches for an unfinished playlist build: as long as Segue's own
# questions and retries last, so "try again" finishes the build that just failed (in this process
# or one that was killed), never one from an hour of other commands ago.
UNFINISHED_BUILD_WINDOW = QUESTION_TTL
KEYRING_LOCK_FILE = "keyring.lock"
THIS_COMPUTER_FILE = "this-computer.sqlite3"  # which listed Spotify player is this computer's
DEMO_WORLD_FILE = "demo-world.sqlite3"  # the demo's Spotify, shared by every demo process
UNDO_FILE = "undo.sqlite3"  # what Segue's last commands changed, for "undo" (agent/undo.py)
DEMO_UNDO_FILE = "demo-undo.sqlite3"  # the same for the demo world, never mixed with the account's
TASTE_FILE = "taste.sqlite3"  # what the person likes (assistant/taste/)
DEMO_TASTE_FILE = "demo-taste.sqlite3"  # the demo account's taste, never mixed with a real one's


DemoReason = Literal["asked", "no_account", "not_signed_in"]


def signed_in_ever(secrets: SecretStore) -> bool:
    """Whether this person has signed in to their Spotify (a sign-in stored, or its date).

    Demo mode ends only when a sign-in succeeds: saving a Client ID in ``segue setup`` and then
    skipping or failing the sign-in leaves Segue in the demo (saying how to finish), rather than
    "ready" with every command failing. A sign-in Spotify later refused keeps its date (see
    ``SpotifyAuth``), so an expired one is said as such instead of turning into the demo.
    A keyring that cannot be read counts as signed in: the real path says what is wrong.
    """
    try:
        return (
            secrets.spotify_refresh_token() is not None
            or secrets.spotify_signed_in_at() is not None
        )
    except SegueError:
        return True


def plays_demo(settings: Settings, data_dir: Path, *, demo: bool = False) -> bool:
    """Whether Segue would play the demo now: asked to, no Spotify app, or never signed in.

    For commands that read the demo's state without starting it (``segue taste``).
    """
    return demo or settings.demo or not signed_in_ever(build_secrets(data_dir))


def demo_sentence(reason: DemoReason | None, *, desktop: bool = False) -> str | None:
    """What to say once when Segue plays the demo without being asked to (None otherwise)."""
    connect = "choose “Connect Spotify...”" if desktop else "run `segue setup`"
    finish = "choose “Connect Spotify...”" if desktop else "run `segue login`"
    if reason == "no_account":
        return f"Demo mode: Segue is playing a simulated Spotify; {connect} to use yours."
    if reason == "not_signed_in":
        return (
            f"Demo mode: your Spotify app is set up but not signed in yet; {finish} to finish. "
            "Until then Segue plays the simulated Spotify."
        )
    return None


def build_secrets(data_dir: Path | None = None) -> SecretStore:
    """The secret store over the system keyring (``PYTHON_KEYRING_BACKEND`` is honoured).

    Every Segue process locks the same file in the data dir while it uses the keyring, so a token
    refresh in one never races another's.

    Args:
        data_dir: Where the lock file lives; the platform's data dir for Segue by default.
    """
    if data_dir is None:
        from assistant.config import Paths

        data_dir = Paths.default().data_dir
    return SecretStore(lock_file=data_dir / KEYRING_LOCK_FILE)


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
        reuse_connections=settings.connection_reuse,
    )


def build_local_player(
    settings: Settings, client: SpotifyClient, data_dir: Path | None = None
) -> LocalPlayer:
    """This computer's Spotify desktop player, started on demand.

    Args:
        settings: The settings.
        client: The Spotify client.
        data_dir: Where the id of this computer's player is remembered; None keeps it in memory.
    """
    from assistant.spotify.devices import DeviceMemory

    command = shlex.split(settings.spotify_app_command) if settings.spotify_app_command else None
    return LocalPlayer(
        client,
        device_name=settings.spotify_device_name,
        launch_command=command,
        wait_seconds=settings.device_wait_seconds,
        memory=DeviceMemory(data_dir / THIS_COMPUTER_FILE if data_dir is not None else None),
    )


def build_local_app(settings: Settings, *, demo: bool = False) -> LocalApp | None:
    """This computer's Spotify app, through its platform's local interface; None when off.

    MPRIS on Linux, AppleScript on macOS, the media session on Windows. None when
    ``local_control`` is false, and in demo mode, where Segue plays the simulated Spotify: a real
    Spotify app running here is not the demo's to pause or skip.
    """
    if demo or not settings.local_control:
        return None
    from assistant.spotify.local import local_app_for

    return local_app_for()


def build_player_control(
    settings: Settings, client: SpotifyClient, player: LocalPlayer, local: LocalApp | None
) -> PlayerControl:
    """Where transport commands and "what's playing" go: the app here or the Web API.

    Args:
        settings: The settings (this computer's device name, for "what's playing").
        client: The Spotify client.
        player: This computer's player on the Web API (started on "no active device").
        local: This computer's app through its local interface; None for the Web API only.
    """
    from assistant.spotify.control import PlayerControl

    return PlayerControl(
        client, player, local, this_computer=settings.spotify_device_name or socket.gethostname()
    )


def build_taste(data_dir: Path | None, *, demo: bool) -> TasteMemory:
    """The taste memory: the account's file, or the demo's own; in memory without a data dir."""
    from assistant.taste import TasteMemory

    if data_dir is None:
        return TasteMemory(None)
    return TasteMemory(data_dir / (DEMO_TASTE_FILE if demo else TASTE_FILE))


def reset_demo_world(data_dir: Path) -> Path:
    """Put the demo world back at its start (``segue sim --reset``) for every demo process.

    Returns:
        The world file.

    Raises:
        SegueError: The world file cannot be written; the sentence names it.
    """
    from assistant.sim.world_file import WorldFile, WorldFileUnavailable

    world = WorldFile(data_dir / DEMO_WORLD_FILE)
    try:
        world.check()
        world.reset()
    except WorldFileUnavailable as err:
        raise SegueError(f"Segue cannot reset the demo world in {world.path}: {err}.") from err
    finally:
        world.close()
    # What was undoable, and what the demo's listening taught, belong to the world that is gone.
    build_undo_journal(data_dir, demo=True, window=0).clear()
    build_taste(data_dir, demo=True).forget_all()
    return world.path


def build_undo_journal(data_dir: Path | None, *, demo: bool, window: float) -> UndoJournal:
    """Where "undo" finds the last command's changes: the account's file, or the demo's own.

    Every Segue process of a home shares it (the tray, ``segue say``); without a data dir it is
    in memory, as the demo's world then is.

    Args:
        data_dir: Segue's data dir; None keeps the record in memory.
        demo: Whether the changes are the demo world's.
        window: Seconds a command stays undoable (the conversation window).
    """
    from assistant.agent.undo import UndoJournal

    path = data_dir / (DEMO_UNDO_FILE if demo else UNDO_FILE) if data_dir is not None else None
    return UndoJournal(path, window=window)


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

    http_client = None
    if not settings.connection_reuse:
        import httpx2

        # No idle connection is kept: every request opens a new one (the benchmarks' baseline).
        http_client = openai.DefaultHttpxClient(limits=httpx2.Limits(max_keepalive_connections=0))
    return openai.OpenAI(
        api_key=api_key,
        base_url=settings.openai_base_url,
        timeout=settings.openai_timeout_seconds,
        max_retries=1,
        http_client=http_client,
    )


def build_chat_model(settings: Settings, client: openai.OpenAI) -> ChatModel:
    """The chat model the agent and the knowledge tools use."""
    from assistant.agent.llm import ChatModel

    return ChatModel(
        client,
        model=settings.openai_model,
        reasoning_effort=settings.openai_reasoning_effort,
        stream=_STREAM[settings.openai_stream],
    )


# openai_stream: streamed answers always, never, or until the server shows it does not stream.
_STREAM: dict[str, bool | None] = {"on": True, "off": False, "auto": None}


def build_agent(
    settings: Settings,
    client: SpotifyClient,
    player: LocalPlayer,
    *,
    model: ChatModel | None,
    data_dir: Path | None,
    demo: bool = False,
    volume: VolumeDucker | None = None,
    control: PlayerControl | None = None,
) -> Agent:
    """The agent: the Spotify tools, the fast path and (with a model) the tool loop.

    Args:
        settings: The settings.
        client: The Spotify client.
        player: This computer's Spotify player.
        model: The chat model; None when no OpenAI key is configured (fast path only).
        data_dir: Where the music-knowledge cache, the playlist builds and the taste memory
            live; None keeps no cache, and the builds and the taste in memory.
        demo: Whether Spotify is the demo's simulator: its playlist builds are kept in memory,
            never in the account's builds file, and its taste memory and its record for "undo"
            in files of their own.
        volume: The desktop's ducker, through which the volume commands act (see
            spotify/ducking.py); None for one that never ducks.
        control: Where transport commands go, this computer's app or the Web API (see
            spotify/control.py); None for the Web API only.
    """
    from assistant.agent.agent import Agent
    from assistant.agent.knowledge import KnowledgeCache
    from assistant.agent.llm import Conversation, SpotifyFacts, ToolLoop
    from assistant.agent.spotify_tools import SpotifyTools
    from assistant.agent.taste_tools import TasteTools
    from assistant.agent.tools import ToolCall, ToolRegistry
    from assistant.spotify.builds import BuildStore

    knowledge = KnowledgeCache(data_dir / KNOWLEDGE_FILE) if data_dir is not None else None
    from assistant.agent.grammar import parse

    taste = build_taste(data_dir, demo=demo)
    tools = SpotifyTools(
        client,
        player,
        ask_model=model.ask if model is not None else None,
        knowledge=knowledge,
        search_concurrency=settings.search_concurrency,
        devices_before_play=settings.devices_before_play,
        builds=BuildStore(data_dir / BUILDS_FILE if data_dir is not None and not demo else None),
        volume=volume,
        control=control,
        taste=taste,
        undo=build_undo_journal(data_dir, demo=demo, window=settings.conversation_minutes * 60),
    )
    registry = ToolRegistry(tools, TasteTools(taste, client, player, control=control))

    def unfinished_build() -> ToolCall | None:
        # A build left unfinished within the hour (by this process or another) is what "try
        # again" finishes when nothing else failed just now.
        found = tools.unfinished_build(UNFINISHED_BUILD_WINDOW)
        return ToolCall(found[0], found[1]) if found is not None else None

    loop = None
    if model is not None:
        loop = ToolLoop(
            model,
            registry,
            facts=SpotifyFacts(client, taste=taste.prompt_facts),
            max_steps=settings.llm_max_steps,
            conversation=Conversation(max_age=settings.conversation_minutes * 60),
            compose_replies=settings.compose_replies,
        )
    return Agent(
        registry,
        fast_path=parse if settings.fast_path else _no_fast_path,
        llm=loop,
        spotify_calls=lambda: client.calls,
        unfinished_work=unfinished_build,
    )


def _no_fast_path(text: str) -> None:
    """``fast_path = false``: every command goes to the model."""
    return None


@dataclass
class Assistant:
    """A working Segue: the pipeline and what has to be closed after it.

    Attributes:
        pipeline: The entry for every command.
        demo: Whether it runs against the in-process simulated Spotify.
        settings: The settings it was built from (demo mode: pointing at the simulator).
        auth: The Spotify sign-in.
        spotify: The Spotify client.
        openai: The OpenAI client, when a key is configured.
        demo_url: The simulated Spotify's base URL in demo mode.
        demo_reason: Why it plays the demo: asked for (``--demo``), no Spotify app configured,
            or an app configured but never signed in (see :func:`signed_in_ever`).
        ducker: Lowers Spotify while the person speaks; the volume commands act through it too.
        control: Where transport commands and "what's playing" go (this computer's app or the
            Web API); the tray reads what plays through it too.
    """

    pipeline: Pipeline
    demo: bool
    settings: Settings
    auth: SpotifyAuth
    spotify: SpotifyClient
    ducker: VolumeDucker
    control: PlayerControl
    openai: openai.OpenAI | None = None
    demo_url: str | None = None
    demo_reason: DemoReason | None = None
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
    demo_until_signed_in: bool = True,
) -> Assistant:
    """Build the pipeline for the configured Spotify account, or for the demo.

    In demo mode (asked for, or no ``spotify_client_id``) a simulated Spotify runs in this
    process with a signed-in demo user, and the real sign-in, client and local player are built
    against it: the same code path as the real thing, its Computer device named after this host.
    Its world (what plays, the playlists, the library) is kept in ``demo-world.sqlite3`` in the
    data dir, so the tray and every ``segue say`` and ``segue listen`` play one demo account
    (see sim/world_file.py); its sign-in stays in memory, never in the keyring. Demo mode builds
    no OpenAI client, key or not: nothing leaves this computer.

    Args:
        settings: The settings.
        data_dir: Segue's data dir (the music-knowledge cache, the demo world); None keeps no
            cache and gives the demo a world of this process's own (the tests).
        demo: Run against the simulated Spotify.
        secrets: The secret store (the Spotify sign-in, the OpenAI key); the system keyring by
            default.
        environ: Where ``OPENAI_API_KEY`` is read; ``os.environ`` by default.
        demo_until_signed_in: Whether an app configured but never signed in plays the demo
            (the tray, ``segue say``) or gets the account's path, where every Spotify call
            answers with the sign-in sentence (``segue mcp``: a host's calls must not act on a
            simulated Spotify the person cannot hear).
    """
    closers: list[Callable[[], None]] = []
    key_store = secrets
    demo_url: str | None = None
    demo_reason: DemoReason | None = "asked" if demo else "no_account" if settings.demo else None
    if demo_reason is None:
        if secrets is None:
            secrets = build_secrets(data_dir) if data_dir is not None else SecretStore()
            key_store = secrets
        if demo_until_signed_in and not signed_in_ever(secrets):
            demo_reason = "not_signed_in"
    if demo_reason is not None:
        from assistant.sim import SIM_CLIENT_ID, SimulatedSpotify

        sim = SimulatedSpotify(
            computer_name=socket.gethostname(),
            world_file=data_dir / DEMO_WORLD_FILE if data_dir is not None else None,
        ).start()
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
        demo_url = sim.base_url
        if demo_reason == "not_signed_in":
            logger.info("Spotify is set up but never signed in: the demo plays until it is")
    else:
        if secrets is not None:
            spotify_secrets = secrets
        else:
            spotify_secrets = build_secrets(data_dir) if data_dir is not None else SecretStore()
        key_store = spotify_secrets
    if key_store is None:
        key_store = build_secrets(data_dir) if data_dir is not None else SecretStore()
    auth = build_auth(settings, spotify_secrets)
    client = build_spotify(settings, auth)
    closers.append(client.close)
    if demo:
        # Nothing leaves this computer in demo mode (as the README promises): no OpenAI client,
        # so typed and spoken commands stay here (the fast path, the local speech model).
        api_key = None
        if openai_api_key(None, environ):
            logger.info("Demo mode: the OpenAI key is not used; nothing leaves this computer")
    else:
        api_key = openai_api_key(key_store, environ)
    openai_client = build_openai(settings, api_key) if api_key else None
    model = build_chat_model(settings, openai_client) if openai_client is not None else None
    # The demo's simulated players are not the person's: nothing about them is remembered.
    player = build_local_player(settings, client, None if demo else data_dir)
    # One ducker for the desktop and the tools: it decides which volume a command acts on while
    # the music is ducked (see spotify/ducking.py).
    ducker = VolumeDucker(client, percent=settings.ducking_percent)
    local = build_local_app(settings, demo=demo)
    if local is not None:
        closers.append(local.close)
    control = build_player_control(settings, client, player, local)
    agent = build_agent(
        settings,
        client,
        player,
        model=model,
        data_dir=data_dir,
        demo=demo,
        volume=ducker,
        control=control,
    )
    pipeline = build_pipeline(settings, agent, client, openai_client)
    return Assistant(
        pipeline=pipeline,
        demo=demo,
        demo_reason=demo_reason,
        settings=settings,
        auth=auth,
        spotify=client,
        ducker=ducker,
        control=control,
        openai=openai_client,
        demo_url=demo_url,
        _closers=closers,
    )


def build_stt(settings: Settings, openai_client: openai.OpenAI | None) -> SpeechToText:
    """Speech to text: OpenAI or the local Whisper model (which loads on first use).

    ``stt = "auto"`` picks OpenAI when a key is set, else the local model.
    """
    from assistant.voice.stt import LocalWhisper, OpenAISpeechToText

    use_openai = settings.stt == "openai" or (settings.stt == "auto" and openai_client is not None)
    if use_openai:
        if openai_client is None:
            raise ConfigError(
                "stt is set to “openai” but no OpenAI key is configured; set OPENAI_API_KEY "
                "or set stt to “local”."
            )
        return OpenAISpeechToText(
            openai_client,
            model=settings.stt_model,
            language=settings.stt_language,
            fmt=settings.upload_format,
            timeout_s=settings.openai_timeout_seconds,
        )
    return LocalWhisper(model=settings.local_stt_model, language=settings.stt_language)


def build_pipeline(
    settings: Settings, agent: Agent, client: SpotifyClient, openai_client: openai.OpenAI | None
) -> Pipeline:
    """The pipeline: speech detection and speech to text in front of the agent.

    Nothing about speech is loaded here: the recogniser and the voice detector import their
    libraries on first use, so typed commands start fast.
    """
    from assistant.agent.vocabulary import SpotifyVocabulary
    from assistant.pipeline import Pipeline
    from assistant.voice.audio import SpeechDetector

    vocabulary = SpotifyVocabulary(client)
    return Pipeline(
        agent,
        stt=_LazySpeechToText(lambda: build_stt(settings, openai_client)),
        detector=SpeechDetector(),
        min_speech_seconds=settings.min_speech_seconds,
        vocabulary=vocabulary,
        names=vocabulary.names,
        keep_recordings=(
            Path(settings.save_recordings_dir).expanduser()
            if settings.save_recordings_dir
            else None
        ),
    )


class _LazySpeechToText:
    """Builds the recogniser on the first spoken command (a bad setting then becomes a reply)."""

    def __init__(self, build: Callable[[], SpeechToText]) -> None:
        self._build = build
        self._stt: SpeechToText | None = None

    def _get(self) -> SpeechToText:
        if self._stt is None:
            self._stt = self._build()
        return self._stt

    def transcribe(self, rec: Recording, *, vocabulary: Sequence[str] = ()) -> Transcript:
        return self._get().transcribe(rec, vocabulary=vocabulary)

    def warm(self) -> None:
        """Build the recogniser and load its model, if it has one to load."""
        warm = getattr(self._get(), "warm", None)
        if callable(warm):
            warm()

    def rescore(self, rec: Recording, candidates: Sequence[str], transcript: str) -> Rescored:
        """The recogniser's own rescoring (the local model's)."""
        rescore = getattr(self._get(), "rescore", None)
        if not callable(rescore):
            raise TypeError("this recogniser cannot score sentences; check can_rescore first")
        result: Rescored = rescore(rec, candidates, transcript)
        return result

    @property
    def can_rescore(self) -> bool:
        """Whether the recogniser can score sentences against audio."""
        return callable(getattr(self._get(), "rescore", None))


# --- the desktop shell -------------------------------------------------------------------------

DEMO_NOTICE = (
    "Demo mode: Segue is using a simulated Spotify. Choose “Connect Spotify...” to use yours."
)


def build_speaker(settings: Settings, openai_client: openai.OpenAI | None) -> Speaker:
    """The voice that speaks replies: the system's, OpenAI's, or none."""
    from assistant.voice.tts import OpenAIVoice, SilentVoice, SystemVoice

    if settings.tts == "off":
        return SilentVoice()
    if settings.tts == "openai" and openai_client is not None:
        return OpenAIVoice(
            openai_client,
            model=settings.tts_model,
            voice=settings.tts_voice,
            timeout_s=settings.openai_timeout_seconds,
        )
    if settings.tts == "openai":
        logger.warning("tts is “openai” but no OpenAI key is set; using the system voice")
    return SystemVoice()


def run_desktop(
    settings: Settings,
    *,
    data_dir: Path,
    cache_dir: Path,
    config_file: Path,
    runtime_dir: Path,
    demo: bool = False,
    announce: Callable[[str], None] = print,
) -> int:
    """Run Segue in the tray until Quit; a second start opens the first one's popup.

    Args:
        settings: The settings.
        data_dir: Segue's data dir.
        cache_dir: Segue's cache dir (album art).
        config_file: The settings file ("Open settings file").
        runtime_dir: Where the single-instance socket lives.
        demo: Run against the simulated Spotify even when an account is configured.
        announce: Prints a line for the terminal that started Segue.

    Returns:
        The exit status.
    """
    from assistant.desktop.controller import Controller
    from assistant.desktop.hotkey import DesktopHotkey, HotkeyUnavailable
    from assistant.desktop.instance import SingleInstance
    from assistant.desktop.notify import Notifier
    from assistant.desktop.popup import PopupProcess
    from assistant.desktop.state import NowPlaying
    from assistant.desktop.tray import DeviceEntry, Tray
    from assistant.logs import route_glib_messages
    from assistant.voice.cues import Cues
    from assistant.voice.recorder import Recorder

    instance = SingleInstance(runtime_dir)
    early: list[str] = []
    box: list[Controller] = []

    def on_message(message: str) -> None:
        if box:
            box[0].on_message(message)
        else:
            early.append(message)

    if not instance.acquire(on_message):
        if instance.send("popup"):
            announce("Segue is already running; its popup is open.")
        else:
            announce("Segue is already running but did not answer; try again in a moment.")
        return 0
    try:
        with build_assistant(settings, data_dir=data_dir, demo=demo) as assistant:
            client = assistant.spotify
            notifier = Notifier(enabled=settings.notifications, cache_dir=cache_dir)

            def now_playing() -> NowPlaying | None:
                # From the app here while it plays (no request), else the Web API: the player
                # state, whose device the popup's card names.
                state = assistant.control.playback()
                if state is None:
                    return None
                return NowPlaying.of(state, device=assistant.control.where(state))

            def devices() -> list[DeviceEntry]:
                return [DeviceEntry(d.id, d.name, d.is_active) for d in client.devices() if d.id]

            def warm_up() -> None:
                assistant.auth.warm_up()
                assistant.pipeline.warm_up()

            controller = Controller(
                pipeline=assistant.pipeline,
                recorder=Recorder(
                    device=settings.input_device,
                    max_seconds=settings.max_recording_seconds,
                    on_level=lambda level: box[0].on_level(level),
                ),
                speaker=build_speaker(settings, assistant.openai),
                cues=Cues(enabled=settings.cues),
                ducker=assistant.ducker if settings.ducking else None,
                notifier=notifier,
                popup=PopupProcess(
                    lambda text: box[0].on_command(text), theme=settings.popup_theme
                ),
                warm_up=warm_up,
                now_playing=now_playing,
                devices=devices,
                transfer=lambda device_id: client.transfer(device_id, play=True),
                busy_press=settings.busy_press,
                speak_replies=settings.tts != "off",
                end_silence_s=settings.end_silence_seconds,
            )
            box.append(controller)
            # Under Wayland through the desktop's shortcut portal, else pynput; its sentences
            # (the keys bound, a refusal, a closed session) arrive as notifications.
            hotkey = DesktopHotkey(
                settings.hotkey,
                mode=settings.hotkey_mode,
                on_start=controller.start_talking,
                on_stop=controller.stop_talking,
                on_status=lambda sentence: notifier.notify("Segue", sentence),
            )
            route_glib_messages()  # GTK's assertions go to the log, not the terminal
            tray = Tray(
                demo=assistant.demo,
                on_talk=controller.on_talk,
                on_type=controller.on_type,
                on_device=controller.on_device,
                on_speak_replies=controller.on_speak_replies,
                on_open_settings=lambda: _open_file(config_file),
                on_sign_in=lambda: _sign_in(assistant, notifier, config_file),
                on_sign_out=lambda: _sign_out(assistant, notifier),
                on_quit=controller.close,
                speak_replies=settings.tts != "off",
                signed_in=assistant.demo or assistant.auth.signed_in,
            )
            controller.attach(tray)

            def started() -> None:
                if assistant.demo:
                    announce(f"Demo mode: simulated Spotify at {assistant.demo_url}")
                    notifier.notify(
                        "Segue", demo_sentence(assistant.demo_reason, desktop=True) or DEMO_NOTICE
                    )
                try:
                    hotkey.start()
                except HotkeyUnavailable as err:
                    notifier.notify("Segue", err.user_message)
                announce("Segue is running in the tray.")
                controller.refresh()
                # The grammar loads after the icon is up, so the first command does not wait.
                threading.Thread(
                    target=assistant.pipeline.agent.warm_up, name="grammar", daemon=True
                ).start()
                for message in early:
                    controller.on_message(message)

            try:
                tray.run(setup=started)
            finally:
                hotkey.stop()
                controller.close()
    finally:
        instance.release()
    return 0


def _open_file(path: Path) -> None:
    """Open a file in the desktop's editor, creating it (empty settings) when missing."""
    import subprocess
    import sys

    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("# Segue settings: see the README's Settings table.\n", encoding="utf-8")
    if sys.platform == "win32":
        os.startfile(path)  # type: ignore[attr-defined,unused-ignore]
        return
    opener = "open" if sys.platform == "darwin" else "xdg-open"
    try:
        subprocess.Popen(
            [opener, str(path)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError:
        logger.warning("Could not open %s with %s", path, opener)


def _sign_in(assistant: Assistant, notifier: Notifier, config_file: Path) -> None:
    """The tray's Sign in (or Connect Spotify...) item, on its own thread."""
    import threading

    from assistant.spotify.auth import sign_in

    if assistant.demo:
        from assistant.desktop.setup_window import open_setup_window

        # The window walks through the dashboard, the redirect URI and the Client ID, and signs
        # in; Segue uses the account from its next start.
        window = open_setup_window(config_file=config_file)

        def follow() -> None:
            import json

            result: dict[str, object] = {}
            assert window.stdout is not None
            for line in window.stdout:
                try:
                    message = json.loads(line)
                except ValueError:
                    continue
                if isinstance(message, dict) and message.get("type") == "result":
                    result = message
            window.wait()
            if result.get("signed_in"):
                notifier.notify(
                    "Segue", "Spotify is connected: quit Segue and start it again to use it."
                )

        threading.Thread(target=follow, name="segue-setup-window", daemon=True).start()
        return

    def flow() -> None:
        try:
            sign_in(assistant.auth, timeout=assistant.settings.login_timeout_seconds)
            notifier.notify("Segue", "Signed in to Spotify.")
        except SegueError as err:
            notifier.notify("Segue", err.user_message, error=True)

    threading.Thread(target=flow, name="segue-sign-in", daemon=True).start()


def _sign_out(assistant: Assistant, notifier: Notifier) -> None:
    assistant.auth.sign_out()
    notifier.notify("Segue", "Signed out of Spotify.")


def record_command(
    settings: Settings, assistant: Assistant, *, announce: Callable[[str], None]
) -> Recording:
    """Record one spoken command hands-free (``segue listen``), with cues and ducking.

    The recogniser loads and the vocabulary refreshes while the person speaks. The volume is
    restored however the recording ends.
    """
    import threading

    from assistant.voice.cues import Cues
    from assistant.voice.recorder import Recorder

    recorder = Recorder(device=settings.input_device, max_seconds=settings.max_recording_seconds)
    cues = Cues(enabled=settings.cues)
    ducker = assistant.ducker

    def warm_up() -> None:
        try:
            assistant.pipeline.warm_up()
        except SegueError as err:
            logger.info("Warm-up failed: %s", type(err).__name__)

    def tell_when_live() -> None:
        if recorder.live.wait(settings.max_recording_seconds):
            announce("Listening...")

    threading.Thread(target=warm_up, name="segue-warm-up", daemon=True).start()
    threading.Thread(target=tell_when_live, name="segue-live", daemon=True).start()
    playing = cues.play_start()
    if playing is not None:
        playing.wait(1.0)  # the cue must not be recorded as the start of speech
    if settings.ducking:
        ducker.duck()
    try:
        return recorder.record_hands_free(end_silence_s=settings.end_silence_seconds)
    finally:
        ducker.restore()
        cues.play_stop()

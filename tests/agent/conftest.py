"""The whole agent over real HTTP: the simulated Spotify, and the scripted fake OpenAI server.

``segue(...)`` builds what ``app.build_agent`` builds (SpotifyTools, the registry, the fast path,
the tool loop over the real openai SDK client), with an injectable clock for the five-minute
memory and pending questions, and returns a :class:`Segue` whose ``say(text)`` runs one command
through ``Pipeline.handle`` as every front end does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import openai
import pytest

from assistant.agent import intents
from assistant.agent.agent import Agent
from assistant.agent.llm import ChatModel, Conversation, SpotifyFacts, ToolLoop
from assistant.agent.spotify_tools import SpotifyTools
from assistant.agent.tools import ToolRegistry
from assistant.pipeline import Pipeline, Reply, Utterance
from assistant.spotify.client import SpotifyClient
from assistant.spotify.devices import LocalPlayer
from tests.fakes.openai_server import FakeOpenAI

MODEL = "gpt-5.4-mini"


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Segue:
    """One assembled agent and the handles a test needs."""

    pipeline: Pipeline
    agent: Agent
    registry: ToolRegistry
    client: SpotifyClient
    loop: ToolLoop | None
    waits: list[float] = field(default_factory=list)

    def say(self, text: str) -> Reply:
        return self.pipeline.handle(Utterance(text=text, source="test"))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def segue(
    client: SpotifyClient,
    player: LocalPlayer,
    clock: Clock,
    fake_openai: FakeOpenAI,
) -> Callable[..., Segue]:
    """``segue(llm=True, timeout=5.0, max_steps=6, fast_path=True, ...)``: a fresh agent."""

    def build(
        *,
        llm: bool = True,
        timeout: float = 5.0,
        max_steps: int = 6,
        reasoning_effort: str | None = "low",
        api_key: str = "sk-test",
        fast_path: bool = True,
        **tool_options: Any,
    ) -> Segue:
        waits: list[float] = []
        model: ChatModel | None = None
        if llm:
            sdk = openai.OpenAI(
                api_key=api_key, base_url=fake_openai.base_url, timeout=timeout, max_retries=1
            )
            model = ChatModel(
                sdk, model=MODEL, reasoning_effort=reasoning_effort, sleep=waits.append
            )
        tools = SpotifyTools(client, player, ask_model=model.ask if model else None, **tool_options)
        registry = ToolRegistry(tools)
        loop = None
        if model is not None:
            loop = ToolLoop(
                model,
                registry,
                facts=SpotifyFacts(client, clock=clock),
                max_steps=max_steps,
                conversation=Conversation(max_age=300, clock=clock),
            )
        agent = Agent(
            registry,
            fast_path=intents.parse if fast_path else (lambda text: None),
            llm=loop,
            clock=clock,
            spotify_calls=lambda: client.calls,
        )
        return Segue(Pipeline(agent), agent, registry, client, loop, waits)

    return build

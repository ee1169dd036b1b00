"""Fixtures for the tool tests: SpotifyTools over a signed-in client against the simulator.

Tools are called exactly as the agent calls them: ``ToolRegistry(tools).invoke(ToolCall(...))``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import pytest

from assistant.agent.knowledge import KnowledgeCache
from assistant.agent.spotify_tools import SpotifyTools
from assistant.agent.tools import ToolCall, ToolRegistry, ToolResult
from assistant.spotify.client import SpotifyClient
from assistant.spotify.devices import LocalPlayer


class Run(Protocol):
    def __call__(self, name: str, /, **arguments: Any) -> ToolResult: ...


class AskModel:
    """A stand-in for the model boundary: answers from a script and counts the calls."""

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.prompts: list[tuple[str, str]] = []

    def __call__(self, system: str, prompt: str) -> str:
        self.prompts.append((system, prompt))
        if len(self.answers) > 1:
            return self.answers.pop(0)
        return self.answers[0]


@pytest.fixture
def knowledge(tmp_path: Path) -> KnowledgeCache:
    return KnowledgeCache(tmp_path / "data" / "knowledge.sqlite3")


@pytest.fixture
def ask_model() -> AskModel:
    return AskModel("A short answer.")


@pytest.fixture
def make_run(
    client: SpotifyClient, player: LocalPlayer, knowledge: KnowledgeCache
) -> Callable[..., Run]:
    """``make_run(player=..., **SpotifyTools options)``: invokes tools through a registry."""

    def make(**options: Any) -> Run:
        options.setdefault("knowledge", knowledge)
        chosen = options.pop("player", player)
        registry = ToolRegistry(SpotifyTools(client, chosen, **options))

        def run(name: str, /, **arguments: Any) -> ToolResult:
            return registry.invoke(ToolCall(name=name, arguments=arguments))

        return run

    return make


@pytest.fixture
def run(make_run: Callable[..., Run], ask_model: AskModel) -> Run:
    return make_run(ask_model=ask_model)

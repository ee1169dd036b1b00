"""The tool registry on small tools of its own: schema strictness, validation, failures."""

from __future__ import annotations

from typing import Literal

import pytest

from assistant.agent.tools import ToolCall, ToolDefinitionError, ToolOutput, ToolRegistry, tool
from assistant.errors import NoDevice, NotFound


class Player:
    def __init__(self) -> None:
        self.played: list[tuple[str, str, int | None]] = []

    @tool
    def play(
        self, query: str, kind: Literal["track", "album"] = "track", volume: int | None = None
    ):
        """Play something.

        Args:
            query: What to play.
            kind: What the query names.
            volume: Volume to set first, or null to leave it.
        """
        if query == "nothing":
            raise NotFound("Nothing matched “nothing”.")
        if query == "offline":
            raise NoDevice()
        self.played.append((query, kind, volume))
        return ToolOutput(f"Playing {query}.", detail=f"Playing {query} ({kind}).")

    @tool(destructive=True)
    def forget(self, name: str) -> str:
        """Forget something.

        Args:
            name: What to forget.
        """
        return f"Forgot {name}."


def test_schema_is_strict_with_descriptions() -> None:
    schema = ToolRegistry(Player()).schemas(["play"])[0]
    assert schema["type"] == "function" and schema["function"]["strict"] is True
    params = schema["function"]["parameters"]
    assert params["additionalProperties"] is False
    assert params["required"] == ["query", "kind", "volume"]
    assert params["properties"]["kind"]["enum"] == ["track", "album"]
    assert {"type": "null"} in params["properties"]["volume"]["anyOf"]
    assert all(p["description"] for p in params["properties"].values())
    assert "title" not in str(params) and "default" not in params["properties"]["kind"]


def test_valid_call_runs_with_defaults_filled() -> None:
    player = Player()
    result = ToolRegistry(player).invoke(ToolCall("play", {"query": "Bohemian Rhapsody"}))
    assert result.ok and result.output.summary == "Playing Bohemian Rhapsody."
    assert result.output.for_model == "Playing Bohemian Rhapsody (track)."
    assert player.played == [("Bohemian Rhapsody", "track", None)]


@pytest.mark.parametrize(
    ("call", "says"),
    [
        (ToolCall("play", {"query": "x", "kind": "song"}), "Invalid arguments for play: kind"),
        (ToolCall("play", {"query": "x", "loud": True}), "loud"),
        (ToolCall("play", {}), "query"),
        (ToolCall("dance", {}), "There is no tool called dance. Available: forget, play."),
    ],
)
def test_bad_calls_come_back_to_the_model(call: ToolCall, says: str) -> None:
    player = Player()
    result = ToolRegistry(player).invoke(call)
    assert not result.ok and says in result.output.summary
    assert not result.needs_user and player.played == []


def test_invalid_json_arguments_come_back_to_the_model() -> None:
    registry = ToolRegistry(Player())
    result = registry.invoke(registry.parse_arguments("play", '{"query": "x"'))
    assert not result.ok and "not valid JSON" in result.output.summary


def test_errors_split_between_model_and_person() -> None:
    registry = ToolRegistry(Player())
    missing = registry.invoke(ToolCall("play", {"query": "nothing"}))
    assert not missing.ok and not missing.needs_user
    offline = registry.invoke(ToolCall("play", {"query": "offline"}))
    assert not offline.ok and offline.needs_user
    assert offline.output.summary == NoDevice().user_message


def test_destructive_tools_are_marked() -> None:
    registry = ToolRegistry(Player())
    forget, play = registry.get("forget"), registry.get("play")
    assert forget is not None and forget.destructive
    assert play is not None and not play.destructive


def test_a_parameter_without_a_description_is_refused() -> None:
    class Sloppy:
        @tool
        def skip(self, times: int) -> str:
            """Skip ahead."""
            return "skipped"

    with pytest.raises(ToolDefinitionError, match="times has no description"):
        ToolRegistry(Sloppy())

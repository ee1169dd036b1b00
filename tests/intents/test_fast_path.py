"""The command grammar: the phrasings table, the phrasings that must reach the LLM, coverage, speed.

The calls in the table are checked against the real tool registry (``SpotifyTools``), so a call the
grammar makes is one the registry accepts: same tool names, same argument names and types.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import pytest

from assistant.agent.grammar import parse
from assistant.agent.spotify_tools import SpotifyTools
from assistant.agent.taste_tools import TasteTools
from assistant.agent.tools import ToolCall, ToolRegistry
from assistant.taste import TasteMemory
from tests.intents.phrasings import DEFERRED, HANDLED, NEW_HANDLED, TRAPS, Call


def as_calls(calls: list[ToolCall] | None) -> list[Call] | None:
    return None if calls is None else [(call.name, dict(call.arguments)) for call in calls]


@pytest.mark.parametrize(
    ("text", "expected"), HANDLED + NEW_HANDLED, ids=[text for text, _ in HANDLED + NEW_HANDLED]
)
def test_phrasing_becomes_the_expected_calls(text: str, expected: list[Call]) -> None:
    assert as_calls(parse(text)) == expected


@pytest.mark.parametrize("text", DEFERRED)
def test_phrasing_goes_to_the_llm(text: str) -> None:
    assert parse(text) is None


@pytest.mark.parametrize("text", TRAPS)
def test_a_trap_changes_nothing(text: str) -> None:
    assert parse(text) is None


def test_table_is_big_enough_and_has_no_duplicates() -> None:
    texts = [text for text, _ in HANDLED + NEW_HANDLED] + DEFERRED + TRAPS
    assert len(HANDLED) >= 150
    assert len(DEFERRED) >= 50
    assert len(texts) == len(set(texts))


@pytest.fixture(scope="module")
def registry() -> ToolRegistry:
    # Building SpotifyTools stores its collaborators and calls nothing: no client is needed to
    # read the tools' argument models, and no tool runs here.
    unused: Any = object()
    return ToolRegistry(
        SpotifyTools(client=unused, player=unused),
        TasteTools(TasteMemory(None), client=unused, player=unused),
    )


def test_every_call_in_the_table_is_accepted_by_the_tool_registry(registry: ToolRegistry) -> None:
    problems = []
    for text, expected in HANDLED + NEW_HANDLED:
        for name, arguments in expected:
            tool = registry.get(name)
            if tool is None:
                problems.append(f"{text!r}: no tool called {name}")
                continue
            try:
                tool.arguments_model.model_validate(arguments)
            except ValueError as err:
                problems.append(f"{text!r}: {name}{arguments}: {err}")
    assert problems == []


def test_each_call_gets_its_own_arguments() -> None:
    first = parse("volume up")
    assert first is not None
    arguments: Any = first[0].arguments
    arguments["percent"] = 99
    assert as_calls(parse("volume up")) == [("set_volume", {"percent": 10, "relative": True})]


@pytest.mark.parametrize(
    "text",
    [
        "\U0001f3b5\U0001f3b5\U0001f3b5",
        "play " + "la " * 2000,
        "?" * 500,
        "volume " + "9" * 50,
        "go to 99:99",
        "play \x00\x01",
        "hey segue hey segue hey segue",
        "please please please please",
        "play by by by",
        "add to to to",
    ],
    ids=range(10),
)
def test_odd_text_never_raises(text: str) -> None:
    result = parse(text)
    assert result is None or all(isinstance(call, ToolCall) for call in result)


def test_coverage_and_speed_are_reported(fast_path_report: list[str]) -> None:
    handled = sum(as_calls(parse(text)) == expected for text, expected in HANDLED)
    new = sum(as_calls(parse(text)) == expected for text, expected in NEW_HANDLED)
    deferred = sum(parse(text) is None for text in DEFERRED)
    traps = sum(parse(text) is None for text in TRAPS)
    texts = [text for text, _ in HANDLED + NEW_HANDLED] + DEFERRED + TRAPS
    # Each phrase's best of several rounds: what the parser costs, without scheduler noise.
    rounds = 5
    best = dict.fromkeys(texts, float("inf"))
    started = time.perf_counter()
    for _ in range(rounds):
        for text in texts:
            before = time.perf_counter()
            parse(text)
            best[text] = min(best[text], time.perf_counter() - before)
    mean = (time.perf_counter() - started) / (rounds * len(texts))
    slowest = max(best, key=best.__getitem__)
    lines = [
        f"Grammar: {handled}/{len(HANDLED)} command phrasings handled locally, "
        f"{new}/{len(NEW_HANDLED)} new ones (playlists), "
        f"{deferred}/{len(DEFERRED)} correctly deferred to the LLM, "
        f"{traps}/{len(TRAPS)} traps left alone",
        f"Grammar speed (hassil): {mean * 1e3:.2f} ms per phrase on average, median "
        f"{statistics.median(best.values()) * 1e3:.2f} ms, slowest {best[slowest] * 1e3:.2f} ms "
        f"({slowest!r}; best of {rounds} rounds)",
    ]
    fast_path_report.extend(lines)
    print("\n".join(lines))
    assert handled == len(HANDLED)
    assert new == len(NEW_HANDLED)
    assert deferred == len(DEFERRED)
    assert traps == len(TRAPS)

"""The tool schemas the model sees: pinned by a golden file, every parameter described.

Regenerate the golden file after a deliberate change with ``SEGUE_UPDATE_GOLDENS=1 pytest ...``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from assistant.agent.reply import STEP_WORDS, step_words
from assistant.agent.spotify_tools import SpotifyTools
from assistant.agent.taste_tools import TasteTools
from assistant.agent.tools import ToolRegistry
from assistant.taste import TasteMemory

GOLDEN = Path(__file__).parent / "golden" / "spotify_tools.json"

# The names and order of arguments are the contract with the fast path and the LLM loop.
EXPECTED_TOOLS = {
    "play": ["query", "kind", "artist", "result_number", "device", "shuffle"],
    "pause": [],
    "resume": ["device"],
    "next_track": [],
    "previous_track": [],
    "seek": ["seconds", "relative"],
    "set_volume": ["percent", "relative"],
    "mute": ["muted"],
    "set_shuffle": ["on"],
    "set_repeat": ["mode"],
    "add_to_queue": ["query", "kind", "artist", "result_number"],
    "get_queue": [],
    "now_playing": ["about"],
    "list_devices": [],
    "transfer_playback": ["device"],
    "search": ["query", "kind", "artist"],
    "list_playlists": [],
    "create_playlist": ["name", "tracks", "description", "public"],
    "playlist_from_artist": ["artist", "name", "count"],
    "add_to_playlist": ["playlist", "tracks"],
    "remove_from_playlist": ["playlist", "tracks"],
    "save_to_library": ["tracks"],
    "remove_from_library": ["tracks"],
    "about_music": ["subject", "question", "query"],
    "more_like_this": ["count", "action", "query", "playlist_name"],
    "undo": [],
    "undo_new_playlist": [],
}
DESTRUCTIVE = {"remove_from_playlist", "remove_from_library", "undo_new_playlist"}
# Tools that change nothing: the model's loop goes on after them.
READ_ONLY = {"get_queue", "now_playing", "list_devices", "search", "list_playlists"}


def registry() -> ToolRegistry:
    # Building schemas touches no client: the tools are only inspected.
    return ToolRegistry(SpotifyTools(None, None))  # type: ignore[arg-type]


def schemas() -> list[dict[str, Any]]:
    return registry().schemas()


def test_schemas_match_the_golden_file() -> None:
    text = json.dumps(schemas(), indent=2, ensure_ascii=False) + "\n"
    if os.environ.get("SEGUE_UPDATE_GOLDENS") == "1":
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(text, encoding="utf-8")
    assert GOLDEN.exists(), "no golden file: run with SEGUE_UPDATE_GOLDENS=1"
    assert json.loads(GOLDEN.read_text(encoding="utf-8")) == json.loads(text), (
        "tool schemas changed; if on purpose, rerun with SEGUE_UPDATE_GOLDENS=1"
    )


def test_tools_and_arguments_are_the_agreed_ones() -> None:
    found = {
        s["function"]["name"]: list(s["function"]["parameters"]["properties"]) for s in schemas()
    }
    assert found == EXPECTED_TOOLS
    assert {t.name for t in registry() if t.destructive} == DESTRUCTIVE
    assert {t.name for t in registry() if t.read_only} == READ_ONLY


def test_every_parameter_has_a_description() -> None:
    for schema in schemas():
        function = schema["function"]
        assert function["description"].strip(), function["name"]
        assert function["strict"] is True
        parameters = function["parameters"]
        assert parameters["additionalProperties"] is False
        assert parameters["required"] == list(parameters["properties"])
        for name, prop in parameters["properties"].items():
            assert prop.get("description", "").strip(), f"{function['name']}.{name}"


def test_descriptions_stay_short() -> None:
    for schema in schemas():
        description = schema["function"]["description"]
        sentences = [s for s in description.replace("\n", " ").split(". ") if s.strip()]
        assert len(sentences) <= 3, schema["function"]["name"]


def test_schema_size(capsys: pytest.CaptureFixture[str]) -> None:
    size = len(json.dumps(schemas()))
    compact = len(json.dumps(schemas(), separators=(",", ":")))
    with capsys.disabled():
        print(f"\nSpotifyTools schemas: {size} bytes (json.dumps), {compact} compact")
    assert size < 14_000  # every byte is sent on every LLM request


def test_every_tool_says_in_words_what_it_is_doing() -> None:
    # The popup's working line says what a running command does ("Searching Spotify…"), from
    # one table: every tool of the registry is in it, in people's words, never its name.
    unused: Any = object()
    tools = [*registry(), *ToolRegistry(TasteTools(TasteMemory(None), unused, unused))]
    missing = [tool.name for tool in tools if tool.name not in STEP_WORDS]
    assert missing == []
    for tool in tools:
        words = step_words(tool.name)
        assert words.endswith("…") and "_" not in words and tool.name not in words, words

"""The command grammar as data: its examples, the README's table, candidate sentences, quality.

The round trip keeps the candidates and the parser honest: every sentence offered to the speech
recogniser must parse back to calls with full quality.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from assistant.agent.grammar import (
    Names,
    examples,
    grammar,
    parse,
    sentences,
    understand,
)
from assistant.agent.grammar.matcher import GRAMMAR_FILE, Grammar
from assistant.sim.catalog import Catalog
from assistant.sim.simulator import SimulatedSpotify
from tests.intents.conftest import FAST_PATH_REPORT

README = Path(__file__).resolve().parents[2] / "README.md"
# Items of the README's "no model needed" column that are not commands of the grammar: the
# agent answers its own questions ("2") and retries ("try again"); "a Spotify link" describes.
NOT_GRAMMAR = {"2", "try again", "a Spotify link"}
LINK = "https://open.spotify.com/track/4u7EnebtmKWzUH433cf5Qv"
PHRASINGS_PER_TEMPLATE = 100
# Every n-th candidate with names is parsed again (all are checked when they are made).
NAMED_STRIDE = 5


def readme_examples() -> list[str]:
    """The middle column of the README's "What you can say" table, notes in brackets dropped."""
    text = README.read_text(encoding="utf-8")
    table = text[text.index("What you can say") :]
    items: list[str] = []
    for line in table.splitlines()[4:]:
        if not line.startswith("|"):
            break
        middle = line.split("|")[2]
        for item in middle.split("\u00b7"):
            item = re.sub(r"\(.*?\)", "", item).strip()
            if item:
                items.append(item)
    return items


def test_the_readme_table_is_read() -> None:
    assert {"pause", "play Creep by Radiohead", "go to 1:30"} <= set(readme_examples())


@pytest.mark.parametrize("example", [e for e in readme_examples() if e not in NOT_GRAMMAR])
def test_every_readme_example_without_a_model_is_understood(example: str) -> None:
    understood = understand(example)
    assert understood is not None and understood.quality == 1.0


def test_a_link_is_understood() -> None:
    assert parse(LINK) is not None


def test_every_example_of_the_grammar_parses_to_calls() -> None:
    listed = examples()
    assert len(listed) >= 25
    categories = {category for category, _ in listed}
    assert {
        "playback",
        "volume",
        "play",
        "queue",
        "library",
        "playlists",
        "questions",
    } <= categories
    not_understood = [example for _, example in listed if not parse(example)]
    assert not_understood == []


def test_a_recognisers_slip_is_understood_with_less_quality() -> None:
    slip = understand("And this song to my Chill Vibes playlist.")
    assert slip is not None
    assert slip.quality < 1.0
    full = understand("add this song to my Chill Vibes playlist")
    assert full is not None
    assert full.quality == 1.0
    assert slip.calls == full.calls
    assert full.sentence.startswith("add: ")


def test_understanding_names_the_rule_and_keeps_names_as_said() -> None:
    understood = understand("play Don\u2019t Stop Me Now by Queen")
    assert understood is not None
    assert understood.sentence == "play: <play_start> {song:query} <after>"
    assert [dict(call.arguments) for call in understood.calls] == [
        {"query": "Don't Stop Me Now", "artist": "Queen"}
    ]


# --------------------------------------------------------------------------------------------
# Candidate sentences
# --------------------------------------------------------------------------------------------


def test_fixed_commands_are_candidates_and_each_means_its_own_command() -> None:
    fixed = sentences()
    # The budget: about 200 commands without slots, and "volume N" / "set the volume to N
    # percent" for N from 0 to 100.
    assert 100 <= len(grammar().fixed_sentences()) <= 300
    assert len(fixed) <= len(grammar().fixed_sentences()) + 202
    assert {"volume 0", "volume 100", "set the volume to 30 percent"} <= set(fixed)
    assert {"pause", "shuffle on", "turn shuffle off", "what's playing", "skip"} <= set(fixed)
    problems = []
    for sentence in fixed:
        understood = understand(sentence)
        if understood is None or understood.quality < 1.0:
            problems.append(sentence)
    assert problems == []


def test_every_phrasing_of_a_fixed_command_means_that_command() -> None:
    # Each block without slots has one meaning: every phrasing its templates allow (not only
    # the candidates) gives that block's calls, whatever other blocks say.
    from hassil import sample_expression

    document = yaml.safe_load(GRAMMAR_FILE.read_text(encoding="utf-8"))
    loaded = Grammar(document)
    problems: list[str] = []
    checked = 0
    for block in loaded._ordered:
        if block.has_slots or block.for_model:
            continue
        wanted = [(call.tool, dict(call.arguments)) for call in block.calls]
        for sentence in block.data.sentences:
            phrases = list(
                sample_expression(
                    sentence.expression,
                    loaded._intents.slot_lists,
                    loaded._intents.expansion_rules,
                )
            )
            # A long template spells out over a thousand phrasings: every n-th one will do.
            for phrase in phrases[:: max(1, len(phrases) // PHRASINGS_PER_TEMPLATE)]:
                phrase = " ".join(phrase.split())
                checked += 1
                calls = parse(phrase)
                got = None if calls is None else [(c.name, dict(c.arguments)) for c in calls]
                if got != wanted:
                    problems.append(f"{phrase!r}: {got} instead of {wanted}")
    assert checked > 1000
    assert problems == []


@pytest.fixture(scope="module")
def sim_names() -> Names:
    """The simulator user's names: playlists and devices, the catalog's artists and tracks."""
    with SimulatedSpotify() as sim:
        playlists = tuple(p["name"] for p in sim.snapshot()["playlists"].values())
        devices = tuple(d["name"] for d in sim.devices)
    catalog = Catalog.load()
    artists = tuple(artist.name for artist in catalog.artists.values())
    tracks = tuple(
        (track.name, catalog.track_artists(track)[0].name) for track in catalog.tracks.values()
    )
    return Names(
        playlists=playlists, artists=artists, tracks=tracks, devices=devices, current=tracks[0]
    )


def test_names_fill_the_templates_and_every_candidate_parses_back(
    sim_names: Names, request: pytest.FixtureRequest
) -> None:
    fixed = grammar().fixed_sentences()
    named = sentences(sim_names)
    assert named[: len(fixed)] == fixed
    title, artist = sim_names.tracks[0]
    assert {
        "play my Deep Work playlist",
        "add this to Deep Work",
        "switch to Pixel 8",
        "play Queen",
        f"play {title} by {artist}",
        "volume 30",
        "set the volume to 45 percent",
        "make a playlist of songs by Nina Simone",
    } <= set(named)
    problems = []
    for sentence in named[::NAMED_STRIDE]:
        understood = understand(sentence)
        if understood is None or understood.quality < 1.0:
            problems.append(sentence)
    assert problems == []
    filled = len(list(grammar().filled(sim_names)))
    line = (
        f"Grammar candidates: {len(fixed)} fixed; {len(named)} with the simulator user's names "
        f"({len(sim_names.playlists)} playlists, {len(sim_names.artists)} artists, "
        f"{len(sim_names.tracks)} tracks, {len(sim_names.devices)} devices; "
        f"{filled - (len(named) - len(fixed))} filled sentences left out as not fully understood)"
    )
    request.config.stash.setdefault(FAST_PATH_REPORT, []).append(line)
    print(line)


def test_a_limit_keeps_the_fixed_commands_first(sim_names: Names) -> None:
    limited = sentences(sim_names, limit=50)
    assert limited == grammar().fixed_sentences()[:50]


def test_each_call_of_sentences_is_a_new_list() -> None:
    first = sentences()
    first.clear()
    assert sentences()


def test_a_grammar_with_a_slot_from_two_lists_is_refused() -> None:
    document: dict[str, Any] = yaml.safe_load(GRAMMAR_FILE.read_text(encoding="utf-8"))
    document["intents"]["broken"] = {
        "data": [{"sentences": ["blah ({song:query}|x {artist:query})"], "metadata": {}}]
    }
    with pytest.raises(ValueError, match="two lists"):
        Grammar(document)

"""Bounds on what the model (or a person) asks at once.

Songs per request, tool calls per model step, the length of a name or of a command: over a bound
nothing runs, or only the bounded part, and the reply says the bound.
"""

from __future__ import annotations

from typing import Any

import pytest

from assistant.agent.tools import MAX_LIST_ITEMS
from tests.fakes.openai_server import FakeOpenAI
from tests.faults.conftest import FaultySpotify, Segue, one_sentence

PLAY = {"kind": "any", "artist": None, "result_number": None, "device": None, "shuffle": None}
SEARCH = r"/v1/search"


def _playlists(spotify: FaultySpotify) -> set[str]:
    return {p["name"] for p in spotify.sim.snapshot()["playlists"].values()}


# (the model's one call, the sentence the person gets)
OVER_A_CAP: dict[str, tuple[tuple[str, dict[str, Any]], str]] = {
    "playlist-of-5000-songs": (
        (
            "create_playlist",
            {
                "name": "Everything",
                "tracks": [f"Song {n} by Artist {n}" for n in range(5000)],
                "description": None,
                "public": False,
            },
        ),
        "Segue takes at most 200 songs in one request, and this asked for 5,000; ask for 200 or "
        "fewer.",
    ),
    "add-5000-songs": (
        (
            "add_to_playlist",
            {"playlist": "Deep Work", "tracks": [f"Song {n}" for n in range(5000)]},
        ),
        "Segue takes at most 200 songs in one request, and this asked for 5,000; ask for 200 or "
        "fewer.",
    ),
    "two-megabyte-query": (
        ("play", PLAY | {"query": "x" * 2_000_000}),
        "The search is too long: Segue takes at most 300 characters (2,000,000 were given); say "
        "it in fewer words.",
    ),
    "one-song-name-of-5000-characters": (
        (
            "add_to_playlist",
            {"playlist": "Deep Work", "tracks": ["Creep by Radiohead", "y" * 5000]},
        ),
        "One of the songs is too long: Segue takes at most 300 characters (5,000 were given); say "
        "it in fewer words.",
    ),
}


@pytest.mark.parametrize("case", list(OVER_A_CAP))
def test_argument_over_its_cap_runs_nothing(
    case: str,
    model_env: dict[str, str],
    spotify: FaultySpotify,
    fake_openai: FakeOpenAI,
    segue: Segue,
) -> None:
    call, sentence = OVER_A_CAP[case]
    fake_openai.chat(tool_calls=[call])
    before = _playlists(spotify)
    done = segue("say", "do it", env=model_env)
    assert one_sentence(done.stderr) == sentence
    assert done.returncode == 1
    # Nothing was made: the cap refused the finished call before it ran. While the model wrote
    # it, its first songs may have been looked up (only searches start early), but never more
    # than one call's cap of them (two readings of a song at most), and none after the list
    # showed it was over the cap.
    assert spotify.requests_to("GET", SEARCH) <= 2 * MAX_LIST_ITEMS
    assert _playlists(spotify) == before
    assert spotify.requests_to("POST", r"/v1/me/playlists") == 0
    assert spotify.requests_to("POST", r"/v1/playlists/.*/items") == 0


@pytest.mark.parametrize(
    ("calls", "ran"),
    [
        pytest.param([("next_track", {})] * 50, 5, id="fifty-next-track"),
        pytest.param(
            [("set_volume", {"percent": n, "relative": False}) for n in range(1, 51)],
            10,
            id="fifty-volume-changes",
        ),
    ],
)
def test_tool_calls_over_the_step_cap(
    calls: list[tuple[str, dict[str, Any]]],
    ran: int,
    model_env: dict[str, str],
    spotify: FaultySpotify,
    fake_openai: FakeOpenAI,
    segue: Segue,
) -> None:
    spotify.start_playing()
    fake_openai.chat(tool_calls=calls)
    done = segue("say", "go wild", env=model_env, replies=1)
    assert done.returncode == 0 and done.stderr == ""
    said = one_sentence(done.stdout)
    assert said.endswith(
        f"I did {ran} of the 50 things asked for at once: Segue does at most 10 in one go, and "
        "the same thing at most 5 times."
    )
    name = calls[0][0]
    sent = {
        "next_track": ("POST", r"/v1/me/player/next"),
        "set_volume": ("PUT", r"/v1/me/player/volume"),
    }[name]
    # Each call may be sent twice (once more after moving playback to this computer).
    assert ran <= spotify.requests_to(*sent) <= 2 * ran


def test_a_command_of_two_megabytes_is_refused(
    model_env: dict[str, str],
    spotify: FaultySpotify,
    fake_openai: FakeOpenAI,
    segue: Segue,
) -> None:
    dialogue = "play " + "la " * 700_000 + "\nvolume 40\n"
    done = segue("say", "--json", env=model_env, stdin=dialogue, replies=2)
    assert done.replies == [
        "That command is too long: Segue takes at most 1,000 characters; say it in fewer words.",
        "Volume 40%.",
    ]
    assert fake_openai.count() == 0 and spotify.requests_to("GET", SEARCH) == 0

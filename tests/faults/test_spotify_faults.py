"""Spotify answering in ways that are not its API.

A cut body where the player's state should be is never silence ("Nothing is playing"); an HTML
page where an error body should be is never quoted.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.sim.server import Fault
from tests.faults.conftest import FaultySpotify, Segue, one_sentence, signed_in_env

UNREADABLE = "Spotify sent an answer Segue could not read; try again in a moment."
HTML_PAGE = "<html><head><title>400 Bad Request</title></head><body>Bad Request</body></html>"


def test_player_answer_not_json_is_not_silence(
    home: Path, spotify: FaultySpotify, monkeypatch: pytest.MonkeyPatch, segue: Segue
) -> None:
    spotify.start_playing()
    # 200 with a body cut short, on every read of the player's state.
    spotify.inject(
        Fault(
            path=r"/v1/me/player(/currently-playing)?",
            method="GET",
            status=200,
            body='{"is_playing": tr',
            times=None,
        )
    )
    done = segue("say", "what's playing", env=signed_in_env(home, spotify.sim, monkeypatch))
    assert one_sentence(done.stderr) == UNREADABLE
    assert done.returncode == 1 and "Nothing is playing" not in done.stdout


def test_an_error_page_in_html_is_not_quoted(
    home: Path, spotify: FaultySpotify, monkeypatch: pytest.MonkeyPatch, segue: Segue
) -> None:
    spotify.inject(Fault(path=r"/v1/search", method="GET", status=400, body=HTML_PAGE, times=None))
    done = segue(
        "say", "play Creep by Radiohead", env=signed_in_env(home, spotify.sim, monkeypatch)
    )
    said = one_sentence(done.stderr)
    assert said.startswith("Spotify refused the request") and "<" not in said
    assert done.returncode == 1

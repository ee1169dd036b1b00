"""The one policy for names: act on a close match, ask about a near one, refuse the rest.

The pairs are what people type or what a recogniser hears, against names as Spotify spells them.
"""

from __future__ import annotations

import pytest

from assistant.text import match
from assistant.text.fold import fold
from assistant.text.numbers import number_value, ordinal_value
from assistant.text.songs import title_artist_readings

ACT, ASK, NONE = match.Verdict.ACT, match.Verdict.ASK, match.Verdict.NONE


@pytest.mark.parametrize(
    ("said", "name", "by", "expected"),
    [
        ("hello", "Hello", "", ACT),
        ("billy jean", "Billie Jean", "", ACT),  # a spelling slip
        ("deft punk", "Daft Punk", "", ACT),  # a recogniser's slip
        ("bohemian rhapsody", "Bohemian Rhapsody - Remastered 2011", "", ACT),
        ("thriller", "Thriller 25 Super Deluxe Edition", "", ACT),
        ("rumours", "Rumours (Super Deluxe)", "", ACT),
        ("clair de lune", "Clair de Lune, L. 32", "", ACT),
        ("gymnopedie no 1", "Gymnopédie No. 1: Lent et douloureux", "", ACT),
        ("the beatles", "Beatles", "", ACT),
        ("radiohead creep", "Creep", "Radiohead", ACT),
        ("dont stop me now", "Don't Stop Me Now", "", ACT),
        ("halo", "Hello", "", ASK),  # near: "Did you mean ...?"
        ("rehap", "Rehab", "", ASK),
        ("gymnopedie no 1", "Gymnopédie No. 3: Lent et grave", "", ASK),  # another number
        ("deep work", "Deep Work 2", "", ASK),
        ("the news", "We Are the Champions", "", NONE),  # the wrong plays
        ("a game with me", "Come Away with Me", "", ASK),
        ("it at full volume", "Beat It", "", NONE),
        ("for lomeo nell", "Welcome to the Jungle", "", NONE),
        ("cubility gene", "Billie Jean", "", NONE),
        ("dancing", "Dancing Queen", "", ASK),
    ],
)
def test_what_segue_does_with_a_name(
    said: str, name: str, by: str, expected: match.Verdict
) -> None:
    assert match.verdict(match.similarity(said, name, by=by)) is expected


def test_an_answer_picks_one_option_clearly_or_none() -> None:
    options = ["Deep Work", "Deep Work II"]
    assert match.best_choice("deep work two", options) == 1
    assert match.best_choice("the deep work", options) == 0
    assert match.best_choice("play something relaxing", options) is None
    assert match.best_choice("kitchen", ["Kitchen speaker", "Living room speaker"]) == 0
    assert match.best_choice("speaker", ["Kitchen speaker", "Living room speaker"]) is None


def test_folding_numbers_and_songs_are_read_one_way() -> None:
    assert fold("Café  Lounge II!") == fold("cafe lounge two") == "cafe lounge 2"
    assert fold("Guns N' Roses") == "guns n roses"
    assert [number_value(t) for t in ("30", "thirty", "forty-five", "a hundred", "1000")] == [
        30,
        30,
        45,
        100,
        None,
    ]
    assert [ordinal_value(t) for t in ("second", "3rd", "last")] == [2, 3, None]
    assert title_artist_readings("Stand by Me by Ben E. King") == [("Stand by Me", "Ben E. King")]
    assert title_artist_readings("Stand by Me") == []
    assert title_artist_readings("Side by Side") == []
    assert title_artist_readings("Drive By by Train") == [("Drive By", "Train")]
    assert title_artist_readings("Hey Jude - The Beatles") == [("Hey Jude", "The Beatles")]
    assert title_artist_readings("Hey Jude - The Beatles", dash=False) == []

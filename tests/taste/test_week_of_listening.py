"""A week of listening through Segue and Spotify's app, and what the taste memory makes of it.

Everything runs for real: typed commands through the pipeline and the grammar, the tools over
spotipy and HTTP to the simulated Spotify, plays learned from its recently-played list, the
memory in SQLite. Only the calendar is the test's.
"""

from __future__ import annotations

from assistant.agent.taste_tools import NOTHING_LEARNED, NOTHING_THIS_MONTH
from assistant.taste.beliefs import ArtistBelief
from tests.agent_tools.helpers import playing, track_uri
from tests.taste.conftest import Listener

QUEEN_SONG = "Bohemian Rhapsody — Queen"


def live_a_week(me: Listener) -> None:
    # Forty days ago, a Queen song was liked and played through: older than this month.
    me.new_day(-40)
    me.say("play Bohemian Rhapsody by Queen")
    me.say("like this")
    me.hear_to_the_end("Bohemian Rhapsody", "Queen")

    me.new_day(-6)
    me.hear_to_the_end("Creep", "Radiohead")
    me.hear_to_the_end("One More Time", "Daft Punk")
    me.hear_to_the_end("Highway to Hell", "AC/DC")

    me.new_day(-5)
    me.say("play Creep by Radiohead")
    me.say("like this")
    me.hear_to_the_end("Creep", "Radiohead")
    me.say("play Highway to Hell by AC/DC")
    me.say("no more of this artist")

    me.new_day(-4)
    me.say("play Lost Johnny by Motörhead")
    me.say("skip")  # within 30 s: "not this song"
    me.say("play One More Time by Daft Punk")
    me.say("I love this song")  # a like
    me.hear_to_the_end("One More Time", "Daft Punk")

    me.new_day(-3)
    me.say("play Smells Like Teen Spirit by Nirvana")
    me.listen_for(40)
    me.say("next")  # after 40 s: Spotify lists a play, and it is no early skip
    me.say("play Blank Space by Taylor Swift")
    me.say("I don't like this song")
    me.hear_to_the_end("Airbag", "Radiohead")

    me.new_day(-2)
    me.say("play White Line Fever by Motörhead")
    me.say("skip")
    me.hear_to_the_end("Digital Love", "Daft Punk")

    me.new_day(-1)
    me.hear_to_the_end("Creep", "Radiohead")  # again
    me.say("play Digital Love by Daft Punk")
    me.say("I love this artist")

    me.new_day(0)


def artists(beliefs: list[ArtistBelief]) -> list[str]:
    return [a.name for a in beliefs]


def test_a_week_of_listening_is_remembered_and_played_back(listener: Listener) -> None:
    live_a_week(listener)
    beliefs = listener.memory.beliefs()

    assert artists(beliefs.liked_artists) == ["Daft Punk", "Radiohead", "Queen", "Nirvana"]
    assert set(artists(beliefs.avoided_artists)) == {"AC/DC", "Motörhead"}
    daft_punk, radiohead = beliefs.liked_artists[:2]
    assert (daft_punk.plays, daft_punk.likes, daft_punk.word) == (3, 1, "artist_liked")
    assert (radiohead.plays, radiohead.likes, radiohead.skips) == (4, 1, 0)
    creep = beliefs.track(track_uri(listener.sim, "Creep", "Radiohead"))
    assert creep is not None and (creep.plays, creep.library) == (3, "liked")
    by_name = {a.name: a for a in beliefs.artists}
    assert (by_name["Motörhead"].skips, by_name["Motörhead"].word) == (2, None)
    assert by_name["AC/DC"].word == "artist_avoided"
    # A skip after 30 s is a play, not an early skip.
    assert (by_name["Nirvana"].plays, by_name["Nirvana"].skips) == (1, 0)
    # One song disliked leaves the song out, not its artist.
    blank_space = beliefs.track(track_uri(listener.sim, "Blank Space", "Taylor Swift"))
    assert blank_space is not None and blank_space.unwanted
    assert not by_name["Taylor Swift"].avoided

    # Learning the same recently-played list again keeps each play once.
    assert listener.tools.sync() == 0
    assert listener.memory.beliefs() == beliefs

    reply = listener.say("play something I like")
    assert reply.text == "Playing 6 songs you like, starting with “Creep” by Radiohead."
    assert playing(listener.sim) == "Creep — Radiohead"
    (call,) = reply.tool_calls
    assert call.items == (
        "“Creep” by Radiohead",
        "“One More Time” by Daft Punk",
        "“Bohemian Rhapsody” by Queen",
        "“Digital Love” by Daft Punk",
        "“Airbag” by Radiohead",
        "“Smells Like Teen Spirit” by Nirvana",
    )
    upcoming = [track.label for track in listener.client.queue().upcoming]
    assert upcoming[:5] == [
        "One More Time — Daft Punk",
        QUEEN_SONG,
        "Digital Love — Daft Punk",
        "Airbag — Radiohead",
        "Smells Like Teen Spirit — Nirvana",
    ]

    reply = listener.say("play my favourites from this month")
    assert reply.text == (
        "Playing 5 favourites from the last 30 days, starting with “Creep” by Radiohead."
    )
    (call,) = reply.tool_calls
    assert "“Bohemian Rhapsody” by Queen" not in call.items  # liked 40 days ago
    assert len(call.items) == 5
    assert QUEEN_SONG not in [track.label for track in listener.client.queue().upcoming]


def test_with_nothing_learned_it_says_so_and_changes_nothing(listener: Listener) -> None:
    listener.new_day(-40)
    listener.say("play Creep by Radiohead")
    before = listener.sim.snapshot()

    reply = listener.say("play something I like")

    assert reply.text == NOTHING_LEARNED
    assert listener.sim.snapshot()["track_uri"] == before["track_uri"]
    assert listener.sim.snapshot()["is_playing"]

    listener.say("like this")  # forty days ago
    listener.new_day(0)
    assert listener.say("play my favourites from this month").text == NOTHING_THIS_MONTH
    assert listener.sim.snapshot()["track_uri"] == before["track_uri"]

"""Undo: the last command put back, as the person notices it in the simulator's state.

Commands run through the pipeline as every front end runs them: the fast path, and the scripted
fake OpenAI server where the words need the model (a model call nobody scripted fails the test).
What is checked is what the person would notice: the volume, shuffle and repeat, what plays, in
which album and where in it, the playlists, the library, the queue.
"""

from __future__ import annotations

from collections.abc import Callable

from assistant.agent.undo import NOTHING_MORE, QUEUE_REFUSAL, UndoJournal
from assistant.sim import SimulatedSpotify
from assistant.spotify.client import SpotifyClient
from tests.agent.conftest import Segue
from tests.agent.helpers import label, playing, playlist, track_uri
from tests.agent_tools.helpers import activate_computer
from tests.fakes.openai_server import FakeOpenAI

Make = Callable[..., Segue]


def followed(client: SpotifyClient) -> list[str]:
    """The names of the playlists the person has, as Spotify lists them now."""
    return [p.name for p in client.my_playlists(refresh=True)]


def test_volume_shuffle_and_repeat_come_back_and_a_second_undo_says_so(
    segue: Make, sim: SimulatedSpotify, client: SpotifyClient
) -> None:
    activate_computer(sim, client)
    s = segue(llm=False)
    assert s.say("volume 30").text == "Volume 30%."
    assert s.say("undo").text == "Volume back to 50%."
    assert sim.snapshot()["volume_percent"] == 50
    # Once undone, "undo" goes no further back (see agent/undo.py): nothing changes.
    again = s.say("undo")
    assert again.ok and again.text == NOTHING_MORE
    assert sim.snapshot()["volume_percent"] == 50

    s.say("mute")
    assert s.say("put it back").text == "Volume back to 50%."
    assert sim.snapshot()["volume_percent"] == 50

    s.say("shuffle on")
    assert s.say("never mind").text == "Shuffle back off."
    assert sim.snapshot()["shuffle"] is False

    s.say("repeat this song")
    assert sim.snapshot()["repeat"] == "track"
    assert s.say("that was wrong").text == "Repeat back off."
    assert sim.snapshot()["repeat"] == "off"


def test_a_play_goes_back_to_what_played_in_its_album_at_its_position(
    segue: Make, sim: SimulatedSpotify
) -> None:
    s = segue(llm=False)
    s.say("play Bohemian Rhapsody by Queen")
    s.say("go to 1:30")
    album = sim.snapshot()["context_uri"]
    s.say("play Creep by Radiohead")
    assert playing(sim) == "Creep — Radiohead"

    assert s.say("that's not what I wanted").text == "Back to “Bohemian Rhapsody” by Queen."

    state = sim.snapshot()
    assert playing(sim) == "Bohemian Rhapsody — Queen"
    assert state["context_uri"] == album  # the album goes on after it, as before
    assert 90_000 <= state["progress_ms"] < 100_000


def test_a_first_play_undone_pauses_and_a_skip_undone_goes_back(
    segue: Make, sim: SimulatedSpotify
) -> None:
    s = segue(llm=False)
    s.say("play You're My Best Friend by Queen")
    assert s.say("undo").text == "Paused: nothing was playing before."
    assert sim.snapshot()["is_playing"] is False

    s.say("resume")
    assert s.say("skip").text == "Skipped to “'39” by Queen."
    assert s.say("undo").text == "Back to the song before."
    assert playing(sim) == "You're My Best Friend — Queen"


def test_songs_added_leave_the_playlist_and_songs_already_there_stay(
    segue: Make, sim: SimulatedSpotify, fake_openai: FakeOpenAI
) -> None:
    before = list(playlist(sim, "Deep Work")["track_uris"])
    creep = track_uri(sim, "Creep", "Radiohead")
    there = label(sim, before[0]).replace(" — ", " by ")  # in the playlist already
    two = {"playlist": "Deep Work", "tracks": [there, "Creep by Radiohead"]}
    fake_openai.chat(tool_calls=[("add_to_playlist", two)])
    s = segue()
    added = s.say("add these two songs to Deep Work")
    assert added.used_llm and playlist(sim, "Deep Work")["track_uris"] == [*before, creep]

    undone = s.say("undo")

    assert not undone.used_llm
    assert undone.text == "Took “Creep” by Radiohead out of “Deep Work” again."
    assert playlist(sim, "Deep Work")["track_uris"] == before


def test_a_new_playlist_is_deleted_only_after_a_yes(
    segue: Make, sim: SimulatedSpotify, client: SpotifyClient
) -> None:
    s = segue(llm=False)
    s.say("play Creep by Radiohead")
    made = s.say("make a playlist called Focus with this song")
    assert made.text == "Created the empty playlist “Focus”. Added “Creep” by Radiohead to “Focus”."

    asked = s.say("undo")
    assert asked.text == "Delete the playlist “Focus” I just made? Say yes to confirm."
    assert asked.question == ("yes", "no") and "Focus" in followed(client)
    assert s.say("no").text == "OK, I left it as it is."
    assert "Focus" in followed(client)

    assert s.say("undo").question == ("yes", "no")
    assert s.say("yes").text == "Deleted the playlist “Focus”."  # the song went with it
    assert "Focus" not in followed(client)
    assert s.say("undo").text == NOTHING_MORE
    # Asked for again, it is made anew, not answered from the build record of the deleted one.
    assert s.say("make a playlist called Focus").text == "Created the empty playlist “Focus”."
    assert "Focus" in followed(client)


def test_a_like_is_unliked_but_a_song_liked_before_stays(
    segue: Make, sim: SimulatedSpotify
) -> None:
    s = segue(llm=False)
    s.say("play Creep by Radiohead")
    creep = track_uri(sim, "Creep", "Radiohead")
    s.say("like this")
    assert creep in sim.snapshot()["library"]
    assert s.say("undo").text == "Removed “Creep” by Radiohead from your library again."
    assert creep not in sim.snapshot()["library"]

    s.say("like this")
    s.say("like this")  # liked already: this like changed nothing
    assert s.say("undo").text == "That was in your library already, so I left it there."
    assert creep in sim.snapshot()["library"]


def test_a_queued_song_cannot_be_taken_off_and_segue_says_so(
    segue: Make, sim: SimulatedSpotify
) -> None:
    s = segue(llm=False)
    s.say("play Bohemian Rhapsody by Queen")
    s.say("queue Creep by Radiohead")
    queued = sim.snapshot()["queue"]

    assert s.say("undo").text == QUEUE_REFUSAL
    assert sim.snapshot()["queue"] == queued
    assert [label(sim, uri) for uri in queued] == ["Creep — Radiohead"]


def test_nothing_to_undo_and_nothing_after_the_conversation_window(
    segue: Make, sim: SimulatedSpotify, client: SpotifyClient
) -> None:
    now = [1_000_000.0]
    s = segue(llm=False, undo=UndoJournal(None, window=300, clock=lambda: now[0]))
    nothing = "There's nothing to undo: I haven't changed anything in the last 5 minutes."
    assert s.say("undo").text == nothing

    activate_computer(sim, client)
    s.say("volume 30")
    now[0] += 301
    assert s.say("undo").text == nothing
    assert sim.snapshot()["volume_percent"] == 30


def test_the_model_can_undo_and_asks_before_deleting(
    segue: Make, sim: SimulatedSpotify, client: SpotifyClient, fake_openai: FakeOpenAI
) -> None:
    activate_computer(sim, client)
    s = segue()
    s.say("volume 30")
    fake_openai.chat(tool_calls=[("undo", {})])
    reply = s.say("could you reverse whatever you just did")
    assert reply.used_llm and reply.text == "Volume back to 50%."
    assert sim.snapshot()["volume_percent"] == 50

    s.say("make a playlist called Focus")
    fake_openai.chat(tool_calls=[("undo", {})])
    asked = s.say("please restore things to how they were before")
    assert asked.text == "Delete the playlist “Focus” I just made? Say yes to confirm."
    assert "Focus" in followed(client)
    assert s.say("yes").text == "Deleted the playlist “Focus”."
    assert "Focus" not in followed(client)


def test_a_device_switch_and_a_removal_from_the_library_are_put_back(
    segue: Make, sim: SimulatedSpotify, client: SpotifyClient, fake_openai: FakeOpenAI
) -> None:
    s = segue()
    s.say("play Creep by Radiohead")
    computer = sim.snapshot()["active_device_id"]
    s.say("switch to Pixel 8")
    assert sim.snapshot()["active_device_id"] != computer
    assert s.say("undo").text == "Back on this computer."
    assert sim.snapshot()["active_device_id"] == computer and playing(sim) == "Creep — Radiohead"

    creep = track_uri(sim, "Creep", "Radiohead")
    client.save_to_library([creep])
    fake_openai.chat(tool_calls=[("remove_from_library", {"tracks": None})])
    assert s.say("I've gone off this one, unlike it").question == ("yes", "no")
    s.say("yes")
    assert creep not in sim.snapshot()["library"]
    assert s.say("undo").text == "Put the song back in your library."  # pinned by its link
    assert creep in sim.snapshot()["library"]

"""The fast path, Segue's own questions (which one? remove it?) and "try again".

The fake OpenAI server is running in every test: a model call nobody scripted fails the test,
so "no model call" is checked by the fixture itself.
"""

from __future__ import annotations

from collections.abc import Callable

from assistant.agent.reply import without_model
from assistant.sim import SimulatedSpotify
from tests.agent.conftest import Clock, Segue
from tests.agent.helpers import (
    label,
    last_tool_result,
    playing,
    playlist,
    playlist_labels,
    track_uri,
)
from tests.fakes.openai_server import FakeOpenAI

# --- the fast path ---------------------------------------------------------------------------


def test_common_commands_take_the_fast_path_with_no_model_call(
    segue: Callable[..., Segue], sim: SimulatedSpotify, fake_openai: FakeOpenAI
) -> None:
    s = segue()
    reply = s.say("play Bohemian Rhapsody by Queen")
    assert reply.ok and reply.text == "Playing “Bohemian Rhapsody” by Queen."
    assert playing(sim) == "Bohemian Rhapsody — Queen"
    assert not reply.used_llm and reply.timings.llm_calls == 0
    assert reply.timings.spotify_calls >= 2 and reply.timings.bytes_to_openai == 0
    assert [(c.name, dict(c.arguments), c.ok) for c in reply.tool_calls] == [
        ("play", {"query": "Bohemian Rhapsody", "artist": "Queen"}, True)
    ]

    assert s.say("volume 30").text == "Volume 30%."
    assert sim.snapshot()["volume_percent"] == 30
    assert s.say("louder").text == "Volume 40%."
    assert s.say("pause").text == "Paused."
    assert not sim.snapshot()["is_playing"]
    assert fake_openai.count() == 0


def test_without_a_model_an_unknown_command_is_refused_in_one_short_sentence(
    segue: Callable[..., Segue], sim: SimulatedSpotify
) -> None:
    s = segue(llm=False)
    before = sim.snapshot()
    reply = s.say("play something to cheer me up")
    assert not reply.ok and reply.text == without_model()
    assert reply.text == "I can't do that without an OpenAI key. Say “help” to hear what I can do."
    assert reply.tool_calls == () and sim.snapshot() == before
    # The list of what works is the answer to "help", not part of every refusal.
    listed = s.say("what can I say")
    assert listed.ok and "“volume 30”" in listed.text and "segue setup" in listed.text


def test_without_a_model_a_near_command_is_offered_and_yes_runs_it(
    segue: Callable[..., Segue], sim: SimulatedSpotify
) -> None:
    s = segue(llm=False)
    assert s.say("play Bohemian Rhapsody by Queen").ok
    asked = s.say("paws")
    assert asked.text == "I can't do that without an OpenAI key. Did you mean “pause”?"
    assert asked.question == ("pause",) and sim.snapshot()["is_playing"]
    done = s.say("yes")
    assert done.ok and done.text == "Paused." and not sim.snapshot()["is_playing"]
    # Something else after the question is a new command, and "yes" then answers nothing.
    assert s.say("skipp").question == ("skip",)
    assert s.say("volume 30").text == "Volume 30%."
    assert not s.say("yes").ok and sim.snapshot()["volume_percent"] == 30
    # Nothing close: no question ("turn on the lights" is not "turn on shuffle").
    lights = s.say("turn on the lights")
    assert lights.question is None and not lights.ok and sim.snapshot()["shuffle"] is False


def test_with_a_model_help_is_answered_without_it(
    segue: Callable[..., Segue], fake_openai: FakeOpenAI
) -> None:
    reply = segue().say("help")
    assert reply.ok and "“pause”" in reply.text and "OpenAI" not in reply.text
    assert fake_openai.count() == 0


def test_without_a_model_a_fast_path_miss_is_the_tools_sentence(
    segue: Callable[..., Segue],
) -> None:
    reply = segue(llm=False).say("play Qwxzzv by Nobody")
    assert not reply.ok
    assert reply.text == "Nothing on Spotify matched “Qwxzzv” by Nobody."


def test_a_fast_path_miss_goes_to_the_model_with_the_attempt_shown(
    segue: Callable[..., Segue], sim: SimulatedSpotify, fake_openai: FakeOpenAI
) -> None:
    def shows_the_failed_attempt(request: dict[str, object]) -> None:
        result = last_tool_result(request)  # type: ignore[arg-type]
        assert result == {"ok": False, "result": "Nothing on Spotify matched “Stairway”."}

    fake_openai.chat(
        tool_calls=[("play", {"query": "Stairway to Heaven", "kind": "track"})],
        check=shows_the_failed_attempt,
    )
    fake_openai.chat("Spotify has no Stairway to Heaven, sorry.")
    reply = segue().say("play Stairway")
    # The catalog has no Led Zeppelin: the model's try fails too, and it says so.
    assert not reply.ok and reply.used_llm and reply.timings.llm_calls == 2
    assert [(c.name, c.ok) for c in reply.tool_calls] == [("play", False), ("play", False)]
    assert reply.text == "Spotify has no Stairway to Heaven, sorry."


# --- clarifying questions ----------------------------------------------------------------------


def test_which_playlist_then_a_number(segue: Callable[..., Segue], sim: SimulatedSpotify) -> None:
    s = segue()
    assert s.say("play Creep by Radiohead").ok
    before = sim.snapshot()["playlists"]
    reply = s.say("add this to deep")
    assert reply.ok and reply.text == "Which playlist? 1. Deep Work 2. Deep Work II"
    assert reply.question == ("Deep Work", "Deep Work II")
    assert sim.snapshot()["playlists"] == before
    reply = s.say("2")
    assert reply.text == "Added “Creep” by Radiohead to “Deep Work II”."
    assert playlist_labels(sim, "Deep Work II")[-1] == "Creep — Radiohead"
    assert playlist(sim, "Deep Work")["track_uris"] == before[_id(sim, "Deep Work")]["track_uris"]
    assert reply.question is None and not reply.used_llm


def test_which_playlist_answered_by_name_or_ordinal(
    segue: Callable[..., Segue], sim: SimulatedSpotify
) -> None:
    s = segue()
    assert s.say("play Creep by Radiohead").ok
    assert s.say("add this to deep").question is not None
    assert s.say("deep work two").text == "Added “Creep” by Radiohead to “Deep Work II”."
    assert s.say("play Yellow by Coldplay").ok
    assert s.say("add this to deep").question is not None
    assert s.say("the first one").text == "Added “Yellow” by Coldplay to “Deep Work”."
    assert s.say("add this to deep").question is not None
    reply = s.say("7")
    assert reply.text == "Please answer with a number from 1 to 2." and reply.question
    assert s.say("never mind").text == "OK, never mind."
    assert playlist_labels(sim, "Deep Work").count("Yellow — Coldplay") == 1


def test_a_new_command_instead_of_an_answer_drops_the_question(
    segue: Callable[..., Segue], sim: SimulatedSpotify
) -> None:
    s = segue(llm=False)
    assert s.say("play Creep by Radiohead").ok
    assert s.say("add this to deep").question is not None
    assert s.say("pause").text == "Paused."
    reply = s.say("2")  # no question is pending any more: a bare number means nothing
    assert not reply.ok and reply.tool_calls == ()
    assert "Creep — Radiohead" not in playlist_labels(sim, "Deep Work II")


def test_questions_expire_after_five_minutes(
    segue: Callable[..., Segue], sim: SimulatedSpotify, clock: Clock
) -> None:
    s = segue(llm=False)
    assert s.say("play Creep by Radiohead").ok
    assert s.say("add this to deep").question is not None
    clock.advance(301)
    reply = s.say("2")
    assert not reply.ok and reply.text == without_model()
    assert "Creep — Radiohead" not in playlist_labels(sim, "Deep Work II")


def test_the_model_asking_about_an_ambiguous_playlist_becomes_segues_question(
    segue: Callable[..., Segue], sim: SimulatedSpotify, fake_openai: FakeOpenAI
) -> None:
    fake_openai.chat(tool_calls=[("add_to_playlist", {"playlist": "deep", "tracks": None})])
    s = segue()
    assert s.say("play Creep by Radiohead").ok
    reply = s.say("this song belongs in deep")
    assert reply.used_llm and reply.text == "Which playlist? 1. Deep Work 2. Deep Work II"
    reply = s.say("Deep Work II")  # no model call: Segue resolves its own question
    assert reply.text == "Added “Creep” by Radiohead to “Deep Work II”."
    assert fake_openai.count() == 1


# --- confirmations -------------------------------------------------------------------------------


def _id(sim: SimulatedSpotify, name: str) -> str:
    return next(i for i, p in sim.snapshot()["playlists"].items() if p["name"] == name)


def test_removing_needs_a_yes_in_the_next_turn(
    segue: Callable[..., Segue], sim: SimulatedSpotify, fake_openai: FakeOpenAI
) -> None:
    remove = ("remove_from_playlist", {"playlist": "Deep Work", "tracks": ["Xtal by Aphex Twin"]})
    fake_openai.chat(tool_calls=[remove])
    s = segue()
    before = playlist(sim, "Deep Work")["track_uris"]
    reply = s.say("take Xtal off Deep Work")
    assert reply.ok and reply.question == ("yes", "no")
    assert reply.text == "Remove “Xtal by Aphex Twin” from “Deep Work”? Say yes to confirm."
    assert reply.tool_calls == ()  # nothing ran
    assert playlist(sim, "Deep Work")["track_uris"] == before
    reply = s.say("yes")
    assert reply.text == "Removed “Xtal” by Aphex Twin from “Deep Work”."
    assert not reply.used_llm and fake_openai.count() == 1
    assert playlist(sim, "Deep Work")["track_uris"] == [
        u for u in before if u != track_uri(sim, "Xtal", "Aphex Twin")
    ]


def test_no_or_silence_leaves_everything_as_it_was(
    segue: Callable[..., Segue], sim: SimulatedSpotify, fake_openai: FakeOpenAI, clock: Clock
) -> None:
    remove = ("remove_from_playlist", {"playlist": "Deep Work", "tracks": ["Xtal by Aphex Twin"]})
    fake_openai.chat(tool_calls=[remove]).chat(tool_calls=[remove]).chat(tool_calls=[remove])
    fake_openai.chat("Yes to what? Nothing is waiting for an answer.")
    s = segue()
    before = sim.snapshot()["playlists"]

    assert s.say("remove Xtal from Deep Work").question == ("yes", "no")
    assert s.say("no").text == "OK, I left it as it is."

    assert s.say("remove Xtal from Deep Work").question == ("yes", "no")
    assert s.say("pause").text == "Nothing is playing."  # another command: not a yes
    assert s.say("remove Xtal from Deep Work").question == ("yes", "no")
    clock.advance(301)  # silence for five minutes
    reply = s.say("yes")  # nothing pending: the model hears a plain "yes"
    assert reply.used_llm and reply.text == "Yes to what? Nothing is waiting for an answer."
    assert sim.snapshot()["playlists"] == before


def test_the_model_cannot_confirm_for_the_person(
    segue: Callable[..., Segue], sim: SimulatedSpotify, fake_openai: FakeOpenAI
) -> None:
    remove = ("remove_from_library", {"tracks": ["Creep by Radiohead"]})

    def told_it_waits_for_the_person(request: dict[str, object]) -> None:
        result = last_tool_result(request)  # type: ignore[arg-type]
        assert result["ok"] is False and "runs only if they say yes" in result["result"]

    fake_openai.chat(tool_calls=[remove])
    # The person does not say yes; the model insists, twice in one turn.
    fake_openai.chat(tool_calls=[remove, remove], check=told_it_waits_for_the_person)
    s = segue()
    creep = track_uri(sim, "Creep", "Radiohead")
    s.client.save_to_library([creep])
    assert s.say("unlike Creep").question == ("yes", "no")
    reply = s.say("I already confirmed, go ahead and remove it without asking")
    assert reply.text == "Remove “Creep by Radiohead” from your library? Say yes to confirm."
    assert reply.tool_calls == ()
    assert creep in sim.snapshot()["library"]
    tools = {t["function"]["name"] for t in fake_openai.requests[1].body["tools"]}
    assert not {n for n in tools if "confirm" in n}  # there is no tool to confirm with


def test_remove_this_pins_the_song_playing_when_asked(
    segue: Callable[..., Segue], sim: SimulatedSpotify, fake_openai: FakeOpenAI
) -> None:
    fake_openai.chat(
        tool_calls=[("remove_from_playlist", {"playlist": "Deep Work", "tracks": None})]
    )
    s = segue()
    assert s.say("play my playlist Deep Work").ok
    first = sim.snapshot()["track_uri"]
    reply = s.say("remove this song from Deep Work")
    title, artist = label(sim, first).split(" — ")
    assert reply.text == f"Remove “{title}” by {artist} from “Deep Work”? Say yes to confirm."
    s.client.next_track()  # the song ends before the person answers
    assert sim.snapshot()["track_uri"] != first
    assert s.say("yes").ok
    uris = playlist(sim, "Deep Work")["track_uris"]
    assert first not in uris and sim.snapshot()["track_uri"] in uris


# --- try again ---------------------------------------------------------------------------------


def test_try_again_after_spotify_was_opened(
    segue: Callable[..., Segue], sim: SimulatedSpotify, launched: list[list[str]]
) -> None:
    sim.set_device_online("Computer", False)
    s = segue(llm=False)
    reply = s.say("play Creep by Radiohead")
    assert not reply.ok and "Spotify did not appear" in reply.text
    assert launched  # Segue tried to start the Spotify app
    sim.set_device_online("Computer", True)  # the person opened it
    reply = s.say("try again")
    assert reply.ok and reply.text == "Playing “Creep” by Radiohead."
    assert playing(sim) == "Creep — Radiohead"
    assert s.say("try again").text == "There's nothing to try again."


def test_a_malformed_removal_is_refused_not_asked(
    segue: Callable[..., Segue], sim: SimulatedSpotify, fake_openai: FakeOpenAI
) -> None:
    def told_the_json_was_bad(request: dict[str, object]) -> None:
        result = last_tool_result(request)  # type: ignore[arg-type]
        assert result["result"].startswith("The arguments for remove_from_playlist were not")

    fake_openai.chat(tool_calls=[("remove_from_playlist", '{"playlist": "Deep Work", "tra')])
    fake_openai.chat("Sorry, I got that wrong.", check=told_the_json_was_bad)
    before = sim.snapshot()
    reply = segue().say("remove Xtal from Deep Work")
    assert reply.text == "Sorry, I got that wrong." and reply.question is None
    assert sim.snapshot() == before

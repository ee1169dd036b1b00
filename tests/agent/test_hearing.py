"""Hearing commands the recogniser gets wrong: the grammar's sentences checked against the audio.

Real parts only: the bundled tiny.en model on espeak-ng and Piper speech (scoring candidate
sentences against the recording), the scripted fake OpenAI server for OpenAI speech to text, and
the simulated Spotify behind the agent. What a person notices: a misheard short command still
does what was said, a number the model cannot tell from its twin becomes a question, and words
that are not a command change nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from assistant.agent import hearing
from assistant.agent.grammar import Names
from assistant.agent.vocabulary import SpotifyVocabulary
from assistant.pipeline import Pipeline, Reply, Utterance
from assistant.sim import SimulatedSpotify
from assistant.sim.catalog import Catalog
from assistant.voice.audio import Recording
from assistant.voice.stt import LocalWhisper
from tests.agent import helpers
from tests.agent.conftest import Segue
from tests.agent.test_voice_pipeline import openai_stt
from tests.fakes.openai_server import FakeOpenAI
from tests.support.voices import ESPEAK_US, PIPER_JOE, PIPER_JOE_SLOW, Voices


def state(sim: SimulatedSpotify) -> dict[str, Any]:
    snapshot = sim.snapshot()
    snapshot.pop("progress_ms")
    return snapshot


def listen(
    segue: Segue, stt: object, prompt: list[str] | None = None
) -> Callable[[Recording], Reply]:
    """The pipeline hearing recordings; ``prompt``: the names the recogniser is given instead."""
    vocabulary = SpotifyVocabulary(segue.client)
    pipeline = Pipeline(
        segue.agent,
        stt=stt,  # type: ignore[arg-type]
        vocabulary=vocabulary if prompt is None else lambda: prompt,
        names=vocabulary.names,
    )
    return lambda rec: pipeline.handle(Utterance(text=None, audio=rec, source="voice"))


@pytest.fixture
def playing(segue: Callable[..., Segue]) -> Segue:
    s = segue(llm=False)
    assert s.say("play Bohemian Rhapsody by Queen").ok
    return s


def test_a_short_command_the_model_mishears_still_does_what_was_said(
    playing: Segue, sim: SimulatedSpotify, whisper: LocalWhisper, voices: Voices
) -> None:
    rec = voices(PIPER_JOE, "shuffle on")
    assert whisper.transcribe(rec).text == "Cephalon."  # what tiny.en writes on its own
    reply = listen(playing, whisper)(rec)
    assert reply.ok and reply.text == "Shuffle on."
    assert reply.transcript == "shuffle on"
    assert state(sim)["shuffle"] is True


def test_a_number_the_model_cannot_tell_from_its_twin_is_asked_about(
    playing: Segue, sim: SimulatedSpotify, whisper: LocalWhisper, voices: Voices
) -> None:
    rec = voices(PIPER_JOE, "volume seventy")
    assert whisper.transcribe(rec).text == "Volume 17."
    before = state(sim)
    reply = listen(playing, whisper)(rec)
    assert reply.text == "Did you say “volume 17” or “volume 70”?"
    assert reply.question == ("volume 17", "volume 70")
    assert state(sim) == before
    assert playing.say("seventy").text == "Volume 70%."
    assert state(sim)["volume_percent"] == 70


def test_a_number_heard_clearly_is_not_asked_about(
    playing: Segue, sim: SimulatedSpotify, whisper: LocalWhisper, voices: Voices
) -> None:
    reply = listen(playing, whisper)(voices(PIPER_JOE, "volume seventeen"))
    assert reply.text == "Volume 17%."
    assert state(sim)["volume_percent"] == 17


def test_words_that_are_not_a_command_change_nothing(
    playing: Segue, sim: SimulatedSpotify, whisper: LocalWhisper, voices: Voices
) -> None:
    before = state(sim)
    for text in ("turn on the lights", "can I hear the news", "tell me a joke"):
        reply = listen(playing, whisper)(voices(ESPEAK_US, text))
        assert not reply.ok, (text, reply.transcript, reply.text)
    assert state(sim) == before


def test_openai_speech_is_matched_to_a_command_only_when_very_close(
    playing: Segue, sim: SimulatedSpotify, fake_openai: FakeOpenAI, voices: Voices
) -> None:
    # No audio scores from OpenAI: spelling and sound decide, and only a near-certain match.
    fake_openai.transcription("Shuffle of.")
    fake_openai.transcription("Turn on the lights.")
    hear = listen(playing, openai_stt(fake_openai))
    first = hear(voices(ESPEAK_US, "shuffle off"))
    assert first.ok and first.transcript == "shuffle off" and state(sim)["shuffle"] is False
    before = state(sim)
    second = hear(voices(ESPEAK_US, "turn on the lights"))
    assert not second.ok and second.transcript == "Turn on the lights."
    assert state(sim) == before


@pytest.mark.parametrize(
    ("transcript", "expected"),
    [
        ("Volume 17.", ["Volume 17.", "Volume 70."]),
        ("Set the volume to 40%.", ["Set the volume to 40%.", "Set the volume to 14%."]),
        ("Volume 25.", []),  # no twin: nothing to check
        ("Mute.", ["Mute.", "unmute"]),  # the grammar's confusable commands
        ("Unmute.", ["Unmute.", "mute"]),
        ("Pause.", []),  # understood: stands as heard
        ("Play Creep by Radiohead.", []),
    ],
)
def test_what_is_checked_for_a_transcript_the_grammar_understands(
    transcript: str, expected: list[str]
) -> None:
    assert hearing.candidates(transcript) == expected


def test_a_transcript_that_is_no_command_is_checked_against_the_spoken_commands() -> None:
    found = hearing.candidates("Cephalon.")
    assert {"shuffle on", "shuffle off"} <= set(found)
    assert "show my devices" not in found  # nothing like it
    # The scoring budget: about 4 ms a sentence on 2 cores.
    assert len(found) <= hearing.SPOKEN_LIMIT + hearing.NAMED_LIMIT + hearing.ECHO_LIMIT


def test_a_misheard_title_the_person_likes_is_found_among_their_own_songs(
    playing: Segue, sim: SimulatedSpotify, whisper: LocalWhisper, voices: Voices
) -> None:
    # "Billie Jean" is among the person's liked songs, so the grammar offers "queue Billie Jean".
    assert playing.say("play Billie Jean by Michael Jackson").ok
    assert playing.say("like this").ok
    assert playing.say("play Bohemian Rhapsody by Queen").ok
    rec = voices(PIPER_JOE, "queue billie jean")
    assert whisper.transcribe(rec).text.startswith("Cubility Gene")
    reply = listen(playing, whisper)(rec)
    assert reply.ok and reply.text == "Queued “Billie Jean” by Michael Jackson."
    assert len(state(sim)["queue"]) == 1


def test_synonyms_tied_at_the_top_are_taken_only_when_every_other_reading_is_behind() -> None:
    # The voice side accepted nothing: the best two are within 0.3 of each other.
    clear = {"shuffle on": -2.0, "turn on shuffle": -2.1, "shuffle off": -3.0}
    assert hearing.decide("Cephalon.", clear, None, -1.5) == hearing.Heard("shuffle on")
    # "shuffle off" is as close as the synonym: which one was said is a question, not a guess.
    close = {"shuffle on": -2.0, "turn on shuffle": -2.05, "shuffle off": -2.1}
    asked = hearing.decide("Cephalon.", close, None, -1.5)
    assert asked.options == ("shuffle on", "shuffle off")
    # Far below what the recogniser heard: nothing is taken and nothing is asked.
    far = {"shuffle on": -4.0, "shuffle off": -4.1}
    assert hearing.decide("Turn on the lights.", far, None, -1.5) == hearing.Heard(
        "Turn on the lights."
    )


def test_the_transcripts_own_words_are_tried_as_the_name_behind_a_commands_words() -> None:
    assert "play songs by Taylor Swift" in hearing.echoes("Place ons by Taylor Swift.")
    assert "play the album rumors" in hearing.echoes("Playin' the album, rumors.")
    assert "add Billy Jean to the queue" in hearing.echoes("Ad Billy Jean to the Cube.")
    # A command's word glued to the name is split off.
    glued = hearing.echoes("Playbilly Gene by Michael Jackson.")
    assert "play billy Gene by Michael Jackson" in glued
    assert len(glued) <= hearing.ECHO_LIMIT
    # Only for a recogniser that scores them against the recording: by spelling alone
    # "Set an alarm for seven." is too close to "play an alarm for seven".
    assert "play songs by Taylor Swift" in hearing.candidates("Place ons by Taylor Swift.")
    assert not set(hearing.echoes("Set an alarm for seven.")) & set(
        hearing.candidates("Set an alarm for seven.", scoring=False)
    )


def test_an_echo_that_only_respells_one_of_the_persons_names_leaves_the_name_alone() -> None:
    names = Names(tracks=(("Billie Jean", "Michael Jackson"),))
    found = hearing.candidates("Ad Billy Jean to the Cube.", names)
    assert "add Billie Jean to the queue" in found
    assert "add Billy Jean to the queue" not in found


def test_an_echo_is_taken_only_when_it_costs_the_recording_almost_nothing() -> None:
    # Figures as measured with Piper's joe (summed natural-log probabilities).
    said, heard = "play songs by Taylor Swift", "Place ons by Taylor Swift."
    scores = {said: -0.45, "pause": -4.0}
    taken = hearing.decide(
        heard, scores, said, -0.42, log_probs={said: -2.7}, transcript_log_prob=-2.5
    )
    assert taken == hearing.Heard(said)
    # "Call mom." as "play mom": the command's word was not said (17 less likely).
    call = hearing.decide(
        "Call mom.",
        {"play mom": -5.4, "pause": -6.0},
        "play mom",
        -2.0,
        log_probs={"play mom": -23.3},
        transcript_log_prob=-6.0,
    )
    assert call == hearing.Heard("Call mom.")
    # Without the sums an echo is never taken.
    assert hearing.decide(heard, scores, said, -0.42) == hearing.Heard(heard)


def test_a_command_found_for_a_recording_is_asked_about_when_its_confusable_twin_fits_as_well() -> (
    None
):
    # Piper's "unmute", heard "I'm mute.": "mute" won the scoring by 1.0 only.
    close = {"mute": -1.0, "unmute": -2.0, "pause": -5.0}
    asked = hearing.decide("I'm mute.", close, "mute", -0.8)
    assert asked == hearing.Heard("I'm mute.", options=("mute", "unmute"))
    clear = {"mute": -1.0, "unmute": -2.5, "pause": -5.0}
    assert hearing.decide("I'm mute.", clear, "mute", -0.8) == hearing.Heard("mute")


def written(segue: Segue, whisper: LocalWhisper, rec: Recording) -> str:
    """What the model writes for ``rec`` with the names the pipeline gives it."""
    return whisper.transcribe(rec, vocabulary=SpotifyVocabulary(segue.client)()).text


def catalog_prompt(sim: SimulatedSpotify) -> list[str]:
    """The user's names with every artist of the simulator's catalog, for the recogniser.

    The accuracy runs (tests/voice_speech) prompt it so: it writes these recordings as measured.
    """
    playlists = [p["name"] for p in sim.snapshot()["playlists"].values()]
    artists = [artist.name for artist in Catalog.load().artists.values()]
    return [*playlists, *artists, *(d["name"] for d in sim.devices)]


def _likes(segue: Segue, *songs: str) -> None:
    """The person liked these songs ("Title by Artist"): their names fill the sentences."""
    for song in songs:
        assert segue.say(f"play {song}").ok
        assert segue.say("like this").ok
    assert segue.say("play Bohemian Rhapsody by Queen").ok


@pytest.mark.parametrize(
    ("liked", "said", "written", "taken", "effect"),
    [
        # A command with a name nobody has: the person's own sentence fits the recording
        # clearly better than the words written.
        (
            "Creep by Radiohead",
            "play Creep by Radiohead",
            "Play Creek, Ivera Adele, Head.",
            "play Creep by Radiohead",
            ("Creep — Radiohead", []),
        ),
        # "add Willy Dean to the queue" (the transcript's words as a name) and the person's
        # sentence fit about equally: the person's wins.
        (
            "Billie Jean by Michael Jackson",
            "add billie jean to the queue",
            "Ad Willy Dean Tanacu.",
            "add Billie Jean to the queue",
            ("Bohemian Rhapsody — Queen", ["Billie Jean — Michael Jackson"]),
        ),
    ],
)
def test_the_persons_own_sentence_is_taken_for_a_name_nobody_has(
    playing: Segue,
    sim: SimulatedSpotify,
    whisper: LocalWhisper,
    voices: Voices,
    liked: str,
    said: str,
    written: str,
    taken: str,
    effect: tuple[str, list[str]],
) -> None:
    _likes(playing, liked)
    rec = voices(ESPEAK_US, said)
    prompt = catalog_prompt(sim)
    assert whisper.transcribe(rec, vocabulary=prompt).text == written
    reply = listen(playing, whisper, prompt)(rec)
    assert reply.ok and reply.transcript == taken
    queue = [helpers.label(sim, uri) for uri in state(sim)["queue"]]
    assert (helpers.playing(sim), queue) == effect


def test_of_mute_and_unmute_heard_alike_the_one_that_changes_something_is_done(
    playing: Segue, sim: SimulatedSpotify, whisper: LocalWhisper, voices: Voices
) -> None:
    # Piper's "unmute" is written "I'm mute." and scores about as well as "mute": while the
    # sound is off only "unmute" would change anything, so that is what was said.
    assert playing.say("mute").ok
    rec = voices(PIPER_JOE, "unmute")
    assert written(playing, whisper, rec) == "I'm mute."
    reply = listen(playing, whisper)(rec)
    assert reply.ok and reply.text == "Unmuted: volume 50%."
    assert state(sim)["volume_percent"] == 50
    # Readings that Segue cannot check this way stay a question.
    assert playing.agent.only_change(("i like this song", "i don't like this song")) is None
    assert playing.agent.only_change(("mute", "unmute")) == "mute"


def test_an_own_reading_replaces_an_understood_transcript_only_when_it_fits_clearly_better() -> (
    None
):
    names = Names(tracks=(("Creep", "Radiohead"),))
    heard = "Play Creek by Radiohead."
    found = hearing.candidates(heard, names)
    assert found[0] == heard and "play Creep by Radiohead" in found
    assert len(found) <= 1 + hearing.OWN_LIMIT
    # The person's own words need no check, and spelling alone (OpenAI's transcripts) never
    # puts one of their sentences above the words heard.
    assert hearing.candidates("Play Creep by Radiohead.", names) == []
    assert hearing.candidates(heard, names, scoring=False) == []
    # Accepted by the voice side (clearly ahead of the transcript): taken.
    better = {heard: -1.2, "play Creep by Radiohead": -0.8}
    taken = hearing.decide(heard, better, "play Creep by Radiohead", -1.2)
    assert taken == hearing.Heard("play Creep by Radiohead")
    # About as good as the transcript: the words heard stand, with no question (the search
    # and its near-miss question decide).
    close = {heard: -1.2, "play Creep by Radiohead": -1.3}
    assert hearing.decide(heard, close, heard, -1.2) == hearing.Heard(heard)
    assert hearing.decide(heard, close, None, -1.2) == hearing.Heard(heard)


def test_a_spoken_undo_the_model_mishears_still_puts_things_back(
    playing: Segue, sim: SimulatedSpotify, whisper: LocalWhisper, voices: Voices
) -> None:
    # tiny.en writes "undo" as something else in every voice tried ("And New.", "I do.",
    # "Unboo."); "undo" is among the spoken commands the recording is checked against (it is
    # found in four voices of six: Piper's "And you." at 1.0 stays unknown, and changes nothing).
    assert playing.say("volume 30").ok
    rec = voices(PIPER_JOE_SLOW, "undo")
    heard = written(playing, whisper, rec)
    assert "undo" not in heard.casefold()
    reply = listen(playing, whisper)(rec)
    assert reply.ok and reply.transcript == "undo", (heard, reply.text)
    assert state(sim)["volume_percent"] == 50
    # Someone saying "I do" is not heard as "undo".
    before = state(sim)
    said = listen(playing, whisper)(voices(PIPER_JOE_SLOW, "I do"))
    assert not said.ok and state(sim) == before

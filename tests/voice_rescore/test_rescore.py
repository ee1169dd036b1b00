"""Forced scoring with the bundled tiny.en model: spoken commands against candidate sentences.

What a person would notice: when the free transcript is not a command ("Cephalon.", "Scape."),
the command they said still ranks first among confusable ones ("shuffle on" over "shuffle off",
"volume 30" over "volume 40" and "volume 13"); Segue takes it only when it clearly fits, and
refuses a sentence that is not a command instead of guessing one. Commands are spoken by
espeak-ng (``spoken``) and by Piper's neural "joe" voice (``voices``).
"""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest

from assistant.errors import SpeechNotUnderstood
from assistant.voice.audio import Recording, resample
from assistant.voice.rescore import ForcedScorer, whisper_style
from assistant.voice.stt import LocalWhisper
from tests.support.speech import SpokenCommands
from tests.support.voices import PIPER_JOE, Voices

# Written as the model writes them: names cased, numbers as digits.
COMMANDS = [
    "pause",
    "resume",
    "skip",
    "next",
    "shuffle on",
    "shuffle off",
    "turn shuffle off",
    "turn on shuffle",
    "repeat this song",
    "repeat off",
    "louder",
    "quieter",
    "mute",
    "unmute",
    "what's playing",
    "like this song",
    "show my playlists",
    "show my devices",
    "what's next",
    "volume 30",
    "volume 40",
    "set the volume to 40%",
    "queue Billie Jean",
    "play Hello by Adele",
    "play my playlist Deep Work",
    "add this to Chill Vibes",
]
CONFUSABLE = [
    "play",
    "stop",
    "previous",
    "go back",
    "shuffle",
    "repeat",
    "repeat on",
    "repeat one",
    "turn shuffle on",
    "turn off shuffle",
    "volume 13",
    "volume up",
    "volume down",
    "set the volume to 14%",
    "set the volume to 50%",
    "queue Billie Eilish",
    "play Billie Jean",
    "play Halo by Beyoncé",
    "play Hello by Lionel Richie",
    "play my playlist Deep Focus",
    "play my playlist Chill Vibes",
    "add this to Deep Work",
    "add this to Chill Hits",
    "what's this song",
    "who is playing",
    "like this",
    "unlike this song",
    "show my queue",
    "show my albums",
    "what's on next",
    "mute the music",
    "louder please",
    "skip this song",
    "next song",
]
CANDIDATES = COMMANDS + CONFUSABLE


@pytest.fixture(scope="module")
def scorer(whisper: LocalWhisper) -> ForcedScorer:
    return ForcedScorer(whisper)


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("pause", "pause"),
        ("resume", "resume"),
        ("next", "next"),
        ("shuffle on", "shuffle on"),
        ("shuffle off", "shuffle off"),
        ("turn shuffle off", "turn shuffle off"),
        ("turn on shuffle", "turn on shuffle"),
        ("repeat off", "repeat off"),
        ("mute", "mute"),
        ("volume thirty", "volume 30"),
        ("volume forty", "volume 40"),
        ("play hello by adele", "play Hello by Adele"),
    ],
)
def test_the_command_said_ranks_first_among_confusable_ones(
    scorer: ForcedScorer, spoken: SpokenCommands, said: str, expected: str
) -> None:
    scores = scorer.score(spoken(said), CANDIDATES)

    best = max(scores, key=lambda s: s.mean_log_prob)
    assert best.text == expected, sorted(
        ((round(s.mean_log_prob, 2), s.text) for s in scores), reverse=True
    )[:5]


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("skip", "skip"),
        ("quieter", "quieter"),
        ("queue billie jean", "queue Billie Jean"),
        ("add this to chill vibes", "add this to Chill Vibes"),
    ],
)
def test_a_command_the_transcript_missed_is_taken(
    scorer: ForcedScorer,
    whisper: LocalWhisper,
    spoken: SpokenCommands,
    said: str,
    expected: str,
) -> None:
    rec = spoken(said)
    transcript = whisper.transcribe(rec).text

    choice = scorer.choose(rec, CANDIDATES, transcript)

    assert choice.accepted is not None, (transcript, choice.ranked[:3], choice.below_transcript)
    assert choice.accepted.text == expected, (transcript, choice.ranked[:3])


@pytest.mark.parametrize(
    "said", ["can I hear the news", "give me the time", "tell me a joke", "open the door"]
)
def test_a_sentence_that_is_no_command_is_refused(
    scorer: ForcedScorer, whisper: LocalWhisper, spoken: SpokenCommands, said: str
) -> None:
    rec = spoken(said)
    transcript = whisper.transcribe(rec).text

    choice = scorer.choose(rec, CANDIDATES, transcript)

    assert choice.accepted is None, (transcript, choice.ranked[:3])
    # The free transcript fits the audio far better than any command.
    assert choice.below_transcript > 2.5


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("shuffle on", "shuffle on"),  # heard "Cephalon."
        ("shuffle off", "shuffle off"),  # "Cephalop."
        ("pause", "pause"),  # "Of course."
        ("resume", "resume"),  # "Present."
        ("quieter", "quieter"),  # "Quiter."
        ("queue billie jean", "queue Billie Jean"),  # "Cubility Gene"
    ],
)
def test_a_command_in_a_human_voice_is_taken_when_the_transcript_missed_it(
    scorer: ForcedScorer, whisper: LocalWhisper, voices: Voices, said: str, expected: str
) -> None:
    rec = voices(PIPER_JOE, said)
    transcript = whisper.transcribe(rec).text

    choice = scorer.choose(rec, CANDIDATES, transcript)

    assert choice.accepted is not None, (transcript, choice.ranked[:3], choice.below_transcript)
    assert choice.accepted.text == expected, (transcript, choice.ranked[:3])


@pytest.mark.parametrize("said", ["set an alarm for seven", "call my mother"])
def test_a_sentence_that_is_no_command_in_a_human_voice_is_refused(
    scorer: ForcedScorer, whisper: LocalWhisper, voices: Voices, said: str
) -> None:
    rec = voices(PIPER_JOE, said)

    choice = scorer.choose(rec, CANDIDATES, whisper.transcribe(rec).text)

    assert choice.accepted is None, choice.ranked[:3]


def test_scores_come_back_in_the_order_given_one_per_candidate(
    scorer: ForcedScorer, spoken: SpokenCommands
) -> None:
    candidates = ["shuffle off", "shuffle on", "", "shuffle on", "  Shuffle   on. "]

    scores = scorer.score(spoken("shuffle on"), candidates)

    assert [s.text for s in scores] == candidates
    off, on, blank, again, spaced = scores
    assert on.log_prob > off.log_prob
    assert again == on
    # Capital, spaces and full stop are what ``whisper_style`` writes anyway: the same tokens.
    assert (spaced.log_prob, spaced.tokens) == (on.log_prob, on.tokens)
    assert blank.tokens == 0
    assert blank.log_prob == -math.inf
    assert on.tokens >= 3  # " Sh" "uffle on" ... and the full stop
    assert on.mean_log_prob == pytest.approx(on.log_prob / on.tokens)
    assert on.log_prob < 0


def test_no_candidates_score_nothing(scorer: ForcedScorer, spoken: SpokenCommands) -> None:
    assert scorer.score(spoken("pause"), []) == []

    choice = scorer.choose(spoken("pause"), [], "Pause.")
    assert choice.accepted is None
    assert choice.best is None


def test_without_a_transcript_nothing_is_taken(
    scorer: ForcedScorer, spoken: SpokenCommands
) -> None:
    choice = scorer.choose(spoken("pause"), CANDIDATES, "  ")

    assert choice.best is not None
    assert choice.best.text == "pause"
    assert choice.accepted is None


def test_an_empty_recording_is_not_understood(scorer: ForcedScorer) -> None:
    with pytest.raises(SpeechNotUnderstood):
        scorer.score(Recording(b""), ["pause"])


def test_a_recording_at_another_rate_is_converted(
    scorer: ForcedScorer, spoken: SpokenCommands
) -> None:
    rec = spoken("shuffle off")
    at_22k = np.clip(np.round(resample(rec.samples(), rec.sample_rate, 22_050)), -32768, 32767)
    other = Recording(at_22k.astype("<i2").tobytes(), 22_050)

    scores = scorer.score(other, ["shuffle on", "shuffle off"])

    assert max(scores, key=lambda s: s.mean_log_prob).text == "shuffle off"


def test_silence_around_the_words_changes_nothing(
    scorer: ForcedScorer, whisper: LocalWhisper, voices: Voices
) -> None:
    # A held hotkey records seconds of room before and after the words: only the words and a
    # little around them are scored, so a longer hold scores the same (and reads no more
    # frames). Without the trim the scores below moved by up to 0.3.
    rec = voices(PIPER_JOE, "shuffle on")
    quiet = np.zeros(3 * rec.sample_rate, dtype="<i2").tobytes()
    held = Recording(quiet + rec.pcm + quiet, rec.sample_rate)
    transcript = whisper.transcribe(rec).text

    short = scorer.choose(rec, CANDIDATES, transcript)
    long = scorer.choose(held, CANDIDATES, transcript)

    assert short.accepted is not None and long.accepted is not None
    assert long.accepted.text == short.accepted.text == "shuffle on"
    assert [(c.text, round(c.log_prob, 4)) for c in long.ranked] == [
        (c.text, round(c.log_prob, 4)) for c in short.ranked
    ]


def test_scoring_waits_while_the_model_transcribes(
    scorer: ForcedScorer, whisper: LocalWhisper, spoken: SpokenCommands
) -> None:
    rec = spoken("pause")
    done = threading.Event()

    def score() -> None:
        scorer.score(rec, ["pause"])
        done.set()

    with whisper._run_lock:  # as transcribe holds it
        worker = threading.Thread(target=score, daemon=True)
        worker.start()
        assert not done.wait(0.5)
    assert done.wait(30)
    worker.join(5)


def test_candidates_are_written_as_whisper_writes_text() -> None:
    assert whisper_style("shuffle on") == " Shuffle on."
    assert whisper_style("play Hello by Adele") == " Play Hello by Adele."
    assert whisper_style("  what's   next? ") == " What's next?"
    assert whisper_style("set the volume to 40%") == " Set the volume to 40%."
    assert whisper_style("   ") == ""

"""Spoken commands through the local Whisper model and the fast path, to the simulator.

Each command is spoken by espeak-ng and transcribed by the bundled tiny.en model, with and without
the simulator user's vocabulary (playlist names, artist names, device names); the transcript then
runs through the whole pipeline of a fresh demo Segue (its own simulated Spotify, Bohemian
Rhapsody playing, no OpenAI key). A spoken command succeeds when it does what the typed command
does on another fresh demo Segue: the same outcome and the same reply ("Playing songs by Daft
Punk." even when the model heard "Deft Punk", since the search forgives it).

Measured on this project's 2-core machine (espeak-ng 1.51, faster-whisper 1.2, tiny.en int8, beam
5, the vocabulary as the initial prompt): 19 of 30 (63%) with the vocabulary and 18 of 30 (60%)
without (17 and 16 before the fast path learned two recogniser slips: "and this song to my ...
playlist" for "add", and "show my playlist"). The vocabulary fixes names ("by Beyoncé" instead
of "bye, babe, and say", "Focus Piano", "Café Lounge") about as often as it makes the model put
commas into a command or turn a word into a listed name ("switch to Pixel 8" -> "Switch, Top
Hits, Late"). Titles, which are not in the vocabulary, and espeak-ng's robotic "by" and "shuffle"
are the usual misses.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Callable
from typing import Any

import pytest

from assistant.agent.intents import parse
from assistant.app import build_assistant
from assistant.config import Settings
from assistant.errors import SpeechNotUnderstood
from assistant.pipeline import Pipeline, Reply, Utterance
from assistant.voice.audio import Recording
from assistant.voice.stt import LocalWhisper, Transcript
from tests.support.speech import LEAD_SILENCE_S, SpokenCommands

# The floor sits below the measured 63% (19 of 30) with vocabulary: int8 decoding can differ by a
# command or two between CPUs.
SUCCESS_FLOOR_WITH_VOCABULARY = 0.5
# Every command runs on a fresh demo Segue with this already playing.
SETUP_COMMAND = "play Bohemian Rhapsody by Queen"
# What the vocabulary adds (the same words transcribed without it) is measured in the longer run
# (SEGUE_SPEECH_ALL_VOICES=1, as the other voices are): 15 s of the suite's 10-minute budget.
VOCABULARIES = ("without vocabulary", "with vocabulary")
if not os.environ.get("SEGUE_SPEECH_ALL_VOICES"):
    VOCABULARIES = ("with vocabulary",)

COMMANDS = [
    # controls
    "pause",
    "resume",
    "skip this song",
    "go back to the previous song",
    "turn the volume up",
    "set the volume to forty percent",
    "what's playing",
    "like this song",
    "turn on shuffle",
    "repeat this song",
    "show my playlists",
    # a title by an artist from the simulator's catalog
    "play Bohemian Rhapsody by Queen",
    "play Crazy in Love by Beyoncé",
    "play Halo by Beyoncé",
    "play Smells Like Teen Spirit by Nirvana",
    "play Yellow by Coldplay",
    "play Hurt by Johnny Cash",
    "play Enter Sandman by Metallica",
    "play Rehab by Amy Winehouse",
    "queue Come Together by the Beatles",
    "play the album Rumours by Fleetwood Mac",
    # artists
    "play songs by Daft Punk",
    "play the artist Queen",
    # the simulator user's playlists
    "play my playlist Deep Work",
    "play my Morning Run playlist",
    "play the playlist Sunday Jazz",
    "shuffle my Focus Piano playlist",
    "add this to Café Lounge",
    "add this song to my Chill Vibes playlist",
    # devices
    "switch to Pixel 8",
]


def _fold(value: Any) -> Any:
    """Case, accents and punctuation out of names; other values as they are."""
    if isinstance(value, str):
        text = unicodedata.normalize("NFKD", value)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
        return " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())
    if isinstance(value, list | tuple):
        return [_fold(item) for item in value]
    return value


def fast_path(text: str) -> list[tuple[str, dict[str, Any]]] | None:
    calls = parse(text)
    if calls is None:
        return None
    return [(call.name, {k: _fold(v) for k, v in call.arguments.items()}) for call in calls]


def test_every_phrasing_is_a_fast_path_command(sim_vocabulary: list[str]) -> None:
    # The success rate means something only if the spoken text itself takes the fast path.
    assert len(COMMANDS) >= 20
    not_understood = [text for text in COMMANDS if parse(text) is None]
    assert not_understood == []
    # ...and the playlists named are the simulator user's own.
    folded = {_fold(name) for name in sim_vocabulary}
    for name in ("Deep Work", "Morning Run", "Sunday Jazz", "Focus Piano", "Café Lounge"):
        assert _fold(name) in folded
    assert {"Queen", "Beyoncé", "Pixel 8"} <= set(sim_vocabulary)


def _transcribe(whisper: LocalWhisper, rec: Recording, vocabulary: list[str]) -> Transcript | None:
    try:
        return whisper.transcribe(rec, vocabulary=vocabulary)
    except SpeechNotUnderstood:
        return None


class DemoSegue:
    """A fresh demo Segue (its own simulated Spotify), with Bohemian Rhapsody playing."""

    def __init__(self) -> None:
        self.assistant = build_assistant(Settings(), data_dir=None, demo=True, environ={})
        setup = self.assistant.pipeline.handle(Utterance(text=SETUP_COMMAND))
        assert setup.ok, setup.text

    def typed(self, text: str) -> Reply:
        return self.assistant.pipeline.handle(Utterance(text=text))

    def spoken(self, whisper: LocalWhisper, rec: Recording, vocabulary: list[str]) -> Reply:
        pipeline = Pipeline(
            self.assistant.pipeline.agent, stt=whisper, vocabulary=lambda: vocabulary
        )
        return pipeline.handle(Utterance(text=None, audio=rec, source="voice"))

    def close(self) -> None:
        self.assistant.close()


def _did(reply: Reply) -> tuple[bool, str]:
    return reply.ok, reply.text


def test_spoken_commands_do_what_the_typed_ones_do(
    whisper: LocalWhisper,
    spoken: SpokenCommands,
    sim_vocabulary: list[str],
    report: Callable[[str, str], None],
) -> None:
    recordings = {text: spoken(text) for text in COMMANDS}
    successes = dict.fromkeys(VOCABULARIES, 0)
    misses: dict[str, list[str]] = {label: [] for label in VOCABULARIES}
    decode_seconds = 0.0
    audio_seconds = 0.0
    for text, rec in recordings.items():
        # The typed command on a fresh demo Segue is what the spoken one should do.
        segue = DemoSegue()
        try:
            expected = _did(segue.typed(text))
        finally:
            segue.close()
        assert expected[0], f"{text!r} fails even typed: {expected[1]}"
        for label in VOCABULARIES:
            vocabulary = sim_vocabulary if label == "with vocabulary" else []
            segue = DemoSegue()
            try:
                reply = segue.spoken(whisper, rec, vocabulary)
                if vocabulary:
                    decode_seconds += reply.timings.stt / 1000
                    audio_seconds += rec.duration_s
            finally:
                segue.close()
            if _did(reply) == expected:
                successes[label] += 1
            else:
                misses[label].append(f"{text!r} heard as {reply.transcript!r}: {reply.text}")

    total = len(COMMANDS)
    rates = {label: count / total for label, count in successes.items()}
    for label in VOCABULARIES:
        report(
            f"spoken commands doing what the typed ones do, {label}",
            f"{successes[label]}/{total} ({rates[label]:.0%})",
        )
    report(
        "local model (tiny.en, int8, beam 5)",
        f"load {whisper.load_seconds:.2f} s; real-time factor "
        f"{decode_seconds / audio_seconds:.2f} over {total} commands "
        f"({audio_seconds:.0f} s of audio, each with {LEAD_SILENCE_S:g} s of silence at both ends)",
    )
    for label in VOCABULARIES:
        print(f"\nMisses {label}:\n  " + "\n  ".join(misses[label]))

    assert rates["with vocabulary"] >= SUCCESS_FLOOR_WITH_VOCABULARY, misses["with vocabulary"]


def test_names_from_the_vocabulary_come_out_spelled_as_the_user_has_them(
    whisper: LocalWhisper, spoken: SpokenCommands, sim_vocabulary: list[str]
) -> None:
    # tiny.en alone hears espeak-ng's "by Beyoncé" as "bye, babe, and say"; with the user's
    # vocabulary it writes the artist as the catalog spells it.
    rec = spoken("play Halo by Beyoncé")
    plain = whisper.transcribe(rec)
    biased = whisper.transcribe(rec, vocabulary=sim_vocabulary)
    assert "Beyoncé" not in plain.text
    assert "Beyoncé" in biased.text
    assert fast_path(biased.text) == fast_path("play Halo by Beyoncé")
    assert biased.engine == "local:tiny.en"
    assert biased.bytes_sent == 0
    assert biased.seconds > 0


def test_a_recording_without_words_is_not_understood(whisper: LocalWhisper) -> None:
    silence = Recording(bytes(2 * 16_000))
    with pytest.raises(SpeechNotUnderstood) as caught:
        whisper.transcribe(silence)
    assert caught.value.user_message == "I didn't hear anything."
    with pytest.raises(SpeechNotUnderstood):
        whisper.transcribe(Recording(b""))

"""Spoken-command accuracy as a user notices it: right, refused, or a wrong action.

A spoken command runs through the whole pipeline of a fresh demo Segue (its own simulated
Spotify, "Bohemian Rhapsody" by Queen playing, no OpenAI key) with the local Whisper model and the
simulator user's vocabulary. Its outcome is judged by the simulator's state (playback, queue,
playlists and their tracks, library; not the play position) before and after, against what the
same command typed does on another fresh demo Segue:

- **right**: it did what the typed command does: the same state afterwards and the same ``ok``;
  for a command that only reads ("what's playing", "show my playlists"), the same reply;
- **refused**: the state did not change: nothing was done (Segue said it did not understand,
  asked a question such as "Did you mean “Creep” by Radiohead?", or answered something else).
  For a trap (a ``negative`` command) this is the right outcome;
- **wrong**: the state changed, and not as the typed command changes it (another song plays, the
  volume went down instead of up, a trap started music): the outcome a user minds most.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import requests

from assistant.agent.vocabulary import SpotifyVocabulary
from assistant.app import build_assistant
from assistant.config import Settings
from assistant.pipeline import Pipeline, Reply, Utterance
from assistant.sim.catalog import Catalog
from assistant.voice.audio import Recording
from assistant.voice.stt import LocalWhisper, Rescored, Transcript
from tests.voice_speech.corpora import Command

# Every command runs on a fresh demo Segue with this already playing.
SETUP_COMMAND = "play Bohemian Rhapsody by Queen"

Outcome = Literal["right", "refused", "wrong"]
Corpus = Literal["positive", "negative"]

State = dict[str, Any]


class SameWhisper:
    """The local model, transcribing each recording only once.

    The runs with and without rescoring then hear the same words, and the second costs no
    decoding.
    """

    def __init__(self, whisper: LocalWhisper) -> None:
        self.whisper = whisper
        self._heard: dict[tuple[int, tuple[str, ...]], Transcript] = {}

    def transcribe(self, rec: Recording, *, vocabulary: Sequence[str] = ()) -> Transcript:
        key = (id(rec), tuple(vocabulary))
        if key not in self._heard:
            self._heard[key] = self.whisper.transcribe(rec, vocabulary=vocabulary)
        return self._heard[key]

    def rescore(self, rec: Recording, candidates: Sequence[str], transcript: str) -> Rescored:
        return self.whisper.rescore(rec, candidates, transcript)


class DemoSegue:
    """A fresh demo Segue (its own simulated Spotify) after the setup and ``before`` commands.

    With a ``history`` ("Title by Artist" each, oldest first), the demo user's recent plays hold
    those songs, as a regular listener's do (nothing of them plays now).
    """

    def __init__(self, before: Sequence[str] = (), history: Sequence[str] = ()) -> None:
        self.assistant = build_assistant(
            Settings.model_validate({}), data_dir=None, demo=True, environ={}
        )
        try:
            if history:
                self._remember(history)
            for text in (SETUP_COMMAND, *before):
                reply = self.typed(text)
                if not reply.ok:
                    raise AssertionError(f"setting up with {text!r} failed: {reply.text}")
        except BaseException:
            self.close()
            raise

    def _remember(self, history: Sequence[str]) -> None:
        """The demo user's recent plays, through the simulator's control endpoint."""
        assert self.assistant.demo_url is not None
        ids = ",".join(_track_ids()[song] for song in history)
        answer = requests.post(f"{self.assistant.demo_url}/_sim/history/{ids}", timeout=10)
        answer.raise_for_status()

    def state(self) -> State:
        """The simulated Spotify's state for the demo user, without the play position."""
        assert self.assistant.demo_url is not None
        answer = requests.get(f"{self.assistant.demo_url}/_sim/state", timeout=10)
        answer.raise_for_status()
        state: State = answer.json()
        state.pop("progress_ms", None)  # moves with the clock
        return state

    def typed(self, text: str) -> Reply:
        return self.assistant.pipeline.handle(Utterance(text=text))

    def spoken(
        self,
        whisper: SameWhisper,
        rec: Recording,
        vocabulary: Sequence[str],
        *,
        rescoring: bool = True,
    ) -> Reply:
        """The recording through a pipeline with the local model and the given vocabulary.

        With ``rescoring`` the grammar's sentences (filled with the demo user's names) are
        scored against the recording when the transcript is not (quite) a command; without it
        the transcript is taken as it is.
        """
        stt: Any = whisper if rescoring else _NoRescoring(whisper)
        pipeline = Pipeline(
            self.assistant.pipeline.agent,
            stt=stt,
            vocabulary=lambda: vocabulary,
            names=SpotifyVocabulary(self.assistant.spotify).names,
        )
        return pipeline.handle(Utterance(text=None, audio=rec, source="voice"))

    def close(self) -> None:
        self.assistant.close()

    def __enter__(self) -> DemoSegue:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _NoRescoring:
    """The recogniser without its rescoring (and so without the text fallback either)."""

    def __init__(self, whisper: SameWhisper) -> None:
        self.whisper = whisper

    def transcribe(self, rec: Recording, *, vocabulary: Sequence[str] = ()) -> Transcript:
        return self.whisper.transcribe(rec, vocabulary=vocabulary)

    def rescore(self, rec: Recording, candidates: Sequence[str], transcript: str) -> Rescored:
        return Rescored(scores={}, accepted=None)  # no sentence fits: the transcript stands


@dataclass(frozen=True)
class Effect:
    """What one command did: Segue's reply and the simulator's state around it."""

    ok: bool
    text: str
    before: State
    after: State
    transcript: str | None = None
    stt_seconds: float = 0.0
    question: tuple[str, ...] | None = None

    @property
    def changed(self) -> bool:
        return self.after != self.before


@functools.cache
def _track_ids() -> dict[str, str]:
    """Catalog track IDs by "Title by Artist" (the track's first artist)."""
    catalog = Catalog.load()
    return {
        f"{track.name} by {catalog.artists[track.artist_ids[0]].name}": track.id
        for track in catalog.tracks.values()
    }


@functools.cache
def typed_effect(command: Command) -> Effect:
    """What the command does typed (on a fresh demo Segue); computed once per command."""
    with DemoSegue(command.before) as segue:
        before = segue.state()
        reply = segue.typed(command.text)
        return Effect(reply.ok, reply.text, before, segue.state())


def spoken_effect(
    command: Command,
    rec: Recording,
    whisper: SameWhisper,
    vocabulary: Sequence[str],
    *,
    rescoring: bool = True,
    history: Sequence[str] = (),
) -> Effect:
    """What the spoken command does (on a fresh demo Segue with that listening history)."""
    with DemoSegue(command.before, history) as segue:
        before = segue.state()
        reply = segue.spoken(whisper, rec, vocabulary, rescoring=rescoring)
        return Effect(
            reply.ok,
            reply.text,
            before,
            segue.state(),
            transcript=reply.transcript,
            stt_seconds=reply.timings.stt / 1000,
            question=reply.question,
        )


def classify(corpus: Corpus, expected: Effect, got: Effect) -> Outcome:
    """Right, refused or wrong (see the module's description)."""
    if got.before != expected.before:
        raise AssertionError(
            "two fresh demo Segues started from different states; the comparison means nothing"
        )
    if not got.changed:
        if corpus == "positive" and not expected.changed and _same_reply(got, expected):
            return "right"
        return "refused"
    if corpus == "positive" and got.after == expected.after and got.ok == expected.ok:
        return "right"
    return "wrong"


def _same_reply(got: Effect, expected: Effect) -> bool:
    return (got.ok, got.text) == (expected.ok, expected.text)


@dataclass(frozen=True)
class Trial:
    """One spoken command and how it went."""

    corpus: Corpus
    voice: str
    command: Command
    outcome: Outcome
    transcript: str | None
    reply: str
    expected_reply: str
    stt_seconds: float
    audio_seconds: float
    asked: bool = False

    @property
    def missed(self) -> bool:
        """Whether the outcome is not the one wanted (right; refused for a trap)."""
        return self.outcome != ("right" if self.corpus == "positive" else "refused")

    def describe(self) -> str:
        """``[outcome] 'said' heard as 'transcript': reply`` (the reply shortened)."""
        heard = "nothing" if self.transcript is None else repr(self.transcript)
        line = f"[{self.outcome}] {self.command.text!r} heard as {heard}: {_short(self.reply)}"
        if self.corpus == "positive" and self.outcome == "wrong":
            line += f" (typed: {_short(self.expected_reply)})"
        return line


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def judge(
    corpus: Corpus,
    voice: str,
    command: Command,
    rec: Recording,
    whisper: SameWhisper,
    vocabulary: Sequence[str],
    *,
    rescoring: bool = True,
    history: Sequence[str] = (),
) -> Trial:
    """Run one spoken command and judge it against the typed one (or against doing nothing).

    The typed yardstick runs without the history: a typed name is searched, not heard, and the
    state compared (playback, queue, playlists, library) does not hold the recent plays.
    """
    expected = typed_effect(command)
    got = spoken_effect(command, rec, whisper, vocabulary, rescoring=rescoring, history=history)
    return Trial(
        corpus=corpus,
        voice=voice,
        command=command,
        outcome=classify(corpus, expected, got),
        transcript=got.transcript,
        reply=got.text,
        expected_reply=expected.text,
        stt_seconds=got.stt_seconds,
        audio_seconds=rec.duration_s,
        asked=got.question is not None and not got.changed,
    )


@dataclass(frozen=True)
class Counts:
    right: int = 0
    refused: int = 0
    wrong: int = 0
    asked: int = 0  # of the refused: Segue asked a question ("Did you mean ...?") instead

    @property
    def total(self) -> int:
        return self.right + self.refused + self.wrong


@dataclass
class Tally:
    """Trials by corpus and voice: counts of right, refused and wrong, and the misses."""

    trials: list[Trial] = field(default_factory=list)
    wall_seconds: dict[tuple[str, str], float] = field(default_factory=dict)

    def add(self, trial: Trial) -> None:
        self.trials.append(trial)

    def of(self, corpus: str, voice: str) -> list[Trial]:
        return [t for t in self.trials if t.corpus == corpus and t.voice == voice]

    def counts(self, corpus: str, voice: str) -> Counts:
        trials = self.of(corpus, voice)
        return Counts(
            right=sum(t.outcome == "right" for t in trials),
            refused=sum(t.outcome == "refused" for t in trials),
            wrong=sum(t.outcome == "wrong" for t in trials),
            asked=sum(t.outcome == "refused" and t.asked for t in trials),
        )

    def misses(self, corpus: str, voice: str) -> list[Trial]:
        return [t for t in self.of(corpus, voice) if t.missed]

    def summary(self, corpus: str, voice: str) -> str:
        """One line: the counts out of N, with the rate of the wanted outcome."""
        c = self.counts(corpus, voice)
        good = c.right if corpus == "positive" else c.refused
        rate = good / c.total if c.total else 0.0
        trials = self.of(corpus, voice)
        stt = sum(t.stt_seconds for t in trials)
        audio = sum(t.audio_seconds for t in trials)
        rtf = f"; real-time factor {stt / audio:.2f}" if audio else ""
        wall = self.wall_seconds.get((corpus, voice))
        took = f"; {wall:.1f} s in all" if wall is not None else ""
        asked = f" ({c.asked} of them a question)" if c.asked else ""
        return (
            f"right {c.right}, refused {c.refused}{asked}, wrong {c.wrong} of {c.total} "
            f"({'right' if corpus == 'positive' else 'refused'} {rate:.0%}){rtf}{took}"
        )


def run_corpus(
    tally: Tally,
    corpus: Corpus,
    commands: Sequence[Command],
    voice: str,
    recordings: Sequence[Recording],
    whisper: SameWhisper,
    vocabulary: Sequence[str],
    *,
    rescoring: bool = True,
    history: Sequence[str] = (),
) -> list[Trial]:
    """Judge each command spoken (``recordings[i]`` says ``commands[i]``); add to ``tally``."""
    started = time.perf_counter()
    trials = []
    for command, rec in zip(commands, recordings, strict=True):
        trial = judge(
            corpus, voice, command, rec, whisper, vocabulary, rescoring=rescoring, history=history
        )
        tally.add(trial)
        trials.append(trial)
    tally.wall_seconds[(corpus, voice)] = time.perf_counter() - started
    return trials

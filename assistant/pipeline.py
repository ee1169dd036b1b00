"""The one entry point for every command: ``Pipeline.handle(Utterance) -> Reply``.

The tray, the popup, ``segue say``, ``segue listen`` and the benchmarks all call
:meth:`Pipeline.handle`, so a command behaves the same wherever it comes from. Speech (when an
utterance carries audio) becomes text first; the agent then runs the command. The reply says
what to show and speak, which tool calls ran, and where the time went.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.agent.agent import Agent, AgentResult, is_try_again
from assistant.agent.reply import CallRecord
from assistant.errors import SegueError

if TYPE_CHECKING:
    from assistant.agent.grammar import Names
    from assistant.agent.hearing import Heard
    from assistant.voice.audio import Recording, SpeechDetector
    from assistant.voice.stt import SpeechToText

__all__ = ["CallRecord", "Pipeline", "Reply", "Timings", "Utterance"]

logger = logging.getLogger(__name__)

NO_SPEECH_TO_TEXT = (
    "Segue can't understand speech yet: no speech-to-text is set up; type the command instead."
)
NOTHING_SAID = "I didn't catch a command."
NOTHING_HEARD = "I didn't hear anything."
RESEND_HINT = "Say “try again” to send the same recording once more."
MICROPHONE_NOT_ALLOWED = (
    "The microphone sent only silence: macOS has not let Segue use it. Allow it under System "
    "Settings, Privacy & Security, Microphone (for Segue or the terminal that runs it)."
)
# macOS gives an app it has not allowed the microphone a stream of exact zeros, with no error. A
# real input is never that quiet for this long (even a room's hush has some hiss), while its
# first buffers after opening may be zeros: a whole recording of them means "not allowed".
NOT_ALLOWED_AFTER_S = 1.0


@dataclass(frozen=True)
class Utterance:
    """One command as it arrives.

    Attributes:
        text: What was typed (or already transcribed); None when only audio is given.
        audio: The recording, when the command was spoken.
        source: Where it came from ("cli", "tray", "popup", "voice", "benchmark").
    """

    text: str | None
    audio: Recording | None = None
    source: str = "cli"


@dataclass(frozen=True)
class Timings:
    """Where one command's time went (milliseconds) and what it cost.

    Attributes:
        stt: Speech to text.
        agent: The whole agent (fast path or model loop, and the tools).
        llm: Waiting for the model (part of ``agent``).
        spotify: In the tools, talking to Spotify (part of ``agent``).
        llm_calls: Model requests.
        spotify_calls: Spotify Web API requests.
        bytes_to_openai: Request bytes sent to OpenAI (audio and chat).
    """

    stt: float = 0.0
    agent: float = 0.0
    llm: float = 0.0
    spotify: float = 0.0
    llm_calls: int = 0
    spotify_calls: int = 0
    bytes_to_openai: int = 0

    def as_dict(self) -> dict[str, float | int]:
        """The timings as JSON-ready data (milliseconds rounded to 0.1)."""
        return {
            "stt_ms": round(self.stt, 1),
            "agent_ms": round(self.agent, 1),
            "llm_ms": round(self.llm, 1),
            "spotify_ms": round(self.spotify, 1),
            "llm_calls": self.llm_calls,
            "spotify_calls": self.spotify_calls,
            "bytes_to_openai": self.bytes_to_openai,
        }


HEARD_SAID_WORDS = 8
"""A failed spoken command's reply says aloud what was heard when it is at most this many words."""


@dataclass(frozen=True)
class Reply:
    """What Segue answers to one command.

    Attributes:
        text: The sentence(s) to show and speak.
        ok: Whether the command was carried out or answered; False when it could not be.
        used_llm: Whether the model was asked.
        tool_calls: The tool calls made, in order.
        timings: Where the time went.
        question: The options of a question Segue now waits for (a numbered choice, or
            ``("yes", "no")``), or None.
        transcript: What speech recognition heard, for spoken commands.
        urgent: The person must act before Segue can work again (a lost sign-in, no
            microphone): ``SegueError.urgent``. Refusals and names not found are not urgent.
    """

    text: str
    ok: bool
    used_llm: bool = False
    tool_calls: tuple[CallRecord, ...] = ()
    timings: Timings = field(default_factory=Timings)
    question: tuple[str, ...] | None = None
    transcript: str | None = None
    urgent: bool = False

    @property
    def heard(self) -> str | None:
        """What was heard, as shown to the person ("Heard: “see you next time”"); None if typed.

        A spoken command's reply always says what Segue took the words to be, so a person can
        tell a misheard command from one Segue cannot do.
        """
        if self.transcript is None or not self.transcript.strip():
            return None
        return f"Heard: “{self.transcript_words}”"

    def spoken_text(self) -> str:
        """The reply to read aloud: a failed spoken command says first what was heard, when short.

        Successes are read as they are ("Paused."): the heard words are on the screen.
        """
        heard = self.heard
        if self.ok or heard is None or len(heard.split()) > HEARD_SAID_WORDS + 1:
            return self.text
        return f"I heard “{self.transcript_words}”. {self.text}"

    @property
    def transcript_words(self) -> str:
        """The transcript without its final full stop ("see you next time")."""
        return " ".join((self.transcript or "").split()).rstrip(".!?")

    def shown_text(self) -> str:
        """The reply as a notification or the popup shows it: what was heard, then the reply."""
        heard = self.heard
        return self.text if heard is None else f"{heard} — {self.text}"

    def as_dict(self) -> dict[str, Any]:
        """The reply as ``segue say --json`` prints it (``segue listen`` adds the transcript)."""
        data: dict[str, Any] = {
            "ok": self.ok,
            "reply": self.text,
            "used_llm": self.used_llm,
            "tool_calls": [record.as_dict() for record in self.tool_calls],
            "timings": self.timings.as_dict(),
        }
        if self.transcript is not None:
            data["transcript"] = self.transcript
        return data


class Pipeline:
    """Utterance in, reply out: speech to text when needed, then the agent.

    A recording without speech (silence, a key click, under ``min_speech_seconds``) makes no
    request at all. When recognition fails for a reason that may pass (a timeout, a busy
    service), the recording is kept in memory, and "try again" sends it once more instead of
    asking the person to repeat themselves. It is kept as long as the agent keeps its own
    "try again" (``Agent.expired``), and dropped once sent again.

    Args:
        agent: Runs commands.
        stt: Speech to text; None when speech is not set up.
        detector: Tells speech from silence before anything is sent.
        min_speech_seconds: Less speech than this counts as nothing said.
        vocabulary: Names the person is likely to say (their playlists, artists, devices), to
            steer recognition; called once per spoken command.
        names: The same names by kind, to fill the command grammar's sentences when the
            transcript is not a command (see :meth:`_hear`).
        keep_recordings: A folder to save every spoken command in as a WAV file; None (the
            default) writes no audio to disk.
        timer: High-resolution clock for the timings.
        platform: ``sys.platform`` of this computer: on macOS a recording of exact zeros says
            the microphone is not allowed (:data:`MICROPHONE_NOT_ALLOWED`).
    """

    def __init__(
        self,
        agent: Agent,
        *,
        stt: SpeechToText | None = None,
        detector: SpeechDetector | None = None,
        min_speech_seconds: float = 0.3,
        vocabulary: Callable[[], Sequence[str]] | None = None,
        names: Callable[[], Names] | None = None,
        keep_recordings: Path | None = None,
        timer: Callable[[], float] = time.perf_counter,
        platform: str = sys.platform,
    ) -> None:
        self.agent = agent
        self._platform = platform
        self._stt = stt
        self._detector = detector
        self._min_speech_seconds = min_speech_seconds
        self._vocabulary = vocabulary
        self._names = names
        self._keep_recordings = keep_recordings
        self._timer = timer
        self._unsent: tuple[Recording, float] | None = None  # and when it was kept (agent.now)

    def warm_up(self) -> None:
        """Do what a spoken command will need before its words arrive.

        Called when recording starts: loads the command grammar and the recogniser (a local
        model takes a moment), refreshes the vocabulary and fills the grammar's sentences with
        it, so the end of speech is followed by recognition at once.
        """
        self.agent.warm_up()
        if self._vocabulary is not None:
            self._vocabulary()
        warm = getattr(self._stt, "warm", None)
        if callable(warm):
            warm()
        if self._names is not None:
            # The grammar's sentences with the person's names are checked once per set of names
            # (about 1.5 ms a sentence; new names every few minutes): not after the words.
            from assistant.agent import grammar

            grammar.sentences(self._names())

    def handle(
        self,
        utterance: Utterance,
        *,
        on_sentence: Callable[[str], None] | None = None,
        on_step: Callable[[str], None] | None = None,
    ) -> Reply:
        """Run one command.

        Errors Segue understands become a reply with ``ok=False`` and their one sentence;
        anything else is a bug and propagates to the caller's thread top.

        Args:
            utterance: The command.
            on_sentence: Given each complete sentence of the model's answer while the model
                still writes it (on this thread), for a voice to begin reading; the reply then
                begins with those sentences, unless the command failed after them.
            on_step: Given each tool's name as it starts (on this thread).

        Returns:
            The reply.
        """
        if self._unsent is not None and self.agent.expired(self._unsent[1]):
            logger.info("The kept recording expired")
            self._unsent = None
        if utterance.audio is None and self._unsent is not None and is_try_again(utterance.text):
            recording = self._unsent[0]
            self._unsent = None  # sent once more at most; a new failure keeps it anew
            logger.info("Sending the kept recording again")
            return self.handle(
                Utterance(text=None, audio=recording, source=utterance.source),
                on_sentence=on_sentence,
                on_step=on_step,
            )
        stt = _Heard()
        try:
            if utterance.audio is not None:
                stt = self._transcribe(utterance.audio)
                if stt.reply is not None:
                    return stt.reply
                text = stt.text
            else:
                text = utterance.text
            if text is None or not text.strip():
                return Reply(text=NOTHING_SAID, ok=False, timings=stt.timings, transcript=stt.text)
            started = self._timer()
            result = self.agent.respond(text.strip(), on_sentence=on_sentence, on_step=on_step)
            agent_ms = (self._timer() - started) * 1000
        except SegueError as err:
            logger.info("Command from %s ended: %s", utterance.source, type(err).__name__)
            return Reply(
                text=err.user_message,
                ok=False,
                timings=stt.timings,
                transcript=stt.text,
                urgent=err.urgent,
            )
        logger.info(
            "Command from %s: ok=%s llm_calls=%d spotify_calls=%d in %.0f ms",
            utterance.source,
            result.ok,
            result.llm_calls,
            result.spotify_calls,
            agent_ms,
        )
        return _reply(result, stt, agent_ms)

    def _transcribe(self, recording: Recording) -> _Heard:
        """What was said in ``recording``, or the reply that ends the command."""
        if self._keep_recordings is not None:
            self._save(recording)
        if (
            self._platform == "darwin"
            and recording.duration_s >= NOT_ALLOWED_AFTER_S
            and recording.is_digital_silence
        ):
            return _Heard(reply=Reply(text=MICROPHONE_NOT_ALLOWED, ok=False, urgent=True))
        if self._detector is not None and not self._detector.has_speech(
            recording, self._min_speech_seconds
        ):
            return _Heard(reply=Reply(text=NOTHING_HEARD, ok=False))
        if self._stt is None:
            return _Heard(reply=Reply(text=NO_SPEECH_TO_TEXT, ok=False))
        vocabulary = self._vocabulary() if self._vocabulary is not None else ()
        started = self._timer()
        try:
            transcript = self._stt.transcribe(recording, vocabulary=vocabulary)
        except SegueError as err:
            elapsed = Timings(stt=(self._timer() - started) * 1000)
            if err.retryable:
                self._unsent = (recording, self.agent.now())
                text = f"{err.user_message} {RESEND_HINT}"
            else:
                self._unsent = None
                text = err.user_message
            logger.info("Speech recognition failed: %s", type(err).__name__)
            return _Heard(reply=Reply(text=text, ok=False, timings=elapsed, urgent=err.urgent))
        self._unsent = None
        try:
            heard = self._hear(recording, transcript.text)
        except SegueError as err:  # the local model failed while rescoring: keep its words
            logger.info("Rescoring failed: %s", type(err).__name__)
            heard = hearing_as_is(transcript.text)
        timings = Timings(
            stt=(self._timer() - started) * 1000, bytes_to_openai=transcript.bytes_sent
        )
        if heard.options:
            meant = self.agent.only_change(heard.options)
            if meant is not None:  # "mute" while muted would change nothing: "unmute" it is
                logger.info("Of %d readings only one would change anything", len(heard.options))
                return _Heard(text=meant, timings=timings)
            # Two readings fit about equally well: ask rather than act on either.
            said = _Heard(text=transcript.text, timings=timings)
            return replace(said, reply=_reply(self.agent.ask_which(heard.options), said, 0.0))
        return _Heard(text=heard.text, timings=timings)

    def _hear(self, recording: Recording, transcript: str) -> Heard:
        """The command the recording says, when the transcript is not (quite) it.

        The grammar offers the sentences the person may have said (``agent.hearing``); the
        local model scores them against the recording and one is taken only when it fits about
        as well as the model's own transcript and clearly better than the rest; where the model
        cannot tell a number from its "-teen"/"-ty" twin, Segue asks. A recogniser without
        scores (OpenAI) takes a sentence only when it is very close in spelling or sound.
        Otherwise the transcript stands, and what is not understood changes nothing.
        """
        from assistant.agent import hearing

        names = self._names() if self._names is not None else None
        rescore = getattr(self._stt, "rescore", None)
        scoring = callable(rescore) and getattr(self._stt, "can_rescore", True)
        sentences = hearing.candidates(transcript, names, scoring=scoring)
        if not sentences:
            return hearing.Heard(transcript)
        started = self._timer()
        if scoring:
            assert callable(rescore)
            scored = rescore(recording, sentences, transcript)
            heard = hearing.decide(
                transcript,
                scored.scores,
                scored.accepted,
                scored.transcript_score,
                log_probs=scored.log_probs,
                transcript_log_prob=scored.transcript_log_prob,
            )
            how = "scored against the recording"
        else:
            heard = hearing.Heard(hearing.choose_by_text(transcript, sentences))
            how = "by spelling and sound"
        outcome = (
            "asked about"
            if heard.options
            else "kept"
            if heard.text == transcript
            else "replaced by a command"
        )
        # What was said stays out of the log at INFO (it is the person's business).
        logger.info(
            "%d candidate sentences %s in %.0f ms: the transcript was %s",
            len(sentences),
            how,
            (self._timer() - started) * 1000,
            outcome,
        )
        logger.debug("Heard %r: %r", transcript, heard)
        return heard

    def _save(self, recording: Recording) -> None:
        folder = self._keep_recordings
        assert folder is not None
        path = folder / f"segue-{datetime.now().strftime('%Y%m%d-%H%M%S-%f')}.wav"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path.write_bytes(recording.to_wav())
            logger.info("Recording saved to %s", path)
        except OSError as err:
            logger.warning("Could not save the recording to %s: %s", folder, err.strerror)


def hearing_as_is(transcript: str) -> Heard:
    """The transcript taken as it is."""
    from assistant.agent.hearing import Heard

    return Heard(transcript)


@dataclass(frozen=True)
class _Heard:
    """The speech-to-text stage's outcome: the words, or a reply that ends the command."""

    text: str | None = None
    timings: Timings = field(default_factory=Timings)
    reply: Reply | None = None


def _reply(result: AgentResult, heard: _Heard, agent_ms: float) -> Reply:
    return Reply(
        text=result.text,
        ok=result.ok,
        used_llm=result.used_llm,
        tool_calls=result.calls,
        timings=Timings(
            stt=heard.timings.stt,
            agent=agent_ms,
            llm=result.llm_ms,
            spotify=result.spotify_ms,
            llm_calls=result.llm_calls,
            spotify_calls=result.spotify_calls,
            bytes_to_openai=heard.timings.bytes_to_openai + result.bytes_to_openai,
        ),
        question=result.question,
        transcript=heard.text,
        urgent=result.urgent,
    )

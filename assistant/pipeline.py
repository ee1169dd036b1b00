"""The one entry point for every command: ``Pipeline.handle(Utterance) -> Reply``.

The tray, the popup, ``segue say``, ``segue listen`` and the benchmarks all call
:meth:`Pipeline.handle`, so a command behaves the same wherever it comes from. Speech (when an
utterance carries audio) becomes text first; the agent then runs the command. The reply says
what to show and speak, which tool calls ran, and where the time went.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from assistant.agent.agent import Agent, AgentResult
from assistant.agent.reply import CallRecord
from assistant.errors import SegueError

__all__ = ["CallRecord", "Pipeline", "Reply", "SpeechToText", "Timings", "Utterance"]

logger = logging.getLogger(__name__)

NO_SPEECH_TO_TEXT = (
    "Segue can't understand speech yet: no speech-to-text is set up; type the command instead."
)
NOTHING_SAID = "I didn't catch a command."


class SpeechToText(Protocol):
    """Turns recorded speech into text (the voice issue provides the implementations)."""

    def transcribe(self, audio: bytes) -> str:
        """The words spoken in ``audio``; raises a SegueError when it cannot."""
        ...


@dataclass(frozen=True)
class Utterance:
    """One command as it arrives.

    Attributes:
        text: What was typed (or already transcribed); None when only audio is given.
        audio: Recorded speech, when the command was spoken.
        source: Where it came from ("cli", "tray", "popup", "voice", "benchmark").
    """

    text: str | None
    audio: bytes | None = None
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
    """

    text: str
    ok: bool
    used_llm: bool = False
    tool_calls: tuple[CallRecord, ...] = ()
    timings: Timings = field(default_factory=Timings)
    question: tuple[str, ...] | None = None
    transcript: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The reply as ``segue say --json`` prints it."""
        return {
            "ok": self.ok,
            "reply": self.text,
            "used_llm": self.used_llm,
            "tool_calls": [record.as_dict() for record in self.tool_calls],
            "timings": self.timings.as_dict(),
        }


class Pipeline:
    """Utterance in, reply out: speech to text when needed, then the agent.

    Args:
        agent: Runs commands.
        stt: Speech to text; None when speech is not set up.
        timer: High-resolution clock for the timings.
    """

    def __init__(
        self,
        agent: Agent,
        *,
        stt: SpeechToText | None = None,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.agent = agent
        self._stt = stt
        self._timer = timer

    def handle(self, utterance: Utterance) -> Reply:
        """Run one command.

        Errors Segue understands become a reply with ``ok=False`` and their one sentence;
        anything else is a bug and propagates to the caller's thread top.

        Args:
            utterance: The command.

        Returns:
            The reply.
        """
        stt_ms = 0.0
        transcript: str | None = None
        text = utterance.text
        try:
            if text is None and utterance.audio is not None:
                if self._stt is None:
                    return Reply(text=NO_SPEECH_TO_TEXT, ok=False)
                started = self._timer()
                try:
                    transcript = self._stt.transcribe(utterance.audio)
                finally:
                    stt_ms = (self._timer() - started) * 1000
                text = transcript
            if text is None or not text.strip():
                return Reply(
                    text=NOTHING_SAID,
                    ok=False,
                    timings=Timings(stt=stt_ms),
                    transcript=transcript,
                )
            started = self._timer()
            result = self.agent.respond(text.strip())
            agent_ms = (self._timer() - started) * 1000
        except SegueError as err:
            logger.info("Command from %s ended: %s", utterance.source, type(err).__name__)
            return Reply(
                text=err.user_message, ok=False, timings=Timings(stt=stt_ms), transcript=transcript
            )
        logger.info(
            "Command from %s: ok=%s llm_calls=%d spotify_calls=%d in %.0f ms",
            utterance.source,
            result.ok,
            result.llm_calls,
            result.spotify_calls,
            agent_ms,
        )
        return _reply(result, stt_ms, agent_ms, transcript)


def _reply(result: AgentResult, stt_ms: float, agent_ms: float, transcript: str | None) -> Reply:
    return Reply(
        text=result.text,
        ok=result.ok,
        used_llm=result.used_llm,
        tool_calls=result.calls,
        timings=Timings(
            stt=stt_ms,
            agent=agent_ms,
            llm=result.llm_ms,
            spotify=result.spotify_ms,
            llm_calls=result.llm_calls,
            spotify_calls=result.spotify_calls,
            bytes_to_openai=result.bytes_to_openai,
        ),
        question=result.question,
        transcript=transcript,
    )

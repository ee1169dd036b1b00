"""The agent: one command in, tool calls through the registry, one reply out.

Order of business for each command:

1. An answer to Segue's own pending question: "yes"/"no" to a confirmation or to "Did you mean
   ...?", or a number, an ordinal or a name for "Which playlist? 1. Deep Work 2. Deep Work II".
   Only an answer that picks one of the options counts; anything else ("play something
   relaxing") drops the question and runs as a new command. Pending questions are asked for
   the next turn only and expire after five minutes (so silence never confirms).
2. "try again": the last call that failed for lack of a device runs again; failing that, the
   latest unfinished playlist build (kept in the data dir, so also one a crashed or earlier
   process left) is finished.
3. The fast path (``intents.parse``): its calls run through the registry with no model call. A
   call failing in a way the model can correct (nothing found) hands the text to the model,
   with the failed attempt shown to it.
4. The model's tool loop (:class:`~assistant.agent.llm.ToolLoop`), when one is configured.

Policies that hold on every path: destructive tools never run without the person's "yes" in a
following turn (the model has no way to confirm: its call becomes Segue's question); a tool that
cannot choose between several names asks the person, not the model; a name that only nearly
matches anything becomes "Did you mean ...?" (``NearMiss``), never an action on a guess; an
error only the person can fix ends the command with its sentence, after saying what was already
done.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from pydantic import ValidationError

from assistant.agent import intents
from assistant.agent.llm import Executed, ModelUsage, ToolLoop, tool_message
from assistant.agent.reply import (
    CANCELLED,
    NEVER_MIND,
    NOT_UNDERSTOOD,
    CallRecord,
    clarification,
    compose,
    confirmation,
    done_then,
    sentence,
    step_capped,
    step_limit,
    what_you_can_say,
    without_model,
)
from assistant.agent.tools import (
    ConfirmFirst,
    Tool,
    ToolCall,
    ToolOutput,
    ToolRegistry,
    ToolResult,
)
from assistant.errors import (
    AmbiguousMatch,
    NearMiss,
    NoDevice,
    NotFound,
    RequestTooLarge,
    SegueError,
)
from assistant.text import match
from assistant.text.numbers import number_value, ordinal_value

logger = logging.getLogger(__name__)

QUESTION_TTL = 300.0  # seconds a pending question (or "try again") stays answerable
# The longest command taken: a spoken or typed command is a sentence or two, and the grammar and
# the model should never be handed a pasted page.
MAX_COMMAND_CHARS = 1000

NOTHING_TO_RETRY = "There's nothing to try again."

_YES = frozenset(
    "yes|y|yeah|yep|yup|sure|ok|okay|do it|go ahead|confirm|yes please|yes do it|correct|"
    "please do|yes go ahead|absolutely|of course".split("|")
)
_NO = frozenset(
    "no|n|nope|cancel|don't|dont|do not|no thanks|no thank you|never mind|nevermind|leave it|"
    "no don't|no dont|forget it".split("|")
)
_CANCEL = frozenset(
    "cancel|never mind|nevermind|neither|none|none of them|forget it|no|nope".split("|")
)
_TRY_AGAIN = frozenset(
    "try again|try it again|try that again|retry|again|one more time|do it again".split("|")
)
_HELP = frozenset(
    "help|what can i say|what can you do|what do you understand|what can i ask|what can i ask you|"
    "what commands are there|list commands|show commands|commands".split("|")
)
_FILLER = re.compile(r"^(?:(?:ok|okay|um|uh|so|well|hey segue|segue)\s+)+|\s+please$")
_NUMBERED = re.compile(
    r"^(?:(?:the|option|number|no|choice|play|use|pick)\s+)*"
    r"(?P<n>\d+|[a-z]+)(?:\.|st|nd|rd|th)?(?:\s+(?:one|please))?$"
)


@dataclass(frozen=True)
class AgentResult:
    """What one command did.

    Attributes:
        text: The reply for the person.
        ok: Whether the command was carried out or answered (a question back counts).
        used_llm: Whether the model was asked.
        calls: The tool calls made, in order.
        question: The options of a question Segue asked and waits for, or None.
        urgent: A call failed in a way the person must act on (a lost sign-in): see
            ``SegueError.urgent``.
        llm_calls: Model requests made.
        llm_ms: Milliseconds spent waiting for the model.
        bytes_to_openai: Request bytes sent to the model.
        spotify_ms: Milliseconds spent in the tools (Spotify calls), model time excluded.
        spotify_calls: Spotify Web API requests made.
    """

    text: str
    ok: bool
    used_llm: bool = False
    calls: tuple[CallRecord, ...] = ()
    question: tuple[str, ...] | None = None
    urgent: bool = False
    llm_calls: int = 0
    llm_ms: float = 0.0
    bytes_to_openai: int = 0
    spotify_ms: float = 0.0
    spotify_calls: int = 0


@dataclass(frozen=True)
class _Confirmation:
    """Destructive calls waiting for a "yes"."""

    calls: tuple[ToolCall, ...]
    asked_at: float


@dataclass(frozen=True)
class _Clarification:
    """A call waiting for the person to choose the value of one argument."""

    call: ToolCall
    argument: str
    what: str
    options: tuple[str, ...]
    confirmed: bool
    asked_at: float


@dataclass(frozen=True)
class _Alternatives:
    """Commands a recording may have said, waiting for the person to pick one."""

    options: tuple[str, ...]
    asked_at: float


@dataclass
class _Command:
    """Bookkeeping for one command."""

    records: list[CallRecord] = field(default_factory=list)
    confirm: list[tuple[ToolCall, str | None]] = field(default_factory=list)
    clarify: _Clarification | None = None
    near_miss: tuple[ToolCall, str] | None = None
    failure: str | None = None
    urgent: bool = False
    tool_seconds: float = 0.0
    on_sentence: Callable[[str], None] | None = None
    on_step: Callable[[str], None] | None = None


class Agent:
    """Turns what the person said into tool calls and a reply.

    Args:
        registry: The tools.
        fast_path: ``text -> calls or None``: the deterministic parser.
        llm: The model's tool loop; None when no model is configured.
        clock: Monotonic clock for pending questions.
        timer: High-resolution clock for timings.
        question_ttl: Seconds a pending question or "try again" stays answerable.
        spotify_calls: Returns the Spotify requests made so far (``SpotifyClient.calls``).
        unfinished_work: Returns the call that started the latest unfinished work (a playlist
            build) for "try again" to replay, or None.
    """

    def __init__(
        self,
        registry: ToolRegistry,
        *,
        fast_path: Callable[[str], list[ToolCall] | None] = intents.parse,
        llm: ToolLoop | None = None,
        clock: Callable[[], float] = time.monotonic,
        timer: Callable[[], float] = time.perf_counter,
        question_ttl: float = QUESTION_TTL,
        spotify_calls: Callable[[], int] | None = None,
        unfinished_work: Callable[[], ToolCall | None] | None = None,
    ) -> None:
        self.registry = registry
        self._unfinished_work = unfinished_work
        self._fast_path = fast_path
        self.llm = llm
        self._clock = clock
        self._timer = timer
        self._question_ttl = question_ttl
        self._spotify_calls = spotify_calls
        self._pending: _Confirmation | _Clarification | _Alternatives | None = None
        self._retry: tuple[ToolCall, float] | None = None
        self._lock = threading.Lock()

    @property
    def pending_question(self) -> bool:
        """Whether Segue waits for an answer to a question it asked."""
        return self._pending is not None

    def now(self) -> float:
        """The clock that times pending questions and "try again" (monotonic seconds)."""
        return self._clock()

    def expired(self, since: float) -> bool:
        """Whether what was kept for "try again" at ``since`` (:meth:`now`) is too old to use.

        The one time to live of every "try again", the agent's own and the pipeline's kept
        recording: ``question_ttl``.
        """
        return self._clock() - since > self._question_ttl

    def respond(
        self,
        text: str,
        *,
        on_sentence: Callable[[str], None] | None = None,
        on_step: Callable[[str], None] | None = None,
    ) -> AgentResult:
        """Run one command.

        Args:
            text: What the person said or typed.
            on_step: Given each tool's name as it starts, whoever asked for it (the popup
                says what is being done).
            on_sentence: Given each complete sentence of the model's answer while it is still
                written, so a voice can begin reading it (see ``stream.SentenceFeed``); the
                reply's text begins with them unless the answer failed or changed on a retry.

        Returns:
            The reply, the calls made and what they cost.

        Raises:
            SegueError: Only from outside the tools (e.g. not signed in while building the
                model's prompt); tool errors become the reply.
        """
        with self._lock:
            usage_before = self._usage()
            calls_before = self._spotify_calls() if self._spotify_calls else 0
            command = _Command(on_sentence=on_sentence, on_step=on_step)
            self.registry.begin_command()  # what this command changes, "undo" reverts together
            reply, ok = self._respond(text, command)
            usage = self._usage()
            question: tuple[str, ...] | None = None
            if isinstance(self._pending, _Clarification):
                question = self._pending.options
            elif isinstance(self._pending, _Confirmation):
                question = ("yes", "no")
            elif isinstance(self._pending, _Alternatives):
                question = self._pending.options
            llm_calls = usage.calls - usage_before.calls
            return AgentResult(
                text=reply,
                ok=ok,
                used_llm=llm_calls > 0,
                calls=tuple(command.records),
                question=question,
                urgent=command.urgent,
                llm_calls=llm_calls,
                llm_ms=usage.ms - usage_before.ms,
                bytes_to_openai=usage.bytes_sent - usage_before.bytes_sent,
                spotify_ms=command.tool_seconds * 1000,
                spotify_calls=(self._spotify_calls() if self._spotify_calls else 0) - calls_before,
            )

    def warm_up(self) -> None:
        """Load the command grammar now (about 0.4 s), so the first command does not wait.

        The tools prepare too (this computer's player is looked up, so a first play from idle
        needs one request).
        """
        from assistant.agent.grammar import grammar

        grammar()
        self.registry.warm_up()

    def ask_which(self, options: Sequence[str]) -> AgentResult:
        """Ask which of several commands was said ("volume 17" or "volume 70"); nothing runs.

        The next command answers by naming one (in words or digits) or by its number; anything
        else drops the question and runs as a new command.

        Args:
            options: The commands, the likelier first.
        """
        with self._lock:
            self._pending = _Alternatives(tuple(options), self._clock())
            quoted = [f"“{option}”" for option in options]
            listed = ", ".join(quoted[:-1]) + f" or {quoted[-1]}"
            return AgentResult(text=f"Did you say {listed}?", ok=True, question=tuple(options))

    def only_change(self, options: Sequence[str]) -> str | None:
        """Of readings the recogniser cannot tell apart, the only one that would change anything.

        "Mute" while the sound is off changes nothing, so of "mute" / "unmute" heard while muted
        the person meant "unmute". Each option must be a command the fast path understands and
        every one of its calls must tell whether it would change anything now (one read each);
        otherwise, or when several would, there is no such reading and Segue asks.

        Args:
            options: The readings (:meth:`ask_which`'s options).

        Returns:
            The one reading that would change something while every other would change
            nothing, or None.
        """
        changing: list[str] = []
        with self._lock:
            for option in options:
                calls = self._fast_path(option)
                if not calls:
                    return None
                try:
                    verdicts = [self.registry.would_change(call) for call in calls]
                except SegueError as err:
                    logger.info(
                        "Could not tell what a reading would change: %s", type(err).__name__
                    )
                    return None
                if None in verdicts:
                    return None
                if any(verdicts):
                    changing.append(option)
        return changing[0] if len(changing) == 1 else None

    def forget(self) -> None:
        """Drop pending questions and the conversation."""
        with self._lock:
            self._pending = None
            self._retry = None
            if self.llm is not None:
                self.llm.conversation.clear()

    # --- the order of business -----------------------------------------------------------------

    def _respond(self, text: str, command: _Command) -> tuple[str, bool]:
        if len(text) > MAX_COMMAND_CHARS:
            logger.info("A command of %d characters was refused", len(text))
            return RequestTooLarge(
                f"That command is too long: Segue takes at most {MAX_COMMAND_CHARS:,} "
                "characters; say it in fewer words."
            ).user_message, False
        words = _normalise(text)
        pending = self._take_pending()
        if isinstance(pending, _Confirmation):
            if words in _YES:
                return self._run_local(text, list(pending.calls), command, confirmed=True)
            if words in _NO:
                self._remember(text, [], CANCELLED)
                return CANCELLED, True
            logger.info("A pending confirmation was dropped: the next command was not yes/no")
        elif isinstance(pending, _Clarification):
            answered = self._answer(text, words, pending, command)
            if answered is not None:
                return answered
        elif isinstance(pending, _Alternatives):
            if words in _CANCEL:
                self._remember(text, [], NEVER_MIND)
                return NEVER_MIND, True
            picked = _pick_option(words, pending.options)
            if picked is None and words in _YES and len(pending.options) == 1:
                picked = pending.options[0]  # "Did you mean “pause”?" - "yes"
            if picked is not None:
                text, words = picked, _normalise(picked)
        if words in _TRY_AGAIN:
            retry = self._take_retry()
            if retry is None and self._unfinished_work is not None:
                retry = self._unfinished_work()
            if retry is not None:
                return self._run_local(text, [retry], command)
            if self.llm is None:
                return NOTHING_TO_RETRY, False
        if words in _HELP:
            return what_you_can_say(model=self.llm is not None), True
        calls = self._fast_path(text)
        if calls:
            return self._run_local(text, calls, command, hand_over=True)
        if self.llm is None:
            from assistant.agent.hearing import nearest_command

            suggestion = nearest_command(text)
            if suggestion is None:
                return without_model(), False
            # A question, answered by "yes" or the command itself; anything else is new.
            self._pending = _Alternatives((suggestion,), self._clock())
            return without_model(suggestion), True
        return self._run_llm(text, command)

    def _answer(
        self, text: str, words: str, pending: _Clarification, command: _Command
    ) -> tuple[str, bool] | None:
        """Resolve an answer to "Which playlist?"; None when the text is a new command."""
        if words in _CANCEL:
            self._remember(text, [], NEVER_MIND)
            return NEVER_MIND, True
        number = _number(words)
        choice: str | None = None
        if number == -1:  # "the last one"
            number = len(pending.options)
        if number is not None:
            if not 1 <= number <= len(pending.options):
                self._pending = pending  # still waiting
                return f"Please answer with a number from 1 to {len(pending.options)}.", True
            choice = pending.options[number - 1]
        else:
            index = match.best_choice(words, pending.options)
            choice = None if index is None else pending.options[index]
        if choice is None:
            # Only a pick among the options answers: "play something relaxing" after "Which
            # playlist?" is a new command, never a playlist name.
            logger.info("A pending question was dropped: the answer named no option")
            return None
        arguments = {**pending.call.arguments, pending.argument: choice}
        call = replace(pending.call, arguments=arguments)
        return self._run_local(text, [call], command, confirmed=pending.confirmed)

    def _run_local(
        self,
        text: str,
        calls: Sequence[ToolCall],
        command: _Command,
        *,
        confirmed: bool = False,
        hand_over: bool = False,
    ) -> tuple[str, bool]:
        """Run calls Segue chose itself (fast path, answers, "try again")."""
        executed: list[Executed] = []
        for call in calls:
            done = self._execute(call, command, confirmed=confirmed)
            executed.append(done)
            if done.retry and hand_over and self.llm is not None:
                logger.info("Fast path call %s failed; asking the model", call.name)
                return self._run_llm(text, command, prelude=executed)
            if done.retry and done.result is not None:
                command.failure = done.result.output.summary
            if done.halt or done.retry or done.stop:
                break
        reply, ok = self._finish(command)
        self._remember(text, executed, reply)
        return reply, ok

    def _run_llm(
        self, text: str, command: _Command, *, prelude: Sequence[Executed] = ()
    ) -> tuple[str, bool]:
        llm = self.llm
        assert llm is not None
        outcome = llm.run(
            text,
            lambda call: self._execute(call, command),
            prelude=prelude,
            on_sentence=command.on_sentence,
        )
        records = command.records
        if outcome.error is not None:
            reply, ok = done_then(records, outcome.error.user_message), False
        elif outcome.step_limit:
            reply, ok = step_limit(records, llm.max_steps), False
        elif command.confirm or command.clarify or command.near_miss or command.failure:
            reply, ok = self._finish(command)
        else:
            # What was read on the way (a search, what's playing) is not read out; the action's
            # sentence and the model's answer are.
            actions = compose(r for r in records if not self._read_only(r.name))
            if outcome.answer and not llm.compose_replies:
                # The model phrased the reply itself from the tool results.
                reply = sentence(outcome.answer)
            elif outcome.answer is not None:
                reply = f"{actions} {sentence(outcome.answer)}".strip()
            else:
                reply = actions or compose(records)
            reply = reply or NOT_UNDERSTOOD
            ok = not records or any(r.ok for r in records)
        if outcome.capped is not None:
            cap = outcome.capped
            note = step_capped(cap.ran, cap.asked, cap.max_calls, cap.max_repeats)
            reply = f"{reply} {note}".strip()
        llm.remember(outcome.turn, reply)
        return reply, ok

    def _finish(self, command: _Command) -> tuple[str, bool]:
        """The reply from what the calls did, asking any question they left open."""
        records = command.records
        done = compose(records)
        now = self._clock()
        if command.confirm:
            calls = tuple(call for call, _ in command.confirm)
            names = {n: name for n, (_, name) in enumerate(command.confirm) if name}
            self._pending = _Confirmation(calls, now)
            return f"{done} {confirmation(calls, names)}".strip(), True
        if command.near_miss is not None:
            call, question = command.near_miss
            self._pending = _Confirmation((call,), now)
            return f"{done} {question}".strip(), True
        if command.clarify is not None:
            self._pending = replace(command.clarify, asked_at=now)
            question = clarification(command.clarify.what, command.clarify.options)
            return f"{done} {question}".strip(), True
        if command.failure is not None:
            return done_then(records, command.failure), False
        if not records:
            return NOT_UNDERSTOOD, False
        return done or NOT_UNDERSTOOD, any(r.ok for r in records)

    # --- one call ----------------------------------------------------------------------------

    def _execute(self, call: ToolCall, command: _Command, *, confirmed: bool = False) -> Executed:
        """Run one call under the agent's policies; tell the model loop what happened."""
        tool = self.registry.get(call.name)
        if tool is not None and tool.destructive and not confirmed and _valid(tool, call):
            # (Invalid arguments go to the registry, which refuses them without running it.)
            return self._hold_for_yes(call, command)
        if command.on_step is not None:
            command.on_step(call.name)
        result = self._invoke(call, command)
        command.records.append(CallRecord.of(result))
        command.urgent = command.urgent or bool(getattr(result.error, "urgent", False))
        read_only = tool is not None and tool.read_only
        if result.ok:
            if self._retry is not None and self._retry[0] == call:
                self._retry = None
            return Executed(call, result, tool_message(result), lookup=read_only)
        error = result.error
        if isinstance(error, ConfirmFirst):
            # The tool's next step deletes something (undoing a new playlist): its destructive
            # call waits for the person's "yes" like any other; the model is told Segue asks.
            return replace(self._hold_for_yes(error.call, command, name=error.what), call=call)
        if isinstance(error, NearMiss) and tool is not None:
            if error.argument in tool.parameters.get("properties", {}):
                arguments = {
                    k: v
                    for k, v in {**call.arguments, error.argument: error.value}.items()
                    if k not in error.clear
                }
                if command.near_miss is None and command.clarify is None and not command.confirm:
                    command.near_miss = (replace(call, arguments=arguments), error.user_message)
                text = f"{error.user_message} Segue is asking the person; do not choose for them."
                return Executed(call, result, _data(False, text), stop=True)
        if (
            isinstance(error, AmbiguousMatch)
            and error.argument
            and len(error.candidates) > 1
            and tool is not None
            and error.argument in tool.parameters.get("properties", {})
        ):
            if command.clarify is None and not command.confirm:
                command.clarify = _Clarification(
                    call=call,
                    argument=error.argument,
                    what=error.what,
                    options=error.candidates,
                    confirmed=confirmed,
                    asked_at=self._clock(),
                )
            text = f"{error.user_message} Segue is asking the person; do not choose for them."
            return Executed(call, result, _data(False, text), stop=True)
        if isinstance(error, NoDevice):
            self._retry = (call, self._clock())
        if result.needs_user:
            command.failure = result.output.summary
            return Executed(call, result, tool_message(result), halt=True)
        return Executed(call, result, tool_message(result), retry=True)

    def _hold_for_yes(
        self, call: ToolCall, command: _Command, *, name: str | None = None
    ) -> Executed:
        """Keep a destructive call for the person's "yes"; the current track is pinned now.

        ``name`` is what the question calls the thing it removes, when the tool said it.
        """
        if command.clarify is not None:
            return Executed(
                call, None, _data(False, "Not run: ask again after the person answers."), stop=True
            )
        tool = self.registry.get(call.name)
        takes_tracks = tool is not None and "tracks" in tool.parameters.get("properties", {})
        if takes_tracks and not call.arguments.get("tracks"):
            # "Remove this": the song playing NOW, not whatever plays when the "yes" comes.
            playing = self._invoke(ToolCall("now_playing", {}), command)
            data = playing.output.data if playing.ok else None
            if not isinstance(data, Mapping) or not data.get("uri"):
                failed = ToolResult(
                    call=call,
                    ok=False,
                    output=ToolOutput(playing.output.summary),
                    error=playing.error or NotFound(playing.output.summary),
                )
                command.records.append(CallRecord.of(failed))
                if failed.needs_user:
                    command.failure = failed.output.summary
                    return Executed(call, failed, tool_message(failed), halt=True)
                return Executed(call, failed, tool_message(failed), retry=True)
            call = replace(call, arguments={**call.arguments, "tracks": [str(data["uri"])]})
            title = str(data.get("name") or "")
            by = str(data.get("by") or "")
            if title:
                name = f"“{title}”" + (f" by {by}" if by else "")
        if any(c.name == call.name and c.arguments == call.arguments for c, _ in command.confirm):
            return Executed(call, None, _data(False, "Not run: the same call is already asked."))
        command.confirm.append((call, name))
        text = (
            "Not done yet: Segue is asking the person to confirm; it runs only if they say yes "
            "in their next turn."
        )
        return Executed(call, None, _data(False, text), stop=True)

    def _invoke(self, call: ToolCall, command: _Command) -> ToolResult:
        started = self._timer()
        model_before = self._usage().ms
        try:
            return self.registry.invoke(call)
        finally:
            elapsed = self._timer() - started
            model_ms = self._usage().ms - model_before
            command.tool_seconds += max(0.0, elapsed - model_ms / 1000)

    # --- state ---------------------------------------------------------------------------------

    def _take_pending(self) -> _Confirmation | _Clarification | _Alternatives | None:
        pending, self._pending = self._pending, None
        if pending is not None and self._clock() - pending.asked_at > self._question_ttl:
            logger.info("A pending question expired")
            return None
        return pending

    def _take_retry(self) -> ToolCall | None:
        retry, self._retry = self._retry, None
        if retry is None or self._clock() - retry[1] > self._question_ttl:
            return None
        return retry[0]

    def _remember(self, text: str, executed: Sequence[Executed], reply: str) -> None:
        if self.llm is not None:
            self.llm.remember_calls(text, executed, reply)

    def _read_only(self, name: str) -> bool:
        tool = self.registry.get(name)
        return tool is not None and tool.read_only

    def _usage(self) -> ModelUsage:
        return self.llm.model.usage if self.llm is not None else ModelUsage()


def _valid(tool: Tool, call: ToolCall) -> bool:
    """Whether the call's arguments pass the tool's own validation."""
    try:
        tool.arguments_model.model_validate(dict(call.arguments))
    except ValidationError:
        return False
    return True


def _data(ok: bool, text: str) -> str:
    return json.dumps({"ok": ok, "result": text}, ensure_ascii=False)


def is_try_again(text: str | None) -> bool:
    """Whether ``text`` asks to repeat the last attempt ("try again", "once more please")."""
    return text is not None and _normalise(text) in _TRY_AGAIN


def _normalise(text: str) -> str:
    """Lower case, straight apostrophes, no surrounding punctuation or polite filler."""
    line = text.casefold().replace("\u2019", "'").replace("\u2018", "'")
    line = re.sub(r"[^\w'\s]+", " ", line)
    line = " ".join(line.split())
    return _FILLER.sub("", line).strip()


def _pick_option(words: str, options: Sequence[str]) -> str | None:
    """The option an answer names ("seventy", "volume 70", "the second one"), or None."""
    index = match.best_choice(words, options)
    if index is None:
        number = _number(words)
        if number == -1:
            number = len(options)
        if number is not None and 1 <= number <= len(options):
            index = number - 1
    return None if index is None else options[index]


def _number(words: str) -> int | None:
    """The option an answer picks by number: "2", "number two", "the second one"."""
    found = _NUMBERED.match(words)
    if found is None:
        return None
    token = found.group("n")
    if token == "last":
        return -1
    value = ordinal_value(token)
    return value if value is not None else number_value(token)

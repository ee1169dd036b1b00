"""A streamed chat answer, put together as it arrives, its tool calls readable before they end.

With ``stream=True`` Chat Completions sends ``chat.completion.chunk`` events: the text in
``delta.content`` pieces, tool calls as ``delta.tool_calls[{index, id?, function: {name?,
arguments}}]`` pieces whose argument text is concatenated per index, and ``finish_reason`` in the
last chunk. :class:`StreamedAnswer` collects them into the message a plain answer would have
held, and shows each tool call's arguments as far as they are written: read with jiter's partial
mode, which leaves an unfinished string out, so every string shown is complete (a song's name
that will not grow any more). The finished arguments are validated as any call's are; what is
shown early is only a hint.

The answer's words are shown as they are written too, one complete sentence at a time
(:class:`SentenceFeed`), so a reply read aloud can start with its first sentence while the model
writes the rest. Only an answer that has called no tool is shown: words before a tool call are
the model's aside, not the reply.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletionChunk, ChatCompletionMessage

logger = logging.getLogger(__name__)

OnArguments = Callable[[str, Mapping[str, Any]], bool]
"""Called with a tool call's name and its arguments so far, each time they gain a value; returns
whether to go on showing that call (False: it is of no use early, or will be refused)."""

OnSentence = Callable[[str], None]
"""Called with each complete sentence of an answer's words, in order, while it is written."""

# A sentence ends at . ! or ? (closing quotes or brackets may follow) before a space and a
# capital letter or an opening quote: "Mr. Brightside" or "3.5" do not end one, and the last
# sentence is only known to end with the answer, so it is never shown early.
_SENTENCE_END = re.compile(r"[.!?\u2026][\"'\u201d\u2019)\]]*\s+(?=[A-Z\"\u201c\u2018(])")
# Words that end in a full stop without ending a sentence.
_ABBREVIATIONS = frozenset({"mr", "mrs", "ms", "dr", "st", "vs", "feat", "ft", "vol", "no", "jr"})


class SentenceFeed:
    """Turns the growing text of an answer into its complete sentences, each once.

    Args:
        on_sentence: Called with each sentence as soon as the text after it shows it ended.
    """

    def __init__(self, on_sentence: OnSentence) -> None:
        self._on_sentence = on_sentence
        self._text = ""
        self._done = 0  # characters of the text already given as sentences
        self.sentences: list[str] = []

    def feed(self, piece: str) -> None:
        """Add the next piece of the answer's text."""
        self._text += piece
        for end in _SENTENCE_END.finditer(self._text, self._done):
            sentence = self._text[self._done : end.end()].strip()
            last_word = sentence.rstrip(".").rsplit(maxsplit=1)[-1].lower() if sentence else ""
            if last_word in _ABBREVIATIONS:
                continue
            self._done = end.end()
            if sentence:
                self.sentences.append(sentence)
                self._on_sentence(sentence)


@dataclass
class _Call:
    id: str = ""
    name: str = ""
    arguments: str = ""
    shown: int = 0  # characters of the arguments when last shown
    watched: bool = True  # still shown as it grows


@dataclass
class StreamedAnswer:
    """The chunks of one streamed answer, put together.

    Args:
        on_arguments: Shown each tool call's arguments as they grow (complete values only),
            until it returns False for that call; None shows nothing.
        on_sentence: Shown each complete sentence of the answer's words while no tool call has
            begun; None shows nothing.

    Attributes:
        finish_reason: The last chunk's finish reason; None while the answer is unfinished.
        chunks: Chunks received.
    """

    on_arguments: OnArguments | None = None
    on_sentence: OnSentence | None = None
    finish_reason: str | None = None
    chunks: int = 0
    _content: list[str] = field(default_factory=list)
    _refusal: list[str] = field(default_factory=list)
    _calls: dict[int, _Call] = field(default_factory=dict)
    _sentences: SentenceFeed | None = None

    def __post_init__(self) -> None:
        if self.on_sentence is not None:
            self._sentences = SentenceFeed(self.on_sentence)

    def add(self, chunk: ChatCompletionChunk) -> None:
        """Take one chunk (only the first choice: Segue asks for one)."""
        self.chunks += 1
        for choice in chunk.choices:
            if choice.index != 0:
                continue
            delta = choice.delta
            if delta.tool_calls:
                self._sentences = None  # the words were an aside before a tool call
            if delta.content:
                self._content.append(delta.content)
                if self._sentences is not None:
                    self._sentences.feed(delta.content)
            if delta.refusal:
                self._refusal.append(delta.refusal)
            grown: list[_Call] = []
            for piece in delta.tool_calls or ():
                call = self._calls.setdefault(piece.index, _Call())
                if piece.id:
                    call.id = piece.id
                if piece.function is not None:
                    call.name += piece.function.name or ""
                    call.arguments += piece.function.arguments or ""
                    grown.append(call)
            if choice.finish_reason:
                self.finish_reason = choice.finish_reason
            for call in grown:
                self._show(call)

    def message(self) -> ChatCompletionMessage:
        """The answer as the assistant message a plain (not streamed) answer holds."""
        from openai.types.chat import ChatCompletionMessage

        calls = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }
            for _, call in sorted(self._calls.items())
        ]
        message: dict[str, Any] = {
            "role": "assistant",
            "content": "".join(self._content) or None,
            "refusal": "".join(self._refusal) or None,
        }
        if calls:
            message["tool_calls"] = calls
        return ChatCompletionMessage.model_validate(message)

    def _show(self, call: _Call) -> None:
        """Show a call's arguments when a value may have been completed since last time.

        A value ends at a closing quote, bracket or brace, or at the comma after a number or a
        word (true, null): only then can the partial reading have changed.
        """
        if self.on_arguments is None or not call.name or not call.watched:
            return
        new = call.arguments[call.shown :]
        if not any(mark in new for mark in '",]}'):
            return
        call.shown = len(call.arguments)
        arguments = partial_arguments(call.arguments)
        if arguments:
            call.watched = self.on_arguments(call.name, arguments)


def partial_arguments(text: str) -> dict[str, Any] | None:
    """The JSON object ``text`` begins, as far as it goes, unfinished strings left out.

    Returns:
        The object so far; None when ``text`` does not begin a JSON object.
    """
    from jiter import from_json

    try:
        value = from_json(text.encode(), partial_mode=True)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None

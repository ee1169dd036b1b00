"""The grammar's matcher: hassil reads commands.yaml; see the package docstring.

Imported on first use (hassil, PyYAML and unicode-rbnf take about a quarter of a second to
import), so starting Segue does not wait for it.
"""

from __future__ import annotations

import copy
import functools
import heapq
import itertools
import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from hassil import (
    Group,
    IntentData,
    Intents,
    ListReference,
    RecognizeResult,
    RuleReference,
    Sentence,
    TextSlotList,
    WildcardSlotList,
    recognize_all,
    sample_expression,
)
from hassil.expression import Expression
from hassil.intents import Intent

from assistant.agent.grammar import Names, Understanding
from assistant.agent.grammar.checks import LINK_WORD, Checks, Prepared, Words
from assistant.agent.grammar.converters import CONVERTERS
from assistant.agent.tools import ToolCall
from assistant.text.numbers import ORDINALS
from assistant.text.songs import title_artist_readings

__all__ = ["GRAMMAR_FILE", "Grammar"]

logger = logging.getLogger(__name__)

GRAMMAR_FILE = Path(__file__).with_name("commands.yaml")

# The intent whose blocks hand the text to the model.
MODEL_INTENT = "model"
# Wildcard lists that hold a device, not a name: commands with them are matched on the text with
# trailing filler dropped, like commands without names ("switch to my phone please").
_DEVICE_LISTS = frozenset({"device", "any_device"})
# The highest numbered result "play number N" / "the Nth one" accepts.
MAX_RESULT_NUMBER = 50
# Candidate sentences per fixed template: its shortest phrasings (alternatives in file order),
# besides its first phrasing with every optional word.
FIXED_PER_TEMPLATE = 2
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class _Call:
    tool: str
    arguments: Mapping[str, Any]


@dataclass(frozen=True)
class _Block:
    """One ``data`` entry of an intent: its sentences and what a match of them does."""

    intent: str
    index: int
    data: IntentData
    calls: tuple[_Call, ...]
    convert: Mapping[str, str]
    defaults: Mapping[str, Any]
    quality: float
    category: str | None
    example: str | None
    featured: int | None = None
    # Slot name -> wildcard list name, per sentence template.
    wildcards: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    has_names: bool = False
    has_slots: bool = False

    @property
    def for_model(self) -> bool:
        return self.intent == MODEL_INTENT


class Grammar:
    """The command grammar, read from its YAML document.

    Args:
        document: The parsed YAML (see ``commands.yaml`` for its parts).
    """

    def __init__(self, document: Mapping[str, Any]) -> None:
        self._intents = Intents.from_dict(dict(document))
        self._intents.slot_lists["ordinal"] = _ordinal_list()
        self._checks = Checks(Words.from_dict(document["words"]))
        self._speech: tuple[str, ...] = tuple(document.get("speech", ()))
        self._spoken: tuple[str, ...] = tuple(document.get("spoken_commands", ()))
        self._confusable: tuple[tuple[str, ...], ...] = tuple(
            tuple(group) for group in document.get("confusable", ())
        )
        self._blocks: dict[int, _Block] = {}
        self._ordered: list[_Block] = []
        for intent in self._intents.intents.values():
            for data in intent.data:
                block = self._block(intent.name, len(self._ordered), data)
                self._blocks[id(data)] = block
                self._ordered.append(block)
        self._model_index = min(b.index for b in self._ordered if b.for_model)
        # The same grammar without the blocks that hold names, for the text without filler.
        nameless = {
            intent.name: Intent(
                intent.name, [d for d in intent.data if not self._blocks[id(d)].has_names]
            )
            for intent in self._intents.intents.values()
        }
        self._nameless = Intents(
            language=self._intents.language,
            intents={name: intent for name, intent in nameless.items() if intent.data},
            slot_lists=self._intents.slot_lists,
            expansion_rules=self._intents.expansion_rules,
        )

    @classmethod
    def load(cls, path: Path = GRAMMAR_FILE) -> Grammar:
        """Read the grammar from a YAML file."""
        with path.open(encoding="utf-8") as file:
            return cls(yaml.safe_load(file))

    # ----------------------------------------------------------------------------------------
    # Understanding
    # ----------------------------------------------------------------------------------------

    def understand(self, text: str) -> Understanding | None:
        """The calls ``text`` asks for, or None when it is not fully understood (or the model's).

        Args:
            text: What the person said or typed.
        """
        prepared = self._checks.prepare(text)
        if prepared is None:
            return None
        for block, readings in self._readings(prepared):
            if block.for_model or (prepared.for_model and block.index > self._model_index):
                return None
            for result, matched in readings:
                calls = self._calls(block, result, matched, prepared)
                if calls is not None:
                    return Understanding(
                        calls=tuple(calls),
                        quality=block.quality,
                        sentence=f"{block.intent}: {_template(result)}",
                        names=tuple(
                            matched[e.text_span[0] : e.text_span[1]]
                            for e in result.entities_list
                            if e.is_wildcard and e.text_span is not None
                        ),
                    )
        return None

    def _readings(
        self, prepared: Prepared
    ) -> Iterator[tuple[_Block, list[tuple[RecognizeResult, str]]]]:
        """The matches block by block in file order, each block's best first.

        Within a block: the reading with the fewest words in names first (the template explains
        more of the text), then the greedy one, whose first name is longest ("add Welcome to the
        Jungle to my Workout playlist" splits at the last "to"). Matching stops where the caller
        stops asking: later blocks cost nothing once one block gave calls.
        """
        # Commands with names are matched on the text as said ("play Don't Stop Me Now"), those
        # without also on the text without trailing filler ("pause now").
        streams = [self._matches(prepared.clean, self._intents)]
        if prepared.core != prepared.clean:
            streams.append(self._matches(prepared.core, self._nameless))
        merged = heapq.merge(*streams, key=lambda match: match[0])
        for index, group in itertools.groupby(merged, key=lambda match: match[0]):
            block = self._ordered[index]
            ranked: list[tuple[tuple[Any, ...], RecognizeResult, str]] = []
            for _, result, text in group:
                if not _whole_words(result, text):
                    continue
                spans = sorted(
                    e.text_span for e in result.entities_list if e.is_wildcard and e.text_span
                )
                in_names = sum(len(text[start:end].split()) for start, end in spans)
                greedy = tuple(start - end for start, end in spans)
                ranked.append(((in_names, greedy, len(ranked)), result, text))
            if ranked:
                ranked.sort(key=lambda item: item[0])
                yield block, [(result, text) for _, result, text in ranked]

    def _matches(self, text: str, intents: Intents) -> Iterator[tuple[int, RecognizeResult, str]]:
        """Hassil's matches of ``text``, in file order, each with its block's index."""
        for result in recognize_all(text, intents):
            yield self._blocks[id(result.intent_data)].index, result, text

    def _calls(
        self, block: _Block, result: RecognizeResult, text: str, prepared: Prepared
    ) -> list[ToolCall] | None:
        """The calls of one match, or None when a name fails its checks."""
        slots: dict[str, Any] = {}
        wildcards = block.wildcards.get(_template(result), {})
        for entity in result.entities_list:
            if entity.is_wildcard:
                if entity.text_span is None:
                    return None
                start, end = entity.text_span
                checked = self._checks.checks[wildcards[entity.name]](text[start:end])
                if checked is None:
                    return None
                value, more = checked
                slots[entity.name] = value
                for name, extra in more.items():
                    slots.setdefault(name, extra)
            else:
                slots[entity.name] = _plain(entity.value)
        if prepared.link is not None:
            slots = {k: prepared.link if _is_link(v) else v for k, v in slots.items()}
        read: set[str] = set()
        for argument, name in block.convert.items():
            converter = CONVERTERS[name]
            value = converter.compute(slots)
            if value is None:
                return None
            read |= converter.reads
            slots[argument] = value
            read.discard(argument)
        calls: list[ToolCall] = []
        for position, call in enumerate(block.calls):
            arguments: dict[str, Any] = {}
            for name, value in call.arguments.items():
                reference = _reference(value)
                if reference is None:
                    arguments[name] = copy.deepcopy(value)
                elif reference in slots:
                    arguments[name] = slots[reference]
            if position == 0:
                arguments.update((k, v) for k, v in slots.items() if k not in read)
            for name, default in block.defaults.items():
                if name in arguments and arguments[name] == default:
                    del arguments[name]
            calls.append(ToolCall(name=call.tool, arguments=arguments))
        return calls

    # ----------------------------------------------------------------------------------------
    # Candidate sentences and examples
    # ----------------------------------------------------------------------------------------

    def spoken_commands(self) -> list[str]:
        """The commands without names as people say them (``spoken_commands`` in the YAML).

        The sentences a recording is checked against when its transcript is not a command: a
        short, deliberate list, since every extra sentence is one more way to mishear.
        """
        return list(self._spoken)

    def speech_verbs(self) -> list[str]:
        """The first words of the ``speech`` templates ("play", "queue", "add", ...)."""
        return list(dict.fromkeys(t.split()[0].casefold() for t in self._speech if t.split()))

    def confusable(self) -> list[tuple[str, ...]]:
        """Spoken commands the local model mistakes for each other (``confusable`` in the YAML)."""
        return list(self._confusable)

    def fixed_sentences(self) -> list[str]:
        """The commands without slots: per template its shortest phrasings and its first full one.

        "shuffle [on|this|...]" gives "shuffle" and "shuffle on"; alternatives count in file
        order, so the common phrasing goes first in the YAML. A block's example comes first.
        """
        found: dict[str, None] = {}
        for block in self._ordered:
            if block.has_slots or block.for_model or block.quality < 1.0:
                continue
            if block.example is not None:
                found[block.example] = None
            for sentence in block.data.sentences:
                shortest = self._samples(sentence, skip_optionals=True)
                full = self._samples(sentence, skip_optionals=False)
                phrases = [
                    *itertools.islice(shortest, FIXED_PER_TEMPLATE),
                    *itertools.islice(full, 1),
                ]
                found.update((phrase, None) for phrase in phrases if phrase)
        return list(found)

    def _samples(self, sentence: Sentence, *, skip_optionals: bool) -> Iterator[str]:
        for sample in sample_expression(
            sentence.expression,
            self._intents.slot_lists,
            self._intents.expansion_rules,
            skip_optionals=skip_optionals,
        ):
            yield " ".join(sample.split())

    def sentences(self, names: Names | None = None, *, limit: int | None = None) -> list[str]:
        """Candidate sentences for speech recognition; see :func:`sentences`."""
        found = dict.fromkeys(self.fixed_sentences())
        for sentence in self.filled(names or Names()):
            if sentence not in found and self.understood_fully(sentence):
                found[sentence] = None
        result = list(found)
        return result if limit is None else result[:limit]

    @functools.lru_cache(maxsize=20_000)  # noqa: B019 (one grammar lives as long as the process)
    def understood_fully(self, sentence: str) -> bool:
        """Whether ``sentence`` parses to calls with quality 1.0 (a name may fail its checks)."""
        understood = self.understand(sentence)
        if understood is None or understood.quality < 1.0:
            logger.debug("Candidate %r is not understood fully; left out", sentence)
            return False
        return True

    def filled(self, names: Names, *, numbers: bool = True) -> Iterator[str]:
        """The ``speech`` templates filled with ``names``, unchecked (see :meth:`sentences`).

        Args:
            names: The names to fill in.
            numbers: Also fill ``{percent}`` with 0-100.
        """
        pairs = [_title_artist(track) for track in names.tracks]
        if names.current is not None:
            pairs.insert(0, _title_artist(names.current))
        artists = list(dict.fromkeys([*names.artists, *(a for _, a in pairs if a)]))
        titles = list(dict.fromkeys(title for title, _ in pairs))
        lists: dict[str, Sequence[str]] = {
            "playlist": names.playlists,
            "device": names.devices,
            "artist": artists,
            "track": titles,
            "album": names.albums,
            "percent": [str(n) for n in range(101)] if numbers else [],
        }
        for template in self._speech:
            wanted = set(_PLACEHOLDER.findall(template))
            if wanted == {"track", "artist"}:
                for title, artist in pairs:
                    if artist:
                        yield template.format(track=title, artist=artist)
            elif len(wanted) == 1:
                (slot,) = wanted
                for value in lists[slot]:
                    yield template.format(**{slot: value})

    def examples(self) -> list[tuple[str, str]]:
        """(category, example) for every block that names an example, in file order."""
        return [
            (block.category or block.intent, block.example)
            for block in self._ordered
            if block.example is not None
        ]

    def featured(self) -> list[str]:
        """The few examples marked ``featured``, in their order: the short "what you can say"."""
        marked = [b for b in self._ordered if b.example is not None and b.featured is not None]
        return [b.example for b in sorted(marked, key=lambda b: b.featured or 0) if b.example]

    # ----------------------------------------------------------------------------------------
    # Loading
    # ----------------------------------------------------------------------------------------

    def _block(self, intent: str, index: int, data: IntentData) -> _Block:
        metadata: Mapping[str, Any] = data.metadata or {}
        calls = []
        for spec in metadata.get("calls", ()):
            tool, arguments = _call_spec(spec)
            calls.append(_Call(tool, arguments))
        wildcards: dict[str, dict[str, str]] = {}
        has_names = has_slots = False
        rules = {**self._intents.expansion_rules, **data.expansion_rules}
        for sentence in data.sentences:
            per_slot: dict[str, str] = {}
            for reference in _list_references(sentence.expression, rules):
                has_slots = True
                slot_list = self._intents.slot_lists.get(reference.list_name)
                if not isinstance(slot_list, WildcardSlotList):
                    continue
                if reference.list_name not in self._checks.checks:
                    raise ValueError(
                        f"grammar: no check for the wildcard list {reference.list_name}"
                    )
                known = per_slot.setdefault(reference.slot_name, reference.list_name)
                if known != reference.list_name:
                    slot = reference.slot_name
                    raise ValueError(
                        f"grammar: slot {slot} comes from two lists in {sentence.text!r}"
                    )
                if reference.list_name not in _DEVICE_LISTS:
                    has_names = True
            wildcards[sentence.text or ""] = per_slot
        for name in metadata.get("convert", {}).values():
            if name not in CONVERTERS:
                raise ValueError(f"grammar: no converter called {name}")
        return _Block(
            intent=intent,
            index=index,
            data=data,
            calls=tuple(calls),
            convert=dict(metadata.get("convert", {})),
            defaults=dict(metadata.get("defaults", {})),
            quality=float(metadata.get("quality", 1.0)),
            category=metadata.get("category"),
            example=metadata.get("example"),
            featured=metadata.get("featured"),
            wildcards=wildcards,
            has_names=has_names,
            has_slots=has_slots,
        )


def _call_spec(spec: Any) -> tuple[str, Mapping[str, Any]]:
    """``{tool: {arguments}}`` or a bare tool name -> (tool, fixed arguments)."""
    if isinstance(spec, str):
        return spec, {}
    if isinstance(spec, Mapping) and len(spec) == 1:
        ((tool, arguments),) = spec.items()
        return str(tool), dict(arguments or {})
    raise ValueError(f"grammar: a call is a tool name or {{tool: {{arguments}}}}, not {spec!r}")


def _list_references(
    expression: Expression, rules: Mapping[str, Sentence], seen: frozenset[str] = frozenset()
) -> Iterator[ListReference]:
    """Every list reference in ``expression``, expansion rules followed."""
    if isinstance(expression, ListReference):
        yield expression
    elif isinstance(expression, Group):
        for item in expression.items:
            yield from _list_references(item, rules, seen)
    elif isinstance(expression, RuleReference) and expression.rule_name not in seen:
        rule = rules.get(expression.rule_name)
        if rule is not None:
            yield from _list_references(rule.expression, rules, seen | {expression.rule_name})


def _whole_words(result: RecognizeResult, text: str) -> bool:
    """Whether every word from a list matched whole words ("song" is not the start of "songs")."""
    for entity in result.entities_list:
        if entity.is_wildcard or entity.text_span is None or isinstance(entity.value, int | float):
            continue
        end = entity.text_span[1]
        if end < len(text) and text[end].isalnum() and end > 0 and text[end - 1].isalnum():
            return False
    return True


def _template(result: RecognizeResult) -> str:
    sentence = result.intent_sentence
    return (sentence.text or "") if sentence is not None else ""


def _reference(value: Any) -> str | None:
    """The slot a call's argument takes (``"{name}"``), or None for a fixed value."""
    if isinstance(value, str):
        match = _PLACEHOLDER.fullmatch(value)
        if match is not None:
            return match.group(1)
    return None


def _plain(value: Any) -> Any:
    """Numbers from digits come as floats: whole ones become ints."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _is_link(value: Any) -> bool:
    return isinstance(value, str) and value.strip().lower() == LINK_WORD


def _ordinal_list() -> TextSlotList:
    """The ordinals "first" to "tenth" and "1st" to "50th" ("the second one", "the 3rd one")."""
    pairs: list[tuple[str, Any]] = list(ORDINALS.items())
    for number in range(1, MAX_RESULT_NUMBER + 1):
        suffix = (
            "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
        )
        pairs.append((f"{number}{suffix}", number))
    return TextSlotList.from_tuples(pairs, allow_template=False, name="ordinal")


def _title_artist(track: str | tuple[str, str]) -> tuple[str, str | None]:
    if isinstance(track, tuple):
        return track
    readings = title_artist_readings(track, dash=False)
    return readings[0] if readings else (track, None)

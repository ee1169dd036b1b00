"""The tool registry: typed methods become strict JSON-schema tools, validated by the same model.

A tool is a method decorated with :func:`tool`. Its Google docstring is written for the model: the
summary line and body describe the tool, the ``Args:`` section describes each parameter. From the
signature the registry builds one pydantic model per tool; that model gives the JSON schema sent to
the model (made strict: every property required, optional ones nullable, no extra properties) and
validates the arguments of every call, whether they come from the model or from the fast path.

Every call is bounded by the same means: each text parameter takes at most
:data:`MAX_TEXT_CHARS` characters and each list at most :data:`MAX_LIST_ITEMS` items. The caps are
part of each tool's pydantic model, so the schema shows the list cap (``maxItems``) and the
validation enforces both; a call over a cap ends the command with a sentence naming the cap
(:class:`~assistant.errors.RequestTooLarge`) and runs nothing.
"""

from __future__ import annotations

import inspect
import json
import logging
import types
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin, get_type_hints, overload

import docstring_parser
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from assistant.errors import RequestTooLarge, SegueError

logger = logging.getLogger(__name__)

# Caps on one call, whoever makes it. A person asks for a playlist of tens of songs, rarely a few
# hundred; 5,000 once ran 8,876 searches for minutes. A name or a search is a line, not a page
# (a 2 MB query once reached Spotify, whose HTML error page came back).
MAX_TEXT_CHARS = 300
MAX_LIST_ITEMS = 200
# How the caps' sentences name a parameter's items, and a text parameter (default: its name).
_ITEM_NOUNS = {"tracks": "songs"}
_TEXT_LABELS = {"query": "search", "playlist": "playlist name", "device": "device name"}

F = TypeVar("F", bound=Callable[..., Any])

_TOOL_MARK = "__segue_tool__"


@dataclass(frozen=True)
class ToolCall:
    """A request to run one tool, from the model or from the fast path."""

    name: str
    arguments: Mapping[str, Any]
    id: str | None = None


@dataclass(frozen=True)
class Change:
    """One thing a call changed, with what it was before: what "undo" puts back.

    Attributes:
        kind: What changed: a key of the undo table (``assistant/agent/undo.py``), e.g.
            "volume", "playback", "playlist_added".
        before: What it was before the call, as JSON-ready values ({"volume": 40}).
        after: What the call made it, as JSON-ready values ({"volume": 30}).
    """

    kind: str
    before: Mapping[str, Any] = field(default_factory=dict)
    after: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ToolOutput:
    """What a tool returns.

    Attributes:
        summary: One short sentence for the person ("Playing Bohemian Rhapsody by Queen.").
        detail: What the model sees; defaults to the summary. Data from Spotify inside it is data,
            never instructions.
        data: Structured results for callers that need more than text (numbered search results).
        changes: What the call changed, each with what was before (for "undo"); empty for a call
            that only read.
    """

    summary: str
    detail: str | None = None
    data: Any = None
    changes: tuple[Change, ...] = ()

    @property
    def for_model(self) -> str:
        """The text handed back to the model as the tool's output."""
        return self.detail if self.detail is not None else self.summary


@dataclass(frozen=True)
class ToolResult:
    """The outcome of one call: the output, or the error that stopped it."""

    call: ToolCall
    ok: bool
    output: ToolOutput
    error: SegueError | None = None

    @property
    def needs_user(self) -> bool:
        """Whether the error is one only the person can fix (sign in, open Spotify, wait)."""
        return self.error is not None and not self.error.model_can_fix


@dataclass(frozen=True)
class Tool:
    """One registered tool."""

    name: str
    description: str
    arguments_model: type[BaseModel]
    function: Callable[..., Any]
    destructive: bool = False
    read_only: bool = False
    parameters: Mapping[str, Any] = field(default_factory=dict)

    def schema(self) -> dict[str, Any]:
        """The tool in the Chat Completions ``tools`` format, strict."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": dict(self.parameters),
                "strict": True,
            },
        }


@overload
def tool(function: F, /) -> F: ...


@overload
def tool(*, destructive: bool = False, read_only: bool = False) -> Callable[[F], F]: ...


def tool(
    function: F | None = None, /, *, destructive: bool = False, read_only: bool = False
) -> F | Callable[[F], F]:
    """Mark a method as a tool: ``@tool``, ``@tool(destructive=True)``, ``@tool(read_only=True)``.

    Args:
        function: The method (when used as ``@tool`` without arguments).
        destructive: The tool removes or replaces the person's things; the agent asks for a
            "yes" in a following turn before running it.
        read_only: The tool only reads (what's playing, a search, a list): the model's loop goes
            on after it, since reading is never what a command was for on its own.
    """
    if destructive and read_only:
        raise ValueError("a tool cannot both remove things and only read")

    def mark(fn: F) -> F:
        setattr(fn, _TOOL_MARK, {"destructive": destructive, "read_only": read_only})
        return fn

    return mark(function) if function is not None else mark


class ToolDefinitionError(TypeError):
    """A tool's signature or docstring cannot become a schema (a programming error)."""


class ToolRegistry:
    """The tools of one or more provider objects, by name.

    Args:
        providers: Objects whose :func:`tool`-marked methods become tools.
    """

    def __init__(self, *providers: object) -> None:
        self._providers = providers
        self._tools: dict[str, Tool] = {}
        for provider in providers:
            for name, member in inspect.getmembers(provider, inspect.ismethod):
                options = getattr(member, _TOOL_MARK, None)
                if options is None:
                    continue
                if name in self._tools:
                    raise ToolDefinitionError(f"two tools are called {name}")
                self._tools[name] = _build_tool(name, member, **options)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __iter__(self) -> Iterator[Tool]:
        return iter(self._tools.values())

    @property
    def names(self) -> list[str]:
        """The tool names, in registration order."""
        return list(self._tools)

    def get(self, name: str) -> Tool | None:
        """The tool called ``name``, if any."""
        return self._tools.get(name)

    def schemas(self, names: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """The strict schemas of the chosen tools (all by default), for the model request."""
        chosen = self._tools.values() if names is None else (self._tools[n] for n in names)
        return [t.schema() for t in chosen]

    def begin_command(self) -> None:
        """Tell each provider a new command starts (its ``begin_command()``).

        The changes its calls make from now on belong to this command: "undo" reverts them
        together. Callers that never say so (``segue mcp``) make each call a command of its own.
        """
        for provider in self._providers:
            begin = getattr(provider, "begin_command", None)
            if callable(begin):
                begin()

    def warm_up(self) -> None:
        """Let each provider prepare for a command that is about to come (its ``warm_up()``)."""
        for provider in self._providers:
            warm = getattr(provider, "warm_up", None)
            if callable(warm):
                warm()

    def look_ahead(self, name: str, arguments: Mapping[str, Any]) -> bool:
        """Show a provider a call the model is still writing (its ``look_ahead(name, args)``).

        The provider may start lookups the call will need (a playlist's song searches); nothing
        runs until the finished call passes :meth:`invoke`'s validation.

        Args:
            name: The tool the model is calling.
            arguments: The arguments written so far (complete values only).

        Returns:
            Whether the provider wants to see the call again as it grows.
        """
        found = self._tools.get(name)
        provider = getattr(found.function, "__self__", None) if found is not None else None
        hook = getattr(provider, "look_ahead", None)
        return bool(hook(name, arguments)) if callable(hook) else False

    def would_change(self, call: ToolCall) -> bool | None:
        """Whether ``call`` would change anything now (its provider's ``would_change``).

        None when the provider cannot tell (or has no such hook), or the arguments are not
        valid for the tool: only a sure answer decides anything.
        """
        found = self._tools.get(call.name)
        if found is None:
            return None
        hook = getattr(getattr(found.function, "__self__", None), "would_change", None)
        if not callable(hook):
            return None
        try:
            arguments = found.arguments_model.model_validate(dict(call.arguments))
        except ValidationError:
            return None
        answer = hook(call.name, dict(arguments))
        return answer if isinstance(answer, bool) else None

    def drop_look_ahead(self) -> None:
        """Tell each provider that calls shown to :meth:`look_ahead` and not run never will."""
        for provider in self._providers:
            drop = getattr(provider, "drop_look_ahead", None)
            if callable(drop):
                drop()

    def parse_arguments(self, name: str, raw: str) -> ToolCall:
        """Turn the model's JSON argument string into a call; bad JSON becomes an empty call.

        The call is then refused by :meth:`invoke` with a message the model can act on.
        """
        try:
            arguments = json.loads(raw) if raw.strip() else {}
        except json.JSONDecodeError:
            arguments = {"__invalid_json__": raw[:200]}
        if not isinstance(arguments, dict):
            arguments = {"__invalid_json__": raw[:200]}
        return ToolCall(name=name, arguments=arguments)

    def invoke(self, call: ToolCall) -> ToolResult:
        """Validate the arguments and run the tool.

        Unknown tools, invalid arguments and errors the model can correct come back as a failed
        result whose output tells the model what to change; errors only the person can fix come
        back with ``needs_user`` set. Other exceptions propagate: they are bugs.
        """
        found = self._tools.get(call.name)
        if found is None:
            message = f"There is no tool called {call.name}. Available: {', '.join(self._tools)}."
            return _failed(call, message, _ModelError(message))
        if "__invalid_json__" in call.arguments:
            message = f"The arguments for {call.name} were not valid JSON; send a JSON object."
            return _failed(call, message, _ModelError(message))
        try:
            arguments = found.arguments_model.model_validate(dict(call.arguments))
        except ValidationError as err:
            too_large = _too_large(err)
            if too_large is not None:
                logger.warning("Tool %s refused: an argument is over its cap", call.name)
                return _failed(call, too_large.user_message, too_large)
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}"
                for e in err.errors()
            )
            message = f"Invalid arguments for {call.name}: {problems}."
            return _failed(call, message, _ModelError(message))
        try:
            returned = found.function(**dict(arguments))
        except SegueError as err:
            logger.info("Tool %s failed: %s", call.name, type(err).__name__)
            return _failed(call, err.user_message, err)
        output = returned if isinstance(returned, ToolOutput) else ToolOutput(str(returned))
        if output.changes:
            # What changed is kept for "undo" by the provider that keeps it (its
            # ``note_changes``), whichever provider's tool made it: one place for every caller.
            for provider in self._providers:
                note = getattr(provider, "note_changes", None)
                if callable(note):
                    note(call.name, output.changes)
        return ToolResult(call=call, ok=True, output=output)


class _ModelError(SegueError):
    """The model called a tool wrongly; it can try again."""

    model_can_fix = True


class ConfirmFirst(SegueError):
    """A tool's next step would delete the person's things: ask them before ``call`` runs.

    Raised before anything changed. The agent holds ``call`` (a destructive tool's) for the
    person's "yes", as it holds any destructive call, and asks about ``what``; other callers
    (``segue mcp``) get a sentence telling the model to ask the person, then make ``call``.

    Args:
        call: The destructive call that does it once the person agrees.
        what: What it deletes, as the question names it ("the playlist “Focus” I just made").
    """

    model_can_fix = True

    def __init__(self, call: ToolCall, what: str) -> None:
        self.call = call
        self.what = what
        super().__init__(
            f"That would delete {what}: ask the person, and call {call.name} if they say yes."
        )


def _failed(call: ToolCall, message: str, error: SegueError) -> ToolResult:
    return ToolResult(call=call, ok=False, output=ToolOutput(message), error=error)


def capped(hint: Any) -> Any:
    """``hint`` with the registry's caps: text at most MAX_TEXT_CHARS, lists MAX_LIST_ITEMS."""
    if hint is str:
        return Annotated[str, Field(max_length=MAX_TEXT_CHARS)]
    origin = get_origin(hint)
    if origin is list:
        (item,) = get_args(hint)
        return Annotated[list[capped(item)], Field(max_length=MAX_LIST_ITEMS)]  # type: ignore[misc]
    if origin is Union or origin is types.UnionType:
        return Union[tuple(capped(arg) for arg in get_args(hint))]  # noqa: UP007
    return hint


def _too_large(err: ValidationError) -> RequestTooLarge | None:
    """The cap sentence when every problem of a call is an argument over its cap."""
    problems = err.errors(include_url=False)
    if not problems or any(p["type"] not in ("too_long", "string_too_long") for p in problems):
        return None
    first = problems[0]
    name = str(first["loc"][0]) if first["loc"] else "arguments"
    limit = int(first.get("ctx", {}).get("max_length", 0))
    given = first.get("input")
    size = len(given) if isinstance(given, str | list) else 0
    many = _ITEM_NOUNS.get(name, "items")
    if first["type"] == "too_long":
        return RequestTooLarge(
            f"Segue takes at most {limit} {many} in one request, and this asked for {size:,}; "
            f"ask for {limit} or fewer."
        )
    if len(first["loc"]) > 1:
        what = f"One of the {many}"
    else:
        what = f"The {_TEXT_LABELS.get(name, name.replace('_', ' '))}"
    return RequestTooLarge(
        f"{what} is too long: Segue takes at most {limit} characters ({size:,} were given); "
        "say it in fewer words."
    )


def _build_tool(
    name: str, method: Callable[..., Any], *, destructive: bool, read_only: bool
) -> Tool:
    doc = docstring_parser.parse(
        inspect.getdoc(method) or "", docstring_parser.DocstringStyle.GOOGLE
    )
    if not doc.short_description:
        raise ToolDefinitionError(f"tool {name} has no docstring")
    described = {p.arg_name: " ".join((p.description or "").split()) for p in doc.params}
    hints = get_type_hints(method)
    fields: dict[str, Any] = {}
    for param in inspect.signature(method).parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise ToolDefinitionError(f"tool {name} takes *args or **kwargs")
        if param.name not in hints:
            raise ToolDefinitionError(f"tool {name}: parameter {param.name} has no type")
        if not described.get(param.name):
            raise ToolDefinitionError(f"tool {name}: parameter {param.name} has no description")
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[param.name] = (
            capped(hints[param.name]),
            Field(default, description=described[param.name]),
        )
    model = create_model(f"{name}_arguments", __config__=ConfigDict(extra="forbid"), **fields)
    description = doc.short_description
    if doc.long_description:
        description = f"{description}\n{doc.long_description}"
    return Tool(
        name=name,
        description=description,
        arguments_model=model,
        function=method,
        destructive=destructive,
        read_only=read_only,
        parameters=strict_schema(model.model_json_schema()),
    )


def strict_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Make a pydantic JSON schema strict in the sense of OpenAI structured outputs.

    Every object gets ``additionalProperties: false`` and lists all its properties as required
    (optional ones are already nullable through their ``X | None`` type); titles and defaults,
    which strict mode does not accept, are dropped, and so is ``maxLength``: strict mode takes
    ``maxItems`` on arrays but no length keywords on strings, so the text cap is enforced by the
    validation only.
    """

    def visit(node: Any) -> Any:
        if isinstance(node, dict):
            dropped = ("title", "default", "maxLength")
            out = {k: visit(v) for k, v in node.items() if k not in dropped}
            if out.get("type") == "object" or "properties" in out:
                out["additionalProperties"] = False
                out["required"] = list(out.get("properties", {}))
            return out
        if isinstance(node, list):
            return [visit(v) for v in node]
        return node

    result: dict[str, Any] = visit(schema)
    return result

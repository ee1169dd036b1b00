"""Contract checks of OpenAI HTTP exchanges against the published OpenAPI document.

The OpenAI spec lives outside the repository, in ``../shared/specs/openai-openapi.yml`` next to the
repo root, or in the directory named by the environment variable ``SEGUE_SPEC_DIR``. Where the file
is absent every check is skipped and :func:`openai_contract_summary` says so.

openapi-core 0.23 cannot use the file as it stands; three in-memory workarounds make it usable (the
file itself is never changed):

1. the document fails openapi-spec-validator, so it is loaded with ``spec_validator_cls=None``;
2. about a hundred ``discriminator`` objects have no ``mapping``, which openapi-core cannot resolve,
   so every ``discriminator`` key is removed (the ``oneOf`` branches still separate by their
   enum'd ``type``/``role``);
3. in OpenAPI 3.1 mode raw bytes are not a "string/binary" and the stock multipart decoder turns
   absent array fields into ``[]``, so an octet-stream loader decodes bytes as latin-1 and a
   multipart loader returns a plain dict.

The multipart loader also maps the SDK's ``keywords[]`` field names (the openai SDK serialises
arrays in bracket style) to the schema's ``keywords``.

A streamed chat answer (``text/event-stream``) is checked event by event: each ``data:`` line but
the closing ``[DONE]`` must be a ``CreateChatCompletionStreamResponse`` (openapi-core reads no
event streams). That schema marks null values with OpenAPI 3.0's ``nullable: true`` inside a 3.1
document (``finish_reason`` and ``logprobs`` are null in every chunk the service sends but the
last), so for this check a copy of the schemas reads ``nullable`` as "or null" (workaround 4).

Statuses the spec does not document for an operation (it documents only 200 and 429 for chat
completions and transcriptions) are checked against ``components.schemas.ErrorResponse``. The spec
documents only JSON and event streams for a transcription; the service answers ``text/plain`` for
``response_format=text``, so such a response body is left unchecked (its request is checked).
"""

from __future__ import annotations

import copy
import functools
import json
import os
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SPEC_FILE_NAME = "openai-openapi.yml"
SPEC_HOST_URL = "https://api.openai.com"
_MAX_PROBLEM_CHARS = 300


@dataclass(frozen=True)
class HttpExchange:
    """One HTTP exchange as it went over the wire, ready for a contract check.

    Attributes:
        method: HTTP method, e.g. ``POST``.
        path: Request path without the query, e.g. ``/v1/chat/completions``.
        request_headers: Request headers (any ``Authorization`` value already redacted).
        request_body: Raw request body.
        status: Response status, or ``None`` when the server never answered (a stall).
        response_headers: Response headers.
        response_body: Raw response body.
        label: Short name used in problem reports, e.g. ``step #2 chat``.
        check_response: False to check only the request (a test sent an off-spec body on purpose).
    """

    method: str
    path: str
    request_headers: Mapping[str, str]
    request_body: bytes
    status: int | None
    response_headers: Mapping[str, str] = field(default_factory=dict)
    response_body: bytes = b""
    label: str = ""
    check_response: bool = True


@dataclass
class _Stats:
    validated: int = 0
    skipped: int = 0
    mismatched: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


_stats = _Stats()


def spec_dir() -> Path:
    """Return the directory holding the third-party API specs.

    Returns:
        ``$SEGUE_SPEC_DIR`` when set, else ``../shared/specs`` next to the repository root.
    """
    configured = os.environ.get("SEGUE_SPEC_DIR")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2].parent / "shared" / "specs"


def openai_spec_path() -> Path | None:
    """Return the OpenAI spec file, or None when it is absent."""
    path = spec_dir() / SPEC_FILE_NAME
    return path if path.is_file() else None


def _strip_discriminators(node: Any) -> None:
    # Workaround 2: openapi-core cannot resolve a discriminator without a mapping.
    if isinstance(node, dict):
        node.pop("discriminator", None)
        for value in node.values():
            _strip_discriminators(value)
    elif isinstance(node, list):
        for value in node:
            _strip_discriminators(value)


def _nullable_as_null(node: Any) -> Any:
    # Workaround 4: OpenAPI 3.0's `nullable: true` in a 3.1 document becomes "or null".
    if isinstance(node, dict):
        out = {key: _nullable_as_null(value) for key, value in node.items()}
        if out.pop("nullable", False) is True:
            return {"anyOf": [out, {"type": "null"}]}
        return out
    if isinstance(node, list):
        return [_nullable_as_null(value) for value in node]
    return node


def _octet_stream_loads(value: bytes | str, **parameters: str) -> str:
    # Workaround 3: in 3.1 mode a "string/binary" must be a str, so bytes become latin-1 text.
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return value


def _multipart_loads(value: bytes, **parameters: str) -> dict[str, Any]:
    # Workaround 3: a plain dict, so absent array fields stay absent instead of becoming [].
    from openapi_core.deserializing.media_types.util import data_form_loads

    form: Any = data_form_loads(value, **parameters)  # a werkzeug ImmutableMultiDict
    fields: dict[str, Any] = {}
    for key in form:
        values = form.getlist(key)
        if key.endswith("[]"):
            # The openai SDK sends arrays as repeated "name[]" parts.
            fields[key[:-2]] = [_as_text(v) for v in values]
        elif len(values) == 1:
            fields[key] = values[0]
        else:
            fields[key] = [_as_text(v) for v in values]
    return fields


def _as_text(value: bytes | str) -> str:
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else value


@dataclass(frozen=True)
class _LoadedSpec:
    api: Any  # openapi_core.OpenAPI
    error_response_validator: Any  # a jsonschema validator for components.schemas.ErrorResponse
    stream_chunk_validator: Any  # ... and for CreateChatCompletionStreamResponse (one event)
    documented_statuses: dict[tuple[str, str], frozenset[str]]
    version: str


@functools.lru_cache(maxsize=4)
def _load(path: Path) -> _LoadedSpec:
    import yaml
    from openapi_core import OpenAPI
    from openapi_core.configurations import Config
    from openapi_schema_validator import OAS31Validator

    with path.open("rb") as handle:
        document = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    _strip_discriminators(document)
    config = Config(
        spec_validator_cls=None,  # workaround 1: the document fails openapi-spec-validator
        extra_media_type_deserializers={
            "application/octet-stream": _octet_stream_loads,
            "multipart/form-data": _multipart_loads,
        },
    )
    api = OpenAPI.from_dict(document, config=config)
    error_schema = {
        "$ref": "#/components/schemas/ErrorResponse",
        "components": document["components"],
    }
    chunk_schema = {
        "$ref": "#/components/schemas/CreateChatCompletionStreamResponse",
        "components": _nullable_as_null(copy.deepcopy(document["components"])),
    }
    statuses: dict[tuple[str, str], frozenset[str]] = {}
    for path_name, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "responses" in operation:
                statuses[(method.upper(), path_name)] = frozenset(operation["responses"])
    return _LoadedSpec(
        api=api,
        error_response_validator=OAS31Validator(error_schema),
        stream_chunk_validator=OAS31Validator(chunk_schema),
        documented_statuses=statuses,
        version=str(document.get("info", {}).get("version", "?")),
    )


def load_openai_spec() -> Any | None:
    """Return the loaded OpenAI spec (an ``openapi_core.OpenAPI``), or None when it is absent.

    The spec is loaded once per process (about a second).
    """
    path = openai_spec_path()
    return None if path is None else _load(path).api


def _truncate(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= _MAX_PROBLEM_CHARS:
        return text
    return text[: _MAX_PROBLEM_CHARS - 3] + "..."


def _iter_schema_errors(exc: BaseException) -> Iterator[Any]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        errors = getattr(current, "schema_errors", None)
        if errors:
            yield from errors
            return
        current = current.__cause__ or current.__context__


def _describe(exc: BaseException) -> str:
    """Describe a validation error briefly (never the whole body: it may hold an audio file)."""
    from jsonschema.exceptions import best_match

    parts: list[str] = []
    for error in _iter_schema_errors(exc):
        detail = best_match(error.context) if error.context else error
        where = getattr(detail, "json_path", "$")
        parts.append(f"{where}: {_truncate(detail.message)}")
    name = type(exc).__name__
    if parts:
        return f"{name}: " + "; ".join(parts)
    text = str(exc)
    return _truncate(text if text.startswith(name) else f"{name}: {text}")


def _spec_path_template(path: str) -> str:
    # The spec's server URL is https://api.openai.com/v1, its paths start after /v1.
    return path[len("/v1") :] if path.startswith("/v1/") else path


def _content_type(headers: Mapping[str, str]) -> str:
    for key, value in headers.items():
        if key.lower() == "content-type":
            return value
    return ""


def validate_exchange(exchange: HttpExchange) -> list[str]:
    """Check one exchange against the OpenAI spec.

    Args:
        exchange: The exchange to check.

    Returns:
        The problems found, each a short line naming ``exchange.label``; empty when the exchange
        conforms or when the spec is absent (then the exchange counts as skipped).
    """
    path = openai_spec_path()
    if path is None:
        with _stats.lock:
            _stats.skipped += 1
        return []
    loaded = _load(path)

    from openapi_core.testing import MockRequest

    headers = {key.lower(): value for key, value in exchange.request_headers.items()}
    request = MockRequest(
        SPEC_HOST_URL,
        exchange.method.lower(),
        exchange.path,
        headers=headers,
        data=exchange.request_body,
        content_type=_content_type(headers) or "application/json",
    )
    label = exchange.label or f"{exchange.method} {exchange.path}"
    problems: list[str] = []
    try:
        loaded.api.validate_request(request)
    except Exception as exc:  # openapi-core raises many unrelated classes; report them all
        problems.append(f"{label} request: {_describe(exc)}")

    if exchange.status is not None and exchange.check_response:
        problems.extend(_validate_response(loaded, request, exchange, label))

    with _stats.lock:
        _stats.validated += 1
        if problems:
            _stats.mismatched += 1
    return problems


def _validate_response(
    loaded: _LoadedSpec, request: Any, exchange: HttpExchange, label: str
) -> list[str]:
    from openapi_core.testing import MockResponse

    assert exchange.status is not None
    content_type = _content_type(exchange.response_headers).split(";")[0].strip()
    documented = loaded.documented_statuses.get(
        (exchange.method.upper(), _spec_path_template(exchange.path)), frozenset()
    )
    status = str(exchange.status)
    if status not in documented:
        # Undocumented status (400, 401, 500, ...): the body must still be an OpenAI error.
        try:
            body = json.loads(exchange.response_body)
        except ValueError:
            return [f"{label} response {status}: body is not JSON"]
        errors = sorted(loaded.error_response_validator.iter_errors(body), key=str)
        return [
            f"{label} response {status}: ErrorResponse {e.json_path}: {_truncate(e.message)}"
            for e in errors[:5]
        ]
    if exchange.status == 200 and content_type == "text/event-stream":
        return _validate_events(loaded, exchange, label)
    if (
        exchange.status == 200
        and content_type == "text/plain"
        and exchange.path.endswith("/audio/transcriptions")
    ):
        # Known spec gap: response_format=text answers text/plain, which the spec omits.
        return []
    response = MockResponse(
        exchange.response_body,
        status_code=exchange.status,
        headers={key.lower(): value for key, value in exchange.response_headers.items()},
        content_type=content_type or "application/json",
    )
    try:
        loaded.api.validate_response(request, response)
    except Exception as exc:  # as above: report every failure, whatever its class
        return [f"{label} response {status}: {_describe(exc)}"]
    return []


def _validate_events(loaded: _LoadedSpec, exchange: HttpExchange, label: str) -> list[str]:
    """Check each event of a streamed chat answer against the chunk schema."""
    if not exchange.path.endswith("/chat/completions"):
        return [f"{label} response: an event stream where the spec documents none"]
    problems: list[str] = []
    text = exchange.response_body.decode("utf-8", errors="replace")
    for number, block in enumerate(text.split("\n\n"), 1):
        for line in block.splitlines():
            if not line.startswith("data:"):
                continue
            data = line[len("data:") :].strip()
            if data == "[DONE]":
                continue
            try:
                chunk = json.loads(data)
            except ValueError:
                problems.append(f"{label} event {number}: data is not JSON")
                continue
            errors = sorted(loaded.stream_chunk_validator.iter_errors(chunk), key=str)
            problems += [
                f"{label} event {number}: {e.json_path}: {_truncate(e.message)}" for e in errors[:3]
            ]
    return problems[:5]


def contract_counts() -> tuple[int, int, int]:
    """Return (validated, mismatched, skipped) exchange counts for this process."""
    with _stats.lock:
        return _stats.validated, _stats.mismatched, _stats.skipped


def openai_contract_summary() -> str:
    """Return one line for the pytest terminal summary about the OpenAI contract checks."""
    validated, mismatched, skipped = contract_counts()
    path = openai_spec_path()
    if path is None:
        where = spec_dir() / SPEC_FILE_NAME
        return (
            f"OpenAI contract: checks SKIPPED for {skipped} exchange(s): spec not found at "
            f"{where} (set SEGUE_SPEC_DIR)"
        )
    version = _load(path).version if validated else "not loaded"
    text = (
        f"OpenAI contract: {validated} exchange(s) validated against {path.name} "
        f"(info.version {version}); {mismatched} flagged, each reported by its own test"
    )
    if skipped:
        text += f", {skipped} skipped"
    return text

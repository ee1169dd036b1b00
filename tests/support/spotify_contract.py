"""Check recorded HTTP exchanges against the Spotify Web API OpenAPI description.

The spec is ``spotify-web-api.yml`` in ``$SEGUE_SPEC_DIR`` or in ``../shared/specs`` beside the
repository; it is loaded once (discriminators removed, as openapi-core cannot resolve Spotify's
mapping-less ones) and each exchange then takes a few milliseconds.

Every ``/v1`` request and response must match the spec, except for these deviations of the live
service, allowed by name and nothing else:

- ``null-context``: ``context`` is null in ``/me/player``, ``/me/player/currently-playing`` and
  recently-played items after a play from plain track URIs.
- ``null-queue-currently-playing``: the queue's ``currently_playing`` is null when nothing plays.
- ``search-limit-over-10``: search answers 400 for ``limit`` above 10, which the spec does not
  document (so the request breaks the spec's maximum and the 400 is undocumented).
- ``undocumented-error-status``: an error status the operation does not list (400 bad input, 404
  ``NO_ACTIVE_DEVICE``, 5xx) is checked against the spec's error body ``{"error": ErrorObject}``
  instead; the spec lists only 401, 403 and 429 for most operations.
- ``currently-playing-204``: ``/me/player/currently-playing`` answers 204 with no body when nothing
  plays; the spec documents that 204 only for ``/me/player``.
- ``library-400-error-wrapper``: a 400 from ``/me/library`` or ``/me/library/contains`` has the
  usual ``{"error": {...}}`` body; the spec describes a bare ErrorObject there, unlike for every
  other error of the API.

Use ``SpotifyContract.load()`` (None when the spec is absent), then ``check_exchanges`` on
``SimulatedSpotify.exchanges`` or ``check_exchange_log`` on a JSON-lines file written by
``segue sim --exchange-log`` (see ``assistant.sim.exchange_to_json``).
"""

from __future__ import annotations

import json
import os
import threading
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from jsonschema.exceptions import best_match
from openapi_core import Config, OpenAPI
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_core.testing import MockRequest, MockResponse
from openapi_core.validation.request.exceptions import InvalidParameter

SPEC_FILE = "spotify-web-api.yml"
_SPEC_HOST = "https://api.spotify.com"

ALLOWED_DEVIATIONS = (
    "null-context",
    "null-queue-currently-playing",
    "search-limit-over-10",
    "undocumented-error-status",
    "currently-playing-204",
    "library-400-error-wrapper",
)
_LIBRARY_PATHS = ("/v1/me/library", "/v1/me/library/contains")
_NULL_CONTEXT_PATHS = ("/v1/me/player", "/v1/me/player/currently-playing")


def spec_dir() -> Path:
    """Where the specs live: ``$SEGUE_SPEC_DIR`` or ``../shared/specs`` beside the repository."""
    configured = os.environ.get("SEGUE_SPEC_DIR")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[3] / "shared" / "specs"


@dataclass(frozen=True)
class RecordedExchange:
    """The parts of an exchange the check reads (from an ``Exchange`` or a log line)."""

    method: str
    path: str
    query: Mapping[str, list[str]]
    request_headers: Mapping[str, str]
    request_body: bytes
    status: int
    response_headers: Mapping[str, str]
    response_body: bytes

    @classmethod
    def of(cls, exchange: Any) -> RecordedExchange:
        """Adapt an ``assistant.sim.Exchange`` or a decoded JSON log line."""
        if isinstance(exchange, Mapping):

            def raw(value: Any) -> bytes:
                return value.encode("latin-1") if isinstance(value, str) else bytes(value or b"")

            return cls(
                method=exchange["method"],
                path=exchange["path"],
                query=exchange.get("query") or {},
                request_headers=exchange.get("request_headers") or {},
                request_body=raw(exchange.get("request_body")),
                status=int(exchange["status"]),
                response_headers=exchange.get("response_headers") or {},
                response_body=raw(exchange.get("response_body")),
            )
        return cls(
            method=exchange.method,
            path=exchange.path,
            query=exchange.query,
            request_headers=exchange.request_headers,
            request_body=exchange.request_body,
            status=exchange.status,
            response_headers=exchange.response_headers,
            response_body=exchange.response_body,
        )


@dataclass
class ContractReport:
    """What one check found."""

    requests: int = 0
    responses: int = 0
    mismatches: list[str] = field(default_factory=list)
    deviations: Counter[str] = field(default_factory=Counter)

    def add(self, other: ContractReport) -> None:
        """Fold ``other`` into this report."""
        self.requests += other.requests
        self.responses += other.responses
        self.mismatches.extend(other.mismatches)
        self.deviations.update(other.deviations)

    @property
    def ok(self) -> bool:
        """Whether nothing mismatched."""
        return not self.mismatches


def _strip_discriminators(node: Any) -> None:
    if isinstance(node, dict):
        node.pop("discriminator", None)
        for value in node.values():
            _strip_discriminators(value)
    elif isinstance(node, list):
        for value in node:
            _strip_discriminators(value)


def _describe(err: BaseException) -> str:
    """The exception and, for schema errors, each failing field with the most useful reason."""
    text = f"{type(err).__name__}: {str(err).splitlines()[0][:300]}"
    cause = err.__cause__
    details = []
    for schema_error in getattr(cause, "schema_errors", None) or ():
        reason = schema_error
        if schema_error.context:
            reason = best_match(schema_error.context)
        location = "/".join(str(p) for p in [*schema_error.absolute_path, *reason.absolute_path])
        details.append(f"    at /{location}: {reason.message[:300]}")
    return "\n".join([text, *details])


class SpotifyContract:
    """The Spotify Web API spec, loaded once, and the check of exchanges against it.

    Args:
        spec_path: The ``spotify-web-api.yml`` file.
    """

    def __init__(self, spec_path: Path) -> None:
        with spec_path.open("rb") as fh:
            spec = yaml.load(fh, Loader=yaml.CSafeLoader)
        _strip_discriminators(spec)
        self.spec_path = spec_path
        self._api = OpenAPI.from_dict(spec, config=Config(spec_validator_cls=None))
        self._lock = threading.Lock()

    @classmethod
    def load(cls, directory: Path | None = None) -> SpotifyContract | None:
        """Load the spec from ``directory`` (default ``spec_dir()``); None when it is absent."""
        path = (directory or spec_dir()) / SPEC_FILE
        if not path.is_file():
            return None
        return cls(path)

    # Checking

    def check_exchanges(self, exchanges: Iterable[Any]) -> ContractReport:
        """Check every ``/v1`` exchange (``Exchange`` objects or decoded log lines)."""
        report = ContractReport()
        for exchange in exchanges:
            recorded = RecordedExchange.of(exchange)
            if recorded.path.startswith("/v1/"):
                self._check(recorded, report)
        return report

    def check_exchange_log(self, path: Path) -> ContractReport:
        """Check a JSON-lines exchange log written by ``segue sim --exchange-log``."""
        with path.open(encoding="utf-8") as fh:
            lines = [json.loads(line) for line in fh if line.strip()]
        return self.check_exchanges(lines)

    def _check(self, ex: RecordedExchange, report: ContractReport) -> None:
        where = f"{ex.method} {ex.path}"
        if ex.query:
            where += "?" + "&".join(f"{k}={v}" for k, vs in ex.query.items() for v in vs)
        if len(where) > 200:
            where = where[:200] + "..."
        where = f"{where} -> {ex.status}"
        content_type = ex.request_headers.get("content-type")
        request = MockRequest(
            _SPEC_HOST,
            ex.method.lower(),
            ex.path,
            args=dict(ex.query),
            data=ex.request_body or None,
            content_type=content_type if ex.request_body else None,
        )
        search_over_limit = self._search_over_limit(ex)
        report.requests += 1
        with self._lock, warnings.catch_warnings():
            # openapi-core does not check oauth2 and warns about it on every request.
            warnings.simplefilter("ignore", UserWarning)
            try:
                self._api.validate_request(request)
            except InvalidParameter as err:
                if search_over_limit and getattr(err, "name", None) == "limit":
                    report.deviations["search-limit-over-10"] += 1
                else:
                    report.mismatches.append(f"request {where}\n{_describe(err)}")
            except Exception as err:
                report.mismatches.append(f"request {where}\n{_describe(err)}")

            report.responses += 1
            body, deviations = self._allowed_body(ex)
            response_type = ex.response_headers.get("content-type") or "application/json"
            response = MockResponse(
                body, status_code=ex.status, content_type=response_type.split(";")[0].strip()
            )
            try:
                if ex.status == 400 and ex.path in _LIBRARY_PATHS:
                    problem = self._error_body_problem(ex)
                    if problem is not None:
                        report.mismatches.append(f"response {where}\n{problem}")
                    else:
                        report.deviations["library-400-error-wrapper"] += 1
                    return
                self._api.validate_response(request, response)
                report.deviations.update(deviations)
            except ResponseNotFound as err:
                problem = self._undocumented_status(ex, search_over_limit, report)
                if problem is not None:
                    report.mismatches.append(f"response {where}\n{problem}\n{_describe(err)}")
            except Exception as err:
                report.mismatches.append(f"response {where}\n{_describe(err)}")

    @staticmethod
    def _search_over_limit(ex: RecordedExchange) -> bool:
        if ex.method != "GET" or ex.path != "/v1/search":
            return False
        try:
            return int((ex.query.get("limit") or ["0"])[0]) > 10
        except ValueError:
            return False

    @staticmethod
    def _allowed_body(ex: RecordedExchange) -> tuple[bytes, list[str]]:
        """The body to validate, with the allowed nulls removed, and the deviations used."""
        if ex.status != 200 or ex.method != "GET":
            return ex.response_body, []
        nullable = ex.path in _NULL_CONTEXT_PATHS or ex.path in (
            "/v1/me/player/recently-played",
            "/v1/me/player/queue",
        )
        if not nullable:
            return ex.response_body, []
        try:
            data = json.loads(ex.response_body)
        except ValueError:
            return ex.response_body, []
        used: list[str] = []
        if isinstance(data, dict):
            if ex.path in _NULL_CONTEXT_PATHS and "context" in data and data["context"] is None:
                del data["context"]
                used.append("null-context")
            if ex.path == "/v1/me/player/recently-played":
                for item in data.get("items") or []:
                    if isinstance(item, dict) and "context" in item and item["context"] is None:
                        del item["context"]
                        used.append("null-context")
            if (
                ex.path == "/v1/me/player/queue"
                and "currently_playing" in data
                and data["currently_playing"] is None
            ):
                del data["currently_playing"]
                used.append("null-queue-currently-playing")
        if not used:
            return ex.response_body, []
        return json.dumps(data).encode(), used

    @staticmethod
    def _undocumented_status(
        ex: RecordedExchange, search_over_limit: bool, report: ContractReport
    ) -> str | None:
        """None when an undocumented status is an allowed deviation, else what is wrong."""
        if ex.status == 204 and ex.path == "/v1/me/player/currently-playing":
            if ex.response_body:
                return "a 204 must have no body"
            report.deviations["currently-playing-204"] += 1
            return None
        if ex.status < 400:
            return f"status {ex.status} is not documented for this operation"
        problem = SpotifyContract._error_body_problem(ex)
        if problem is not None:
            return problem
        if search_over_limit and ex.status == 400:
            report.deviations["search-limit-over-10"] += 1
        else:
            report.deviations["undocumented-error-status"] += 1
        return None

    @staticmethod
    def _error_body_problem(ex: RecordedExchange) -> str | None:
        """What is wrong with an error body, checked as ``{"error": ErrorObject}``; None if fine."""
        try:
            body = json.loads(ex.response_body)
        except ValueError:
            return "the error body is not JSON"
        error = body.get("error") if isinstance(body, dict) else None
        if (
            not isinstance(error, dict)
            or error.get("status") != ex.status
            or not isinstance(error.get("message"), str)
            or not isinstance(error.get("reason", ""), str)
        ):
            return 'the error body is not {"error": {"status": <the status>, "message": "..."}}'
        return None


def summary_line(report: ContractReport, spec_name: str = SPEC_FILE) -> str:
    """One line for the end of a test run."""
    line = (
        f"Spotify contract: {report.requests} requests and {report.responses} responses "
        f"validated against {spec_name} ({len(report.mismatches)} mismatches)"
    )
    if report.deviations:
        used = ", ".join(f"{name} x{count}" for name, count in sorted(report.deviations.items()))
        line += f"; allowed deviations used: {used}"
    return line


# One spec and one running total per test session (a process), shared by the ``sim`` fixture and
# by tests that check a subprocess's exchange log.

_SHARED_LOCK = threading.Lock()
_shared: dict[str, SpotifyContract | None] = {}
TOTALS = ContractReport()


def shared_contract() -> SpotifyContract | None:
    """The spec loaded once per process; None when the file is absent."""
    with _SHARED_LOCK:
        if "contract" not in _shared:
            _shared["contract"] = SpotifyContract.load()
        return _shared["contract"]


def _validate(check: Callable[[SpotifyContract], ContractReport]) -> ContractReport:
    contract = shared_contract()
    if contract is None:
        return ContractReport()
    report = check(contract)
    TOTALS.add(report)
    if report.mismatches:
        listing = "\n".join(report.mismatches)
        raise AssertionError(
            f"{len(report.mismatches)} exchange(s) break the Spotify Web API spec "
            f"({contract.spec_path}):\n{listing}"
        )
    return report


def validate_exchanges(exchanges: Iterable[Any]) -> ContractReport:
    """Check exchanges (``SimulatedSpotify.exchanges``) and fail listing each mismatch.

    Returns:
        The report (empty when the spec is absent: nothing is checked then).

    Raises:
        AssertionError: An exchange breaks the spec.
    """
    return _validate(lambda contract: contract.check_exchanges(exchanges))


def validate_exchange_log(path: Path) -> ContractReport:
    """Check a JSON-lines log from ``segue sim --exchange-log`` and fail listing each mismatch.

    Raises:
        AssertionError: An exchange breaks the spec.
    """
    return _validate(lambda contract: contract.check_exchange_log(path))


def session_summary() -> str:
    """The terminal-summary line for everything checked in this process."""
    if not (spec_dir() / SPEC_FILE).is_file():
        return (
            f"Spotify contract: NOT validated: {SPEC_FILE} not found in {spec_dir()} "
            "(set SEGUE_SPEC_DIR)"
        )
    return summary_line(TOTALS)

"""OpenAI (or a compatible server) failing: one mapping from the SDK's exceptions to sentences.

The chat model (``agent/llm.py``), OpenAI speech to text (``voice/stt.py``), the key check of
``segue setup`` and so ``segue doctor`` all turn a failed request into one :class:`ModelError`
here; they differ only in how the service is named and which setting picks the model
(:class:`ModelService`). Each caller keeps its own retry policy; :func:`is_transient` says which
failures a quick second attempt may cure.

==========================================  =================================================
what went wrong                             raised
==========================================  =================================================
timeout                                     ``ModelUnavailable`` (within N seconds)
no connection, 5xx                          ``ModelUnavailable`` (retryable)
429                                         ``ModelRateLimited`` (the wait, when sent)
429 ``insufficient_quota``                  ``ModelRateLimited`` (no credit; not retryable)
401                                         ``ModelKeyRefused``
404                                         ``ModelRequestRejected`` (the model setting named)
other 4xx                                   ``ModelRequestRejected`` (the server's JSON message)
an answer that is not JSON                  ``ModelUnavailable`` (check openai_base_url)
a streamed answer cut off, or too slow      ``ModelUnavailable`` (nothing was done)
text that is not valid Unicode              ``ModelRequestRejected`` (nothing was sent)
==========================================  =================================================

A server's own message is repeated only when it came in an OpenAI-style JSON error body, never
from an HTML page (a proxy's error page at a wrong ``openai_base_url``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from assistant.errors import (
    ModelError,
    ModelKeyRefused,
    ModelRateLimited,
    ModelRequestRejected,
    ModelUnavailable,
)
from assistant.waits import retry_after, wait_text

DETAIL_MAX = 160  # characters of a server's own error message repeated to the person


@dataclass(frozen=True)
class ModelService:
    """The service a request went to, as the sentences name it.

    Attributes:
        name: "OpenAI", "OpenAI's speech service", or a compatible server's base URL.
        model: The model asked for.
        model_setting: The setting that chooses it ("openai_model", "stt_model").
        timeout: Seconds each request may take; None when unknown.
    """

    name: str = "OpenAI"
    model: str = ""
    model_setting: str = "openai_model"
    timeout: float | None = None


def not_json(service: ModelService) -> ModelUnavailable:
    """The error for an answer that is not the JSON an OpenAI-compatible API sends."""
    return ModelUnavailable(
        f"{service.name} sent an answer Segue could not read (not JSON); check the "
        "openai_base_url setting."
    )


def cut_off(service: ModelService, *, too_slow: bool = False) -> ModelUnavailable:
    """The error for a streamed answer that broke off (or took too long) before its end."""
    how = "took too long to finish its answer" if too_slow else "stopped answering midway"
    return ModelUnavailable(f"{service.name} {how}, so nothing was done; try again.")


def not_text(service: ModelService) -> ModelRequestRejected:
    """The error for a command whose text is not valid Unicode (it cannot be sent)."""
    return ModelRequestRejected(
        f"That command holds characters that are not valid text, so nothing was sent to "
        f"{service.name}; type or say it again."
    )


def model_error(err: BaseException, service: ModelService) -> ModelError:
    """The one-sentence error for a request to ``service`` that failed with ``err``.

    Args:
        err: What the openai SDK raised (an ``openai.OpenAIError``), or the ``ValueError`` of an
            answer that is not JSON or of text that cannot be encoded.
        service: Who was asked.

    Returns:
        The error to raise (``raise model_error(err, service) from err``).
    """
    import openai

    name = service.name
    if isinstance(err, UnicodeEncodeError):
        return not_text(service)
    if isinstance(err, json.JSONDecodeError | openai.APIResponseValidationError):
        # A body declared JSON that is not (JSONDecodeError), or JSON of another shape.
        return not_json(service)
    if isinstance(err, openai.APITimeoutError):
        within = f"within {service.timeout:g} seconds" if service.timeout else "in time"
        return ModelUnavailable(f"{name} didn't answer {within}; try again.")
    if isinstance(err, openai.APIConnectionError):
        return ModelUnavailable(
            f"Segue couldn't reach {name}; check the internet connection "
            "(or the openai_base_url setting)."
        )
    if isinstance(err, openai.AuthenticationError):
        return ModelKeyRefused()
    if isinstance(err, openai.RateLimitError):
        if error_code(err) == "insufficient_quota":
            return ModelRateLimited(
                "Your OpenAI account has no credit left; check its plan and billing.",
                retryable=False,
            )
        wait = retry_after(err.response.headers)
        when = "a minute" if wait is None else wait_text(wait)
        return ModelRateLimited(f"{name} asked Segue to slow down; try again in {when}.")
    if isinstance(err, openai.APIStatusError) and err.status_code >= 500:
        return ModelUnavailable(f"{name} had a problem on its side; try again in a moment.")
    if isinstance(err, openai.NotFoundError):
        return ModelRequestRejected(
            f"{name} has no model called “{service.model}”; change the {service.model_setting} "
            "setting."
        )
    if isinstance(err, openai.APIStatusError):
        detail = error_message(err)
        said = f": {detail}" if detail else f" (HTTP {err.status_code})"
        return ModelRequestRejected(f"{name} refused Segue's request{said}.")
    return ModelUnavailable(f"{name} sent an answer Segue could not read; try again.")


def is_transient(err: BaseException) -> bool:
    """A dropped connection or a 5xx: a second attempt often goes through at once.

    A timeout is not transient here: it has already cost the whole timeout.
    """
    import openai

    if isinstance(err, openai.APITimeoutError):
        return False
    if isinstance(err, openai.APIConnectionError):
        return True
    return isinstance(err, openai.APIStatusError) and err.status_code >= 500


def error_code(err: BaseException) -> str | None:
    """``error.code`` of an OpenAI error body ("insufficient_quota", "invalid_api_key")."""
    code = getattr(err, "code", None) or _error_body(err).get("code")
    return code if isinstance(code, str) else None


def error_message(err: BaseException) -> str:
    """The server's own ``error.message``, on one line and short; "" when it sent none in JSON."""
    message = _error_body(err).get("message")
    if not isinstance(message, str):
        return ""
    line = " ".join(message.split()).rstrip(".")
    if "<" in line and ">" in line:
        return ""  # markup: an HTML page dressed as a message
    return line if len(line) <= DETAIL_MAX else line[: DETAIL_MAX - 1] + "…"


def _error_body(err: BaseException) -> dict[str, Any]:
    body = getattr(err, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            return inner
    return {}

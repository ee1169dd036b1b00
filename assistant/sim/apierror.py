"""The one exception the simulator's handlers raise to answer with an error."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error answer: the server turns it into Spotify's error body.

    Args:
        status: The HTTP status.
        message: The ``error.message`` text, worded as the real service words it.
        reason: The ``error.reason`` that player errors carry (``NO_ACTIVE_DEVICE``, ...).
        headers: Extra response headers (``Retry-After`` on a 429).
    """

    def __init__(
        self,
        status: int,
        message: str,
        reason: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {message}")
        self.status = status
        self.message = message
        self.reason = reason
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        """The JSON body: ``{"error": {"status", "message"[, "reason"]}}``."""
        error: dict[str, Any] = {"status": self.status, "message": self.message}
        if self.reason is not None:
            error["reason"] = self.reason
        return {"error": error}


def bad_request(message: str) -> ApiError:
    """A 400 with ``message``."""
    return ApiError(400, message)


def not_found(message: str = "Resource not found") -> ApiError:
    """A 404 with ``message``."""
    return ApiError(404, message)


def forbidden(message: str = "Forbidden") -> ApiError:
    """A 403 with ``message``."""
    return ApiError(403, message)


# Player errors as the real service words them (a new instance per raise: exceptions carry
# their traceback, and requests are handled on several threads).


def no_active_device() -> ApiError:
    """404 NO_ACTIVE_DEVICE: a player command without a device while none is active."""
    return ApiError(404, "Player command failed: No active device found", "NO_ACTIVE_DEVICE")


def premium_required() -> ApiError:
    """403 PREMIUM_REQUIRED: a player command from a user without Premium."""
    return ApiError(403, "Player command failed: Premium required", "PREMIUM_REQUIRED")


def restriction_violated() -> ApiError:
    """403 UNKNOWN: a player command the current state does not allow (pause while paused)."""
    return ApiError(403, "Player command failed: Restriction violated", "UNKNOWN")


def device_not_found() -> ApiError:
    """404: a ``device_id`` that is not one of the user's listed devices."""
    return ApiError(404, "Device not found")

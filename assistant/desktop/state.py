"""The state the tray icon shows."""

from __future__ import annotations

import enum


class UiState(enum.Enum):
    """What Segue is doing right now, as the tray icon and its tooltip show it."""

    IDLE = "idle"
    LISTENING = "listening"
    THINKING = "thinking"
    SPEAKING = "speaking"
    ERROR = "error"

    @property
    def label(self) -> str:
        """A short human word for the tooltip ("Listening")."""
        return _LABELS[self]


_LABELS = {
    UiState.IDLE: "Ready",
    UiState.LISTENING: "Listening",
    UiState.THINKING: "Thinking",
    UiState.SPEAKING: "Speaking",
    UiState.ERROR: "Something went wrong",
}

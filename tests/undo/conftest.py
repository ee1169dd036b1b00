"""The agent as the other agent tests build it (fast path, scripted model), over the simulator."""

from __future__ import annotations

from tests.agent.conftest import clock, segue  # noqa: F401 (the fixtures, shared)

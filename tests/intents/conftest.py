"""Fast-path tests: a place for the coverage and speed figures, printed at the end of the run."""

from __future__ import annotations

import pytest

FAST_PATH_REPORT = pytest.StashKey[list[str]]()


@pytest.fixture
def fast_path_report(request: pytest.FixtureRequest) -> list[str]:
    """Lines to print in the terminal summary (the coverage and speed figures)."""
    return request.config.stash.setdefault(FAST_PATH_REPORT, [])


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    for line in config.stash.get(FAST_PATH_REPORT, []):
        terminalreporter.write_line(line)

"""The local-control benchmark keeps working: a tiny run, checked for counts, never times."""

from __future__ import annotations

from benchmarks.local_control import COMMANDS, markdown_lines, run_local_control


def test_tiny_run_measures_both_ways_and_counts_the_web_api_requests() -> None:
    results = run_local_control(1, 5.0, log=lambda line: None)

    rows = {row["command"]: row for row in results["commands"]}
    assert list(rows) == list(COMMANDS)
    for row in rows.values():
        assert row["app_ms"] > 0 and row["web_ms"] > 0 and row["ratio"] > 0
        assert row["app_player_requests"] == 0, row  # the app took it: no Web API request
        assert row["web_player_requests"] >= 1, row
    down = results["web_api_down"]
    assert down["app"]["done"] is True and down["app"]["requests"] == 0
    assert down["web"]["done"] is False and down["web"]["requests"] >= 1
    assert any(line.startswith("| pause | ") for line in markdown_lines(results))

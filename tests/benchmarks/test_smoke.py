"""The benchmark harness keeps working: a tiny run, checked for its output, never its timings."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from benchmarks.commands import TECHNIQUES

REPO = Path(__file__).resolve().parents[2]
CLASSES = {"pause", "play_by", "described", "mood_playlist", "about_music"}


def test_quick_run_writes_every_class_with_ours_and_baseline(tmp_path: Path) -> None:
    out = tmp_path / "results"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks",
            "--quick",
            "--out",
            str(out),
            # Short service times and idle window: this checks the harness, not the figures.
            "--latency-ms",
            "5",
            "--stt-ms",
            "20",
            "--chat-ms",
            "20",
            "--idle-seconds",
            "1",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Service times: Spotify 5 ms per request" in done.stdout

    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert {row["key"] for row in data["classes"]} == CLASSES
    for row in data["classes"]:
        assert row["ours"]["total_ms"] > 0 and row["baseline"]["total_ms"] > 0, row
        assert row["ratio"] > 0
        assert not row["ours"]["problems"] and not row["baseline"]["problems"], row
        # The baseline's design shows in its counts: every command asks the model, and the
        # reply takes one more call.
        assert row["baseline"]["model_calls"] == row["ours"]["model_calls"] + (
            2 if row["key"] in ("pause", "play_by") else 1
        )
    assert data["classes"][0]["ours"]["model_calls"] == 0  # "pause" never reaches the model
    # Each technique measured on its own, for every class.
    assert [row["technique"] for row in data["techniques"]] == list(TECHNIQUES)
    for row in data["techniques"]:
        assert set(row["total_ms"]) == CLASSES and all(v > 0 for v in row["total_ms"].values())

    clean, faulty = data["playlists"]
    for row in (clean, faulty):
        for variant in ("ours", "baseline"):
            figures = row[variant]
            assert figures["playlists_created"] == 1, figures
            assert figures["tracks_in_playlist"] == row["songs"], figures
            assert figures["duplicates"] == 0
            assert figures["retry_after_respected"], figures
    assert data["openai_contract_problems"] == []
    assert data["overhead"]["commands"] > 0
    assert data["tray"]["icon_s"] > 0 and data["tray"]["rss_mb"] > 0
    assert data["local_speech"]["commands"] > 0
    # Section 9: a misheard "shuffle on" checked both ways, ours with fewer sentences.
    (checked,) = data["rescoring"]["rows"]
    assert checked["ours"]["taken"] == "shuffle on" and checked["same"], checked
    assert 0 < checked["ours"]["sentences"] < checked["baseline"]["sentences"]

    table = (out / "results.md").read_text(encoding="utf-8")
    for title in (
        "fast path: control",
        "LLM: a question about the music",
        "## Targets",
        "## Checking a misheard command against its recording",
    ):
        assert title in table
    assert table.count("| ours |") == len(CLASSES) + 2  # the classes and the two playlist runs

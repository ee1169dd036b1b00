"""The streaming benchmark keeps working: a tiny run, checked for its counts, never its times."""

from __future__ import annotations

from benchmarks.streaming import markdown_lines, run_streaming


def test_tiny_run_builds_every_playlist_right_both_ways() -> None:
    results = run_streaming(
        1, (6,), (5.0,), first_token_ms=20.0, tokens_per_s=1000.0, log=lambda line: None
    )

    (row,) = results["rows"]
    assert row["all_right"], row  # every song once, one playlist, in both variants
    assert row["all_streamed"], row  # the streamed variant streamed, the plain one did not
    assert row["streamed_ms"] > 0 and row["plain_ms"] > 0 and row["ratio"] > 0
    # A plain answer leaves every search, the create and the add for after its last token.
    assert row["plain_requests_after"] >= 6 + 2
    assert results["plain_server"]["right"]
    # A reply in words: streamed, the voice may begin before the reply is whole; plain, not.
    spoken = results["spoken_answer"]
    assert spoken["streamed"]["voice_can_begin_ms"] < spoken["streamed"]["reply_ms"]
    assert spoken["plain"]["voice_can_begin_ms"] == spoken["plain"]["reply_ms"]
    assert results["openai_contract_problems"] == []
    assert any(line.startswith("| 6 | 5 | ") for line in markdown_lines(results))

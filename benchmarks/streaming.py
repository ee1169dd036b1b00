"""Playlists built while the model writes: streamed answers against today's plain ones.

``python -m benchmarks.streaming [--reps N] [--sizes 40 100] [--latency-ms 250 80] [--out DIR]``
(also section 8 of ``python -m benchmarks``). Both variants are Segue as
``assistant.app.build_assistant`` builds it, typed commands through the real ``Pipeline``; they
differ only by ``openai_stream``: "streamed" asks for the answer as a stream and searches each
song as its name arrives, "plain" (today's design before it) waits for the whole answer. The
fake OpenAI server writes like a model (the first token after ``first_token_ms``, then
``tokens_per_s``; a plain answer arrives with its last token) and records when it wrote the last
token; Spotify is the simulator at ``latency_ms`` per request. The figure is the wall time from
the model's last token to the reply: what the person waits for after the model is done. Each
repetition runs both variants alternately (the machine's noise falls on both alike), with a new
playlist name each time; every playlist is checked for all its songs, each once. A server that
does not stream (it answers in one piece) is tried once with the streamed variant's settings.

A reply in words (the model answers a question about the music, three sentences) is timed too:
from the command to the moment the voice can begin, which is the first complete sentence when
streamed and the whole reply when plain.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script: the section imports the tests' fakes
    sys.path.insert(0, str(REPO))

from assistant.app import Assistant  # noqa: E402
from assistant.pipeline import Utterance  # noqa: E402
from assistant.sim import Exchange, SimulatedSpotify  # noqa: E402
from benchmarks import report  # noqa: E402
from benchmarks.commands import CATALOG, build_variant, catalog_tracks  # noqa: E402
from tests.fakes.openai_server import FakeOpenAI, Pace  # noqa: E402

VARIANTS = {"streamed": {}, "plain": {"openai_stream": "off"}}
SIZES = (40, 100)
LATENCIES_MS = (250.0, 80.0)


class _Clocked:
    """The simulator's exchanges with the time each was answered."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.stamps: list[tuple[float, Exchange]] = []

    def __call__(self, exchange: Exchange) -> None:
        with self._lock:
            self.stamps.append((time.monotonic(), exchange))

    def after(self, moment: float) -> list[Exchange]:
        with self._lock:
            return [e for at, e in self.stamps if at > moment and e.path.startswith("/v1/")]


def _one(
    sim: SimulatedSpotify,
    fake: FakeOpenAI,
    clocked: _Clocked,
    variant: Assistant,
    songs: Sequence[str],
    name: str,
) -> dict[str, Any]:
    """One playlist command; what it cost after the model's last token, and whether it is right."""
    call = {"name": name, "tracks": list(songs), "description": None, "public": False}
    fake.chat(tool_calls=[("create_playlist", call)])
    seen = len(fake.requests)
    reply = variant.pipeline.handle(
        Utterance(text=f"make a playlist called {name} with these songs", source="benchmark")
    )
    finished = time.monotonic()
    chats = [r for r in fake.requests[seen:] if r.endpoint == "chat"]
    if fake.remaining_steps or not chats:
        raise RuntimeError(f"the fake's script did not fit the playlist command: {reply.text}")
    last_token = fake.last_token_at(chats[-1].seq)
    assert last_token is not None
    made = [p for p in sim.snapshot()["playlists"].values() if p["name"] == name]
    uris: list[str] = made[0]["track_uris"] if made else []
    after = clocked.after(last_token)
    return {
        "after_last_token_ms": round((finished - last_token) * 1000, 1),
        "spotify_requests_after": len(after),
        "searches_after": sum(1 for e in after if e.path == "/v1/search"),
        "ok": reply.ok,
        "playlists_made": len(made),
        "songs": len(uris),
        "duplicates": len(uris) - len(set(uris)),
        "streamed": bool(chats[-1].body.get("stream")),
    }


SPOKEN_ANSWER = (
    "Radiohead formed in Abingdon, near Oxford, in 1985, as five school friends. Their first "
    "single, Creep, came out in 1992 and made them famous in America. OK Computer, from 1997, "
    "is the album most people name as their best."
)


def _spoken(variant: Assistant, fake: FakeOpenAI) -> dict[str, float]:
    """A reply in words: ms from the command to its first sentence, and to the whole reply."""
    fake.chat(content=SPOKEN_ANSWER)
    began = time.monotonic()
    first: list[float] = []
    reply = variant.pipeline.handle(
        Utterance(text="tell me about Radiohead", source="benchmark"),
        on_sentence=lambda _sentence: first.append(time.monotonic()),
    )
    done = time.monotonic()
    if not reply.ok or reply.text != SPOKEN_ANSWER:
        raise RuntimeError(f"the spoken answer came out wrong: {reply.text}")
    return {
        "voice_can_begin_ms": round(((first[0] if first else done) - began) * 1000, 1),
        "reply_ms": round((done - began) * 1000, 1),
    }


def run_streaming(
    reps: int,
    sizes: Sequence[int] = SIZES,
    latencies_ms: Sequence[float] = LATENCIES_MS,
    *,
    first_token_ms: float = 500.0,
    tokens_per_s: float = 60.0,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Every size at every latency, both variants, ``reps`` times; then a plain server.

    Returns:
        The pace, ``rows`` (per latency and size: the median wall time after the last token per
        variant, their ratio, the Spotify requests after it, and whether every playlist was
        right) and ``plain_server`` (the streamed variant against a server that does not stream).
    """
    clocked = _Clocked()
    pace = Pace(first_token_ms / 1000, tokens_per_s)
    tracks = catalog_tracks()
    with (
        SimulatedSpotify(CATALOG, computer_name="Benchmark PC", on_exchange=clocked) as sim,
        FakeOpenAI(pace=pace) as fake,
    ):
        variants = {name: build_variant(sim, fake, settings) for name, settings in VARIANTS.items()}
        try:
            rows = []
            made = 0
            for latency in latencies_ms:
                sim.latency_ms = latency
                for size in sizes:
                    songs = [f"{title} by {artist}" for title, artist, _ in tracks[:size]]
                    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in variants}
                    for _ in range(reps):
                        for name, variant in variants.items():
                            made += 1
                            run = _one(sim, fake, clocked, variant, songs, f"Bench {made}")
                            runs[name].append(run)
                    row = _row(latency, size, runs)
                    rows.append(row)
                    log(
                        f"   {size} songs, Spotify {latency:g} ms: after the last token "
                        f"streamed {row['streamed_ms']:.0f} ms, plain {row['plain_ms']:.0f} ms "
                        f"(ratio {row['ratio']:.2f}); right: {row['all_right']}"
                    )
            spoken: dict[str, list[dict[str, float]]] = {name: [] for name in variants}
            for _ in range(reps):
                for name, variant in variants.items():
                    spoken[name].append(_spoken(variant, fake))
            answer = {
                name: {
                    key: round(statistics.median(run[key] for run in runs), 1)
                    for key in ("voice_can_begin_ms", "reply_ms")
                }
                for name, runs in spoken.items()
            }
            log(
                "   a reply in words: the voice can begin after "
                f"{answer['streamed']['voice_can_begin_ms']:.0f} ms streamed, "
                f"{answer['plain']['voice_can_begin_ms']:.0f} ms plain"
            )
            # A server that ignores `stream`: the streamed variant's settings, found out at once.
            fake.streaming = "json"
            sim.latency_ms = latencies_ms[0]
            plain_server = build_variant(sim, fake)
            try:
                size = sizes[0]
                songs = [f"{title} by {artist}" for title, artist, _ in tracks[:size]]
                made += 1
                served = _one(sim, fake, clocked, plain_server, songs, f"Bench {made}")
            finally:
                plain_server.close()
            served["size"] = size
            served["right"] = _right(served, size)
            log(
                f"   a server that does not stream, {size} songs: "
                f"{'right' if served['right'] else 'WRONG'}, {served['after_last_token_ms']:.0f} "
                "ms after the last token"
            )
            problems = fake.problems()
        finally:
            for variant in variants.values():
                variant.close()
    return {
        "first_token_ms": first_token_ms,
        "tokens_per_s": tokens_per_s,
        "reps": reps,
        "rows": rows,
        "plain_server": served,
        "spoken_answer": answer,
        "openai_contract_problems": problems,
    }


def _right(run: dict[str, Any], size: int) -> bool:
    return bool(
        run["ok"] and run["playlists_made"] == 1 and run["songs"] == size and not run["duplicates"]
    )


def _row(latency: float, size: int, runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    def median(name: str, key: str) -> float:
        return float(statistics.median(run[key] for run in runs[name]))

    streamed, plain = (
        median("streamed", "after_last_token_ms"),
        median("plain", "after_last_token_ms"),
    )
    return {
        "latency_ms": latency,
        "songs": size,
        "streamed_ms": round(streamed, 1),
        "plain_ms": round(plain, 1),
        "ratio": round(streamed / plain, 3),
        "streamed_requests_after": round(median("streamed", "spotify_requests_after")),
        "plain_requests_after": round(median("plain", "spotify_requests_after")),
        "streamed_searches_after": round(median("streamed", "searches_after")),
        "all_right": all(_right(run, size) for name in runs for run in runs[name]),
        "all_streamed": all(run["streamed"] for run in runs["streamed"])
        and not any(run["streamed"] for run in runs["plain"]),
    }


def markdown_lines(results: dict[str, Any]) -> list[str]:
    """The section as Markdown lines."""
    lines = [
        "## Playlists built while the model writes",
        "",
        f"Typed; the fake model writes its one `create_playlist` call at a model's pace (first "
        f"token after {results['first_token_ms']:g} ms, then {results['tokens_per_s']:g} tokens "
        "a second; a plain answer arrives with its last token). The figure is the wall time from "
        "the model's last token to the reply. *streamed*: Segue now (each song searched as its "
        'name arrives); *plain*: the answer asked for in one piece (`openai_stream = "off"`, '
        f"the design before). Median of {results['reps']} run(s) each, both in the same run, "
        "alternately; every playlist checked for all its songs, each once.",
        "",
        "| songs | Spotify ms per request | streamed ms | plain ms | streamed/plain | Spotify "
        "requests after the last token (streamed / plain) | every playlist right |",
        "|--:|--:|--:|--:|--:|---|---|",
    ]
    for row in results["rows"]:
        lines.append(
            f"| {row['songs']} | {row['latency_ms']:g} | {row['streamed_ms']:.0f} | "
            f"{row['plain_ms']:.0f} | **{row['ratio']:.2f}** | "
            f"{row['streamed_requests_after']} ({row['streamed_searches_after']} searches) / "
            f"{row['plain_requests_after']} | {'yes' if row['all_right'] else '**no**'} |"
        )
    served = results["plain_server"]
    lines += [
        "",
        f"A server that does not stream (it answers `stream: true` in one piece): the "
        f"{served['size']}-song playlist {'came out right' if served['right'] else 'was WRONG'}, "
        f"{served['after_last_token_ms']:.0f} ms after the last token, and Segue asked plainly "
        "from then on.",
    ]
    spoken = results.get("spoken_answer")
    if spoken:
        streamed, plain = spoken["streamed"], spoken["plain"]
        lines += [
            "",
            "A reply in words (three sentences about the music): from the command to the moment "
            "the voice can begin, its first sentence when streamed, the whole reply when plain: "
            f"**{streamed['voice_can_begin_ms']:.0f} ms** streamed vs "
            f"{plain['voice_can_begin_ms']:.0f} ms plain "
            f"({streamed['voice_can_begin_ms'] / plain['voice_can_begin_ms']:.2f}); the whole "
            f"reply {streamed['reply_ms']:.0f} ms vs {plain['reply_ms']:.0f} ms.",
        ]
    return lines


def main(argv: list[str] | None = None) -> int:
    """Run the section alone and write ``streaming.md`` and ``streaming.json``."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.streaming", description=__doc__)
    parser.add_argument("--reps", type=int, default=3, help="runs per size, latency and variant")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), help="songs")
    parser.add_argument(
        "--latency-ms", type=float, nargs="+", default=list(LATENCIES_MS), help="per request"
    )
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks", help="where files go")
    args = parser.parse_args(argv)
    report.quiet_logs()
    print(f"Playlists while the model writes, {args.reps} run(s):")
    results = run_streaming(args.reps, args.sizes, args.latency_ms)
    print(report.write_section(args.out, "streaming", results, markdown_lines(results)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

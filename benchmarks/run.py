"""The benchmark harness: ``python -m benchmarks [--quick] [--out DIR]``.

Runs Segue's own code (``assistant.app.build_assistant``, the real ``Pipeline``) against the
simulated Spotify and the scripted fake OpenAI server with the service times below, once as Segue
is configured by default ("ours") and once with the settings that reproduce the original
prototypes ("baseline"), and writes ``results.md`` (Markdown tables) and ``results.json``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script: the harness imports the tests' fakes
    sys.path.insert(0, str(REPO))

from benchmarks import report  # noqa: E402
from benchmarks.commands import (  # noqa: E402
    BASELINE,
    run_classes,
    run_overhead,
    run_playlists,
    run_techniques,
    start_bench,
)
from benchmarks.footprint import import_time, local_speech, tray_footprint  # noqa: E402
from benchmarks.local_control import run_local_control  # noqa: E402
from benchmarks.rescoring import MISHEARD, run_rescoring  # noqa: E402
from benchmarks.streaming import LATENCIES_MS, SIZES, run_streaming  # noqa: E402

SPEECH_COMMANDS = (
    "pause",
    "next song",
    "volume thirty",
    "play Bohemian Rhapsody by Queen",
    "play my playlist Deep Work",
    "what's playing",
    "skip ahead thirty seconds",
    "like this",
    "play something calm for reading",
    "make a playlist of ten calm piano pieces",
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes for CI (a smoke run)")
    parser.add_argument(
        "--out", type=Path, default=REPO / "benchmarks", help="where results.md/json go"
    )
    parser.add_argument("--latency-ms", type=float, default=80.0, help="per Spotify request")
    parser.add_argument("--stt-ms", type=float, default=400.0, help="per transcription")
    parser.add_argument("--chat-ms", type=float, default=600.0, help="per model call")
    parser.add_argument("--reps", type=int, help="repetitions per class (default 5, quick 1)")
    parser.add_argument("--playlist-size", type=int, help="songs by name (default 50, quick 10)")
    parser.add_argument("--overhead-commands", type=int, help="default 200, quick 20")
    parser.add_argument("--idle-seconds", type=float, help="idle CPU window (60, quick 5)")
    parser.add_argument("--no-desktop", action="store_true", help="skip the tray footprint")
    parser.add_argument("--no-local-speech", action="store_true", help="skip local Whisper")
    parser.add_argument(
        "--first-token-ms", type=float, help="the paced model's first token (500, quick 50)"
    )
    parser.add_argument("--tokens-per-s", type=float, help="the paced model's rate (60, quick 600)")
    args = parser.parse_args(argv)
    quick = args.quick
    args.reps = args.reps or (1 if quick else 5)
    args.playlist_size = args.playlist_size or (10 if quick else 50)
    args.overhead_commands = args.overhead_commands or (20 if quick else 200)
    args.idle_seconds = args.idle_seconds or (5.0 if quick else 60.0)
    args.first_token_ms = args.first_token_ms or (50.0 if quick else 500.0)
    args.tokens_per_s = args.tokens_per_s or (600.0 if quick else 60.0)
    return args


def main(argv: list[str] | None = None) -> int:
    """Run every section, print progress and the tables, write the result files."""
    args = parse_args(argv)
    # Segue's and spotipy's warnings (the injected 429s) would drown the progress lines.
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("spotipy").setLevel(logging.CRITICAL)

    def log(line: str) -> None:
        print(line, flush=True)

    service = {
        "spotify_latency_ms": args.latency_ms,
        "transcription_ms": args.stt_ms,
        "chat_ms": args.chat_ms,
    }
    log(
        f"Service times: Spotify {args.latency_ms:g} ms per request, transcription "
        f"{args.stt_ms:g} ms, model call {args.chat_ms:g} ms"
    )
    results: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, {platform.system()}",
        "quick": args.quick,
        "service_times": service,
        "baseline_settings": BASELINE,
    }
    started = time.perf_counter()
    from tests.support.speech import SpokenCommands

    with tempfile.TemporaryDirectory(prefix="segue-bench-speech-") as tmp:
        spoken = SpokenCommands(Path(tmp))
        bench = start_bench(args.latency_ms, args.stt_ms, args.chat_ms)
        try:
            log(f"1-2. Command classes, {args.reps} run(s) each, ours and baseline:")
            results["classes"] = run_classes(bench, spoken, args.reps, log)
            log("1b. Each technique on its own (ours with just that one turned off):")
            results["techniques"] = run_techniques(bench, spoken, args.reps, log)
            log(f"3. A {args.playlist_size}-song playlist from a list of names:")
            results["playlists"] = run_playlists(bench, args.playlist_size, log)
            log(f"4. Overhead over {args.overhead_commands} fast-path commands:")
            results["overhead"] = run_overhead(bench, args.overhead_commands)
            # Every exchange with the fake checked against OpenAI's published OpenAPI document.
            results["openai_contract_problems"] = bench.fake.problems()
        finally:
            bench.close()
        log("5. Footprint:")
        results["imports"] = import_time(1 if args.quick else 3)
        if args.no_desktop:
            results["tray"] = None
        else:
            results["tray"] = tray_footprint(args.idle_seconds, log)
        if args.no_local_speech:
            results["local_speech"] = None
        else:
            log("6. Local speech:")
            texts = SPEECH_COMMANDS[:2] if args.quick else SPEECH_COMMANDS
            results["local_speech"] = local_speech(spoken, texts, log)
        log("7. Local control (this computer's app over MPRIS against the Web API):")
        results["local_control"] = run_local_control(1 if args.quick else 20, args.latency_ms, log)
        log("8. Playlists built while the model writes (streamed answers against plain ones):")
        results["streaming"] = run_streaming(
            1 if args.quick else 3,
            (10,) if args.quick else SIZES,
            (args.latency_ms,) if args.quick else LATENCIES_MS,
            first_token_ms=args.first_token_ms,
            tokens_per_s=args.tokens_per_s,
            log=log,
        )
    if args.no_local_speech:
        results["rescoring"] = None
    else:
        log("9. Checking a misheard command against its recording (closest sentences, all):")
        misheard = MISHEARD[:1] if args.quick else MISHEARD
        results["rescoring"] = run_rescoring(1 if args.quick else 5, misheard, log)
    results["harness_seconds"] = round(time.perf_counter() - started, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    markdown = report.markdown(results)
    (args.out / "results.md").write_text(markdown, encoding="utf-8")
    (args.out / "results.json").write_text(
        json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    log("")
    log(markdown)
    log(f"Written: {args.out / 'results.md'}, {args.out / 'results.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

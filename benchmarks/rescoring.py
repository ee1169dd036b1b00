"""What checking a misheard command against its recording costs: the closest sentences against all.

``python -m benchmarks.rescoring [--reps N] [--out DIR]`` (also section 9 of ``python -m
benchmarks``). Spoken commands the bundled tiny.en model writes as something that is not a
command ("Cephalon." for "shuffle on") are checked against the grammar's sentences with the
local model's forced scoring (``assistant.voice.rescore``), as the pipeline does. Two variants,
in the same run, alternately, on the same recordings and transcripts:

- *ours*: Segue now: the ``SPOKEN_LIMIT`` spoken commands and ``NAMED_LIMIT`` name-bearing
  sentences closest to the transcript, with the echoes, and only the words of the recording
  with a little around them;
- *baseline*: the design before: every spoken command and the 20 closest name-bearing
  sentences, with the echoes, and the whole recording.

Each recording is scored twice per variant: as made (half a second of silence at each end) and
as a held hotkey records it (3 s of silence before and after). The figures are the median time
of ``ForcedScorer.choose`` (encoding included, the model loaded before), the number of
sentences scored, and what the pipeline then acts on (``hearing.decide``), for both variants.
The person's names are a regular listener's (``tests/voice_speech/corpora.HISTORY``), and the
recogniser is given them as the pipeline gives them.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script: the section uses the tests' voices
    sys.path.insert(0, str(REPO))

from assistant.agent import hearing  # noqa: E402
from assistant.agent.grammar import Names  # noqa: E402
from assistant.voice.audio import Recording  # noqa: E402
from assistant.voice.rescore import Choice, ForcedScorer  # noqa: E402
from assistant.voice.stt import LocalWhisper  # noqa: E402
from benchmarks import report  # noqa: E402
from tests.support.voices import ESPEAK_US, PIPER_JOE, Voice, Voices  # noqa: E402
from tests.voice_speech.corpora import HISTORY  # noqa: E402

# (voice, said): commands tiny.en writes as no command, so the pipeline checks them.
MISHEARD: tuple[tuple[Voice, str], ...] = (
    (PIPER_JOE, "shuffle on"),
    (PIPER_JOE, "pause"),
    (PIPER_JOE, "skip"),
    (PIPER_JOE, "queue billie jean"),
    (ESPEAK_US, "unmute"),
    (ESPEAK_US, "add billie jean to the queue"),
    (ESPEAK_US, "play the album Thriller"),
)
BASELINE_SPOKEN = 10**6  # every spoken command
BASELINE_NAMED = 20
HELD_SILENCE_S = 3.0


def regular_listener() -> Names:
    """A regular listener's names: the history's songs and artists, the demo's playlists."""
    tracks = tuple((title, artist) for title, _, artist in (h.rpartition(" by ") for h in HISTORY))
    return Names(
        playlists=("Deep Work", "Chill Vibes", "Focus Piano", "Morning Run"),
        artists=tuple(dict.fromkeys(artist for _, artist in tracks)),
        tracks=tracks,
        devices=("Pixel 8",),
    )


def _heard(transcript: str, choice: Choice) -> str | None:
    """What the pipeline acts on after this scoring (``hearing.decide``); None: the transcript."""
    heard = hearing.decide(
        transcript,
        {c.text: c.mean_log_prob for c in choice.ranked},
        choice.accepted.text if choice.accepted is not None else None,
        choice.transcript.mean_log_prob,
        log_probs={c.text: c.log_prob for c in choice.ranked},
        transcript_log_prob=choice.transcript.log_prob,
    )
    if heard.options:
        return " or ".join(heard.options) + "?"
    return None if heard.text == transcript else heard.text


def _held(rec: Recording) -> Recording:
    quiet = b"\0\0" * int(HELD_SILENCE_S * rec.sample_rate)
    return Recording(quiet + rec.pcm + quiet, rec.sample_rate)


def run_rescoring(
    reps: int,
    misheard: Sequence[tuple[Voice, str]] = MISHEARD,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Each misheard command, both variants, as made and held, ``reps`` timed runs each.

    Returns:
        ``rows`` (per command: the transcript, per variant the sentences scored, the median
        milliseconds as made and held, the sentence taken) and the medians over all rows.
    """
    whisper = LocalWhisper()
    whisper.warm()
    names = regular_listener()
    scorers = {
        "ours": ForcedScorer(whisper),
        "baseline": ForcedScorer(whisper, trim_silence=False),
    }
    rows = []
    with tempfile.TemporaryDirectory(prefix="segue-bench-rescoring-") as tmp:
        voices = Voices(Path(tmp))
        for voice, said in misheard:
            rec = voices(voice, said)
            prompt = [*names.playlists, *names.artists, *names.devices]
            transcript = whisper.transcribe(rec, vocabulary=prompt).text
            sentences = {
                "ours": hearing.candidates(transcript, names),
                "baseline": hearing.candidates(
                    transcript, names, spoken_limit=BASELINE_SPOKEN, named_limit=BASELINE_NAMED
                ),
            }
            row: dict[str, Any] = {"voice": voice.name, "said": said, "heard": transcript}
            times: dict[tuple[str, str], list[float]] = {}
            taken: dict[str, str | None] = {}
            for name, scorer in scorers.items():
                scorer.choose(rec, sentences[name], transcript)  # the first call tokenises
            for _ in range(reps):
                for name, scorer in scorers.items():
                    for how, audio in (("made", rec), ("held", _held(rec))):
                        started = time.perf_counter()
                        choice = scorer.choose(audio, sentences[name], transcript)
                        times.setdefault((name, how), []).append(time.perf_counter() - started)
                        if how == "made":
                            taken[name] = _heard(transcript, choice)
            for name in scorers:
                row[name] = {
                    "sentences": len(sentences[name]),
                    "made_ms": round(statistics.median(times[(name, "made")]) * 1000, 1),
                    "held_ms": round(statistics.median(times[(name, "held")]) * 1000, 1),
                    "taken": taken[name],
                }
            row["same"] = taken["ours"] == taken["baseline"]
            rows.append(row)
            ours, base = row["ours"], row["baseline"]
            differs = "" if row["same"] else f", baseline {base['taken']!r}"
            log(
                f"  {said!r} heard {transcript!r}: ours {ours['sentences']} sentences "
                f"{ours['made_ms']:.0f} ms (held {ours['held_ms']:.0f}), baseline "
                f"{base['sentences']} {base['made_ms']:.0f} ms (held {base['held_ms']:.0f}); "
                f"took {ours['taken']!r}{differs}"
            )
    medians = {
        f"{name}_{how}_ms": round(statistics.median(r[name][f"{how}_ms"] for r in rows), 1)
        for name in scorers
        for how in ("made", "held")
    }
    return {
        "reps": reps,
        "rows": rows,
        "medians": medians,
        "all_same": all(r["same"] for r in rows),
    }


def markdown_lines(results: dict[str, Any]) -> list[str]:
    """The section as Markdown lines."""
    m = results["medians"]
    lines = [
        "## Checking a misheard command against its recording",
        "",
        "The local model's forced scoring of the grammar's sentences, for spoken commands tiny.en "
        "writes as no command (a regular listener's names). *ours*: the closest "
        f"{hearing.SPOKEN_LIMIT} spoken commands and {hearing.NAMED_LIMIT} named sentences, with "
        "the echoes, the words only; *baseline*: every spoken command and the 20 closest named "
        "sentences, the whole recording. Median of "
        f"{results['reps']} run(s), both variants alternately in the same run; *held*: the same "
        f"recording with {HELD_SILENCE_S:g} s of silence before and after.",
        "",
        "| said | heard | sentences, ours / baseline | ours ms (held) | baseline ms (held) "
        "| ratio | acted on (ours) | same |",
        "|---|---|--:|--:|--:|--:|---|---|",
    ]
    for row in results["rows"]:
        ours, base = row["ours"], row["baseline"]
        ratio = ours["made_ms"] / base["made_ms"] if base["made_ms"] else 0.0
        lines.append(
            f"| {row['said']} ({row['voice']}) | {row['heard']} | {ours['sentences']} / "
            f"{base['sentences']} | {ours['made_ms']:.0f} ({ours['held_ms']:.0f}) | "
            f"{base['made_ms']:.0f} ({base['held_ms']:.0f}) | {ratio:.2f} | "
            f"{ours['taken'] or 'the transcript'} | {'yes' if row['same'] else 'no'} |"
        )
    lines += [
        "",
        f"Medians: ours {m['ours_made_ms']:.0f} ms ({m['ours_held_ms']:.0f} held), baseline "
        f"{m['baseline_made_ms']:.0f} ms ({m['baseline_held_ms']:.0f} held).",
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    """Run the section alone and write ``rescoring.md`` and ``rescoring.json``."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.rescoring", description=__doc__)
    parser.add_argument("--reps", type=int, default=5, help="timed runs per variant")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks", help="where files go")
    args = parser.parse_args(argv)
    report.quiet_logs()
    print(f"Checking misheard commands against their recordings, {args.reps} run(s):")
    results = run_rescoring(args.reps)
    print(report.write_section(args.out, "rescoring", results, markdown_lines(results)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

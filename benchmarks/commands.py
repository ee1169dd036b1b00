"""Sections 1-4: commands through Segue's own pipeline, ours against the naive baseline.

Both variants are built by ``assistant.app.build_assistant`` from :class:`Settings`; the baseline
differs only by the settings in :data:`BASELINE`. Spotify is the simulator (``latency_ms`` per
request) and OpenAI the scripted fake (``service_time_ms`` per transcription and chat request),
both over real HTTP on 127.0.0.1. The fake's script holds the steps a model would take for each
command class, so the model's decisions are fixed and only Segue's design varies.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.app import Assistant, build_assistant
from assistant.config import Settings
from assistant.pipeline import Utterance
from assistant.secrets import MemoryKeyring, SecretStore
from assistant.sim import SIM_CLIENT_ID, Exchange, Fault, SimulatedSpotify
from assistant.voice.audio import Recording
from tests.fakes.openai_server import FakeOpenAI, ToolCall

REPO = Path(__file__).resolve().parents[1]
CATALOG = REPO / "resources" / "sim" / "catalog.json"

# The original prototypes' design, made from the same code by settings.
BASELINE: dict[str, Any] = {
    "fast_path": False,
    "compose_replies": False,
    "devices_before_play": True,
    "search_concurrency": 1,
    "connection_reuse": False,
    "openai_stream": "off",
}
CALM_ARTISTS = ("Erik Satie", "Ludovico Einaudi", "Nils Frahm", "Max Richter", "Ólafur Arnalds")
OVERHEAD_COMMANDS = ("pause", "resume", "volume 40", "next", "play Creep by Radiohead", "louder")


@dataclass(frozen=True)
class CommandClass:
    """One kind of command: what is said, and what the model does with it.

    Attributes:
        key: Short name used in the tables.
        title: What it stands for.
        text: The words spoken (espeak-ng) and transcribed.
        fast_path: Whether Segue's fast path handles it (no model call in ours).
        steps: The model's answers for ours: tool calls, or a plain text answer (an ``ask``).
        final: The baseline's extra answer that phrases the reply.
    """

    key: str
    title: str
    text: str
    fast_path: bool
    steps: tuple[tuple[str, Any], ...]
    final: str


@dataclass
class Run:
    """One measured command."""

    total_ms: float
    stt_ms: float
    llm_ms: float
    spotify_ms: float
    model_calls: int
    spotify_calls: int
    bytes_up: int
    request_bytes: list[int]
    ok: bool
    reply: str
    problem: str | None = None

    @property
    def ours_ms(self) -> float:
        """What is left for Segue's own code: total minus speech, model and Spotify time."""
        return max(0.0, self.total_ms - self.stt_ms - self.llm_ms - self.spotify_ms)


@dataclass
class Bench:
    """The simulator, the fake OpenAI server, and the two variants built against them."""

    sim: SimulatedSpotify
    fake: FakeOpenAI
    ours: Assistant
    baseline: Assistant
    computer_id: str
    tracks: list[tuple[str, str, str]]  # (title, artist, uri), simple unique titles
    stamps: list[tuple[float, Exchange]]  # when the simulator answered each exchange
    closers: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        """Close both variants and stop the servers."""
        while self.closers:
            self.closers.pop()()


def catalog_tracks() -> list[tuple[str, str, str]]:
    """Catalog tracks whose titles are plain and unique, as (title, artist, uri)."""
    data = json.loads(CATALOG.read_text(encoding="utf-8"))
    artists = {a["id"]: a["name"] for a in data["artists"]}
    seen: dict[str, int] = {}
    rows = []
    for album in data["albums"]:
        for track in album["tracks"]:
            title = track["name"]
            seen[title.casefold()] = seen.get(title.casefold(), 0) + 1
            rows.append((title, artists[track["artist_ids"][0]], f"spotify:track:{track['id']}"))
    plain = [
        row
        for row in rows
        if seen[row[0].casefold()] == 1
        and all(c.isalnum() or c in " '" for c in row[0])
        and len(row[0]) > 3
    ]
    # Spread over the catalog: every other album's tracks first, so lists mix artists.
    return plain[::3] + plain[1::3] + plain[2::3]


def command_classes(tracks: Sequence[tuple[str, str, str]]) -> list[CommandClass]:
    """The five classes of the issue, with the tool calls a model would make."""
    calm = [f"{t} by {a}" for t, a, _ in tracks if a in CALM_ARTISTS][:10]
    play = {
        "query": "Bohemian Rhapsody",
        "kind": "track",
        "artist": "Queen",
        "result_number": None,
        "device": None,
        "shuffle": None,
    }
    return [
        CommandClass(
            "pause",
            'fast path: control ("pause")',
            "pause",
            True,
            (("tools", [("pause", {})]),),
            "Paused.",
        ),
        CommandClass(
            "play_by",
            'fast path: "play X by Y"',
            "play Bohemian Rhapsody by Queen",
            True,
            (("tools", [("play", play)]),),
            "Playing Bohemian Rhapsody by Queen.",
        ),
        CommandClass(
            "described",
            "LLM: play a described song",
            "play that Queen song about Galileo",
            False,
            (("tools", [("play", play)]),),
            "Playing Bohemian Rhapsody by Queen.",
        ),
        CommandClass(
            "mood_playlist",
            "LLM: playlist of 10 from a mood",
            "make a playlist of ten calm piano pieces",
            False,
            (
                (
                    "tools",
                    [
                        (
                            "create_playlist",
                            {
                                "name": "Calm Piano",
                                "tracks": calm,
                                "description": None,
                                "public": False,
                            },
                        )
                    ],
                ),
            ),
            "I made Calm Piano with ten calm piano pieces.",
        ),
        CommandClass(
            "about_music",
            "LLM: a question about the music",
            "what is this song about",
            False,
            (
                (
                    "tools",
                    [("about_music", {"subject": "track", "question": "meaning", "query": None})],
                ),
                ("text", "It is about the joy and sadness of an ordinary day."),
            ),
            "It's about the joy and sadness of an ordinary day.",
        ),
    ]


def build_variant(
    sim: SimulatedSpotify, fake: FakeOpenAI, overrides: dict[str, Any] | None = None
) -> Assistant:
    """Segue as the app builds it, signed in to the simulator, using the fake for OpenAI."""
    settings = Settings(
        spotify_client_id=SIM_CLIENT_ID,
        spotify_api_url=sim.api_url,
        spotify_accounts_url=sim.accounts_url,
        openai_base_url=fake.base_url,
        stt="openai",
        tts="off",
        cues=False,
        ducking=False,
        notifications=False,
        # These sections time the Web API path; section 7 (benchmarks/local_control.py) sets
        # this computer's app against it. Off here, a Spotify playing on the desktop's own bus
        # is never driven by a benchmark.
        local_control=False,
        **(overrides or {}),
    )
    secrets = SecretStore(MemoryKeyring())
    secrets.save_spotify_refresh_token(sim.sign_in()["refresh_token"], new_sign_in=True)
    return build_assistant(
        settings, data_dir=None, secrets=secrets, environ={"OPENAI_API_KEY": "sk-benchmark"}
    )


def start_bench(latency_ms: float, stt_ms: float, chat_ms: float) -> Bench:
    """Start the simulator and the fake, and build ours and the baseline against them."""
    stamps: list[tuple[float, Exchange]] = []
    sim = SimulatedSpotify(
        CATALOG,
        latency_ms=latency_ms,
        computer_name="Benchmark PC",
        on_exchange=lambda exchange: stamps.append((time.monotonic(), exchange)),
    ).start()
    fake = FakeOpenAI(service_time_ms={"transcription": stt_ms, "chat": chat_ms}).start()
    ours = build_variant(sim, fake)
    baseline = build_variant(sim, fake, BASELINE)
    computer = next(d for d in sim.devices if d["type"] == "Computer")
    bench = Bench(sim, fake, ours, baseline, computer["id"], catalog_tracks(), stamps)
    bench.closers += [sim.stop, fake.stop, ours.close, baseline.close]
    return bench


def _script(
    fake: FakeOpenAI,
    cls: CommandClass,
    *,
    baseline: bool,
    spoken: bool,
    fast_path: bool | None = None,
    compose_replies: bool | None = None,
) -> None:
    """Script the fake for one command; the two model-facing settings default to the variant's."""
    fast_path = not baseline if fast_path is None else fast_path
    compose_replies = not baseline if compose_replies is None else compose_replies
    if spoken:
        fake.transcription(cls.text)
    if cls.fast_path and fast_path:
        return
    for kind, value in cls.steps:
        if kind == "tools":
            calls: list[ToolCall] = list(value)
            fake.chat(tool_calls=calls)
        else:
            fake.chat(str(value))
    if not compose_replies:
        fake.chat(cls.final)


def _api(exchanges: Sequence[Exchange]) -> list[Exchange]:
    return [e for e in exchanges if e.path.startswith("/v1/")]


def ensure_playing(bench: Bench, variant: Assistant) -> None:
    """Set the scene outside the measurement: a song plays on the computer."""
    uri = bench.tracks[0][2]
    variant.spotify.play(uris=[uri], device_id=bench.computer_id)


def measure(
    bench: Bench,
    variant: Assistant,
    utterance: Utterance,
    *,
    warm: bool,
) -> Run:
    """Run one command through the pipeline and read what it cost from both servers."""
    fake, sim = bench.fake, bench.sim
    if warm:
        # What the tray does when recording starts: refresh the token, fetch the vocabulary,
        # open the connections. The words are not known yet, so this is not on the clock.
        variant.auth.warm_up()
        variant.pipeline.warm_up()
    requests_before = len(fake.requests)
    exchanges_before = len(sim.exchanges)
    started = time.perf_counter()
    reply = variant.pipeline.handle(utterance)
    total = (time.perf_counter() - started) * 1000
    chats = [r for r in fake.requests[requests_before:] if r.endpoint == "chat"]
    timings = reply.timings
    unexpected = [r for r in fake.requests[requests_before:] if r.step is None]
    if unexpected or fake.remaining_steps:
        # The model's script no longer matches what Segue asks: the figures would be wrong.
        raise RuntimeError(
            f"the fake OpenAI script did not fit {utterance.text or 'the spoken command'!r}: "
            f"{len(unexpected)} unexpected request(s), {fake.remaining_steps} step(s) unused; "
            f"reply: {reply.text}"
        )
    problem = None if reply.ok else f"not done: {reply.text}"
    return Run(
        total_ms=total,
        stt_ms=timings.stt,
        llm_ms=timings.llm,
        spotify_ms=timings.spotify,
        model_calls=timings.llm_calls,
        spotify_calls=len(_api(sim.exchanges[exchanges_before:])),
        bytes_up=timings.bytes_to_openai,
        request_bytes=[r.size for r in chats],
        ok=reply.ok,
        reply=reply.text,
        problem=problem,
    )


def run_classes(
    bench: Bench,
    recordings: Callable[[str], Recording],
    reps: int,
    log: Callable[[str], None],
) -> list[dict[str, Any]]:
    """Section 1 and 2: every class, ours and baseline alternating, ``reps`` times each."""
    results = []
    for cls in command_classes(bench.tracks):
        audio = recordings(cls.text)
        per_variant: dict[str, list[Run]] = {"ours": [], "baseline": []}
        for _ in range(reps):
            for name, variant in (("ours", bench.ours), ("baseline", bench.baseline)):
                ensure_playing(bench, variant)
                _script(bench.fake, cls, baseline=name == "baseline", spoken=True)
                run = measure(
                    bench,
                    variant,
                    Utterance(text=None, audio=audio, source="benchmark"),
                    warm=name == "ours",
                )
                per_variant[name].append(run)
                log(
                    f"  {cls.key:14} {name:8} {run.total_ms:7.0f} ms  model {run.model_calls}"
                    f"  spotify {run.spotify_calls}"
                    + (f"  PROBLEM: {run.problem}" if run.problem else "")
                )
        results.append(
            {
                "key": cls.key,
                "title": cls.title,
                "text": cls.text,
                "audio_s": round(audio.duration_s, 2),
                "ours": summarise(per_variant["ours"]),
                "baseline": summarise(per_variant["baseline"]),
            }
        )
        ours, base = results[-1]["ours"], results[-1]["baseline"]
        results[-1]["ratio"] = round(ours["total_ms"] / base["total_ms"], 3)
    return results


# Each technique alone: ours with just that one setting as the baseline has it.
TECHNIQUES: dict[str, dict[str, Any]] = {
    "fast path": {"fast_path": False},
    "reply composed from tool results": {"compose_replies": False},
    "no device list before play": {"devices_before_play": True},
    "concurrent searches": {"search_concurrency": 1},
    "connection reuse": {"connection_reuse": False},
    "warm-up when recording starts": {},
}


def run_techniques(
    bench: Bench,
    recordings: Callable[[str], Recording],
    reps: int,
    log: Callable[[str], None],
) -> list[dict[str, Any]]:
    """Each technique's own effect: every class with only that technique turned off.

    Returns one row per technique with, per class, the median total without it; the report
    compares it with ours (all techniques on).
    """
    rows = []
    classes = command_classes(bench.tracks)
    for name, overrides in TECHNIQUES.items():
        variant = build_variant(bench.sim, bench.fake, overrides) if overrides else bench.ours
        if overrides:
            bench.closers.append(variant.close)
        per_class: dict[str, float] = {}
        for cls in classes:
            audio = recordings(cls.text)
            totals = []
            for _ in range(reps):
                ensure_playing(bench, variant)
                _script(
                    bench.fake,
                    cls,
                    baseline=False,
                    spoken=True,
                    fast_path=overrides.get("fast_path", True),
                    compose_replies=overrides.get("compose_replies", True),
                )
                run = measure(
                    bench,
                    variant,
                    Utterance(text=None, audio=audio, source="benchmark"),
                    warm=bool(overrides),
                )
                totals.append(run.total_ms)
            per_class[cls.key] = round(statistics.median(totals), 1)
        log(f"  without {name}: " + ", ".join(f"{k} {v:.0f} ms" for k, v in per_class.items()))
        rows.append({"technique": name, "without": overrides, "total_ms": per_class})
    return rows


def summarise(runs: Sequence[Run]) -> dict[str, Any]:
    """Medians of the times, the counts of the median run, and any problems."""

    def med(values: Sequence[float]) -> float:
        return round(statistics.median(values), 1)

    middle = sorted(runs, key=lambda r: r.total_ms)[len(runs) // 2]
    return {
        "runs": len(runs),
        "total_ms": med([r.total_ms for r in runs]),
        "stt_ms": med([r.stt_ms for r in runs]),
        "llm_ms": med([r.llm_ms for r in runs]),
        "spotify_ms": med([r.spotify_ms for r in runs]),
        "ours_ms": med([r.ours_ms for r in runs]),
        "model_calls": middle.model_calls,
        "spotify_calls": middle.spotify_calls,
        "bytes_up": middle.bytes_up,
        "model_request_bytes": middle.request_bytes,
        "reply": middle.reply,
        "problems": [r.problem for r in runs if r.problem],
    }


# --- section 3: a playlist from a list of names ---------------------------------------------


def run_playlists(bench: Bench, size: int, log: Callable[[str], None]) -> list[dict[str, Any]]:
    """Section 3: a playlist of ``size`` songs by name, without and with injected 429s."""
    songs = bench.tracks[:size]
    names = [f"{title} by {artist}" for title, artist, _ in songs]
    results = []
    for faults in (False, True):
        row: dict[str, Any] = {"faults": "429 on 10%" if faults else "none", "songs": size}
        for name, variant in (("ours", bench.ours), ("baseline", bench.baseline)):
            playlist = f"Benchmark {size} {'faults' if faults else 'clean'} {name}"
            call = {"name": playlist, "tracks": names, "description": None, "public": False}
            bench.fake.chat(tool_calls=[("create_playlist", call)])
            if name == "baseline":
                bench.fake.chat(f"I made {playlist} with {size} songs.")
            if faults:
                bench.sim.add_fault(
                    Fault(
                        path=r"/v1/.*",
                        status=429,
                        headers={"Retry-After": "1"},
                        times=None,
                        probability=0.1,
                    )
                )
            before = len(bench.sim.exchanges)
            stamps_before = len(bench.stamps)
            # The names are in the model's call; a command holds at most 1,000 characters.
            text = f"make a playlist called {playlist} with these {size} songs"
            run = measure(bench, variant, Utterance(text=text), warm=name == "ours")
            bench.sim.clear_faults()
            exchanges = _api(bench.sim.exchanges[before:])
            stamped = [(t, e) for t, e in bench.stamps[stamps_before:] if e.path.startswith("/v1/")]
            row[name] = {
                "total_ms": round(run.total_ms, 1),
                "spotify_ms": round(run.spotify_ms, 1),
                "llm_ms": round(run.llm_ms, 1),
                "spotify_calls": run.spotify_calls,
                "model_calls": run.model_calls,
                "ok": run.ok,
                "problem": run.problem,
                **_playlist_checks(bench, playlist, exchanges, stamped),
            }
            log(
                f"  playlist {size} ({row['faults']}) {name:8} {run.total_ms:7.0f} ms "
                f"spotify {run.spotify_calls} 429s {row[name]['rate_limited']}"
                + (f"  PROBLEM: {run.problem}" if run.problem else "")
            )
        row["ratio"] = round(row["ours"]["total_ms"] / row["baseline"]["total_ms"], 3)
        row["spotify_ratio"] = round(
            row["ours"]["spotify_ms"] / max(1.0, row["baseline"]["spotify_ms"]), 3
        )
        results.append(row)
    return results


def _playlist_checks(
    bench: Bench,
    name: str,
    exchanges: Sequence[Exchange],
    stamped: Sequence[tuple[float, Exchange]],
) -> dict[str, Any]:
    """Did it finish, without duplicates, and was every 429 answered by a wait?"""
    snapshot = bench.sim.snapshot()
    found = [p for p in snapshot["playlists"].values() if p["name"] == name]
    uris: list[str] = found[0]["track_uris"] if found else []
    limited = [e for e in exchanges if e.status == 429]
    return {
        "playlists_created": len(found),
        "tracks_in_playlist": len(uris),
        "duplicates": len(uris) - len(set(uris)),
        "rate_limited": len(limited),
        # Every 429 must be followed by the same request again (the client waited and resent).
        **_retry_after_respected(stamped, bench.sim.latency_ms / 1000),
    }


def _retry_after_respected(
    stamped: Sequence[tuple[float, Exchange]], latency_s: float
) -> dict[str, Any]:
    """Whether each 429's request was sent again, and no sooner than its Retry-After.

    The simulator stamps an exchange when it answers, ``latency`` after the request arrived, so
    a resend arrived at ``stamp - latency``; it must not come before ``429 stamp + Retry-After``.
    """
    resent = 0
    shortest: float | None = None
    for n, (at, exchange) in enumerate(stamped):
        if exchange.status != 429:
            continue
        wanted = float(exchange.response_headers.get("retry-after", "1"))
        key = (exchange.method, exchange.path, exchange.query, exchange.request_body)
        for later_at, later in stamped[n + 1 :]:
            if (later.method, later.path, later.query, later.request_body) == key:
                resent += 1
                waited = later_at - latency_s - at
                margin = waited - wanted
                shortest = margin if shortest is None else min(shortest, margin)
                break
    limited = sum(1 for _, e in stamped if e.status == 429)
    return {
        "resent_after_429": resent,
        # Allow 20 ms for clock granularity and the simulator's own work.
        "retry_after_respected": resent == limited and (shortest is None or shortest > -0.02),
        "shortest_wait_margin_ms": None if shortest is None else round(shortest * 1000, 1),
    }


# --- section 4: our own overhead -------------------------------------------------------------


def run_overhead(bench: Bench, count: int) -> dict[str, Any]:
    """Section 4: typed fast-path commands with Spotify answering at once (latency 0)."""
    latency = bench.sim.latency_ms
    bench.sim.latency_ms = 0
    try:
        ensure_playing(bench, bench.ours)
        times: list[float] = []
        calls = 0
        for n in range(count):
            text = OVERHEAD_COMMANDS[n % len(OVERHEAD_COMMANDS)]
            run = measure(bench, bench.ours, Utterance(text=text, source="benchmark"), warm=False)
            times.append(run.total_ms)
            calls += run.spotify_calls
    finally:
        bench.sim.latency_ms = latency
    times.sort()
    return {
        "commands": count,
        "p50_ms": round(_percentile(times, 50), 2),
        "p95_ms": round(_percentile(times, 95), 2),
        "max_ms": round(times[-1], 2),
        "spotify_calls_per_command": round(calls / count, 2),
    }


def _percentile(values: Sequence[float], pct: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * pct / 100
    low = int(k)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)

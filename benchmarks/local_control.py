"""Local control: transport commands through this computer's app (MPRIS) against the Web API.

``python -m benchmarks.local_control [--reps N] [--latency-ms MS] [--out DIR]`` (also section 7 of
``python -m benchmarks``). Both variants are Segue as ``assistant.app.build_assistant`` builds it,
typed commands through the real ``Pipeline``, against one simulated Spotify (``latency_ms`` per
request) whose Computer app is served over MPRIS on a private D-Bus session bus: one variant with
``local_control = true`` (the default), one with ``false``. Each repetition sets the scene outside
the clock (a song plays on the computer) and times one command in each variant, alternately, so
the machine's noise falls on both alike. Then the Web API's player endpoints answer 503 and
"pause" is tried once more in each.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script
    sys.path.insert(0, str(REPO))

from assistant.app import Assistant, build_assistant  # noqa: E402
from assistant.config import Settings  # noqa: E402
from assistant.pipeline import Utterance  # noqa: E402
from assistant.secrets import MemoryKeyring, SecretStore  # noqa: E402
from assistant.sim import SIM_CLIENT_ID, Fault, SimulatedSpotify  # noqa: E402
from assistant.sim.mpris import MprisService, PrivateSessionBus  # noqa: E402

CATALOG = REPO / "resources" / "sim" / "catalog.json"
COMMANDS = ("pause", "next", "what's playing")
VARIANTS = ("app", "web")  # local_control true / false


@contextmanager
def _session_bus_address(address: str) -> Iterator[None]:
    """Point ``DBUS_SESSION_BUS_ADDRESS`` at the private bus while the variants run."""
    before = os.environ.get("DBUS_SESSION_BUS_ADDRESS")
    os.environ["DBUS_SESSION_BUS_ADDRESS"] = address
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("DBUS_SESSION_BUS_ADDRESS", None)
        else:
            os.environ["DBUS_SESSION_BUS_ADDRESS"] = before


def _variant(sim: SimulatedSpotify, local_control: bool) -> Assistant:
    settings = Settings(
        spotify_client_id=SIM_CLIENT_ID,
        spotify_api_url=sim.api_url,
        spotify_accounts_url=sim.accounts_url,
        local_control=local_control,
        tts="off",
        cues=False,
        ducking=False,
        notifications=False,
    )
    secrets = SecretStore(MemoryKeyring())
    secrets.save_spotify_refresh_token(sim.sign_in()["refresh_token"], new_sign_in=True)
    return build_assistant(settings, data_dir=None, secrets=secrets, environ={})


def _player_requests(sim: SimulatedSpotify, since: int) -> int:
    return sum(e.path.startswith("/v1/me/player") for e in sim.exchanges[since:])


def _timed(sim: SimulatedSpotify, variant: Assistant, text: str) -> tuple[float, int, bool, str]:
    """One command: milliseconds, Web API player requests, whether it was done, the reply."""
    before = len(sim.exchanges)
    started = time.perf_counter()
    reply = variant.pipeline.handle(Utterance(text=text, source="benchmark"))
    ms = (time.perf_counter() - started) * 1000
    return ms, _player_requests(sim, before), reply.ok, reply.text


def run_local_control(
    reps: int, latency_ms: float, log: Callable[[str], None] = print
) -> dict[str, Any]:
    """Measure each command in both variants ``reps`` times, then "pause" with the Web API down.

    Returns:
        ``latency_ms``, ``reps``, ``commands`` (per command: median ms per variant, their ratio,
        Web API player requests per command per variant) and ``web_api_down``.
    """
    with (
        PrivateSessionBus() as bus,
        SimulatedSpotify(CATALOG, latency_ms=latency_ms, computer_name="Benchmark PC") as sim,
        MprisService(sim.computer_app(), bus.address),
        _session_bus_address(bus.address),
    ):
        variants = {"app": _variant(sim, True), "web": _variant(sim, False)}
        try:
            computer = next(d["id"] for d in sim.devices if d["type"] == "Computer")
            album = next(iter(sim.catalog.albums.values())).uri

            def scene(variant: Assistant) -> None:
                # Outside the clock: an album plays on this computer.
                variant.spotify.play(context_uri=album, device_id=computer)

            rows = []
            for text in COMMANDS:
                times: dict[str, list[float]] = {v: [] for v in VARIANTS}
                requests: dict[str, list[int]] = {v: [] for v in VARIANTS}
                for rep in range(reps + 1):  # the first round warms up (grammar, connections)
                    for name in VARIANTS:
                        scene(variants[name])
                        ms, asked, ok, said = _timed(sim, variants[name], text)
                        if not ok:
                            raise RuntimeError(f"{text!r} failed ({name}): {said}")
                        if rep:
                            times[name].append(ms)
                            requests[name].append(asked)
                medians = {v: statistics.median(times[v]) for v in VARIANTS}
                row = {
                    "command": text,
                    "app_ms": round(medians["app"], 2),
                    "web_ms": round(medians["web"], 2),
                    "ratio": round(medians["app"] / medians["web"], 3),
                    "app_player_requests": max(requests["app"]),
                    "web_player_requests": max(requests["web"]),
                }
                rows.append(row)
                log(
                    f"   {text!r}: app {row['app_ms']:.1f} ms, Web API {row['web_ms']:.1f} ms "
                    f"(ratio {row['ratio']:.3f})"
                )

            down: dict[str, Any] = {}
            for name in VARIANTS:
                scene(variants[name])
                sim.add_fault(Fault(path=r"/v1/me/player.*", status=503, times=None))
                try:
                    ms, asked, ok, said = _timed(sim, variants[name], "pause")
                finally:
                    sim.clear_faults()
                down[name] = {"ms": round(ms, 1), "done": ok, "reply": said, "requests": asked}
            log(
                f"   Web API down, 'pause': app {'done' if down['app']['done'] else 'failed'} "
                f"in {down['app']['ms']:.1f} ms; Web API "
                f"{'done' if down['web']['done'] else 'failed'} after {down['web']['ms']:.0f} ms"
            )
        finally:
            for variant in variants.values():
                variant.close()
    return {"latency_ms": latency_ms, "reps": reps, "commands": rows, "web_api_down": down}


def markdown_lines(results: dict[str, Any]) -> list[str]:
    """The section as Markdown lines."""
    lines = [
        "## Local control: this computer's app (MPRIS) against the Web API",
        "",
        f"Typed commands through the pipeline while a song plays on this computer; Spotify "
        f"{results['latency_ms']:g} ms per request; the app is the simulator's, served over MPRIS "
        f"on a private D-Bus bus. Median of {results['reps']} run(s) each, both measured in the "
        "same run, alternately.",
        "",
        "| command | via the app ms | via the Web API ms | app/Web API | Web API player requests "
        "(app / Web API) |",
        "|---|--:|--:|--:|---|",
    ]
    for row in results["commands"]:
        lines.append(
            f"| {row['command']} | {row['app_ms']:.1f} | {row['web_ms']:.1f} | "
            f"**{row['ratio']:.3f}** | {row['app_player_requests']} / "
            f"{row['web_player_requests']} |"
        )
    down = results["web_api_down"]
    app, web = down["app"], down["web"]
    lines += [
        "",
        f'With the Web API\'s player endpoints answering 503, "pause" through the app: '
        f"{'done' if app['done'] else 'failed'} in {app['ms']:.1f} ms; through the Web API: "
        f"{'done' if web['done'] else 'failed'} after {web['ms']:.0f} ms "
        f"({web['requests']} requests: “{web['reply']}”).",
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    """Run the section alone and write ``local_control.md`` and ``local_control.json``."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.local_control", description=__doc__)
    parser.add_argument("--reps", type=int, default=20, help="runs per command and variant")
    parser.add_argument("--latency-ms", type=float, default=80.0, help="per Spotify request")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks", help="where files go")
    args = parser.parse_args(argv)
    from benchmarks import report

    report.quiet_logs()
    print(f"Local control, {args.reps} run(s), Spotify {args.latency_ms:g} ms per request:")
    results = run_local_control(args.reps, args.latency_ms)
    print(report.write_section(args.out, "local_control", results, markdown_lines(results)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

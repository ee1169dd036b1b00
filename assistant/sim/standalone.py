"""``segue sim``: serve the simulator until interrupted."""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import IO

from assistant.sim.accounts import SIM_CLIENT_ID
from assistant.sim.server import Exchange
from assistant.sim.simulator import SimulatedSpotify


def exchange_to_json(exchange: Exchange) -> str:
    """One exchange as a JSON line; bodies are bytes decoded as latin-1 (lossless)."""
    return json.dumps(
        {
            "method": exchange.method,
            "path": exchange.path,
            "query": exchange.query,
            "request_headers": exchange.request_headers,
            "request_body": exchange.request_body.decode("latin-1"),
            "status": exchange.status,
            "response_headers": exchange.response_headers,
            "response_body": exchange.response_body.decode("latin-1"),
        },
        ensure_ascii=True,
    )


class _ExchangeLog:
    """Appends exchanges to a file, one JSON line each, flushed at once."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] = path.open("a", encoding="utf-8")
        self._lock = threading.Lock()

    def write(self, exchange: Exchange) -> None:
        line = exchange_to_json(exchange)
        with self._lock:
            if not self._file.closed:
                self._file.write(line + "\n")
                self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.close()


def run_standalone(
    *,
    port: int = 0,
    latency_ms: float = 0.0,
    consent: str = "ask",
    exchange_log: Path | None = None,
    announce: Callable[[str], None] = print,
    ready: threading.Event | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Serve the simulator until SIGINT/SIGTERM (or ``stop`` is set), then stop cleanly.

    Args:
        port: Port to listen on; 0 picks a free one.
        latency_ms: Delay added to every request.
        consent: What the sign-in page does: "ask", "approve" or "deny".
        exchange_log: File to append every exchange to as a JSON line (fields as ``Exchange``,
            bodies as latin-1 strings), for contract checks of a subprocess.
        announce: Receives the lines telling where the simulator serves.
        ready: Set once the simulator serves.
        stop: Set it to stop the simulator (from another thread; signals work on the main one).
    """
    log = _ExchangeLog(exchange_log) if exchange_log is not None else None
    stop = stop or threading.Event()
    sim = SimulatedSpotify(
        port=port,
        latency_ms=latency_ms,
        consent=consent,
        keep_exchanges=False,
        on_exchange=log.write if log is not None else None,
    )
    restore: dict[signal.Signals, object] = {}
    if threading.current_thread() is threading.main_thread():

        def on_signal(signum: int, frame: FrameType | None) -> None:
            stop.set()

        for signum in (signal.SIGINT, signal.SIGTERM):
            restore[signum] = signal.signal(signum, on_signal)
    try:
        sim.start()
        announce(f"Simulated Spotify is serving at {sim.base_url}")
        announce(f"  Web API:      {sim.api_url}")
        announce(f"  Accounts:     {sim.accounts_url}")
        announce(f"  Client ID:    {SIM_CLIENT_ID}")
        announce("Press Ctrl+C to stop.")
        if ready is not None:
            ready.set()
        while not stop.wait(0.2):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
        if log is not None:
            log.close()
        for signum, handler in restore.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]

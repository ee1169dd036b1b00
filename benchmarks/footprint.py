"""Sections 5 and 6: the tray process's footprint, the CLI's import time, local speech."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from assistant.voice.audio import Recording

REPO = Path(__file__).resolve().parents[1]
READY_LINE = "Segue is running in the tray"


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return ticks / os.sysconf("SC_CLK_TCK")


def _rss_mb(pid: int) -> tuple[float, float]:
    """Resident memory now and at its peak, in MB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0]) / 1024
    return round(values.get("VmRSS", 0.0), 1), round(values.get("VmHWM", 0.0), 1)


def tray_footprint(idle_seconds: float, log: Callable[[str], None]) -> dict[str, Any]:
    """``segue --demo`` on a virtual desktop: time to the tray icon, idle CPU, memory."""
    from tests.support.desktop import VirtualDesktop

    with tempfile.TemporaryDirectory(prefix="segue-bench-") as tmp:
        home = Path(tmp)
        with VirtualDesktop(home / "desk", tray=True, notifications=True) as desk:
            env = {k: v for k, v in os.environ.items() if not k.startswith(("SEGUE_", "XDG_"))}
            env.pop("OPENAI_API_KEY", None)
            for name in ("CONFIG", "DATA", "STATE", "CACHE"):
                (home / name.lower()).mkdir()
                env[f"XDG_{name}_HOME"] = str(home / name.lower())
            env.update(desk.env)
            env.update({"HOME": str(home), "PYTHONUNBUFFERED": "1", "SEGUE_TTS": "off"})
            lines: queue.Queue[str] = queue.Queue()
            started = time.perf_counter()
            proc = subprocess.Popen(
                [sys.executable, "-m", "assistant", "--demo"],
                cwd=REPO,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )

            def read() -> None:
                assert proc.stdout is not None
                for line in proc.stdout:
                    lines.put(line)
                lines.put("")

            threading.Thread(target=read, daemon=True).start()
            try:
                icon_s = _wait_for(lines, READY_LINE, started, timeout=30)
                log(f"  tray icon after {icon_s:.2f} s; idling {idle_seconds:g} s")
                time.sleep(1.0)  # let the start-up work (first refresh, notification) settle
                cpu_before, idle_started = _cpu_seconds(proc.pid), time.perf_counter()
                time.sleep(idle_seconds)
                cpu = _cpu_seconds(proc.pid) - cpu_before
                idle = time.perf_counter() - idle_started
                rss, peak = _rss_mb(proc.pid)
            finally:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)
    return {
        "icon_s": round(icon_s, 2),
        "idle_seconds": round(idle, 1),
        "idle_cpu_percent": round(100 * cpu / idle, 2),
        "rss_mb": rss,
        "peak_rss_mb": peak,
    }


def _wait_for(lines: queue.Queue[str], text: str, started: float, timeout: float) -> float:
    deadline = started + timeout
    while time.perf_counter() < deadline:
        try:
            line = lines.get(timeout=max(0.01, deadline - time.perf_counter()))
        except queue.Empty:
            break
        if not line:
            raise RuntimeError("segue --demo exited before its tray icon appeared")
        if text in line:
            return time.perf_counter() - started
    raise RuntimeError(f"segue --demo printed no {text!r} within {timeout:g} s")


def import_time(repeats: int = 3) -> dict[str, Any]:
    """``import assistant.cli`` (from -X importtime) and ``segue --version``, best of a few."""
    imports: list[float] = []
    version: list[float] = []
    for _ in range(repeats):
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", "import assistant.cli"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        for line in done.stderr.splitlines():
            found = re.match(r"import time:\s+\d+ \|\s+(\d+) \|\s+assistant\.cli$", line)
            if found:
                imports.append(int(found.group(1)) / 1000)
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "assistant", "--version"],
            cwd=REPO,
            capture_output=True,
            check=True,
            timeout=60,
        )
        version.append((time.perf_counter() - started) * 1000)
    return {
        "import_cli_ms": round(min(imports), 1) if imports else None,
        "version_ms": round(min(version), 1),
    }


def local_speech(
    recordings: Callable[[str], Recording], texts: Sequence[str], log: Callable[[str], None]
) -> dict[str, Any]:
    """LocalWhisper: model load time, and the real-time factor on spoken commands."""
    from assistant.voice.stt import LocalWhisper

    audio = [recordings(text) for text in texts]
    model = LocalWhisper()
    started = time.perf_counter()
    model.warm()
    load_s = time.perf_counter() - started
    rows = []
    for text, rec in zip(texts, audio, strict=True):
        started = time.perf_counter()
        heard = model.transcribe(rec).text
        took = time.perf_counter() - started
        rows.append(
            {
                "said": text,
                "heard": heard,
                "audio_s": round(rec.duration_s, 2),
                "seconds": round(took, 3),
                "rtf": round(took / rec.duration_s, 3),
                "exact": _words(heard) == _words(text),
            }
        )
    total_audio = sum(r["audio_s"] for r in rows)
    total_time = sum(r["seconds"] for r in rows)
    log(f"  local speech: load {load_s:.2f} s, RTF {total_time / total_audio:.3f}")
    return {
        "engine": model.engine,
        "load_s": round(load_s, 2),
        "commands": len(rows),
        "rtf": round(total_time / total_audio, 3),
        "exact": sum(r["exact"] for r in rows),
        "rows": rows,
    }


def _words(text: str) -> list[str]:
    return re.sub(r"[^\w\s]", " ", text.casefold()).split()

"""Runs a ``Hotkey`` in its own process and reports what it does, one JSON object per line.

The test process never imports pynput: its X11 backend opens the display named by ``DISPLAY``
on import, so each probe starts with the virtual desktop's ``DISPLAY`` already in place.

    python hotkey_probe.py COMBO MODE
    -> {"event": "ready"} | {"event": "unavailable", "reason": ...}
    -> {"event": "start", "t": <time.monotonic()>} / {"event": "stop", "t": ...} ...
    (stdin closes) -> {"event": "stopped", "join_s": <seconds stop() took>, "running": bool,
                       "threads": [names of threads still alive], "raw_presses": int}
"""

from __future__ import annotations

import json
import sys
import threading
import time

from assistant.desktop.hotkey import Hotkey, HotkeyUnavailable

_lock = threading.Lock()


class CountingHotkey(Hotkey):
    """A ``Hotkey`` that also counts the raw key presses pynput delivered.

    Auto-repeat shows up as more presses than keys.
    """

    raw_presses = 0

    def _pressed(self, key: object, injected: bool = False) -> None:
        self.raw_presses += 1
        super()._pressed(key, injected)


def emit(**fields: object) -> None:
    with _lock:
        sys.stdout.write(json.dumps(fields) + "\n")
        sys.stdout.flush()


def main() -> int:
    combo, mode = sys.argv[1], sys.argv[2]
    hotkey = CountingHotkey(
        combo,
        mode=mode,  # type: ignore[arg-type]
        on_start=lambda: emit(event="start", t=time.monotonic()),
        on_stop=lambda: emit(event="stop", t=time.monotonic()),
    )
    try:
        hotkey.start()
    except HotkeyUnavailable as err:
        emit(event="unavailable", reason=err.reason)
        return 0
    emit(event="ready")
    sys.stdin.read()  # until the test closes our stdin
    began = time.monotonic()
    hotkey.stop()
    threads = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
    emit(
        event="stopped",
        join_s=time.monotonic() - began,
        running=hotkey.running,
        threads=threads,
        raw_presses=hotkey.raw_presses,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

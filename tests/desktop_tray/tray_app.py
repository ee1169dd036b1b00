"""A Segue tray in demo mode for the tests: callbacks print JSON lines, stdin drives it.

Run as ``python tests/desktop_tray/tray_app.py`` on a (virtual) desktop. Every event is one JSON
object on stdout: ``{"event": "running"}`` just before ``Tray.run``, ``{"event": "shown", ...}``
from the setup callback, then one line per menu callback (``talk``, ``type``, ``device``,
``speak_replies``, ``settings``, ``sign_in``, ``sign_out``, ``quit``) and ``{"event": "stopped"}``
when ``run`` returns. Each stdin line is a command:
``{"cmd": "state", "value": "listening"}``, ``{"cmd": "now_playing", "value": "..."}``,
``{"cmd": "devices", "value": [{"id", "name", "active"}]}``,
``{"cmd": "signed_in", "value": true}``, ``{"cmd": "notify", "value": {"title", "body"}}``,
``{"cmd": "tooltip"}`` (answers ``{"event": "tooltip", "value": ...}``) and ``{"cmd": "stop"}``.
Every command is acknowledged with ``{"event": "ack", "cmd": ...}`` once handed to the tray.
End of stdin stops the tray too, so a dying test never leaves it behind.
"""

from __future__ import annotations

import faulthandler
import json
import signal
import sys
import threading
import time
from typing import Any

from assistant.desktop.state import UiState
from assistant.desktop.tray import DeviceEntry, Tray, TrayUnavailable

_out_lock = threading.Lock()


def emit(event: str, **fields: Any) -> None:
    with _out_lock:
        sys.stdout.write(json.dumps({"event": event, **fields}) + "\n")
        sys.stdout.flush()


def main() -> int:
    faulthandler.register(signal.SIGUSR1)  # a test that times out can ask where it hangs
    demo = "--no-demo" not in sys.argv
    try:
        tray = Tray(
            demo=demo,
            on_talk=lambda: emit("talk"),
            on_type=lambda: emit("type"),
            on_device=lambda device_id: emit("device", id=device_id),
            on_speak_replies=lambda speak: emit("speak_replies", value=speak),
            on_open_settings=lambda: emit("settings"),
            on_sign_in=lambda: emit("sign_in"),
            on_sign_out=lambda: emit("sign_out"),
            on_quit=lambda: emit("quit"),
        )
    except TrayUnavailable as err:
        emit("unavailable", message=err.user_message)
        return 3

    def serve_stdin() -> None:
        for line in sys.stdin:
            if not line.strip():
                continue
            command = json.loads(line)
            name, value = command["cmd"], command.get("value")
            if name == "state":
                tray.set_state(UiState(value))
            elif name == "now_playing":
                tray.set_now_playing(value)
            elif name == "devices":
                tray.set_devices([DeviceEntry(**entry) for entry in value])
            elif name == "signed_in":
                tray.set_signed_in(bool(value))
            elif name == "notify":
                tray.notify(value["title"], value["body"])
            elif name == "tooltip":
                emit("tooltip", value=tray.tooltip)
            elif name == "stop":
                tray.stop()
            emit("ack", cmd=name)
        tray.stop()

    started = time.monotonic()

    def setup() -> None:
        emit(
            "shown",
            backend=tray.backend,
            has_menu=tray.has_menu,
            seconds=round(time.monotonic() - started, 3),
        )
        threading.Thread(target=serve_stdin, daemon=True).start()

    emit("running", backend=tray.backend)
    tray.run(setup)
    emit("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())

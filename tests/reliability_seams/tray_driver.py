"""Runs the tray's controller with the real recorder in its own process, for the seam tests.

PortAudio lists devices once per process, when sounddevice is imported, so the process that
records starts with the virtual microphone's environment (see tests/support/pulse.py).

Built as ``segue`` builds it in the tray: ``app.build_assistant`` against the simulated Spotify
(its URLs and a refresh token in the JSON argument), the same ducker for the controller and the
volume commands, the warm-up of the sign-in and the pipeline. Replies reach the real Notifier's
fallback (what pystray shows where D-Bus is missing), which prints them here.

Usage: ``python tray_driver.py '{"api_url": ..., "accounts_url": ..., "refresh_token": ...}'``.
Commands on stdin, one a line, each run on a "hotkey" thread as the listener's would be:
``start``, ``stop``, ``type TEXT``, ``quit``. Events on stdout, one JSON object a line:
``ready``; ``live`` once the microphone delivers audio; ``recorded`` with ``duration_s`` when the
recorder has closed (from its log line); ``reply`` with ``text``.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from assistant import app
from assistant.config import Settings
from assistant.desktop.controller import Controller
from assistant.desktop.notify import Notifier
from assistant.desktop.popup import PopupProcess
from assistant.secrets import MemoryKeyring, SecretStore
from assistant.sim import SIM_CLIENT_ID
from assistant.voice.cues import Cues
from assistant.voice.recorder import Recorder
from assistant.voice.tts import SilentVoice

_print_lock = threading.Lock()


def emit(event: str, **fields: Any) -> None:
    with _print_lock:
        print(json.dumps({"event": event, "t": time.monotonic(), **fields}), flush=True)


class RecordedEvents(logging.Handler):
    """Reports each recording the recorder closed, from its own log line."""

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg.startswith("Recording %s: %.2f s") and isinstance(record.args, tuple):
            emit("recorded", kept=record.args[0], duration_s=record.args[1])


def main() -> int:
    config = json.loads(sys.argv[1])
    recorder_log = logging.getLogger("assistant.voice.recorder")
    recorder_log.setLevel(logging.INFO)
    recorder_log.addHandler(RecordedEvents())
    settings = Settings(
        spotify_client_id=SIM_CLIENT_ID,
        spotify_api_url=config["api_url"],
        spotify_accounts_url=config["accounts_url"],
        http_timeout_seconds=60,  # a slow network: requests wait rather than fail
        ducking_percent=25,
        stt="local",
        cues=False,
        tts="off",
    )
    secrets = SecretStore(MemoryKeyring())
    secrets.save_spotify_refresh_token(config["refresh_token"], new_sign_in=True)
    assistant = app.build_assistant(settings, data_dir=None, secrets=secrets, environ={})

    def warm_up() -> None:
        assistant.auth.warm_up()
        assistant.pipeline.warm_up()

    recorder = Recorder(max_seconds=60)
    controller = Controller(
        pipeline=assistant.pipeline,
        recorder=recorder,
        speaker=SilentVoice(),
        cues=Cues(enabled=False),
        ducker=assistant.ducker,
        notifier=Notifier(
            method="fallback",
            fallback=lambda title, body: emit("reply", text=body),
            cache_dir=Path(tempfile.mkdtemp(prefix="segue-driver-")),
        ),
        popup=PopupProcess(lambda text: None),
        warm_up=warm_up,
        speak_replies=False,
    )

    def tell_when_live() -> None:
        if recorder.live.wait(30):
            emit("live")

    emit("ready")
    for line in sys.stdin:
        command, _, text = line.strip().partition(" ")
        if command == "start":
            threading.Thread(target=tell_when_live, daemon=True).start()
            threading.Thread(target=controller.start_talking, name="hotkey").start()
        elif command == "stop":
            threading.Thread(target=controller.stop_talking, name="hotkey").start()
        elif command == "type":
            controller.on_command(text)
        elif command == "quit":
            break
    controller.close()
    sys.stdout.flush()
    # A warm-up may still wait on the network; its thread must not hold the process.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())

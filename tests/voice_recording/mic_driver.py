"""Runs a Recorder in its own process for the microphone tests, and reports as JSON lines.

PortAudio lists devices once per process, when sounddevice is imported, so every microphone test
runs the recorder here, started with the virtual microphone's environment.

Usage: ``python mic_driver.py '{"mode": "hands_free", ...}'``. Events written to stdout, one JSON
object a line: ``{"event": "live", "t": ...}`` once audio arrives, ``{"event": "ended", "t": ...}``
when the recording is over, then ``{"event": "result", ...}`` or ``{"event": "error", ...}``
(``t`` is ``time.monotonic()``, which is the same clock in every process on Linux).

Modes:
- ``hands_free``: ``record_hands_free(end_silence_s, start_timeout_s)``.
- ``hold``: reads commands from stdin (``start``, ``stop``, ``cancel``, ``quit``) and runs each on
  a "hotkey" thread, as the desktop's hotkey listener would.
- ``devices``: lists the input devices.
- ``no_portaudio``: records as if the PortAudio library were not installed.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any

from assistant.errors import SegueError
from assistant.voice.audio import Recording, SpeechDetector

_print_lock = threading.Lock()


def emit(event: str, **fields: Any) -> None:
    with _print_lock:
        print(json.dumps({"event": event, "t": time.monotonic(), **fields}), flush=True)


def describe(rec: Recording | None, detector: SpeechDetector) -> dict[str, Any]:
    if rec is None:
        return {"duration_s": None, "speech_seconds": None, "has_speech": None}
    return {
        "duration_s": rec.duration_s,
        "speech_seconds": detector.speech_seconds(rec),
        "has_speech": detector.has_speech(rec),
    }


def main() -> int:
    config = json.loads(sys.argv[1])
    mode = config["mode"]
    if mode == "no_portaudio":
        # sounddevice looks for the library with ctypes.util.find_library: make it find nothing.
        import ctypes.util

        ctypes.util.find_library = lambda name: None
        mode = "hands_free"

    from assistant.voice.recorder import Recorder, input_device_names

    if mode == "devices":
        emit("devices", names=input_device_names())
        return 0

    detector = SpeechDetector()
    levels: list[float] = []
    recorder = Recorder(
        device=config.get("device"),
        max_seconds=config.get("max_seconds", 30.0),
        on_level=levels.append,
        detector=detector,
        first_audio_timeout_s=config.get("first_audio_timeout_s", 5.0),
        stall_timeout_s=config.get("stall_timeout_s", 2.0),
    )

    def watch_events() -> None:
        # Reports the events of the recording that is starting (start() clears them).
        def watch(event: threading.Event, name: str) -> None:
            if event.wait(timeout=60):
                emit(name)

        for event, name in ((recorder.live, "live"), (recorder.ended, "ended")):
            threading.Thread(target=watch, args=(event, name), daemon=True).start()

    def report(rec: Recording | None) -> None:
        last = recorder.last_recording
        emit(
            "result",
            **describe(rec, detector),
            levels=len(levels),
            max_level=max(levels, default=0.0),
            device_name=recorder.device_name,
            last_recording=describe(last, detector),
            recording=recorder.recording,
        )

    def report_error(err: SegueError) -> None:
        emit(
            "error",
            type=type(err).__name__,
            message=err.user_message,
            last_recording=describe(recorder.last_recording, detector),
        )

    if mode == "hands_free":
        watch_events()
        try:
            rec = recorder.record_hands_free(
                end_silence_s=config.get("end_silence_s", 0.8),
                start_timeout_s=config.get("start_timeout_s", 8.0),
            )
        except SegueError as err:
            report_error(err)
            return 3
        report(rec)
        return 0

    # hold-to-talk: the commands run on another thread, as the hotkey listener's would.
    failed = False
    for line in sys.stdin:
        command = line.strip()
        outcome: dict[str, Any] = {}

        def run(command: str = command, outcome: dict[str, Any] = outcome) -> None:
            try:
                if command == "start":
                    recorder.start()
                    emit("started")
                    watch_events()
                elif command == "stop":
                    outcome["rec"] = recorder.stop()
                elif command == "cancel":
                    recorder.cancel()
                    outcome["rec"] = None
            except SegueError as err:
                outcome["error"] = err

        if command == "quit":
            break
        hotkey = threading.Thread(target=run, name="hotkey")
        hotkey.start()
        hotkey.join()
        if "error" in outcome:
            report_error(outcome["error"])
            failed = True
        elif "rec" in outcome:
            report(outcome["rec"])
    return 3 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

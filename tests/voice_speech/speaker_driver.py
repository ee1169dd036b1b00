"""Runs a speaker or the cues in their own process for the playback tests; reports JSON lines.

PortAudio lists devices once per process, when sounddevice is imported, so tests that listen to
the virtual PulseAudio sink run the speaker here, started with the virtual microphone's
environment.

Usage: ``python speaker_driver.py '{"speaker": "system"}'`` (or ``"openai"`` with ``base_url``,
``model``, ``voice``; or ``"cues"`` with ``enabled``). Commands on stdin, one a line:
``say <text>``, ``after <text>`` (said after what is being said), ``stop``, ``cue start|stop``,
``quit``. Events on stdout, one JSON object a line,
each with ``t`` = ``time.monotonic()`` (the same clock in every process on Linux):
``ready``, ``said`` (how long ``say`` took), ``stopped`` (and ``speaking`` right after ``stop``),
``idle`` (the speaker finished on its own), ``cue`` (whether a cue played, its length).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any

_print_lock = threading.Lock()


def emit(event: str, **fields: Any) -> None:
    with _print_lock:
        print(json.dumps({"event": event, "t": time.monotonic(), **fields}), flush=True)


def main() -> int:
    config = json.loads(sys.argv[1])
    from assistant.voice.cues import Cues
    from assistant.voice.tts import OpenAIVoice, SystemVoice

    kind = config["speaker"]
    speaker: Any = None
    cues: Cues | None = None
    if kind == "system":
        speaker = SystemVoice()
        emit("ready", available=speaker.warm())
    elif kind == "openai":
        import openai

        client = openai.OpenAI(api_key="test", base_url=config["base_url"], max_retries=0)
        speaker = OpenAIVoice(client, model=config["model"], voice=config["voice"], timeout_s=5)
        emit("ready", available=True)
    else:
        cues = Cues(enabled=config["enabled"])
        emit("ready", available=True)

    watcher_stop = threading.Event()

    def watch() -> None:
        # Report when the speaker falls silent by itself (after speaking at least once).
        was_speaking = False
        while not watcher_stop.wait(0.01):
            now = speaker.speaking
            if was_speaking and not now:
                emit("idle")
            was_speaking = now

    if speaker is not None:
        threading.Thread(target=watch, daemon=True).start()

    for line in sys.stdin:
        command, _, argument = line.strip().partition(" ")
        if command in ("say", "after"):
            started = time.perf_counter()
            speaker.say(argument, after=command == "after")
            emit("said", seconds=time.perf_counter() - started, speaking=speaker.speaking)
        elif command == "stop":
            speaker.stop()
            emit("stopped", speaking=speaker.speaking)
        elif command == "cue":
            assert cues is not None
            playback = cues.play(argument)  # type: ignore[arg-type]
            returned = time.monotonic()
            if playback is None:
                emit("cue", played=False, returned=returned)
            else:
                playback.wait(5)
                emit("cue", played=True, returned=returned, duration_s=playback.duration_s)
        elif command == "quit":
            break
    watcher_stop.set()
    if speaker is not None:
        speaker.close()
    emit("closed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

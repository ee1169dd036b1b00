"""`segue listen` as a subprocess: a spoken command from a file, and from the microphone.

The microphone is a private PulseAudio server's null sink (tests/support/pulse.py): `paplay`
speaks the command into it while `segue listen` records hands-free and stops by itself.
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.support.env import isolated_env
from tests.support.pulse import VirtualMicrophone
from tests.support.speech import speak_to_file

SEGUE = [sys.executable, "-m", "assistant"]


def espeak(tmp_path: Path, text: str) -> Path:
    return speak_to_file(tmp_path / (text.replace(" ", "-") + ".wav"), text)


def test_listen_to_a_file_prints_the_transcript_and_what_was_done(tmp_path: Path) -> None:
    done = subprocess.run(
        [*SEGUE, "listen", "--demo", "--json", "--file", str(espeak(tmp_path, "volume thirty"))],
        env=isolated_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["ok"] and result["reply"] == "Volume 30%."
    assert result["transcript"].lower().startswith("volume")
    assert result["tool_calls"][0]["name"] == "set_volume"
    assert result["timings"]["stt_ms"] > 0 and result["timings"]["bytes_to_openai"] == 0


def test_listen_without_json_says_what_was_heard_beside_the_reply(tmp_path: Path) -> None:
    recording = espeak(tmp_path, "what is the weather like")
    done = subprocess.run(
        [*SEGUE, "listen", "--demo", "--file", str(recording)],
        env=isolated_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    # Not a music command: nothing done, and the person sees what Segue heard and why.
    assert done.returncode == 1 and done.stdout == ""
    heard, refusal = done.stderr.strip().splitlines()
    assert heard.startswith("Heard: “") and "weather" in heard.lower()
    assert refusal.startswith("I can't do that without an OpenAI key.")


def test_listen_to_a_file_that_is_not_audio_is_one_sentence(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.wav"
    bogus.write_text("not audio", encoding="utf-8")
    done = subprocess.run(
        [*SEGUE, "listen", "--demo", "--file", str(bogus)],
        env=isolated_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 1
    assert "could not read" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_listen_hands_free_from_the_microphone(tmp_path: Path) -> None:
    command = espeak(tmp_path, "volume thirty")
    with VirtualMicrophone() as mic:
        process = subprocess.Popen(
            [*SEGUE, "listen", "--demo", "--json"],
            env=isolated_env(tmp_path, mic.environ()),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        lines: queue.Queue[str] = queue.Queue()

        def read_stderr() -> None:
            assert process.stderr is not None
            for line in process.stderr:
                lines.put(line)

        threading.Thread(target=read_stderr, daemon=True).start()
        deadline = time.monotonic() + 60
        seen = []
        while time.monotonic() < deadline:  # the recorder says when the microphone is live
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            seen.append(line)
            if "Listening" in line:
                break
        else:
            raise AssertionError(f"segue listen never started listening: {seen}")
        mic.play(command)
        out, _ = process.communicate(timeout=60)
    assert process.returncode == 0, out
    result = json.loads(out)
    assert result["ok"] and result["reply"] == "Volume 30%.", result

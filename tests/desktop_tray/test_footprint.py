"""The tray process stays small: what it loads at start, and what it leaves for later.

Each check runs a fresh Python (a module already imported by the test run would hide a load).
The resident memory itself is measured by the benchmark harness (section 5), not here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support.desktop import VirtualDesktop

REPO = Path(__file__).resolve().parents[2]

START_UP = """
import json, sys
import assistant.app, assistant.pipeline, assistant.desktop.controller, assistant.desktop.tray
from assistant.voice.audio import Recording, SpeechDetector
from assistant.voice.cues import Cues
from assistant.voice.recorder import Recorder
from assistant.voice.tts import SystemVoice
# What the tray builds at start: the detector, the recorder, the cues, the voice.
SpeechDetector(), Recorder(), Cues(enabled=True), SystemVoice()
at_start = [m for m in ("numpy", "soundfile", "webrtcvad") if m in sys.modules]
SpeechDetector().has_speech(Recording(bytes(9600)))  # the first recording's work
print(json.dumps({"at_start": at_start, "later": "numpy" in sys.modules}))
"""

LOAD_TRAY = """
import json, os
from assistant.desktop.tray import load_pystray
load_pystray()
maps = open("/proc/self/maps").read()
print(json.dumps({
    "gl_driver": any(lib in maps for lib in ("_dri.so", "libLLVM", "libGLX_mesa")),
    "GDK_GL": os.environ.get("GDK_GL"),
}))
"""


def run_python(code: str, env: dict[str, str]) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_numpy_waits_for_the_first_recording() -> None:
    # About 12 MB resident with soundfile and webrtcvad, in a process that may idle for hours.
    loaded = run_python(START_UP, dict(os.environ))
    assert loaded == {"at_start": [], "later": True}


def test_gtk_starts_without_an_opengl_driver_and_children_are_not_told(tmp_path: Path) -> None:
    # GTK asks GLX for visuals at start; Mesa's driver (with libLLVM) is about 50 MB resident.
    with VirtualDesktop(tmp_path / "desk", tray=False, notifications=False) as desk:
        env = {**os.environ, **desk.env}
        env.pop("GDK_GL", None)
        loaded = run_python(LOAD_TRAY, env)
    assert loaded == {"gl_driver": False, "GDK_GL": None}

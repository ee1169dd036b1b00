"""The desktop controller's one worker: commands in order, and what a press does while one runs.

Real parts throughout: the pipeline against the simulated Spotify (slowed down so a command is
still running when the next arrives), D-Bus notifications shown by dunst on a virtual desktop,
the real recorder (with no microphone on this desktop it reports one), the popup process
(never opened here) and a silent voice.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from assistant.desktop.controller import Controller
from assistant.desktop.notify import Notifier
from assistant.desktop.popup import PopupProcess
from assistant.sim import SimulatedSpotify
from assistant.voice.cues import Cues
from assistant.voice.recorder import Recorder
from assistant.voice.tts import SilentVoice
from tests.agent.conftest import Segue
from tests.support.desktop import VirtualDesktop


@pytest.fixture
def desk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[VirtualDesktop]:
    with VirtualDesktop(tmp_path / "desktop", tray=False) as desktop:
        for name, value in desktop.env.items():
            monkeypatch.setenv(name, value)
        yield desktop


def controller(segue: Segue, tmp_path: Path, busy_press: str) -> Controller:
    return Controller(
        pipeline=segue.pipeline,
        recorder=Recorder(device="no-such-microphone"),
        speaker=SilentVoice(),
        cues=Cues(enabled=False),
        ducker=None,
        notifier=Notifier(cache_dir=tmp_path / "cache"),
        popup=PopupProcess(lambda text: None),
        busy_press=busy_press,  # type: ignore[arg-type]
    )


def bodies(desk: VirtualDesktop) -> list[str]:
    return [n["body"] for n in desk.notifications()]


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never: {what}")
        time.sleep(0.05)


def test_typed_commands_run_one_after_another_in_order(
    segue: Callable[..., Segue], sim: SimulatedSpotify, desk: VirtualDesktop, tmp_path: Path
) -> None:
    control = controller(segue(llm=False), tmp_path, "queue")
    sim.latency_ms = 100
    try:
        for level in (30, 40, 50):
            control.on_command(f"volume {level}")
        wait_for(lambda: len(bodies(desk)) == 3, "three replies")
        assert bodies(desk) == ["Volume 30%.", "Volume 40%.", "Volume 50%."]
        assert sim.snapshot()["volume_percent"] == 50
    finally:
        control.close()


@pytest.mark.parametrize("busy_press", ["queue", "cancel"])
def test_a_press_while_a_command_runs_queues_or_cancels_its_reply(
    segue: Callable[..., Segue],
    sim: SimulatedSpotify,
    desk: VirtualDesktop,
    tmp_path: Path,
    busy_press: str,
) -> None:
    control = controller(segue(llm=False), tmp_path, busy_press)
    sim.latency_ms = 300
    try:
        control.on_command("volume 30")
        wait_for(lambda: len(sim.exchanges) > 0, "the command reaching Spotify")
        control.start_talking()  # the hotkey goes down while "volume 30" is still running
        control.stop_talking()
        wait_for(lambda: any("microphone" in b for b in bodies(desk)), "the microphone error")
        control.on_command("volume 35")  # runs after "volume 30": its reply comes last
        wait_for(lambda: "Volume 35%." in bodies(desk), "the next command's reply")
        shown = "Volume 30%." in bodies(desk)
        assert shown is (busy_press == "queue")
    finally:
        control.close()


def test_quit_returns_within_two_seconds_with_a_command_running(
    segue: Callable[..., Segue], sim: SimulatedSpotify, desk: VirtualDesktop, tmp_path: Path
) -> None:
    control = controller(segue(llm=False), tmp_path, "queue")
    sim.latency_ms = 1500
    control.on_command("volume 30")
    wait_for(lambda: len(sim.exchanges) > 0, "the command reaching Spotify")
    started = time.monotonic()
    control.close()
    assert time.monotonic() - started < 2


def test_only_what_needs_the_person_now_is_a_critical_notification(
    segue: Callable[..., Segue],
    sim: SimulatedSpotify,
    desk: VirtualDesktop,
    tmp_path: Path,
) -> None:
    control = controller(segue(llm=False), tmp_path, "queue")
    try:
        control.on_command("play something to cheer me up")  # needs the model: a refusal
        control.on_command("play Zzyzx Qwerty by Nobody")  # nothing matched
        wait_for(lambda: len(desk.notifications()) == 2, "two replies")
        sim.revoke_grants()  # the sign-in is lost: the person must sign in again
        sim.expire_access_tokens()
        control.on_command("pause")
        wait_for(lambda: len(desk.notifications()) == 3, "the sign-in sentence")
        shown = [(n["body"], n["urgency"]) for n in desk.notifications()]
        assert [urgency for _, urgency in shown] == ["NORMAL", "NORMAL", "CRITICAL"], shown
        assert "sign" in shown[2][0].lower()
    finally:
        control.close()

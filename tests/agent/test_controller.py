"""The desktop controller's one worker: commands in order, and what a press does while one runs.

Real parts throughout: the pipeline against the simulated Spotify (slowed down so a command is
still running when the next arrives), D-Bus notifications shown by dunst on a virtual desktop,
the real recorder (with no microphone on this desktop it reports one), the popup process
(typed into with xdotool where a test opens it) and a silent voice.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.desktop.controller import Controller
from assistant.desktop.notify import Notifier
from assistant.desktop.popup import PopupProcess
from assistant.desktop.state import NowPlaying
from assistant.sim import Fault, SimulatedSpotify
from assistant.voice.cues import Cues
from assistant.voice.recorder import Recorder
from assistant.voice.tts import SilentVoice
from tests.agent.conftest import Segue
from tests.fakes.openai_server import FakeOpenAI, tokens
from tests.support.desktop import VirtualDesktop


@pytest.fixture
def desk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[VirtualDesktop]:
    with VirtualDesktop(tmp_path / "desktop", tray=False) as desktop:
        for name, value in desktop.env.items():
            monkeypatch.setenv(name, value)
        yield desktop


def controller(segue: Segue, tmp_path: Path, busy_press: str, **parts: Any) -> Controller:
    """The controller with real parts (``parts`` replaces some: a popup, ``now_playing``)."""
    made: dict[str, Any] = {
        "pipeline": segue.pipeline,
        "recorder": Recorder(device="no-such-microphone"),
        "speaker": SilentVoice(),
        "cues": Cues(enabled=False),
        "ducker": None,
        "notifier": Notifier(cache_dir=tmp_path / "cache"),
        "popup": PopupProcess(lambda text: None),
        "busy_press": busy_press,
    }
    return Controller(**{**made, **parts})


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


def popup_state(popup: PopupProcess, check: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The popup's state once ``check`` holds (the popup answers its "state" message)."""
    deadline = time.monotonic() + 15
    while True:
        state = popup.request_state()
        assert state is not None, "the popup did not answer"
        if check(state):
            return state
        if time.monotonic() > deadline:
            raise AssertionError(f"the popup never showed it; it shows {state}")
        time.sleep(0.05)


def said(state: dict[str, Any]) -> list[tuple[str, str]]:
    return [(line["role"], line["text"]) for line in state["conversation"]]


def click(desk: VirtualDesktop, box: list[int]) -> None:
    x, y, width, height = box
    desk.xdotool("mousemove", str(x + width // 2), str(y + height // 2), "click", "1")


def test_the_popup_holds_the_conversation_and_notifications_stay_off_it(
    segue: Callable[..., Segue], sim: SimulatedSpotify, desk: VirtualDesktop, tmp_path: Path
) -> None:
    agent = segue(llm=False)
    box: list[Controller] = []
    popup = PopupProcess(lambda text: box[0].on_command(text))
    control = controller(
        agent,
        tmp_path,
        "queue",
        popup=popup,
        now_playing=lambda: NowPlaying.of(agent.client.currently_playing()),
    )
    box.append(control)

    def run(text: str, reply_count: int) -> dict[str, Any]:
        desk.xdotool("type", "--delay", "5", text)
        desk.xdotool("key", "Return")
        return popup_state(
            popup,
            lambda s: (
                not s["busy"]
                and sum(line["role"] not in ("command", "item") for line in s["conversation"])
                == reply_count
            ),
        )

    try:
        control.on_type()  # the tray's "Type a command..."
        desk.wait_for_window("^Segue$")
        wait_for(lambda: popup.attended, "the popup taking the focus")

        state = run("play creep by radiohead", 1)
        assert said(state) == [
            ("command", "play creep by radiohead"),
            ("reply", "Playing “Creep” by Radiohead."),
        ]
        card = popup_state(popup, lambda s: s["now_playing"] is not None)["now_playing"]
        assert (card["title"], card["artist"], card["art"]) == ("Creep", "Radiohead", True)

        # A question comes with its answers as buttons; a click answers it.
        state = run("add this to deep", 2)
        assert state["conversation"][-1]["role"] == "question"
        assert state["options"] == ["Deep Work", "Deep Work II"]
        click(desk, state["option_boxes"][1])
        state = popup_state(popup, lambda s: not s["busy"] and len(s["conversation"]) == 6)
        assert said(state)[-2:] == [
            ("command", "Deep Work II"),
            ("reply", "Added “Creep” by Radiohead to “Deep Work II”."),
        ]

        # A reply naming 5 of 13 playlists opens to all 13 on a click.
        state = run("show my playlists", 4)
        assert said(state)[-1][1].startswith("You have 13 playlists: ")
        click(desk, state["links"][0]["box"])
        state = popup_state(popup, lambda s: not s["links"])
        items = [text for role, text in said(state) if role == "item"]
        assert len(items) == 13 and "“Deep Work II”" in items
        # No tool's name (next_track, list_playlists) and no ✓/✗ marks, only sentences.
        marks = [name for name in agent.registry.names if "_" in name] + ["✓", "✗"]
        assert not [line for _, line in said(state) for mark in marks if mark in line]
        assert desk.notifications() == []  # the person was reading the popup

        # Hidden, the popup keeps the conversation and notifications come back: the track is
        # the title of a reply about the music, "Segue" of any other.
        desk.xdotool("key", "Escape")
        wait_for(lambda: not popup.attended, "the popup hidden")
        control.on_command("what's playing")
        control.on_command("volume 30")
        wait_for(lambda: len(desk.notifications()) == 2, "two notifications")
        # (A notification with album art waits for the art: the two may arrive in either order.)
        shown = sorted((n["summary"], n["body"]) for n in desk.notifications())
        assert shown == [
            (
                "Creep — Radiohead",
                "Playing “Creep” by Radiohead from “Pablo Honey” on this computer.",
            ),
            ("Segue", "Volume 30%."),
        ]
        state = popup_state(popup, lambda s: s["reply"] == "Volume 30%.")
        assert [text for role, text in said(state)[-2:]] == [body for _, body in shown]
    finally:
        control.close()


class HeardVoice:
    """What the controller asks the voice to say, in order (the sound itself: test_speaking.py)."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, bool]] = []

    def say(self, text: str, *, after: bool = False) -> None:
        if text.strip():
            self.lines.append((text.strip(), after))

    def stop(self) -> None:
        pass

    @property
    def speaking(self) -> bool:
        return False


def test_a_spoken_answer_starts_with_its_first_sentence_while_the_model_writes_the_rest(
    segue: Callable[..., Segue], desk: VirtualDesktop, tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    first = "Radiohead formed in Abingdon in 1985."
    answer = f"{first} Their first single was “Creep”. It came out in 1992."
    fake_openai.chat(content=answer, hold_after=len(tokens(first)) + 3)
    voice = HeardVoice()
    control = controller(segue(), tmp_path, "queue", speaker=voice)
    try:
        control.on_command("tell me about Radiohead")
        wait_for(lambda: voice.lines, "the first sentence spoken")
        assert voice.lines == [(first, False)]  # the model has not finished: it is held
        assert not desk.notifications()
        fake_openai.release()
        wait_for(lambda: len(desk.notifications()) == 1, "the reply")
        wait_for(lambda: len(voice.lines) == 3, "the rest spoken")
        # Each sentence once, in order, each after the one before.
        assert voice.lines == [
            (first, False),
            ("Their first single was “Creep”.", True),
            ("It came out in 1992.", True),
        ]
        assert bodies(desk) == [answer]
    finally:
        fake_openai.release()
        control.close()


def test_the_popup_says_what_a_running_command_is_doing(
    segue: Callable[..., Segue],
    sim: SimulatedSpotify,
    desk: VirtualDesktop,
    tmp_path: Path,
    fake_openai: FakeOpenAI,
) -> None:
    songs = ["Creep by Radiohead", "Rehab by Amy Winehouse"]
    call = {"name": "Calm", "tracks": songs, "description": None, "public": False}
    fake_openai.chat(tool_calls=[("create_playlist", call)])
    popup = PopupProcess(lambda text: None)
    control = controller(segue(), tmp_path, "queue", popup=popup)
    # Spotify is slow to make the playlist today: its answer waits until the test has looked.
    sim.add_fault(
        Fault(path="/v1/me/playlists", method="POST", status=None, apply=True, hang_seconds=30)
    )
    try:
        control.on_type()
        desk.wait_for_window("^Segue$")
        control.on_command("make a playlist called Calm with Creep and Rehab")
        doing = popup_state(popup, lambda s: s["activity_text"] == "Making the playlist…")
        assert doing["busy"]
        sim.clear_faults()
        done = popup_state(popup, lambda s: not s["busy"] and len(s["conversation"]) >= 1)
        assert said(done)[-1][1].startswith("Created “Calm” with 2 songs"), said(done)
    finally:
        sim.clear_faults()
        control.close()

"""The popup on a real X server (Xvfb), typed into and clicked with xdotool.

The popup is its own process (``python -m assistant.desktop.popup``) started by
``PopupProcess``; the tests act as the tray process: they receive its commands and send replies,
what plays and the microphone's level. Besides the screen itself, the popup answers a
``{"type": "state"}`` message with what its widgets show, which the tests read back.
Screenshots go to tests/artifacts/ (popup.png, popup-listening.png).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops

from assistant.agent import grammar
from assistant.desktop.popup import PopupProcess
from assistant.desktop.state import NowPlaying
from assistant.desktop.theme import DARK, LIGHT
from tests.desktop_input.conftest import PopupDriver, process_gone, wait_until
from tests.desktop_portal.fake_portal import FakePortal
from tests.support.desktop import ARTIFACTS, DesktopError, VirtualDesktop

SCREEN_WIDTH = 1024
GREEN = (29, 185, 84)  # what is live in the popup: the level meter, the progress bar
RED = (200, 40, 60)
CREEP = NowPlaying(
    "Creep — Radiohead",
    title="Creep",
    artist="Radiohead",
    album="Pablo Honey",
    progress_ms=61_000,
    duration_ms=238_000,
    device="Pixel 8",
)
TOOL_NAMES = ("next_track", "now_playing", "add_to_playlist", "list_playlists", "✓", "✗")


def _box(state: dict[str, Any]) -> tuple[int, int, int, int]:
    x, y, width, height = (int(v) for v in state["geometry"])
    return x, y, x + width, y + height


def _corners(box: list[int]) -> tuple[int, int, int, int]:
    x, y, width, height = box
    return x, y, x + width, y + height


def _click(desktop: VirtualDesktop, box: list[int]) -> None:
    x, y, width, height = box
    desktop.xdotool("mousemove", str(x + width // 2), str(y + height // 2), "click", "1")


def _pixels(image: Image.Image, colour: tuple[int, int, int], tolerance: int = 40) -> int:
    counted = image.getcolors(image.width * image.height) or []
    return sum(
        n
        for n, pixel in counted
        if all(abs(c - t) <= tolerance for c, t in zip(pixel, colour, strict=False))  # type: ignore[arg-type]
    )


def _lines(state: dict[str, Any]) -> list[tuple[str, str]]:
    return [(line["role"], line["text"]) for line in state["conversation"]]


def test_a_typed_command_stays_in_the_field_and_the_conversation_shows_it_and_its_reply(
    desktop: VirtualDesktop, popup: PopupDriver
) -> None:
    popup.show()
    state = popup.state()
    _, y, right, _ = _box(state)
    assert SCREEN_WIDTH - right < 40 and y < 100, f"not near the tray (top right): {state}"

    popup.type_line("next")
    assert popup.command() == "next"
    busy = popup.wait_state(lambda s: s["busy"])
    assert busy["entry"] == "next" and busy["selection"] == [0, 4]  # kept, and selected
    assert _lines(busy) == [("command", "next")]
    assert busy["activity"] == "thinking"
    # Something moves while the command runs.
    indicator = _corners(busy["boxes"]["activity"])
    first = desktop.grab(indicator)
    wait_until(
        lambda: ImageChops.difference(first, desktop.grab(indicator)).getbbox() is not None,
        5,
        "the working indicator moving",
    )

    popup.popup.send_reply("Skipped to “Clair de Lune”.", True)
    shown = popup.wait_state(lambda s: not s["busy"])
    assert _lines(shown) == [("command", "next"), ("reply", "Skipped to “Clair de Lune”.")]

    # Typing replaces the last command; the conversation grows downwards, newest last.
    popup.type_line("what's playing")
    assert popup.command() == "what's playing"
    popup.popup.send_reply("Playing “Clair de Lune” by Debussy on this computer.", True)
    state = popup.wait_state(lambda s: not s["busy"] and len(s["conversation"]) == 4)
    assert state["entry"] == "what's playing"
    assert _lines(state)[2:] == [
        ("command", "what's playing"),
        ("reply", "Playing “Clair de Lune” by Debussy on this computer."),
    ]
    assert not any(name in line["text"] for line in state["conversation"] for name in TOOL_NAMES)


def test_a_question_shows_its_answers_as_buttons_and_a_click_answers_it(
    desktop: VirtualDesktop, popup: PopupDriver
) -> None:
    popup.show()
    popup.type_line("add this to deep")
    assert popup.command() == "add this to deep"
    popup.popup.send_reply(
        "Which playlist? 1. Deep Work 2. Deep Work II", True, options=["Deep Work", "Deep Work II"]
    )
    asked = popup.wait_state(lambda s: s["options"])
    assert _lines(asked)[-1] == ("question", "Which playlist?")
    assert asked["options"] == ["Deep Work", "Deep Work II"]
    assert asked["ok"] is True
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    left, top, right, bottom = _box(asked)
    desktop.screenshot(ARTIFACTS / "popup.png", crop=(left - 8, top - 8, right + 8, bottom + 8))
    # A question is not an error: nothing in the conversation is red.
    talk = desktop.grab(_corners(asked["boxes"]["conversation"]))
    assert _pixels(talk, (176, 0, 32), tolerance=30) == 0, "the question looks like an error"

    _click(desktop, asked["option_boxes"][1])
    assert popup.command() == "Deep Work II"
    answered = popup.wait_state(lambda s: s["busy"])
    assert answered["options"] == [] and answered["option_boxes"] == []
    assert _lines(answered)[-1] == ("command", "Deep Work II")


def test_a_long_list_opens_on_a_click(desktop: VirtualDesktop, popup: PopupDriver) -> None:
    names = [f"“Playlist {n}”" for n in range(1, 14)]
    popup.show()
    popup.type_line("show my playlists")
    assert popup.command() == "show my playlists"
    popup.popup.send_reply(
        f"You have 13 playlists: {', '.join(names[:5])} and 8 more.", True, more=names
    )
    state = popup.wait_state(lambda s: s["links"])
    assert [link["text"] for link in state["links"]] == ["Show all 13"]
    assert [role for role, _ in _lines(state)] == ["command", "reply"]

    _click(desktop, state["links"][0]["box"])
    opened = popup.wait_state(lambda s: not s["links"])
    assert [text for role, text in _lines(opened) if role == "item"] == names


def test_a_failed_command_shows_its_sentence_in_red(
    desktop: VirtualDesktop, popup: PopupDriver
) -> None:
    popup.show()
    popup.type_line("play something by nobody")
    assert popup.command() == "play something by nobody"

    popup.popup.send_reply("Nothing on Spotify matched that.", False)
    state = popup.wait_state(lambda s: not s["busy"])
    assert state["ok"] is False
    assert _lines(state)[-1] == ("error", "Nothing on Spotify matched that.")
    talk = desktop.grab(_corners(state["boxes"]["conversation"]))
    assert _pixels(talk, (176, 0, 32), tolerance=30) > 0, "no red reply"


def test_ctrl_a_selects_the_whole_field(desktop: VirtualDesktop, popup: PopupDriver) -> None:
    popup.show()
    desktop.xdotool("type", "--delay", "5", "play creep")
    popup.wait_state(lambda s: s["entry"] == "play creep" and s["selection"] is None)

    desktop.xdotool("key", "ctrl+a")
    assert popup.wait_state(lambda s: s["selection"] is not None)["selection"] == [0, 10]
    desktop.xdotool("type", "--delay", "5", "pause")
    assert popup.wait_state(lambda s: s["selection"] is None)["entry"] == "pause"


def test_what_you_can_say_comes_from_the_grammar_and_a_click_fills_the_field(
    desktop: VirtualDesktop, popup: PopupDriver
) -> None:
    popup.show()
    featured = grammar.featured()
    state = popup.wait_state(lambda s: s["examples"])
    assert state["examples"] == featured

    _click(desktop, state["examples_toggle_box"])
    every = [example for _, example in grammar.examples()]
    state = popup.wait_state(lambda s: len(s["examples"]) > len(featured))
    assert state["examples"] == every

    # One that only the whole list has, on screen (the list scrolls past its box).
    shown = [
        (example, box)
        for example, box in zip(every, state["example_boxes"], strict=True)
        if box is not None and example not in featured
    ]
    example, box = shown[0]
    _click(desktop, box)
    assert popup.wait_state(lambda s: s["entry"] != "")["entry"] == example


def test_the_card_shows_what_plays_with_its_art_and_its_progress_running_on(
    desktop: VirtualDesktop, popup: PopupDriver, tmp_path: Path
) -> None:
    art = tmp_path / "art.png"
    Image.new("RGB", (128, 128), RED).save(art)
    popup.show()
    empty = popup.state()
    assert empty["now_playing"] is None
    card = _corners(empty["boxes"]["now_playing"])
    assert _pixels(desktop.grab(card), RED) == 0

    popup.popup.send_now_playing(CREEP, art)
    state = popup.wait_state(lambda s: s["now_playing"] is not None)
    playing = state["now_playing"]
    assert (playing["title"], playing["artist"], playing["album"]) == (
        "Creep",
        "Radiohead",
        "Pablo Honey",
    )
    assert playing["art"] is True and playing["duration_ms"] == 238_000
    assert playing["device"] == "Pixel 8" and playing["time_line"].endswith("on Pixel 8")
    shot = desktop.grab(_corners(state["boxes"]["now_playing"]))
    assert _pixels(shot, RED) >= 60 * 60, "no album art in the card"
    assert _pixels(shot, GREEN) > 0, "no progress bar"
    popup.wait_state(lambda s: s["now_playing"]["progress_ms"] > playing["progress_ms"])


def test_the_level_meter_follows_the_microphone(
    desktop: VirtualDesktop, popup: PopupDriver
) -> None:
    popup.show()
    popup.popup.set_listening()
    state = popup.wait_state(lambda s: s["activity"] == "listening")
    meter = _corners(state["boxes"]["activity"])
    popup.popup.send_level(0.0)
    popup.wait_state(lambda s: s["level"] == 0.0)
    quiet = _pixels(desktop.grab(meter), GREEN)

    popup.popup.send_level(0.6)
    popup.wait_state(lambda s: s["level"] == 0.6)
    loud = _pixels(desktop.grab(meter), GREEN)
    assert quiet == 0 and loud > 50, (quiet, loud)
    left, top, right, bottom = _box(state)
    desktop.screenshot(
        ARTIFACTS / "popup-listening.png", crop=(left - 8, top - 8, right + 8, bottom + 8)
    )

    # The words heard come back with the reply, as the command of the conversation.
    popup.popup.send_reply("Paused.", True, heard="Heard: “pause”")
    done = popup.wait_state(lambda s: not s["busy"])
    assert _lines(done) == [("heard", "Heard: “pause”"), ("reply", "Paused.")]


def test_the_popup_says_whether_the_person_is_looking_at_it(
    desktop: VirtualDesktop, popup: PopupDriver
) -> None:
    popup.show()
    wait_until(lambda: popup.popup.attended, 5, "the popup reporting it has the focus")
    desktop.xdotool("key", "Escape")
    assert popup.hidden.wait(5)
    wait_until(lambda: not popup.popup.attended, 5, "the popup reporting it was hidden")


def test_up_and_down_recall_earlier_commands(desktop: VirtualDesktop, popup: PopupDriver) -> None:
    popup.show()
    for text in ("next", "pause", "volume 30"):
        popup.type_line(text)
        assert popup.command() == text
    desktop.xdotool("type", "half typed")

    desktop.xdotool("key", "Up")
    assert popup.wait_state(lambda s: s["entry"] == "volume 30")["history"] == [
        "next",
        "pause",
        "volume 30",
    ]
    desktop.xdotool("key", "Up", "Up")
    popup.wait_state(lambda s: s["entry"] == "next")
    desktop.xdotool("key", "Up")  # nothing older: stays
    desktop.xdotool("key", "Down")
    popup.wait_state(lambda s: s["entry"] == "pause")
    desktop.xdotool("key", "Down", "Down")
    popup.wait_state(lambda s: s["entry"] == "half typed")  # back to what was being typed

    desktop.xdotool("key", "Up", "Return")
    assert popup.command() == "volume 30"


def test_escape_hides_the_popup_and_show_brings_it_back_with_the_focus(
    desktop: VirtualDesktop, popup: PopupDriver
) -> None:
    window = popup.show()

    desktop.xdotool("key", "Escape")
    assert popup.hidden.wait(5), "the popup did not report it was hidden"
    assert not popup.wait_state(lambda s: not s["visible"])["focus"]
    with pytest.raises(DesktopError):
        desktop.xdotool("search", "--onlyvisible", "--name", "^Segue$")

    assert popup.show() == window
    popup.type_line("pause")
    assert popup.command() == "pause"


def test_close_ends_the_popup_process_within_a_second(
    desktop: VirtualDesktop, popup: PopupDriver
) -> None:
    popup.show()
    pid = popup.popup.pid
    assert pid is not None

    began = time.monotonic()
    popup.popup.close()
    took = time.monotonic() - began

    assert took < 1.0
    assert process_gone(pid)
    assert not popup.popup.running


def test_the_popup_ends_when_its_parent_dies(desktop: VirtualDesktop) -> None:
    parent_code = textwrap.dedent(
        """
        import sys, time
        from assistant.desktop.popup import PopupProcess
        popup = PopupProcess(lambda text: None)
        popup.show()
        assert popup.wait_ready(10)
        print(popup.pid, flush=True)
        time.sleep(60)
        """
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", parent_code], stdout=subprocess.PIPE, text=True
    )
    try:
        assert parent.stdout is not None
        popup_pid = int(parent.stdout.readline())
        desktop.wait_for_window("^Segue$")

        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=5)

        took = wait_until(lambda: process_gone(popup_pid), 5, "the orphaned popup exiting")
        assert took < 2.0
        with pytest.raises(DesktopError):  # xdotool finds no such window any more
            desktop.xdotool("search", "--name", "^Segue$")
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait(timeout=5)


def test_without_a_display_the_popup_says_it_cannot_open(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    errors: list[str] = []
    popup = PopupProcess(lambda text: None, on_error=errors.append)
    try:
        popup.show()
        wait_until(lambda: bool(errors), 10, "the popup reporting it cannot open")
        assert errors[0].startswith("The popup window cannot open")
        wait_until(lambda: not popup.running, 5, "the popup process exiting")
    finally:
        popup.close()


def test_the_popup_follows_the_systems_dark_appearance(
    desktop: VirtualDesktop, popup: PopupDriver
) -> None:
    # The desktop's portal says the person chose dark; the popup ("system", the default)
    # opens dark: its panel dark, its words light, what is live still green.
    portal = FakePortal(desktop.env["DBUS_SESSION_BUS_ADDRESS"], color_scheme=1)
    with portal:
        popup.show()
        popup.type_line("next")
        assert popup.command() == "next"
        popup.popup.send_now_playing(CREEP)
        popup.popup.send_reply("Skipped to “Creep” by Radiohead.", True)
        state = popup.wait_state(lambda s: not s["busy"] and s["now_playing"] is not None)

    assert state["theme"] == "dark"
    window = desktop.grab(_box(state))
    ARTIFACTS.mkdir(exist_ok=True)
    window.save(ARTIFACTS / "popup-dark.png")
    total = window.width * window.height
    dark = _pixels(window, _rgb(DARK.bg), tolerance=12) + _pixels(
        window, _rgb(DARK.card), tolerance=12
    )
    assert dark > total * 0.6, "the panel is not dark"
    assert _pixels(window, _rgb(LIGHT.bg), tolerance=12) == 0, "light panel colours remain"
    assert _pixels(window, _rgb(DARK.text), tolerance=40) > 50, "no light words to read"
    assert _pixels(window, GREEN) > 0, "no progress bar"


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def test_the_working_line_says_what_the_command_is_doing(
    desktop: VirtualDesktop, popup: PopupDriver
) -> None:
    popup.show()
    popup.type_line("make a playlist called Calm with ten calm piano pieces")
    popup.command()
    assert popup.wait_state(lambda s: s["busy"])["activity_text"] == "Working on it…"
    popup.popup.set_busy("Making the playlist…")
    popup.wait_state(lambda s: s["activity_text"] == "Making the playlist…")
    popup.popup.send_reply("Created “Calm” with 10 songs.", True)
    assert popup.wait_state(lambda s: not s["busy"])["activity_text"] == ""

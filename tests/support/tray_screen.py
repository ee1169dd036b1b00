"""Reading the tray on the virtual desktop: is an icon docked, which picture, open its menu."""

from __future__ import annotations

import time

from PIL import Image, ImageChops

from assistant.desktop.icons import STATE_COLOURS
from assistant.desktop.state import UiState
from tests.support.desktop import DesktopError, VirtualDesktop

BADGE = (142, 36, 170)
EMPTY_TRAY_WIDTH = 8  # trayer with no icon is a couple of pixels wide


def changed_pixels(a: Image.Image, b: Image.Image, threshold: int = 40) -> int:
    bands = ImageChops.difference(a.convert("RGB"), b.convert("RGB")).split()
    largest = ImageChops.lighter(ImageChops.lighter(bands[0], bands[1]), bands[2])
    return sum(largest.histogram()[threshold + 1 :])


def colour_pixels(image: Image.Image, colour: tuple[int, ...], tolerance: int = 24) -> int:
    pixels = image.convert("RGB").load()
    assert pixels is not None
    count = 0
    for y in range(image.height):
        for x in range(image.width):
            pixel = pixels[x, y]
            assert isinstance(pixel, tuple)
            count += all(abs(c - t) <= tolerance for c, t in zip(pixel, colour[:3], strict=False))
    return count


def wait_docked(desk: VirtualDesktop, timeout: float = 10) -> tuple[int, int, int, int]:
    """Wait until trayer has grown around an icon; return trayer's box."""
    deadline = time.monotonic() + timeout
    while True:
        box = desk.tray_box()
        if box[2] - box[0] > EMPTY_TRAY_WIDTH:
            return box
        if time.monotonic() > deadline:
            raise AssertionError(f"no icon docked in trayer within {timeout} s (box {box})")
        time.sleep(0.02)


def wait_for_picture(
    desk: VirtualDesktop, box: tuple[int, int, int, int], state: UiState, timeout: float = 10
) -> Image.Image:
    """Wait until the tray area shows ``state``'s colour; return that screenshot."""
    deadline = time.monotonic() + timeout
    while True:
        shot = desk.grab(box)
        if colour_pixels(shot, STATE_COLOURS[state]) >= 40:
            return shot
        if time.monotonic() > deadline:
            raise AssertionError(f"the tray never showed the {state.value} picture")
        time.sleep(0.05)


def visible_windows(desk: VirtualDesktop) -> set[str]:
    try:
        return set(desk.xdotool("search", "--onlyvisible", "--name", "").split())
    except DesktopError:
        return set()


def open_menu(
    desk: VirtualDesktop, box: tuple[int, int, int, int], button: str = "1"
) -> tuple[int, int, int, int]:
    """Click the tray icon; wait for the menu window and return its box."""
    before = visible_windows(desk)
    desk.xdotool("mousemove", str((box[0] + box[2]) // 2), str((box[1] + box[3]) // 2))
    desk.xdotool("click", button)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for window in visible_windows(desk) - before:
            x, y, width, height = desk.window_geometry(window)
            if height > 60:  # the menu, not a tooltip
                return x, y, x + width, y + height
        time.sleep(0.05)
    raise AssertionError("no menu opened on a click on the tray icon")


def wait_menu_closed(desk: VirtualDesktop, menu: tuple[int, int, int, int]) -> None:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        still_open = False
        for window in visible_windows(desk):
            try:
                x, y, width, height = desk.window_geometry(window)
            except DesktopError:
                continue
            if (x, y, x + width, y + height) == menu:
                still_open = True
        if not still_open:
            return
        time.sleep(0.05)
    raise AssertionError("the menu did not close")

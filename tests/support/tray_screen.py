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


def menu_labels(desk: VirtualDesktop, name: str = "segue") -> list[str]:
    """The tray menu's item labels, as the desktop's panel gets them (separators left out).

    AppIndicator publishes the menu over D-Bus (``com.canonical.dbusmenu`` at
    ``/org/ayatana/NotificationItem/NAME/Menu``) for StatusNotifierItem hosts, the KDE and GNOME
    panels, which draw it from there; under trayer it also draws the same menu itself.
    """
    from gi.repository import Gio, GLib

    bus = Gio.DBusConnection.new_for_address_sync(
        desk.env["DBUS_SESSION_BUS_ADDRESS"],
        Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT
        | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION,
        None,
        None,
    )
    try:
        names = bus.call_sync(
            "org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus",
            "ListNames",
            None,
            GLib.VariantType("(as)"),
            Gio.DBusCallFlags.NONE,
            2000,
            None,
        ).unpack()[0]
        for owner in (n for n in names if n.startswith(":")):
            try:
                _, (_, _, children) = bus.call_sync(
                    owner,
                    f"/org/ayatana/NotificationItem/{name}/Menu",
                    "com.canonical.dbusmenu",
                    "GetLayout",
                    GLib.Variant("(iias)", (0, -1, [])),
                    None,
                    Gio.DBusCallFlags.NONE,
                    2000,
                    None,
                ).unpack()
            except GLib.Error:
                continue
            return [str(props["label"]) for _, props, _ in children if "label" in props]
    finally:
        bus.close_sync(None)
    raise AssertionError(f"no tray menu named {name!r} on the session bus")


def wait_for_label(desk: VirtualDesktop, index: int, label: str, timeout: float = 10) -> None:
    """Wait until the tray menu's item ``index`` reads ``label``."""
    deadline = time.monotonic() + timeout
    while True:
        labels = menu_labels(desk)
        if len(labels) > index and labels[index] == label:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"the tray menu never read {label!r} at {index}: {labels}")
        time.sleep(0.05)

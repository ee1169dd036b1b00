"""Notifications reach the desktop's notification server (dunst), with cached album art."""

from __future__ import annotations

import html
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image

from assistant.desktop.notify import ART_SIZE, Notifier
from tests.desktop_tray.art_server import ART_COLOUR, ArtServer
from tests.support.desktop import ARTIFACTS, VirtualDesktop


@pytest.fixture
def on_desktop(desktop: VirtualDesktop, monkeypatch: pytest.MonkeyPatch) -> VirtualDesktop:
    """Point this process (Gio, notify-send) at the virtual desktop's session bus."""
    for name, value in desktop.env.items():
        monkeypatch.setenv(name, value)
    return desktop


@pytest.fixture
def notifier(tmp_path: Path) -> Iterator[Notifier]:
    notifier = Notifier(cache_dir=tmp_path / "cache", timeout=1.0)
    yield notifier
    notifier.close()


def by_summary(summary: str) -> Callable[[dict[str, str]], bool]:
    return lambda notification: notification["summary"] == summary


def colour_share(image: Image.Image, colour: tuple[int, int, int]) -> float:
    rgb = image.convert("RGB")
    pixels = rgb.load()
    assert pixels is not None
    matches = 0
    for y in range(rgb.height):
        for x in range(rgb.width):
            pixel = pixels[x, y]
            assert isinstance(pixel, tuple)
            matches += all(abs(c - target) < 30 for c, target in zip(pixel, colour, strict=True))
    return matches / (rgb.width * rgb.height)


def test_a_reply_shows_with_its_album_art_downloaded_once(
    on_desktop: VirtualDesktop, notifier: Notifier, art_server: ArtServer
) -> None:
    cover_url = f"{art_server.base_url}/cover.jpg"
    started = time.monotonic()
    notifier.notify("Playing", "Bohemian Rhapsody by Queen", image_url=cover_url)
    assert time.monotonic() - started < 0.1  # the caller never waits for the download

    shown = on_desktop.wait_for_notification(by_summary("Playing"))
    assert shown["body"] == "Bohemian Rhapsody by Queen"
    assert shown["appname"] == "Segue"
    assert shown["urgency"] == "NORMAL"
    art = Path(shown["icon_path"])
    assert art.parent == notifier.art_dir
    with Image.open(art) as picture:
        assert picture.size == (ART_SIZE, ART_SIZE)

    # dunst draws it on the screen: the cover's magenta is there next to the text.
    window = on_desktop.wait_for_window("Dunst", by="class")
    x, y, width, height = on_desktop.window_geometry(window)
    shot = on_desktop.screenshot(
        ARTIFACTS / "notification.png", crop=(x - 16, y - 16, x + width + 16, y + height + 16)
    )
    with Image.open(shot) as image:
        assert colour_share(image, ART_COLOUR) > 0.03

    notifier.notify("Playing next", "Killer Queen by Queen", image_url=cover_url)
    again = on_desktop.wait_for_notification(by_summary("Playing next"))
    assert again["icon_path"] == str(art)
    assert art_server.count("/cover.jpg") == 1  # the cached picture was used


def test_the_cache_survives_a_new_notifier(
    on_desktop: VirtualDesktop, tmp_path: Path, art_server: ArtServer
) -> None:
    cover_url = f"{art_server.base_url}/cover.jpg?size=300"
    first = Notifier(cache_dir=tmp_path / "cache")
    second = Notifier(cache_dir=tmp_path / "cache")
    try:
        first.notify("Cached 1", "one", image_url=cover_url)
        assert first.flush()
        second.notify("Cached 2", "two", image_url=cover_url)
        shown = on_desktop.wait_for_notification(by_summary("Cached 2"))
        assert shown["icon_path"] == str(first.album_art(cover_url))
        assert art_server.count("/cover.jpg?size=300") == 1
    finally:
        first.close()
        second.close()


def test_errors_are_critical_and_stay_longer(
    on_desktop: VirtualDesktop, notifier: Notifier
) -> None:
    notifier.notify("Spotify needs Premium", "Playback control needs Spotify Premium.", error=True)
    shown = on_desktop.wait_for_notification(by_summary("Spotify needs Premium"))
    assert shown["urgency"] == "CRITICAL"
    assert shown["body"] == "Playback control needs Spotify Premium."
    assert int(shown["timeout"]) == 2 * notifier.expire_ms


def test_markup_characters_in_titles_of_songs_are_shown_as_written(
    on_desktop: VirtualDesktop, notifier: Notifier
) -> None:
    body = "The Boxer by Simon & Garfunkel <live>"
    notifier.notify("Markup", body)
    shown = on_desktop.wait_for_notification(by_summary("Markup"))
    # dunst reads markup in the body: Segue escapes it, dunst draws the original text.
    assert shown["body"] == html.escape(body, quote=False)


@pytest.mark.parametrize("path", ["/missing", "/garbage", "/slow", "ftp-like"])
def test_album_art_that_cannot_be_had_does_not_stop_the_notification(
    on_desktop: VirtualDesktop, tmp_path: Path, art_server: ArtServer, path: str
) -> None:
    url = "ftp://127.0.0.1/cover.jpg" if path == "ftp-like" else f"{art_server.base_url}{path}"
    notifier = Notifier(cache_dir=tmp_path / "cache", timeout=0.4)
    try:
        started = time.monotonic()
        notifier.notify(f"No art {path}", "Still here", image_url=url)
        shown = on_desktop.wait_for_notification(by_summary(f"No art {path}"), timeout=5)
        assert time.monotonic() - started < 1.5  # the slow server is given up on
        assert shown["icon_path"] == ""
        assert shown["body"] == "Still here"
        assert not notifier.art_dir.exists() or not any(notifier.art_dir.iterdir())
    finally:
        notifier.close()


def test_disabled_notifications_send_nothing(
    on_desktop: VirtualDesktop, tmp_path: Path, art_server: ArtServer
) -> None:
    disabled = Notifier(enabled=False, cache_dir=tmp_path / "off")
    enabled = Notifier(cache_dir=tmp_path / "on")
    try:
        disabled.notify("Silenced", "should not show", image_url=f"{art_server.base_url}/cover.jpg")
        assert disabled.flush(timeout=1)
        enabled.notify("After silence", "shows")
        on_desktop.wait_for_notification(by_summary("After silence"))
        assert not [n for n in on_desktop.notifications() if n["summary"] == "Silenced"]
        assert art_server.hits == []
    finally:
        disabled.close()
        enabled.close()


def test_notify_send_is_used_where_pygobject_is_missing(
    on_desktop: VirtualDesktop, tmp_path: Path, art_server: ArtServer
) -> None:
    notifier = Notifier(cache_dir=tmp_path / "cache", method="notify-send")
    try:
        notifier.notify("Via notify-send", "Paused", image_url=f"{art_server.base_url}/cover.jpg")
        shown = on_desktop.wait_for_notification(by_summary("Via notify-send"))
        assert shown["appname"] == "Segue"
        assert shown["body"] == "Paused"
        assert Path(shown["icon_path"]).parent == notifier.art_dir
    finally:
        notifier.close()


def test_without_a_session_bus_the_fallback_is_used_and_nothing_raises(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path / 'no-bus'}")
    shown: list[tuple[str, str]] = []
    notifier = Notifier(cache_dir=tmp_path / "cache", fallback=lambda t, b: shown.append((t, b)))
    try:
        notifier.notify("Paused", "Paused on Computer")
        assert notifier.flush(timeout=10)
        assert shown == [("Paused", "Paused on Computer")]
    finally:
        notifier.close()


def test_with_nothing_to_show_it_on_the_notification_is_dropped_quietly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path / 'no-bus'}")
    notifier = Notifier(cache_dir=tmp_path / "cache", method="dbus")
    try:
        notifier.notify("Paused", "Paused on Computer")
        assert notifier.flush(timeout=10)
        notifier.notify("Still", "alive")  # the sending thread survived
        assert notifier.flush(timeout=10)
    finally:
        notifier.close()

"""The tray icon and its menu (pystray), which own the main thread while Segue runs.

Menu::

    Talk                    (Stop listening, while listening: what the next click does)
    Type a command...
    ─────
    Now playing: ...        (a label)
    Devices               ▸ (one radio item per Spotify device)
    ─────
    Speak replies           (check)
    Open settings file
    Sign in to Spotify... / Sign out    (Connect Spotify..., in demo mode)
    ─────
    Quit

Backends: pystray picks appindicator, then gtk, then xorg on Linux (``PYSTRAY_BACKEND`` overrides).
appindicator talks StatusNotifierItem to hosts that speak it (KDE, GNOME with the AppIndicator
extension, XFCE); with only an XEmbed tray (trayer, older panels) libayatana-appindicator falls back
to a GtkStatusIcon by itself. Both open the menu on a left or right click. The xorg backend has no
menu at all (``has_menu`` is False): Segue is then driven by the hotkey and the CLI.

Threads: every method except ``run`` may be called from any thread. The new state is stored under
a lock and the change is handed to the tray's own loop (``GLib.idle_add`` for the GTK backends,
``AppHelper.callAfter`` on macOS); pystray's win32 and xorg backends do their own marshalling.
Menu callbacks run on the tray's loop and only signal the controller.

pystray quirks handled here:

- ``import pystray`` with no X display raises ``Xlib.error.DisplayNameError`` (not ImportError)
  from its xorg fallback: ``load_pystray`` turns every import failure into ``TrayUnavailable``.
- pystray hands the tray one picture and lets the host scale it. With the GTK backends Segue
  instead writes every state at every standard size into a private icon theme and names the icon,
  so the host picks the size it draws (crisp at 16 px and at 48 px alike).
- The gtk backend sets ``Gtk.StatusIcon``'s title, which is not shown on hover; Segue sets the
  tooltip text too. AppIndicator has no tooltip: hosts show its title.
- The xorg backend shares one python-xlib connection between its loop and the threads that
  update it; the loop can miss an event and sleep on, hanging ``stop`` (seen in most runs under
  trayer). Segue queues xorg updates on one helper thread and wakes the loop through a second
  X connection, after ``stop`` until the loop has ended.
- The xorg backend asks the tray host to dock the icon once, when it is shown: with no host yet
  (a panel that starts after Segue) or an embed lost on a loaded machine, the icon never
  appeared. Segue checks that the host holds the window and asks again, for about a minute.
- The gtk backend runs the default item on a left click and opens the menu only on a right
  click; Segue makes a left click open the menu as well, like AppIndicator does.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import queue
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from assistant.desktop.icons import draw_icon
from assistant.desktop.state import UiState
from assistant.errors import SegueError

logger = logging.getLogger(__name__)

THEME_SIZES = (16, 22, 24, 32, 48, 64, 128)
"""Sizes written into the private icon theme (hicolor's standard directories)."""

# The one picture pystray gets where the host is not asked to choose (and the first picture
# on every backend, before the theme is in place).
_PICTURE_SIZE = {"win32": 32, "darwin": 44, "xorg": 32}
_DEFAULT_PICTURE_SIZE = 64
_TOOLTIP_MAX = 127  # Windows cuts tooltips at 128 characters
_SHOW_TIMEOUT = 5.0
_XORG_WAKE_EVERY = 0.1
_XORG_WAKE_TRIES = 30
_XORG_TRAILING_WAKES = 3
# Seconds between checks that the tray host docked the xorg icon (then asks again): quick at
# first for a loaded machine, then for a panel that comes up well after Segue (a login).
_XORG_DOCK_WAITS = (1.0, 1.0, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0)
_XORG_STOP_WAKE_S = 5.0

NO_DESKTOP_MESSAGE = "No desktop session: run `segue say ...` or set DISPLAY."

TALK_LABELS = {False: "Talk", True: "Stop listening"}
"""The Talk item's label, by whether Segue listens: it says what the next click does."""


class TrayUnavailable(SegueError):
    """The tray icon cannot be shown: no desktop session, or no usable pystray backend."""

    default_message = NO_DESKTOP_MESSAGE


@dataclass(frozen=True)
class DeviceEntry:
    """One Spotify device in the Devices submenu.

    Attributes:
        id: The Spotify device id (handed to ``on_device``).
        name: What the menu shows.
        active: Whether it is the device playing now (the checked radio item).
    """

    id: str
    name: str
    active: bool


@contextlib.contextmanager
def _gtk_without_gl() -> Iterator[None]:
    """GTK started without OpenGL (``GDK_GL=disable``) while pystray loads it.

    GTK 3 on X11 asks GLX for its visuals when it starts, which loads the system's OpenGL driver
    (Mesa's, with libLLVM: about 50 MB resident) although a tray icon and its menu never draw
    with GL. The variable is set only while GTK starts, so nothing Segue starts later (the
    Spotify app) inherits it; a value the person set is left alone.
    """
    if "GDK_GL" in os.environ:
        yield
        return
    os.environ["GDK_GL"] = "disable"
    try:
        yield
    finally:
        os.environ.pop("GDK_GL", None)


def load_pystray() -> ModuleType:
    """Import pystray, turning its many failure modes into ``TrayUnavailable``.

    Returns:
        The ``pystray`` module, with the backend it chose loaded.

    Raises:
        TrayUnavailable: No display, or no backend can load (missing GTK/AppIndicator typelibs).
    """
    errors: list[type[BaseException]] = [ImportError, ValueError, OSError]
    try:
        from Xlib.error import DisplayError  # pystray's xorg backend opens the display on import

        errors.append(DisplayError)
    except ImportError:
        pass
    if sys.platform.startswith("linux"):
        from assistant.desktop.system_gi import ensure_gi

        # The menu's backends need PyGObject: this environment's, or else the system's.
        if ensure_gi() is None:
            logger.info("No PyGObject: the tray icon will have no menu")
    try:
        with _gtk_without_gl():
            return importlib.import_module("pystray")
    except tuple(errors) as err:
        no_display = sys.platform.startswith("linux") and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
        )
        if no_display or type(err).__name__ in ("DisplayNameError", "DisplayConnectionError"):
            raise TrayUnavailable(NO_DESKTOP_MESSAGE) from err
        raise TrayUnavailable(
            f"The tray icon cannot start ({err}); install the GTK and AppIndicator libraries "
            "listed in the README, or run `segue say ...`."
        ) from err


class Tray:
    """The tray icon, its tooltip and its menu.

    Args:
        demo: Segue runs against the simulated Spotify: the icon wears the demo badge and the
            sign-in item reads "Connect Spotify...".
        on_talk: Talk (or Stop listening) was chosen: start or stop a recording.
        on_type: Type a command... was chosen (open the popup).
        on_device: A device was chosen; gets its Spotify id.
        on_speak_replies: Speak replies was toggled; gets the new value.
        on_open_settings: Open settings file was chosen.
        on_sign_in: Sign in (or Connect Spotify...) was chosen.
        on_sign_out: Sign out was chosen.
        on_quit: Quit was chosen. The tray then stops by itself: ``run`` returns.
        speak_replies: The initial check mark of Speak replies.
        signed_in: Whether the menu starts with Sign out rather than Sign in.
        name: The icon's name (the AppIndicator id).

    Raises:
        TrayUnavailable: There is no desktop to show an icon on.
    """

    def __init__(
        self,
        *,
        demo: bool,
        on_talk: Callable[[], None],
        on_type: Callable[[], None],
        on_device: Callable[[str], None],
        on_speak_replies: Callable[[bool], None],
        on_open_settings: Callable[[], None],
        on_sign_in: Callable[[], None],
        on_sign_out: Callable[[], None],
        on_quit: Callable[[], None],
        speak_replies: bool = True,
        signed_in: bool = False,
        name: str = "segue",
    ) -> None:
        self._pystray = load_pystray()
        self._demo = demo
        self._on_talk = on_talk
        self._on_type = on_type
        self._on_device = on_device
        self._on_speak_replies = on_speak_replies
        self._on_open_settings = on_open_settings
        self._on_sign_in = on_sign_in
        self._on_sign_out = on_sign_out
        self._on_quit = on_quit
        self._name = name

        self._lock = threading.Lock()
        self._state = UiState.IDLE
        self._now_playing: str | None = None
        self._devices: tuple[DeviceEntry, ...] = ()
        self._speak_replies = speak_replies
        self._signed_in = signed_in

        self._shown = threading.Event()
        self._stop_requested = threading.Event()
        self._loop_ended = threading.Event()
        self._theme_dir: Path | None = None
        self._glib: Any = None
        self._drawn_state = UiState.IDLE  # the picture pystray was given
        self._xorg_jobs: queue.Queue[Callable[[], object]] = queue.Queue()
        self._xorg_worker: threading.Thread | None = None

        self._icon: Any = self._pystray.Icon(
            name,
            draw_icon(
                UiState.IDLE, self._picture_size_for(self._backend_of_icon_class()), demo=demo
            ),
            self.tooltip,
            menu=self._build_menu(),
        )
        self._backend = type(self._icon).__module__.rsplit(".", 1)[-1].lstrip("_")
        if self._backend in ("gtk", "appindicator"):
            self._glib = importlib.import_module("gi.repository.GLib")

    # -- what the tray shows --------------------------------------------------------------------

    @property
    def backend(self) -> str:
        """The pystray backend in use: "appindicator", "gtk", "xorg", "darwin" or "win32"."""
        return self._backend

    @property
    def has_menu(self) -> bool:
        """Whether the backend shows a menu (pystray's xorg backend does not)."""
        return bool(getattr(type(self._icon), "HAS_MENU", True))

    @property
    def state(self) -> UiState:
        """The state the icon shows (or is about to show)."""
        with self._lock:
            return self._state

    @property
    def tooltip(self) -> str:
        """The hover text: the state and what is playing."""
        with self._lock:
            state, playing = self._state, self._now_playing
        head = "Segue (demo)" if self._demo else "Segue"
        text = f"{head}: {state.label}"
        if playing:
            text += f"\nNow playing: {playing}"
        return text[:_TOOLTIP_MAX]

    def icon_name(self, state: UiState) -> str:
        """The icon-theme name of ``state``'s picture (GTK backends)."""
        return f"{self._name}-{state.value}{'-demo' if self._demo else ''}"

    # -- lifecycle ------------------------------------------------------------------------------

    def run(self, setup: Callable[[], None] | None = None) -> None:
        """Show the icon and run the tray's loop on this (the main) thread until ``stop``.

        Args:
            setup: Called once, on a helper thread, after the icon has been shown. It should
                return promptly (``stop`` waits up to 5 s for it).
        """

        def pystray_setup(icon: Any) -> None:
            if self._stop_requested.is_set():
                self.stop()
                return
            if self._backend == "xorg":
                self._call_on_loop(self._show_icon)  # see _run_xorg_jobs
                threading.Thread(
                    target=self._keep_xorg_docked, name="segue-tray-dock", daemon=True
                ).start()
            else:
                # GTK backends queue pystray's _show on the loop; _on_loop_started runs after it.
                icon.visible = True
            self._call_on_loop(self._on_loop_started)
            if not self._shown.wait(_SHOW_TIMEOUT):
                logger.warning("The tray loop did not show the icon within %.0f s", _SHOW_TIMEOUT)
            if setup is not None and not self._stop_requested.is_set():
                try:
                    setup()
                except Exception:  # the top of pystray's setup thread
                    logger.exception("The tray's setup callback failed")

        if self._backend in ("gtk", "appindicator"):
            self._write_theme()
        logger.info("Tray starting with the %s backend", self._backend)
        try:
            self._icon.run(pystray_setup)
        finally:
            self._loop_ended.set()
            if self._theme_dir is not None:
                shutil.rmtree(self._theme_dir, ignore_errors=True)
                self._theme_dir = None

    def stop(self) -> None:
        """Hide the icon and end ``run``; from any thread, any number of times."""
        self._stop_requested.set()
        icon = self._icon
        if not getattr(icon, "_running", False):
            return  # pystray_setup stops the icon as soon as the loop is up
        if self._backend == "xorg":
            self._call_on_loop(icon.stop)
            threading.Thread(
                target=self._wake_until_ended, name="segue-tray-stop", daemon=True
            ).start()
            return
        if icon.visible and self._glib is not None:
            # GTK backends: quitting the loop leaves the icon docked until the process ends.
            icon.visible = False
        icon.stop()

    # -- updates from any thread ----------------------------------------------------------------

    def set_state(self, state: UiState) -> None:
        """Show ``state`` in the icon and the tooltip (and the Talk item's label)."""
        with self._lock:
            if state is self._state:
                return
            self._state = state
        self._call_on_loop(self._apply_all)

    def set_now_playing(self, text: str | None) -> None:
        """Show what is playing in the menu's label and the tooltip; None: nothing."""
        with self._lock:
            self._now_playing = text or None
        self._call_on_loop(self._apply_all)

    def set_devices(self, devices: Sequence[DeviceEntry]) -> None:
        """Replace the Devices submenu."""
        with self._lock:
            self._devices = tuple(devices)
        self._call_on_loop(self._apply_menu)

    def set_signed_in(self, signed_in: bool) -> None:
        """Offer Sign out (True) or Sign in (False)."""
        with self._lock:
            self._signed_in = signed_in
        self._call_on_loop(self._apply_menu)

    def set_speak_replies(self, speak: bool) -> None:
        """Set the Speak replies check mark (e.g. after the setting changed elsewhere)."""
        with self._lock:
            self._speak_replies = speak
        self._call_on_loop(self._apply_menu)

    def notify(self, title: str, body: str) -> None:
        """Show a notification through pystray (``Notifier``'s fallback on macOS and Windows)."""
        if not getattr(type(self._icon), "HAS_NOTIFICATION", False):
            logger.debug("The %s tray backend cannot show notifications", self._backend)
            return
        self._call_on_loop(lambda: self._icon.notify(body, title))

    # -- on the tray's loop ---------------------------------------------------------------------

    def _call_on_loop(self, func: Callable[[], None]) -> None:
        """Run ``func`` on the tray's loop (now, if the backend marshals by itself)."""

        def guarded() -> bool:
            try:
                func()
            except Exception:  # the top of a loop callback: log, keep the tray alive
                logger.exception("Updating the tray failed")
            return False  # GLib: do not repeat

        if self._glib is not None:
            self._glib.idle_add(guarded)
        elif self._backend == "xorg":
            self._xorg_jobs.put(guarded)
            self._start_xorg_worker()
        elif self._backend == "darwin":
            app_helper = importlib.import_module("PyObjCTools.AppHelper")
            app_helper.callAfter(guarded)
        else:
            guarded()

    def _start_xorg_worker(self) -> None:
        with self._lock:
            if self._xorg_worker is None:
                self._xorg_worker = threading.Thread(
                    target=self._run_xorg_jobs, name="segue-tray-xorg", daemon=True
                )
                self._xorg_worker.start()

    def _run_xorg_jobs(self) -> None:
        """Hand updates to pystray's xorg loop one by one, nudging the loop while they wait.

        pystray's xorg backend runs a call from another thread by sending its own window a
        client message and waiting for the loop. Both threads share one python-xlib connection;
        when the calling thread's flush reads the loop's next event (the message, or the
        DestroyNotify that ends ``run``), the loop stays asleep in select() and the call (or the
        whole stop) hangs. An event sent over a second connection wakes the loop.
        """
        while True:
            job = self._xorg_jobs.get()
            done = threading.Event()
            worker = threading.Thread(target=_run_then_set, args=(job, done), daemon=True)
            worker.start()
            for _ in range(_XORG_WAKE_TRIES):
                if done.wait(_XORG_WAKE_EVERY):
                    break
                self._wake_xorg_loop()
            # The loop may also be left waiting for a reply the job's thread read: nudge it a
            # few more times.
            for _ in range(_XORG_TRAILING_WAKES):
                self._wake_xorg_loop()
                if not self._xorg_jobs.empty():
                    break
                time.sleep(_XORG_WAKE_EVERY)

    def _wake_until_ended(self) -> None:
        """Wake the xorg loop until it has ended after ``stop`` (``_XORG_STOP_WAKE_S`` at most).

        The loop can miss the end of its own window just as it misses a call (see
        ``_run_xorg_jobs``): seen under trayer with both cores busy, about one stop in ten.
        """
        deadline = time.monotonic() + _XORG_STOP_WAKE_S
        while not self._loop_ended.wait(_XORG_WAKE_EVERY) and time.monotonic() < deadline:
            self._wake_xorg_loop()

    def _wake_xorg_loop(self) -> None:
        window = getattr(self._icon, "_window", None)
        manager = getattr(self._icon, "_systray_manager", None)
        if window is None and manager is None:
            return
        try:
            xlib = importlib.import_module("Xlib.X")
            xdisplay = importlib.import_module("Xlib.display")
            xevent = importlib.import_module("Xlib.protocol.event")
            conn = xdisplay.Display()
        except Exception:  # no display any more: nothing to wake
            logger.debug("Cannot reach the X display to wake the tray loop", exc_info=True)
            return
        try:
            # A made-up client message wakes pystray's connection and means nothing to anyone:
            # sent to pystray's own window with no mask it goes to the window's creator; once
            # that window is gone, to the tray manager's window, where pystray listens for
            # StructureNotify.
            atom = conn.intern_atom("_SEGUE_WAKE")
            for target_id, mask in (
                (window, xlib.NoEventMask),
                (manager, xlib.StructureNotifyMask),
            ):
                if target_id is None:
                    continue
                target = conn.create_resource_object("window", target_id.id)
                message = xevent.ClientMessage(
                    window=target, client_type=atom, data=(32, [0, 0, 0, 0, 0])
                )
                conn.send_event(target, message, event_mask=mask)
            conn.flush()
        except Exception:  # a window went away meanwhile
            logger.debug("Waking the xorg tray loop failed", exc_info=True)
        finally:
            conn.close()

    def _show_icon(self) -> None:
        self._icon.visible = True

    def _refresh_icon(self) -> None:
        # pystray's xorg backend asks the host to dock the icon and draws it on every update.
        self._icon.icon = self._icon.icon

    def _keep_xorg_docked(self) -> None:
        """Ask the tray host again until it docks the icon, then draw it there.

        pystray's xorg backend asks once and draws on the host's Expose events. When no host
        was there yet (a panel that starts after Segue at login), or on a loaded machine where
        the host never embedded the window or its Expose was lost (seen under trayer with both
        cores busy: about one start in five), the icon stayed missing or blank for the whole
        session. Checked after each of ``_XORG_DOCK_WAITS`` (about a minute in all).
        """
        asked_again = False
        for attempt, wait in enumerate(_XORG_DOCK_WAITS, start=1):
            if self._stop_requested.wait(wait):
                return
            docked = self._xorg_docked()
            if docked is None:
                return  # it cannot tell
            if docked:
                if asked_again:
                    self._call_on_loop(self._refresh_icon)  # drawn in its new place
                return
            logger.info("The tray icon is not docked yet; asking again (%d)", attempt)
            self._call_on_loop(self._refresh_icon)
            asked_again = True
        logger.warning("The tray host did not dock the icon")

    def _xorg_docked(self) -> bool | None:
        """Whether the tray host holds the icon's window (its parent is not the root window)."""
        window = getattr(self._icon, "_window", None)
        if window is None:
            return None
        try:
            conn = importlib.import_module("Xlib.display").Display()
        except Exception:  # no display: nothing to dock into
            return None
        try:
            tree = conn.create_resource_object("window", window.id).query_tree()
            return bool(tree.parent.id != conn.screen().root.id)
        except Exception:  # the window went away meanwhile
            return None
        finally:
            conn.close()

    def _on_loop_started(self) -> None:
        """First pass on the loop: switch to the themed icon, hook clicks, apply the state."""
        try:
            if self._backend == "appindicator" and self._theme_dir is not None:
                indicator = getattr(self._icon, "_appindicator", None)
                if indicator is not None:
                    indicator.set_icon_theme_path(str(self._theme_dir))
            elif self._backend == "gtk" and self._theme_dir is not None:
                gtk = importlib.import_module("gi.repository.Gtk")
                gtk.IconTheme.get_default().append_search_path(str(self._theme_dir))
                status_icon = getattr(self._icon, "_status_icon", None)
                if status_icon is not None:
                    status_icon.connect("activate", self._on_gtk_left_click)
            self._apply_all()
        finally:
            self._shown.set()

    def _on_gtk_left_click(self, status_icon: Any) -> None:
        # pystray's gtk backend opens the menu only on "popup-menu" (right click).
        popup = getattr(self._icon, "_on_status_icon_popup_menu", None)
        if popup is not None:
            popup(status_icon, 1, 0)

    def _apply_all(self) -> None:
        self._apply_icon()
        self._apply_menu()

    def _apply_icon(self) -> None:
        with self._lock:
            state = self._state
        tooltip = self.tooltip
        indicator = getattr(self._icon, "_appindicator", None)
        status_icon = getattr(self._icon, "_status_icon", None)
        if self._theme_dir is not None and indicator is not None:
            indicator.set_icon_full(self.icon_name(state), state.label)
        elif self._theme_dir is not None and status_icon is not None:
            status_icon.set_from_icon_name(self.icon_name(state))
            status_icon.set_tooltip_text(tooltip)
        elif state is not self._drawn_state:
            self._icon.icon = draw_icon(
                state, self._picture_size_for(self._backend), demo=self._demo
            )
        self._drawn_state = state
        if tooltip != self._icon.title:
            self._icon.title = tooltip

    def _apply_menu(self) -> None:
        if self.has_menu:
            self._icon.menu = self._build_menu()

    # -- the menu -------------------------------------------------------------------------------

    def _build_menu(self) -> Any:
        item = self._pystray.MenuItem
        menu = self._pystray.Menu
        with self._lock:
            state = self._state
            playing = self._now_playing
            devices = self._devices
            speak = self._speak_replies
            signed_in = self._signed_in

        device_items = [
            item(
                device.name,
                self._callback(f"device {device.name}", self._on_device, device.id),
                checked=_constant(device.active),
                radio=True,
            )
            for device in devices
        ] or [item("No devices found", None, enabled=False)]

        if self._demo:
            account = item("Connect Spotify...", self._callback("connect", self._on_sign_in))
        elif signed_in:
            account = item("Sign out", self._callback("sign out", self._on_sign_out))
        else:
            account = item("Sign in to Spotify...", self._callback("sign in", self._on_sign_in))

        return menu(
            item(
                TALK_LABELS[state is UiState.LISTENING],
                self._callback("talk", self._on_talk),
            ),
            item("Type a command...", self._callback("type", self._on_type)),
            menu.SEPARATOR,
            item(f"Now playing: {playing}" if playing else "Nothing playing", None, enabled=False),
            item("Devices", menu(*device_items)),
            menu.SEPARATOR,
            item("Speak replies", self._toggle_speak_replies, checked=_constant(speak)),
            item("Open settings file", self._callback("settings", self._on_open_settings)),
            account,
            menu.SEPARATOR,
            item("Quit", self._quit),
        )

    def _callback(self, what: str, func: Callable[..., None], *args: Any) -> Callable[..., None]:
        def handler(icon: Any = None, menu_item: Any = None) -> None:
            logger.debug("Tray menu: %s", what)
            try:
                func(*args)
            except Exception:  # the top of a menu callback on the tray loop
                logger.exception("The tray's %s handler failed", what)

        return handler

    def _toggle_speak_replies(self, icon: Any = None, menu_item: Any = None) -> None:
        with self._lock:
            self._speak_replies = not self._speak_replies
            speak = self._speak_replies
        self._callback("speak replies", self._on_speak_replies, speak)()
        # pystray rebuilds the menu after every callback; the new menu carries the new mark.
        self._apply_menu()

    def _quit(self, icon: Any = None, menu_item: Any = None) -> None:
        self._callback("quit", self._on_quit)()
        self.stop()

    # -- icons ----------------------------------------------------------------------------------

    def _write_theme(self) -> None:
        """Write every state at every size as a private hicolor icon theme."""
        root = Path(tempfile.mkdtemp(prefix=f"{self._name}-icons-"))
        for size in THEME_SIZES:
            folder = root / "hicolor" / f"{size}x{size}" / "apps"
            folder.mkdir(parents=True)
            for state in UiState:
                draw_icon(state, size, demo=self._demo).save(
                    folder / f"{self.icon_name(state)}.png"
                )
        self._theme_dir = root

    def _backend_of_icon_class(self) -> str:
        return str(self._pystray.Icon.__module__).rsplit(".", 1)[-1].lstrip("_")

    @staticmethod
    def _picture_size_for(backend: str) -> int:
        return _PICTURE_SIZE.get(backend, _DEFAULT_PICTURE_SIZE)


def _run_then_set(job: Callable[[], object], done: threading.Event) -> None:
    job()
    done.set()


def _constant(value: bool) -> Callable[[Any], bool]:
    """A pystray ``checked`` callable that always answers ``value``."""
    return lambda _item: value

"""The global push-to-talk hotkey, hold-to-talk or press-to-toggle, by the path this desktop allows.

``DesktopHotkey`` is what the tray starts. It picks the path:

- under Wayland (``XDG_SESSION_TYPE=wayland`` or ``WAYLAND_DISPLAY``): the desktop's
  GlobalShortcuts portal (``portal_hotkey.PortalHotkey``), which binds the shortcut for Segue after
  the person confirms it in the desktop's dialog; where the desktop has no such portal, pynput
  through XWayland (it then sees key presses only while an X11 window has the focus), with a
  sentence saying so;
- everywhere else (X11, macOS, Windows): ``Hotkey``, a pynput keyboard listener.

``Hotkey`` watches every key press and release on the desktop (pynput's ``Listener``, not
``GlobalHotKeys``: hold-to-talk needs the release too, and ``GlobalHotKeys`` reports only
activations). In ``"hold"`` mode ``on_start`` runs once when the whole combination is down and
``on_stop`` once when any of its keys goes up; in ``"toggle"`` mode each full press alternates
between them. Keyboard auto-repeat (more presses of a key that is already down, with no release in
between) changes nothing.

Both callbacks run on pynput's listener thread: they must only signal the controller and return.

Where a global hotkey cannot work, ``start()`` raises ``HotkeyUnavailable`` whose ``reason`` is one
sentence for a notification that points to the tray's Talk item and to ``segue listen``:

- Wayland without a GlobalShortcuts portal and without an X display (pynput sees X11 clients
  only),
- no display at all, or an X server that refuses the connection or lacks the RECORD extension,
- macOS without the Input Monitoring / Accessibility permission (events would silently be missing),
- a combination that is not a key combination.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from assistant.errors import SegueError

if TYPE_CHECKING:
    from assistant.desktop.portal_hotkey import PortalHotkey

logger = logging.getLogger(__name__)

HotkeyMode = Literal["hold", "toggle"]

SETTING = "hotkey"
"""The name of the setting the combination comes from (named in error messages)."""

FALLBACK = (
    "use the tray's Talk item, or bind `segue listen` to a shortcut in your desktop settings."
)

WAYLAND_REASON = "Global hotkeys don't work under Wayland; " + FALLBACK
XWAYLAND_REASON = (
    "This desktop offers no global-shortcuts portal, so the hotkey works only while an X11 "
    "window has the focus; " + FALLBACK
)
NO_DISPLAY_REASON = "There is no display to watch for the global hotkey; " + FALLBACK
MACOS_PERMISSION_REASON = (
    "macOS has not allowed Segue to watch the keyboard for the global hotkey; allow it under "
    "System Settings > Privacy & Security > Input Monitoring and Accessibility, or use the "
    "tray's Talk item."
)

# How long start() waits for the listener thread to report it is watching.
_READY_TIMEOUT = 3.0
# How long stop() waits for the listener thread to end.
_JOIN_TIMEOUT = 1.0

# Names people write that pynput spells differently (pynput wants <ctrl>, <cmd>, <enter>, ...).
_ALIASES: Mapping[str, str] = {
    "control": "ctrl",
    "ctl": "ctrl",
    "option": "alt",
    "opt": "alt",
    "super": "cmd",
    "win": "cmd",
    "windows": "cmd",
    "meta": "cmd",
    "command": "cmd",
    "return": "enter",
    "escape": "esc",
    "spacebar": "space",
    "del": "delete",
    "pgup": "page_up",
    "pgdown": "page_down",
}

# X11 keysyms pynput reports as plain key codes but that are the Alt key: with Shift held, the
# Alt_L key produces Meta_L in the usual xkb keymaps (seen under Xvfb: press <65511>, release
# Key.alt), so a combination with both Shift and Alt would never be complete without this.
_X11_ALT_KEYSYMS = frozenset({0xFFE7, 0xFFE8})  # Meta_L, Meta_R


class HotkeyUnavailable(SegueError):
    """A global hotkey cannot work here.

    Attributes:
        reason: One sentence for the user saying why, and what to use instead.
    """

    default_message = "The global hotkey is unavailable; " + FALLBACK

    @property
    def reason(self) -> str:
        """The sentence to show the user (the same as ``user_message``)."""
        return self.user_message


def combo_parts(combo: str) -> list[str]:
    """The keys of ``combo`` in pynput's notation, in order: ``["<ctrl>", "<alt>", "<space>"]``.

    Bare key names are bracketed and aliases resolved; single characters stay as they are (the
    plus key too: ``"<ctrl>++"`` is Ctrl and ``+``).

    Raises:
        HotkeyUnavailable: ``combo`` is empty or has an empty part.
    """
    text = combo.strip()
    parts: list[str] = []
    start = 0
    # A "+" right after a separator (or at the very start) is the plus key itself.
    for index, char in enumerate(text):
        if char == "+" and index != start:
            parts.append(text[start:index])
            start = index + 1
    if start >= len(text):
        raise HotkeyUnavailable(_invalid_reason(combo))
    parts.append(text[start:])
    out: list[str] = []
    for raw in parts:
        part = raw.strip()
        if not part:
            raise HotkeyUnavailable(_invalid_reason(combo))
        if len(part) == 1:
            out.append(part.lower())
            continue
        name = part[1:-1] if part.startswith("<") and part.endswith(">") else part
        name = name.strip().lower().replace(" ", "_")
        out.append(f"<{_ALIASES.get(name, name)}>")
    return out


def normalise_combo(combo: str) -> str:
    """Return ``combo`` in pynput's notation, bare key names bracketed, aliases resolved.

    ``"ctrl+alt+space"`` and ``"<ctrl>+<alt>+space"`` both become ``"<ctrl>+<alt>+<space>"``;
    single characters stay as they are (``"<cmd>+<shift>+s"``); ``"f9"`` becomes ``"<f9>"``.

    Raises:
        HotkeyUnavailable: ``combo`` is empty or has an empty part.
    """
    return "+".join(combo_parts(combo))


def _invalid_reason(combo: str) -> str:
    return (
        f"The {SETTING} setting “{combo}” is not a key combination; write it like "
        "<ctrl>+<alt>+space or f9. Until then, " + FALLBACK
    )


def check_display(environ: Mapping[str, str] | None = None, platform: str | None = None) -> None:
    """Raise ``HotkeyUnavailable`` when this session has no display pynput can watch.

    Only looks at the environment (it opens no connection): on Linux and the BSDs a global
    hotkey needs an X display; under Wayland pynput sees only X11 clients.

    Args:
        environ: The environment to judge (default ``os.environ``).
        platform: ``sys.platform`` to judge (default: this one).

    Raises:
        HotkeyUnavailable: Wayland without ``DISPLAY``, or no display at all.
    """
    env = os.environ if environ is None else environ
    if not _uses_x11(sys.platform if platform is None else platform):
        return
    if env.get("DISPLAY"):
        return
    if is_wayland(env):
        raise HotkeyUnavailable(WAYLAND_REASON)
    raise HotkeyUnavailable(NO_DISPLAY_REASON)


def is_wayland(environ: Mapping[str, str] | None = None) -> bool:
    """Whether this is a Wayland session (``XDG_SESSION_TYPE`` or ``WAYLAND_DISPLAY`` says so)."""
    env = os.environ if environ is None else environ
    return bool(env.get("WAYLAND_DISPLAY")) or env.get("XDG_SESSION_TYPE", "").lower() == "wayland"


class Hotkey:
    """A global key combination that starts and stops talking.

    Args:
        combo: The combination, e.g. ``"<ctrl>+<alt>+space"``, ``"<cmd>+<shift>+s"``, ``"f9"``
            (pynput's notation; bare names such as ``space`` or ``ctrl`` are accepted too).
        mode: ``"hold"`` (talk while the keys are held) or ``"toggle"`` (press once to start,
            again to stop).
        on_start: Called on pynput's thread when talking should start; must only signal.
        on_stop: Called on pynput's thread when talking should stop; must only signal.
    """

    def __init__(
        self,
        combo: str = "<ctrl>+<alt>+space",
        *,
        mode: HotkeyMode = "hold",
        on_start: Callable[[], None],
        on_stop: Callable[[], None],
    ) -> None:
        if mode not in ("hold", "toggle"):
            raise ValueError(f"mode must be 'hold' or 'toggle', not {mode!r}")
        self.combo = combo
        self.mode: HotkeyMode = mode
        self._on_start = on_start
        self._on_stop = on_stop
        self._lock = threading.Lock()
        self._keys: frozenset[Any] = frozenset()
        self._down: set[Any] = set()
        self._active = False
        self._listener: Any = None
        self._canonical: Callable[[Any], Any] = lambda key: key
        self._alt: Any = None
        self._limitation: str | None = None
        self._x11 = _uses_x11()

    @property
    def running(self) -> bool:
        """Whether the listener is watching the keyboard."""
        return self._listener is not None and bool(self._listener.is_alive())

    @property
    def active(self) -> bool:
        """Whether talking is on (between an ``on_start`` and its ``on_stop``)."""
        return self._active

    @property
    def limitation(self) -> str | None:
        """After ``start()``: a sentence on what the hotkey cannot see here, or None.

        Set under Wayland with XWayland: the hotkey then works only while an X11 window has the
        focus.
        """
        return self._limitation

    def start(self) -> None:
        """Start watching the keyboard (on pynput's own thread).

        Raises:
            HotkeyUnavailable: No usable display (Wayland, none, X refused the connection),
                macOS without the Input Monitoring permission, or an invalid combination.
        """
        if self._listener is not None:
            return
        check_display()
        if self._x11:
            _check_x_server()
            if is_wayland():
                self._limitation = (
                    "Under Wayland the global hotkey works only while an X11 window has the "
                    "focus; " + FALLBACK
                )
                logger.warning("Wayland session: the hotkey sees X11 (XWayland) windows only")
        keyboard = _import_pynput_keyboard()
        try:
            parsed = keyboard.HotKey.parse(normalise_combo(self.combo))
        except ValueError as err:
            raise HotkeyUnavailable(_invalid_reason(self.combo)) from err
        listener = keyboard.Listener(on_press=self._pressed, on_release=self._released)
        self._keys = frozenset(parsed)
        self._canonical = listener.canonical
        self._alt = keyboard.Key.alt
        self._down.clear()
        self._active = False
        listener.start()
        if not _wait_ready(listener, _READY_TIMEOUT):
            self._listener = listener
            self.stop()
            raise HotkeyUnavailable(
                "Segue could not start watching the keyboard for the global hotkey; " + FALLBACK
            )
        # pynput's macOS listener records whether the process may monitor input; without the
        # permission it runs but never sees a key.
        if not getattr(listener, "IS_TRUSTED", True):
            self._listener = listener
            self.stop()
            raise HotkeyUnavailable(MACOS_PERMISSION_REASON)
        self._listener = listener
        logger.info("Global hotkey %s (%s) is watched", self.combo, self.mode)

    def stop(self) -> None:
        """Stop watching the keyboard; the listener thread ends within about 1 s."""
        listener, self._listener = self._listener, None
        if listener is None:
            return
        deadline = time.monotonic() + _JOIN_TIMEOUT
        listener.stop()
        while True:
            if self._x11:
                # Again on each round: a wake that reached the server before the listener had
                # enabled its recording changed nothing.
                _wake_x11_listener(listener)
            remaining = deadline - time.monotonic()
            # Thread.join itself: pynput's join re-raises errors from its callbacks, and ours
            # already logged theirs.
            threading.Thread.join(listener, max(0.0, min(0.25, remaining)))
            if not listener.is_alive() or remaining <= 0.25:
                break
        if listener.is_alive():
            logger.warning("The hotkey listener did not end within %.1f s", _JOIN_TIMEOUT)
        with self._lock:
            self._down.clear()
            self._active = False

    # -- pynput's thread ------------------------------------------------------------------------

    def _key(self, key: Any) -> Any:
        if key is None:
            return None
        canonical = self._canonical(key)
        if self._x11 and getattr(canonical, "vk", None) in _X11_ALT_KEYSYMS:
            return self._alt
        return canonical

    def _pressed(self, key: Any, injected: bool = False) -> None:
        key = self._key(key)
        with self._lock:
            if key not in self._keys or key in self._down:
                # Not ours, or auto-repeat of a key already down.
                return
            self._down.add(key)
            if self._down != self._keys:
                return
            if self.mode == "hold":
                if self._active:
                    return
                self._active = True
                callback = self._on_start
            else:
                self._active = not self._active
                callback = self._on_start if self._active else self._on_stop
        self._call(callback)

    def _released(self, key: Any, injected: bool = False) -> None:
        key = self._key(key)
        with self._lock:
            if key not in self._down:
                return
            self._down.discard(key)
            if self.mode != "hold" or not self._active:
                return
            self._active = False
        self._call(self._on_stop)

    def _call(self, callback: Callable[[], None]) -> None:
        # The top of pynput's thread for our purposes: an exception escaping here would stop
        # the listener, so it is logged and the hotkey keeps working.
        try:
            callback()
        except Exception:
            logger.exception("A hotkey callback failed")


HotkeyPath = Literal["portal", "xwayland", "pynput"]
"""How the hotkey is watched: the desktop's GlobalShortcuts portal, pynput through XWayland (only
while an X11 window has the focus), or pynput with the whole keyboard in view (X11, macOS,
Windows)."""


class DesktopHotkey:
    """The global talk hotkey, by whichever path this desktop allows (see the module docstring).

    Args:
        combo: The person's hotkey setting (pynput's notation); under Wayland it is the portal's
            preferred trigger, and the desktop may let the person choose other keys.
        mode: ``"hold"`` or ``"toggle"``.
        on_start: Called when talking should start (on a listener thread); must only signal.
        on_stop: Called when talking should stop (on a listener thread); must only signal.
        on_status: Gets one sentence for the person when something happens they should know:
            the keys the desktop bound, that they declined, that the desktop closed the session,
            that the hotkey sees only X11 windows.
        environ: The environment that decides the path (default ``os.environ``).
        platform: ``sys.platform`` (default: this one).
        bus: The session bus for the portal: "SESSION" or a D-Bus address.

    Attributes:
        path: The path in use after ``start()``, or None before (or when none works).
    """

    def __init__(
        self,
        combo: str,
        *,
        mode: HotkeyMode = "hold",
        on_start: Callable[[], None],
        on_stop: Callable[[], None],
        on_status: Callable[[str], None] = lambda sentence: None,
        environ: Mapping[str, str] | None = None,
        platform: str | None = None,
        bus: str = "SESSION",
    ) -> None:
        self.combo = combo
        self.mode: HotkeyMode = mode
        self._on_start = on_start
        self._on_stop = on_stop
        self._on_status = on_status
        self._environ = environ
        self._platform = sys.platform if platform is None else platform
        self._bus = bus
        self._watcher: Hotkey | PortalHotkey | None = None
        self.path: HotkeyPath | None = None

    @property
    def running(self) -> bool:
        """Whether the hotkey is being watched (or, through the portal, being bound)."""
        return self._watcher is not None and self._watcher.running

    @property
    def active(self) -> bool:
        """Whether talking is on (between an ``on_start`` and its ``on_stop``)."""
        return self._watcher is not None and self._watcher.active

    def start(self) -> None:
        """Start watching the hotkey by the first path that works here.

        Raises:
            HotkeyUnavailable: No path works; its sentence says why and what to use instead.
        """
        if self._watcher is not None:
            return
        if _uses_x11(self._platform) and is_wayland(self._environ):
            self._start_under_wayland()
            return
        watcher = self._pynput()
        watcher.start()
        self._watcher, self.path = watcher, "pynput"

    def stop(self) -> None:
        """Stop watching (within about a second)."""
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.stop()

    def _start_under_wayland(self) -> None:
        try:
            from assistant.desktop.portal_hotkey import PortalHotkey
        except ImportError as err:  # jeepney is installed on Linux only
            logger.warning("No D-Bus library for the shortcut portal: %s", err)
            reason = XWAYLAND_REASON
        else:
            portal = PortalHotkey(
                self.combo,
                mode=self.mode,
                on_start=self._on_start,
                on_stop=self._on_stop,
                on_status=self._on_status,
                bus=self._bus,
            )
            try:
                portal.start()
            except HotkeyUnavailable as err:
                reason = err.reason
            else:
                self._watcher, self.path = portal, "portal"
                logger.info("Hotkey path: the GlobalShortcuts portal")
                return
        # No portal: pynput still sees X11 (XWayland) windows where there is an X display.
        watcher = self._pynput()
        try:
            watcher.start()
        except HotkeyUnavailable as err:
            raise HotkeyUnavailable(reason) from err
        self._watcher, self.path = watcher, "xwayland"
        logger.info("Hotkey path: pynput through XWayland")
        self._on_status(XWAYLAND_REASON)

    def _pynput(self) -> Hotkey:
        return Hotkey(self.combo, mode=self.mode, on_start=self._on_start, on_stop=self._on_stop)


def _uses_x11(platform: str | None = None) -> bool:
    """Whether pynput watches the keyboard through X11 here (Linux and the BSDs)."""
    return (sys.platform if platform is None else platform) not in ("darwin", "win32", "cygwin")


def _import_pynput_keyboard() -> Any:
    """Import ``pynput.keyboard`` (its X11 backend opens a display connection on import)."""
    try:
        import pynput.keyboard
    except Exception as err:
        # pynput raises ImportError for a missing backend, but its X11 backend lets Xlib's own
        # connection errors through from the import itself.
        logger.warning("pynput is unusable here: %s", err)
        raise HotkeyUnavailable(
            "Segue could not load its keyboard watcher for the global hotkey; " + FALLBACK
        ) from err
    return pynput.keyboard


def _check_x_server() -> None:
    """Open and close one X connection; the listener needs the server and its RECORD extension.

    Without this, pynput's listener thread dies before reporting ready and ``wait()`` would never
    return.
    """
    try:
        import Xlib.display
        import Xlib.error
    except ImportError as err:
        raise HotkeyUnavailable(
            "Segue could not load its keyboard watcher for the global hotkey; " + FALLBACK
        ) from err
    try:
        display = Xlib.display.Display()
    except (Xlib.error.DisplayError, Xlib.error.ConnectionClosedError, OSError) as err:
        logger.warning("No X connection for the hotkey: %s", err)
        raise HotkeyUnavailable(
            "Segue could not connect to the X display to watch the global hotkey; " + FALLBACK
        ) from err
    try:
        has_record = bool(display.has_extension("RECORD"))
    finally:
        display.close()
    if not has_record:
        raise HotkeyUnavailable(
            "This X server cannot report key presses to other programs (no RECORD extension), "
            "so the global hotkey cannot work; " + FALLBACK
        )


def _wait_ready(listener: Any, timeout: float) -> bool:
    """Wait until pynput's listener is watching, or its thread died, or ``timeout`` passed."""
    ready = threading.Event()

    def wait() -> None:
        listener.wait()
        ready.set()

    # pynput's wait() has no timeout and never returns when the listener thread dies early,
    # so it waits on a helper thread (a daemon: it ends with the process in that rare case).
    threading.Thread(target=wait, name="hotkey-ready", daemon=True).start()
    step = 0.05
    waited = 0.0
    while waited < timeout:
        if ready.wait(step):
            return True
        if not listener.is_alive():
            return ready.is_set()
        waited += step
    return ready.is_set()


def _wake_x11_listener(listener: Any) -> None:
    """End pynput's X11 listener now instead of at the next key event.

    pynput 1.8 asks the server to disable its RECORD context on the very connection that is
    blocked receiving it and never flushes that request, so its thread stays until the next key
    press. Disabling the context over a connection of our own ends it at once.
    """
    context = getattr(listener, "_context", None)
    if context is None:
        return
    import Xlib.display
    import Xlib.error

    try:
        display = Xlib.display.Display()
    except (Xlib.error.DisplayError, Xlib.error.ConnectionClosedError, OSError) as err:
        logger.debug("Could not wake the hotkey listener: %s", err)
        return
    try:
        display.record_disable_context(context)
        # A round trip, so the server has handled the request before this connection closes.
        display.sync()
    except (Xlib.error.XError, Xlib.error.ConnectionClosedError) as err:
        logger.debug("Could not wake the hotkey listener: %s", err)
    finally:
        display.close()

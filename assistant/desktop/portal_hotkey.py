"""Hold-to-talk under Wayland: the XDG desktop portal's GlobalShortcuts interface, over jeepney.

Wayland lets no program watch the keyboard of others; the desktop binds a shortcut on Segue's
behalf and reports its presses instead. The portal is ``org.freedesktop.portal.Desktop`` on the
session bus, object ``/org/freedesktop/portal/desktop``, and the conversation goes:

1. ``org.freedesktop.host.portal.Registry.Register("segue", {})``, before any other portal call,
   so the portal knows which application asks (portals since 1.19; a refusal or an older portal
   is fine: the portal then guesses the application itself).
2. ``Properties.Get("org.freedesktop.portal.GlobalShortcuts", "version")``: whether the desktop
   offers global shortcuts at all. Without them ``start()`` raises ``HotkeyUnavailable``.
3. ``CreateSession({handle_token, session_handle_token})`` returns a Request object path; that
   object's ``Response(u response, a{sv} results)`` signal brings ``session_handle``.
4. ``BindShortcuts(session, [("talk", {description, preferred_trigger})], "", {handle_token})``:
   the desktop shows its dialog. ``Response`` 0 lists in ``shortcuts`` what was bound, each with
   the ``trigger_description`` the person accepted or chose; 1 means the person declined.
5. ``Activated`` / ``Deactivated(session, "talk", timestamp, options)``: press and release.
   ``Session.Closed`` on the session's path: the desktop ended the session.

Request paths are ``/org/freedesktop/portal/desktop/request/SENDER/TOKEN`` (SENDER: this
connection's unique name without its ``:``, dots as underscores; TOKEN: ours), so the Response can
be recognised even when it overtakes the method's reply. The portal sends its signals to this
connection alone; they are accepted from the portal's own unique name only.

Threads: ``start()`` does 1-2 on the caller's thread (milliseconds), then one daemon thread
("segue-portal") does 3-5 and is the only one receiving on the connection. The callbacks run on
that thread and must only signal. ``on_status`` gets one sentence whenever something happened the
person should know: which keys were bound, that they declined, that the desktop closed the session.
``stop()`` closes the session and ends the thread at once, even while the dialog is open.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from jeepney import DBusAddress, HeaderFields, MatchRule, Message, MessageType, Properties
from jeepney.bus_messages import message_bus
from jeepney.io.threading import DBusConnection, ReceiveStopped, open_dbus_connection
from jeepney.low_level import MessageFlag
from jeepney.wrappers import new_method_call

from assistant.desktop.hotkey import FALLBACK, HotkeyMode, HotkeyUnavailable, combo_parts

logger = logging.getLogger(__name__)

PORTAL_BUS_NAME = "org.freedesktop.portal.Desktop"
PORTAL_PATH = "/org/freedesktop/portal/desktop"
SHORTCUTS_INTERFACE = "org.freedesktop.portal.GlobalShortcuts"
REQUEST_INTERFACE = "org.freedesktop.portal.Request"
SESSION_INTERFACE = "org.freedesktop.portal.Session"
REGISTRY_INTERFACE = "org.freedesktop.host.portal.Registry"
BUS_DRIVER = "org.freedesktop.DBus"

APP_ID = "segue"
"""The application id Segue registers (the basename of its desktop entry, ``segue.desktop``)."""
SHORTCUT_ID = "talk"

# Request.Response's codes.
RESPONSE_SUCCESS = 0
RESPONSE_CANCELLED = 1

NO_BUS_REASON = (
    "There is no D-Bus session bus to reach the desktop's shortcut service, so there is no "
    "global hotkey; " + FALLBACK
)
NO_PORTAL_REASON = (
    "This desktop offers no global-shortcuts portal, so Segue cannot watch a hotkey under "
    "Wayland; " + FALLBACK
)
NO_APP_ID_REASON = (
    "The desktop's shortcut portal did not recognise Segue as an application, so no hotkey was "
    "bound; " + FALLBACK
)
DECLINED_REASON = (
    "You declined Segue's talk shortcut, so there is no hotkey this time; use the tray's Talk "
    "item, or restart Segue to be asked again."
)
NOT_BOUND_REASON = "The desktop did not bind Segue's talk shortcut; " + FALLBACK
CLOSED_REASON = (
    "The desktop closed Segue's shortcut session, so the hotkey stopped working; use the tray's "
    "Talk item, or restart Segue to bind it again."
)
FAILED_REASON = "The desktop's shortcut portal stopped answering, so the hotkey is off; " + FALLBACK

# How long a portal call may take, and CreateSession's Response (no person is asked there).
# BindShortcuts' Response waits as long as the person takes in the desktop's dialog.
CALL_TIMEOUT = 5.0
_JOIN_TIMEOUT = 1.0

# pynput key names -> the identifiers of the XDG shortcuts specification (xkbcommon keysym names
# without XKB_KEY_), for the preferred trigger.
_MODIFIERS: Mapping[str, str] = {
    "ctrl": "CTRL",
    "ctrl_l": "CTRL",
    "ctrl_r": "CTRL",
    "alt": "ALT",
    "alt_l": "ALT",
    "alt_r": "ALT",
    "alt_gr": "ALT",
    "shift": "SHIFT",
    "shift_l": "SHIFT",
    "shift_r": "SHIFT",
    "cmd": "LOGO",
    "cmd_l": "LOGO",
    "cmd_r": "LOGO",
}
_KEYSYMS: Mapping[str, str] = {
    "space": "space",
    "enter": "Return",
    "esc": "Escape",
    "tab": "Tab",
    "backspace": "BackSpace",
    "delete": "Delete",
    "insert": "Insert",
    "home": "Home",
    "end": "End",
    "page_up": "Page_Up",
    "page_down": "Page_Down",
    "up": "Up",
    "down": "Down",
    "left": "Left",
    "right": "Right",
    "pause": "Pause",
    "print_screen": "Print",
    "scroll_lock": "Scroll_Lock",
    "caps_lock": "Caps_Lock",
    "num_lock": "Num_Lock",
    "menu": "Menu",
    "media_play_pause": "XF86AudioPlay",
    "media_next": "XF86AudioNext",
    "media_previous": "XF86AudioPrev",
    "media_volume_up": "XF86AudioRaiseVolume",
    "media_volume_down": "XF86AudioLowerVolume",
    "media_volume_mute": "XF86AudioMute",
}
_PUNCTUATION: Mapping[str, str] = {
    ",": "comma",
    ".": "period",
    "/": "slash",
    ";": "semicolon",
    "'": "apostrophe",
    "[": "bracketleft",
    "]": "bracketright",
    "-": "minus",
    "=": "equal",
    "`": "grave",
    "\\": "backslash",
    "+": "plus",
}
_MODIFIER_ORDER = ("CTRL", "ALT", "SHIFT", "LOGO")

Variant = tuple[str, Any]
"""How jeepney hands over a D-Bus variant: (signature, value)."""


class _SessionEnded(Exception):
    """The session ended while a request was under way; ``sentence`` says so to the person."""

    def __init__(self, sentence: str) -> None:
        self.sentence = sentence
        super().__init__(sentence)


class PortalError(Exception):
    """The portal answered a call with a D-Bus error (internal: converted before it leaves).

    Attributes:
        name: The D-Bus error name, e.g. ``org.freedesktop.DBus.Error.ServiceUnknown``.
        text: The error's message, if it sent one.
    """

    def __init__(self, name: str, text: str) -> None:
        self.name = name
        self.text = text
        super().__init__(f"{name}: {text}")


def portal_trigger(combo: str) -> str | None:
    """The XDG shortcuts notation of ``combo``, for the portal's ``preferred_trigger``.

    ``"<ctrl>+<alt>+space"`` becomes ``"CTRL+ALT+space"``, ``"<cmd>+<shift>+s"`` becomes
    ``"SHIFT+LOGO+s"``, ``"f9"`` becomes ``"F9"``.

    Returns:
        The trigger, or None when ``combo`` has no key the notation can name (then the desktop
        lets the person choose).
    """
    try:
        parts = combo_parts(combo)
    except HotkeyUnavailable:
        return None
    modifiers: set[str] = set()
    keys: list[str] = []
    for part in parts:
        name = part[1:-1] if part.startswith("<") and part.endswith(">") else part
        if name in _MODIFIERS:
            modifiers.add(_MODIFIERS[name])
        elif len(name) == 1 and name.isalnum():
            keys.append(name.lower())
        elif len(name) == 1 and name in _PUNCTUATION:
            keys.append(_PUNCTUATION[name])
        elif name in _KEYSYMS:
            keys.append(_KEYSYMS[name])
        elif name[:1] == "f" and name[1:].isdigit() and 1 <= int(name[1:]) <= 35:
            keys.append(name.upper())
        else:
            return None
    if len(keys) != 1:
        return None
    return "+".join([m for m in _MODIFIER_ORDER if m in modifiers] + keys)


def probe_portal(bus: str = "SESSION") -> int:
    """The version of the desktop's GlobalShortcuts portal, without binding anything.

    Args:
        bus: "SESSION" (``DBUS_SESSION_BUS_ADDRESS``) or a D-Bus address; empty: no bus.

    Raises:
        HotkeyUnavailable: No session bus, or no GlobalShortcuts portal on it.
    """
    link = _open(bus)
    try:
        return _shortcuts_version(link)
    except (PortalError, TimeoutError, OSError) as err:
        logger.info("No GlobalShortcuts portal: %s", err)
        raise HotkeyUnavailable(NO_PORTAL_REASON) from err
    finally:
        link.close()


class PortalHotkey:
    """The talk shortcut, bound and reported by the desktop's GlobalShortcuts portal.

    Args:
        combo: The person's hotkey setting (pynput notation); offered as the preferred trigger.
        mode: ``"hold"`` (talk while held) or ``"toggle"`` (press to start, again to stop).
        on_start: Called on the portal thread when talking should start; must only signal.
        on_stop: Called on the portal thread when talking should stop; must only signal.
        on_status: Gets one sentence for the person (bound, declined, closed); may be slow
            (a notification), it runs on the portal thread between events.
        bus: "SESSION" (``DBUS_SESSION_BUS_ADDRESS``) or a D-Bus address.
        app_id: The application id to register with the portal.

    Attributes:
        version: The portal's GlobalShortcuts version, after ``start()``.
        trigger: The keys the desktop bound, as it describes them ("Ctrl+Alt+Space"); None
            until bound, or when it did not say.
    """

    def __init__(
        self,
        combo: str,
        *,
        mode: HotkeyMode = "hold",
        on_start: Callable[[], None],
        on_stop: Callable[[], None],
        on_status: Callable[[str], None] = lambda sentence: None,
        bus: str = "SESSION",
        app_id: str = APP_ID,
    ) -> None:
        if mode not in ("hold", "toggle"):
            raise ValueError(f"mode must be 'hold' or 'toggle', not {mode!r}")
        self.combo = combo
        self.mode: HotkeyMode = mode
        self._on_start = on_start
        self._on_stop = on_stop
        self._on_status = on_status
        self._bus = bus
        self._app_id = app_id
        self._lock = threading.Lock()
        self._link: _Link | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._portal_owner = ""
        self._session = ""
        self._active = False
        self.version = 0
        self.trigger: str | None = None

    @property
    def running(self) -> bool:
        """Whether the portal thread runs (binding, or listening for the shortcut)."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def active(self) -> bool:
        """Whether talking is on (between an ``on_start`` and its ``on_stop``)."""
        return self._active

    def start(self) -> None:
        """Check that the desktop offers global shortcuts, then bind on the portal thread.

        Raises:
            HotkeyUnavailable: No session bus, or no GlobalShortcuts portal on it.
        """
        if self._thread is not None:
            return
        link = _open(self._bus)
        try:
            self._register(link)
            self.version = _shortcuts_version(link)
            self._portal_owner = str(link.call(message_bus.GetNameOwner(PORTAL_BUS_NAME))[0])
            for rule in _match_rules():
                link.call(message_bus.AddMatch(rule))
        except (PortalError, TimeoutError, OSError) as err:
            link.close()
            logger.info("No GlobalShortcuts portal: %s", err)
            raise HotkeyUnavailable(NO_PORTAL_REASON) from err
        logger.info("GlobalShortcuts portal version %d found", self.version)
        self._link = link
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="segue-portal", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Close the session and end the portal thread (within about a second)."""
        self._stopping.set()
        link, thread = self._link, self._thread
        self._link = self._thread = None
        if link is None:
            return
        self._close_session(link)
        link.interrupt()
        if thread is not None and thread is not threading.current_thread():
            thread.join(_JOIN_TIMEOUT)
            if thread.is_alive():
                logger.warning("The portal thread did not end within %.1f s", _JOIN_TIMEOUT)
        link.close()
        with self._lock:
            self._active = False

    def _close_session(self, link: _Link) -> None:
        """Ask the portal to close the session (its shortcut is released); no reply awaited."""
        with self._lock:
            session, self._session = self._session, ""
        if not session:
            return
        close = new_method_call(DBusAddress(session, PORTAL_BUS_NAME, SESSION_INTERFACE), "Close")
        try:
            link.send(close, no_reply=True)
        except OSError as err:
            logger.debug("Could not close the shortcut session: %s", err)

    # -- the caller's thread (start) ------------------------------------------------------------

    def _register(self, link: _Link) -> None:
        registry = DBusAddress(PORTAL_PATH, PORTAL_BUS_NAME, REGISTRY_INTERFACE)
        try:
            link.call(new_method_call(registry, "Register", "sa{sv}", (self._app_id, {})))
        except PortalError as err:
            # Older portals lack the registry; sandboxed apps and unknown ids are refused. The
            # portal then tells the application from its process (a systemd scope, a sandbox).
            logger.info("The portal did not register %r: %s", self._app_id, err)

    # -- the portal thread ----------------------------------------------------------------------

    def _run(self) -> None:
        link = self._link
        if link is None:
            return
        ended: str | None = None
        try:
            if self._create_session(link):
                if self._bind(link):
                    ended = self._listen(link)
                else:
                    # A session binds once: without the shortcut it serves nothing.
                    self._close_session(link)
        except ReceiveStopped:
            return  # stop() was called
        except _SessionEnded as err:
            ended = err.sentence
        except (PortalError, TimeoutError, OSError) as err:
            if self._stopping.is_set():
                return
            logger.warning("The shortcut portal failed: %s", err)
            ended = FAILED_REASON
        except Exception:  # the top of the portal thread: log, tell, never crash the tray
            logger.exception("The shortcut portal thread failed")
            ended = FAILED_REASON
        if ended is not None and not self._stopping.is_set():
            self._release_if_held()
            self._status(ended)

    def _create_session(self, link: _Link) -> bool:
        token = _token()
        options = {"handle_token": ("s", _token()), "session_handle_token": ("s", token)}
        message = new_method_call(
            DBusAddress(PORTAL_PATH, PORTAL_BUS_NAME, SHORTCUTS_INTERFACE),
            "CreateSession",
            "a{sv}",
            (options,),
        )
        try:
            response, results = self._request(link, message, options, CALL_TIMEOUT)
        except PortalError as err:
            if err.name.endswith(".NotAllowed"):
                # "An app id is required": the portal could not tell which application asks.
                self._status(NO_APP_ID_REASON)
                return False
            raise
        session = _value(results.get("session_handle"))
        if response != RESPONSE_SUCCESS or not isinstance(session, str) or not session:
            logger.warning("CreateSession answered %d without a session", response)
            self._status(NOT_BOUND_REASON)
            return False
        with self._lock:
            self._session = session
        logger.info("Shortcut session %s created", session)
        return True

    def _bind(self, link: _Link) -> bool:
        details: dict[str, Variant] = {"description": ("s", self._description())}
        preferred = portal_trigger(self.combo)
        if preferred is not None:
            details["preferred_trigger"] = ("s", preferred)
        else:
            logger.warning("The hotkey %r has no portal notation; the desktop will ask", self.combo)
        options = {"handle_token": ("s", _token())}
        message = new_method_call(
            DBusAddress(PORTAL_PATH, PORTAL_BUS_NAME, SHORTCUTS_INTERFACE),
            "BindShortcuts",
            "oa(sa{sv})sa{sv}",
            (self._session, [(SHORTCUT_ID, details)], "", options),
        )
        # No time limit: the desktop's dialog waits for the person.
        response, results = self._request(link, message, options, None)
        if response == RESPONSE_CANCELLED:
            logger.info("The person declined the talk shortcut")
            self._status(DECLINED_REASON)
            return False
        bound = _shortcut(results.get("shortcuts"))
        if response != RESPONSE_SUCCESS or bound is None:
            logger.info("BindShortcuts answered %d; the talk shortcut is not bound", response)
            self._status(NOT_BOUND_REASON)
            return False
        self.trigger = _trigger_of(bound)
        logger.info("Talk shortcut bound to %s (preferred %s)", self.trigger, preferred)
        self._status(self._bound_sentence())
        return True

    def _listen(self, link: _Link) -> str:
        """Handle the portal's signals until the session ends; returns the sentence saying so."""
        while True:
            message = link.next_message(None)
            ended = self._handle(message)
            if ended is not None:
                return ended

    def _request(
        self,
        link: _Link,
        message: Message,
        options: Mapping[str, Variant],
        timeout: float | None,
    ) -> tuple[int, dict[str, Variant]]:
        """Call a method that answers through a Request object; return its Response."""
        token = str(options["handle_token"][1])
        expected = f"{PORTAL_PATH}/request/{_sender_element(link.unique_name)}/{token}"
        handle = str(link.call(message)[0])
        if handle != expected:
            # Portals before 0.9 chose the path themselves.
            logger.debug("The portal's request path %s is not the expected %s", handle, expected)
        paths = {expected, handle}
        while True:
            reply = link.next_message(timeout)
            if (
                _is_signal(reply, REQUEST_INTERFACE, "Response")
                and reply.header.fields.get(HeaderFields.path) in paths
                and self._from_portal(reply)
            ):
                response, results = reply.body
                return int(response), dict(results)
            ended = self._handle(reply)
            if ended is not None:
                raise _SessionEnded(ended)

    def _handle(self, message: Message) -> str | None:
        """Act on one message; a sentence when it ended the session, else None."""
        if message.header.message_type is not MessageType.signal:
            return None
        fields = message.header.fields
        interface = fields.get(HeaderFields.interface)
        member = fields.get(HeaderFields.member)
        path = fields.get(HeaderFields.path)
        if interface == BUS_DRIVER and member == "NameOwnerChanged":
            name, _old, new = message.body
            if name == PORTAL_BUS_NAME and fields.get(HeaderFields.sender) == BUS_DRIVER:
                if new != self._portal_owner:
                    logger.warning("The portal left the bus")
                    return CLOSED_REASON
            return None
        if not self._from_portal(message):
            return None
        if interface == SESSION_INTERFACE and member == "Closed":
            if path == self._session:
                logger.warning("The desktop closed the shortcut session")
                return CLOSED_REASON
            return None
        if interface != SHORTCUTS_INTERFACE or path != PORTAL_PATH:
            return None
        if member == "ShortcutsChanged":
            session, shortcuts = message.body
            bound = _shortcut(shortcuts) if session == self._session else None
            if bound is not None:
                self.trigger = _trigger_of(bound)
                logger.info("The talk shortcut is now %s", self.trigger)
            return None
        if member not in ("Activated", "Deactivated"):
            return None
        session, shortcut_id, timestamp, _options = message.body
        if session != self._session or shortcut_id != SHORTCUT_ID:
            return None
        logger.debug("Shortcut %s %s at %d ms", shortcut_id, member, timestamp)
        if member == "Activated":
            self._pressed()
        else:
            self._released()
        return None

    def _pressed(self) -> None:
        with self._lock:
            if self.mode == "hold":
                if self._active:
                    return  # a repeated activation while held
                self._active = True
                callback = self._on_start
            else:
                self._active = not self._active
                callback = self._on_start if self._active else self._on_stop
        _call(callback)

    def _released(self) -> None:
        with self._lock:
            if self.mode != "hold" or not self._active:
                return
            self._active = False
        _call(self._on_stop)

    def _release_if_held(self) -> None:
        with self._lock:
            held, self._active = self._active, False
        if held:
            _call(self._on_stop)

    def _from_portal(self, message: Message) -> bool:
        return bool(self._portal_owner) and (
            message.header.fields.get(HeaderFields.sender) == self._portal_owner
        )

    def _description(self) -> str:
        if self.mode == "hold":
            return "Talk to Segue (hold while speaking)"
        return "Talk to Segue (press to start, again to stop)"

    def _bound_sentence(self) -> str:
        if not self.trigger:
            return "Segue's talk shortcut is bound; your desktop's keyboard settings show its keys."
        if self.mode == "hold":
            return f"Hold {self.trigger} to talk to Segue."
        return f"Press {self.trigger} to start talking to Segue, and again to stop."

    def _status(self, sentence: str) -> None:
        try:
            self._on_status(sentence)
        except Exception:  # a failing notification must not end the portal thread
            logger.exception("Reporting the hotkey's status failed")


class _Link:
    """One bus connection: calls with their replies, and the messages that arrive in between.

    Only one thread receives at a time (``start()``'s, then the portal thread); ``send`` and
    ``interrupt`` may come from any thread.
    """

    def __init__(self, connection: DBusConnection) -> None:
        self._connection = connection
        self._backlog: deque[Message] = deque()
        self.unique_name: str = connection.unique_name

    def call(self, message: Message, timeout: float | None = CALL_TIMEOUT) -> tuple[Any, ...]:
        """Send a method call and return its reply's body.

        Raises:
            PortalError: The reply is an error.
            TimeoutError: No reply within ``timeout`` seconds.
        """
        serial = next(self._connection.outgoing_serial)
        self._connection.send(message, serial=serial)
        while True:
            reply = self._connection.receive(timeout=timeout)
            if reply.header.fields.get(HeaderFields.reply_serial) != serial:
                self._backlog.append(reply)
                continue
            if reply.header.message_type is MessageType.error:
                text = reply.body[0] if reply.body and isinstance(reply.body[0], str) else ""
                raise PortalError(str(reply.header.fields.get(HeaderFields.error_name)), text)
            return tuple(reply.body)

    def next_message(self, timeout: float | None) -> Message:
        """The next message not yet handled (signals that came during a call first)."""
        if self._backlog:
            return self._backlog.popleft()
        return self._connection.receive(timeout=timeout)

    def send(self, message: Message, *, no_reply: bool = False) -> None:
        """Send without waiting for a reply."""
        if no_reply:
            message.header.flags |= MessageFlag.no_reply_expected
        self._connection.send(message)

    def interrupt(self) -> None:
        """Make the thread receiving on this connection raise ``ReceiveStopped``."""
        self._connection.interrupt()

    def close(self) -> None:
        """Close the connection (the portal then closes this connection's sessions too)."""
        self._connection.close()


def _open(bus: str) -> _Link:
    """Connect to ``bus``, or raise ``HotkeyUnavailable`` saying there is no session bus."""
    try:
        if not bus:
            raise KeyError("DBUS_SESSION_BUS_ADDRESS")
        connection = open_dbus_connection(bus, auth_timeout=CALL_TIMEOUT)
    except (KeyError, OSError, ValueError, StopIteration) as err:
        # KeyError: DBUS_SESSION_BUS_ADDRESS is unset.
        logger.info("No session bus for the shortcut portal: %s", type(err).__name__)
        raise HotkeyUnavailable(NO_BUS_REASON) from err
    return _Link(connection)


def _shortcuts_version(link: _Link) -> int:
    """GlobalShortcuts' ``version`` property (raises ``PortalError`` where there is none)."""
    shortcuts = DBusAddress(PORTAL_PATH, PORTAL_BUS_NAME, SHORTCUTS_INTERFACE)
    signature, value = link.call(Properties(shortcuts).get("version"))[0]
    return int(value) if signature == "u" else 0


def _match_rules() -> list[MatchRule]:
    """Ask the bus for the portal's signals and for news of the portal leaving."""
    portal = MatchRule(type="signal", sender=PORTAL_BUS_NAME, path_namespace=PORTAL_PATH)
    owner = MatchRule(
        type="signal",
        sender=BUS_DRIVER,
        interface=BUS_DRIVER,
        member="NameOwnerChanged",
        path="/org/freedesktop/DBus",
    )
    owner.add_arg_condition(0, PORTAL_BUS_NAME)
    return [portal, owner]


def _token() -> str:
    """A token for a request or session path: unique, not guessable, a valid path element."""
    return f"segue_{secrets.token_hex(8)}"


def _sender_element(unique_name: str) -> str:
    """``:1.42`` -> ``1_42``, as the portal puts the caller's name into object paths."""
    return unique_name.lstrip(":").replace(".", "_")


def _is_signal(message: Message, interface: str, member: str) -> bool:
    fields = message.header.fields
    return (
        message.header.message_type is MessageType.signal
        and fields.get(HeaderFields.interface) == interface
        and fields.get(HeaderFields.member) == member
    )


def _value(variant: Variant | None) -> Any:
    return variant[1] if isinstance(variant, tuple) and len(variant) == 2 else None


def _shortcut(shortcuts: Any) -> dict[str, Variant] | None:
    """The talk shortcut's details in a ``shortcuts`` result (``a(sa{sv})``), or None."""
    if isinstance(shortcuts, tuple) and len(shortcuts) == 2 and shortcuts[0] == "a(sa{sv})":
        shortcuts = shortcuts[1]  # still wrapped in its variant
    if not isinstance(shortcuts, list):
        return None
    for entry in shortcuts:
        if isinstance(entry, tuple) and len(entry) == 2 and entry[0] == SHORTCUT_ID:
            return dict(entry[1])
    return None


def _trigger_of(details: Mapping[str, Variant]) -> str | None:
    text = _value(details.get("trigger_description"))
    return (text.strip() or None) if isinstance(text, str) else None


def _call(callback: Callable[[], None]) -> None:
    # The top of the portal thread for the callbacks: logged, and the hotkey keeps working.
    try:
        callback()
    except Exception:
        logger.exception("A hotkey callback failed")

"""A desktop portal with GlobalShortcuts on a private bus, answering as xdg-desktop-portal does.

It owns ``org.freedesktop.portal.Desktop`` and serves, at ``/org/freedesktop/portal/desktop``:

- ``org.freedesktop.portal.GlobalShortcuts`` (version 2): ``CreateSession``, ``BindShortcuts``,
  ``ListShortcuts``, ``ConfigureShortcuts``; each request method returns its Request object path
  (``.../request/SENDER/TOKEN`` from the caller's ``handle_token``) at once and answers later with
  ``org.freedesktop.portal.Request.Response(u, a{sv})`` on that path;
- ``org.freedesktop.host.portal.Registry.Register``;
- ``org.freedesktop.portal.Settings``: ``ReadOne`` (version 2) and ``Read`` (version 1, whose
  answer is a variant inside a variant) of ``org.freedesktop.appearance`` ``color-scheme``;
- the session objects (``.../session/SENDER/TOKEN``) with ``Session.Close``.

Like the real frontend it sends every signal to the caller alone (unicast): Response, Activated,
Deactivated (session handle, shortcut id, a millisecond timestamp, options) and Session.Closed.
The session handle in CreateSession's results is a string (``s``), as the portal documents.

What the desktop's dialog does is scripted: ``answer="accept"`` binds what was asked (the
preferred trigger, or ``chosen_trigger`` when the person picks other keys), ``"decline"`` answers
1 (the person cancelled), ``"wait"`` leaves the dialog open. Tests press and release the
shortcut with :meth:`press` and :meth:`release`, and end the session as a compositor would with
:meth:`close_session`.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from dbus_fast import DBusError, ErrorType, Message, MessageType, Variant
from dbus_fast.aio import MessageBus

from assistant.sim.mpris import BusService

BUS_NAME = "org.freedesktop.portal.Desktop"
PATH = "/org/freedesktop/portal/desktop"
SHORTCUTS = "org.freedesktop.portal.GlobalShortcuts"
REQUEST = "org.freedesktop.portal.Request"
SESSION = "org.freedesktop.portal.Session"
REGISTRY = "org.freedesktop.host.portal.Registry"
SETTINGS = "org.freedesktop.portal.Settings"
APPEARANCE = "org.freedesktop.appearance"
PROPERTIES = "org.freedesktop.DBus.Properties"
VERSION = 2

# How the fake's dialog shows a trigger (KDE and GNOME describe keys for people, not in the
# XDG notation).
_KEY_NAMES = {"CTRL": "Ctrl", "ALT": "Alt", "SHIFT": "Shift", "LOGO": "Meta", "space": "Space"}


def describe(trigger: str) -> str:
    """``"CTRL+ALT+space"`` -> ``"Ctrl+Alt+Space"``."""
    return "+".join(_KEY_NAMES.get(part, part.capitalize()) for part in trigger.split("+"))


@dataclass
class Bound:
    """One BindShortcuts call: the session and the shortcuts asked for (id -> options)."""

    session: str
    shortcuts: dict[str, dict[str, Any]]
    parent_window: str


@dataclass
class FakeSession:
    """A session the fake created, with its owner's unique name and its bound shortcuts."""

    path: str
    client: str
    bound: list[str] = field(default_factory=list)


class FakePortal(BusService):
    """The portal on the bus at ``address``; ``with FakePortal(address): ...``.

    Args:
        address: The bus address (a private ``dbus-daemon``).
        answer: What the person does in the bind dialog: "accept", "decline", or "wait" (the
            dialog stays open).
        chosen_trigger: The keys the person picks instead of the preferred ones (XDG notation).
        global_shortcuts: Whether the portal offers GlobalShortcuts (older desktops do not).
        color_scheme: The appearance's ``color-scheme`` (0 no preference, 1 dark, 2 light);
            None serves no Settings interface.
        settings_version: 2 answers ``ReadOne`` and ``Read``; 1 (portals before 1.15) only
            ``Read``.

    Attributes:
        registered: The application ids registered, in order.
        binds: Every BindShortcuts call.
        sessions: The open sessions by path.
    """

    thread_name = "fake-portal"

    def __init__(
        self,
        address: str,
        *,
        answer: Literal["accept", "decline", "wait"] = "accept",
        chosen_trigger: str | None = None,
        global_shortcuts: bool = True,
        color_scheme: int | None = None,
        settings_version: int = 2,
    ) -> None:
        super().__init__(address)
        self.color_scheme = color_scheme
        self.settings_version = settings_version
        self.answer = answer
        self.chosen_trigger = chosen_trigger
        self.global_shortcuts = global_shortcuts
        self.registered: list[str] = []
        self.binds: list[Bound] = []
        self.sessions: dict[str, FakeSession] = {}
        self._requests: set[str] = set()
        self._changed = threading.Condition()

    async def _serve(self, bus: MessageBus) -> None:
        bus.add_message_handler(self._on_message)
        await self._own(bus, BUS_NAME)

    # -- what a test does -----------------------------------------------------------------------

    def wait_for(self, condition: Callable[[], bool], what: str, timeout: float = 10) -> None:
        """Wait until ``condition()`` holds (checked whenever the portal handled a call)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not condition():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"the portal never saw {what}")
                self._changed.wait(left)

    def session(self) -> FakeSession:
        """The one open session."""
        assert len(self.sessions) == 1, self.sessions
        return next(iter(self.sessions.values()))

    def press(self, shortcut_id: str = "talk") -> None:
        """The person presses the bound keys: ``Activated`` to the session's owner."""
        self._shortcut_signal("Activated", shortcut_id)

    def release(self, shortcut_id: str = "talk") -> None:
        """The person lets go: ``Deactivated``."""
        self._shortcut_signal("Deactivated", shortcut_id)

    def close_session(self) -> None:
        """The desktop ends the session (a compositor restart, a revoked permission)."""
        session = self.session()
        self._send(
            Message(
                message_type=MessageType.SIGNAL,
                destination=session.client,
                path=session.path,
                interface=SESSION,
                member="Closed",
                signature="a{sv}",
                body=[{}],
            )
        )
        with self._changed:
            self.sessions.pop(session.path, None)
            self._changed.notify_all()

    def _shortcut_signal(self, member: str, shortcut_id: str) -> None:
        session = self.session()
        timestamp = time.monotonic_ns() // 1_000_000
        self._send(
            Message(
                message_type=MessageType.SIGNAL,
                destination=session.client,
                path=PATH,
                interface=SHORTCUTS,
                member=member,
                signature="osta{sv}",
                body=[session.path, shortcut_id, timestamp, {}],
            )
        )

    def _send(self, message: Message) -> None:
        loop, bus = self._loop, self._bus
        assert loop is not None and bus is not None
        sent = asyncio.run_coroutine_threadsafe(_send_now(bus, message), loop)
        sent.result(timeout=5)

    # -- the portal (on the loop thread) --------------------------------------------------------

    def _on_message(self, message: Message) -> Message | bool | None:
        if message.message_type is not MessageType.METHOD_CALL:
            return None
        with self._changed:
            try:
                return self._answer(message)
            finally:
                self._changed.notify_all()

    def _answer(self, message: Message) -> Message | bool | None:
        path, interface, member = message.path, message.interface, message.member
        if path == PATH and interface == PROPERTIES and member == "Get":
            wanted, name = message.body
            if wanted == SHORTCUTS and self.global_shortcuts and name == "version":
                return Message.new_method_return(message, "v", [Variant("u", VERSION)])
            raise DBusError(ErrorType.INVALID_ARGS, f"No such interface “{wanted}”")
        if path == PATH and interface == SETTINGS and self.color_scheme is not None:
            if member == "ReadOne" and self.settings_version >= 2:
                self._setting(message)
                return Message.new_method_return(message, "v", [Variant("u", self.color_scheme)])
            if member == "Read":
                self._setting(message)
                inner = Variant("u", self.color_scheme)
                return Message.new_method_return(message, "v", [Variant("v", inner)])
        if path == PATH and interface == REGISTRY and member == "Register":
            self.registered.append(message.body[0])
            return Message.new_method_return(message)
        if path == PATH and interface == SHORTCUTS and self.global_shortcuts:
            if member == "CreateSession":
                return self._create_session(message)
            if member == "BindShortcuts":
                return self._bind_shortcuts(message)
            if member == "ListShortcuts":
                return self._list_shortcuts(message)
            if member == "ConfigureShortcuts":
                return Message.new_method_return(message)
        if interface == REQUEST and member == "Close" and path in self._requests:
            self._requests.discard(path)
            return Message.new_method_return(message)
        if interface == SESSION and member == "Close" and path in self.sessions:
            self.sessions.pop(path)
            return Message.new_method_return(message)
        raise DBusError(ErrorType.UNKNOWN_METHOD, f"No method {interface}.{member} at {path}")

    def _setting(self, message: Message) -> None:
        namespace, key = message.body
        if (namespace, key) != (APPEARANCE, "color-scheme"):
            raise DBusError("org.freedesktop.portal.Error.NotFound", "Requested setting not found")

    def _create_session(self, message: Message) -> Message:
        (options,) = message.body
        request = self._request_path(message, options)
        session = f"{PATH}/session/{_sender_element(message.sender)}/" + _token(
            options, "session_handle_token"
        )
        self.sessions[session] = FakeSession(session, message.sender)
        self._respond_later(message.sender, request, 0, {"session_handle": Variant("s", session)})
        return Message.new_method_return(message, "o", [request])

    def _bind_shortcuts(self, message: Message) -> Message:
        session_path, shortcuts, parent_window, options = message.body
        session = self.sessions.get(session_path)
        if session is None or session.client != message.sender:
            raise DBusError(ErrorType.ACCESS_DENIED, "Invalid session")
        request = self._request_path(message, options)
        asked = {
            shortcut_id: {k: v.value for k, v in opts.items()} for shortcut_id, opts in shortcuts
        }
        self.binds.append(Bound(session_path, asked, parent_window))
        if self.answer == "decline":
            self._respond_later(message.sender, request, 1, {})
        elif self.answer == "wait":
            pass  # the dialog stays open until the session or the request is closed
        else:
            answered = []
            for shortcut_id, opts in asked.items():
                trigger = self.chosen_trigger or opts.get("preferred_trigger")
                details = {"description": Variant("s", opts.get("description", ""))}
                if trigger:
                    details["trigger_description"] = Variant("s", describe(trigger))
                answered.append([shortcut_id, details])
                session.bound.append(shortcut_id)
            results = {"shortcuts": Variant("a(sa{sv})", answered)}
            self._respond_later(message.sender, request, 0, results)
        return Message.new_method_return(message, "o", [request])

    def _list_shortcuts(self, message: Message) -> Message:
        session_path, options = message.body
        request = self._request_path(message, options)
        session = self.sessions.get(session_path)
        shortcuts = [[s, {}] for s in (session.bound if session else [])]
        self._respond_later(
            message.sender, request, 0, {"shortcuts": Variant("a(sa{sv})", shortcuts)}
        )
        return Message.new_method_return(message, "o", [request])

    def _request_path(self, message: Message, options: dict[str, Variant]) -> str:
        path = f"{PATH}/request/{_sender_element(message.sender)}/" + _token(
            options, "handle_token"
        )
        self._requests.add(path)
        return path

    def _respond_later(
        self, client: str, request: str, response: int, results: dict[str, Variant]
    ) -> None:
        """Send Response after the method's reply, as the portal does once its backend answers."""
        response_message = Message(
            message_type=MessageType.SIGNAL,
            destination=client,
            path=request,
            interface=REQUEST,
            member="Response",
            signature="ua{sv}",
            body=[response, results],
        )

        def send() -> None:
            if request in self._requests and self._bus is not None:
                self._requests.discard(request)
                self._bus.send(response_message)

        assert self._loop is not None
        self._loop.call_soon(send)


async def _send_now(bus: MessageBus, message: Message) -> None:
    bus.send(message)


def _sender_element(sender: str) -> str:
    return sender.lstrip(":").replace(".", "_")


def _token(options: dict[str, Variant], key: str) -> str:
    token = options.get(key)
    if token is None:  # the portal makes one up when the caller gave none
        return f"t{time.monotonic_ns()}"
    value = token.value
    assert isinstance(value, str) and value.replace("_", "").isalnum(), value
    return value

"""The typed-command popup: a small Tk window run as its own process, spoken to over JSON lines.

Tk and the tray (pystray) both want the main thread on macOS, so the window lives in a process of
its own, ``python -m assistant.desktop.popup``; ``PopupProcess`` starts it and talks to it over its
stdin and stdout, one JSON object per line:

parent -> popup
    ``{"type": "show"}``    show the window near the tray and take the focus
    ``{"type": "hide"}``    hide it
    ``{"type": "busy"}``    show "…" in the reply area (a command is running)
    ``{"type": "reply", "text": str, "ok": bool, "calls": [{"name", "ok", "result"}],
    "options": [str]}``     show a reply, what was done (✓/✗ per call) and the answers to a
                            clarifying question as buttons
    ``{"type": "state"}``   ask for the window's state (tests, diagnostics)
    ``{"type": "quit"}``    end the popup process

popup -> parent
    ``{"type": "ready"}``   the window exists (hidden until the first "show")
    ``{"type": "command", "text": str}``   Enter in the field, or an option button clicked
    ``{"type": "hidden"}``  the person hid the window (Esc or the window's close button)
    ``{"type": "state", "visible": bool, "busy": bool, "reply": str, "ok": bool | null,
    "calls": [str], "options": [str], "option_boxes": [[x, y, width, height]],
    "history": [str], "entry": str, "focus": bool, "geometry": [x, y, width, height]}``
                            the answer to "state" (screen coordinates)
    ``{"type": "error", "message": str}``  the window could not be opened (no display, no Tk)

The popup ends when its stdin closes (the parent is gone) or on "quit".
"""

from __future__ import annotations

import json
import logging
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any

from assistant.desktop.jsonlines import decode, encode, send
from assistant.resources import module_command

if TYPE_CHECKING:
    import tkinter as tk

logger = logging.getLogger(__name__)

TITLE = "Segue"
HISTORY_LIMIT = 50
"""How many earlier commands Up/Down can recall (kept in the popup process's memory)."""

_POLL_MS = 50  # how often the Tk loop looks at the messages read from stdin
_MARGIN = 12
_TRAY_HEIGHT = 36  # the X11 panel/tray strip the window opens below
_CLOSE_TIMEOUT = 1.0
_BUSY_TEXT = "…"


# -- the popup process ------------------------------------------------------------------------


class _PopupWindow:
    """The Tk window; every method runs on the Tk (main) thread of the popup process."""

    def __init__(self, root: tk.Tk, inbox: queue.Queue[dict[str, Any] | None], out: IO[str]):
        import tkinter as tk
        from tkinter import font as tkfont

        self.root = root
        self.inbox = inbox
        self.out = out
        self.history: list[str] = []
        self._history_index = 0
        self._draft = ""
        self.busy = False
        self.ok: bool | None = None
        self.calls: list[str] = []
        self.options: list[str] = []
        self.visible = False
        self._closing = False

        root.title(TITLE)
        root.withdraw()
        root.resizable(False, False)
        root.protocol("WM_DELETE_WINDOW", self.hide_by_user)
        if root.tk.call("tk", "windowingsystem") == "x11":
            # A dialog-type window: window managers draw it with little or no decoration and
            # keep it off the task bar.
            root.attributes("-type", "dialog")
        root.attributes("-topmost", True)

        frame = tk.Frame(root, padx=10, pady=10)
        frame.pack(fill="both", expand=True)
        tk.Label(
            frame, text="Type a command: Enter runs it, Esc hides.", anchor="w", fg="#555555"
        ).pack(fill="x", pady=(0, 4))
        entry_font = tkfont.nametofont("TkTextFont").copy()
        entry_font.configure(size=12)
        self.entry = tk.Entry(frame, width=40, font=entry_font)
        self.entry.pack(fill="x")
        self.entry.bind("<Return>", self._on_return)
        self.entry.bind("<KP_Enter>", self._on_return)
        self.entry.bind("<Up>", self._on_up)
        self.entry.bind("<Down>", self._on_down)
        root.bind("<Escape>", lambda _event: self.hide_by_user())

        self.reply_label = tk.Label(frame, text="", anchor="w", justify="left")
        self.reply_label.pack(fill="x", pady=(8, 0))
        self.calls_label = tk.Label(frame, text="", anchor="w", justify="left", fg="#555555")
        self.calls_label.pack(fill="x")
        self.options_frame = tk.Frame(frame)
        self.options_frame.pack(fill="x", pady=(4, 0))
        self._default_fg = str(self.reply_label.cget("fg"))
        # Replies wrap at the window's width, whatever the fonts made it.
        frame.bind("<Configure>", self._rewrap)

    def _rewrap(self, event: tk.Event[tk.Frame]) -> None:
        width = max(100, event.width - 20)
        self.reply_label.configure(wraplength=width)
        self.calls_label.configure(wraplength=width)

    # -- messages -----------------------------------------------------------------------------

    def send(self, message: Mapping[str, Any]) -> None:
        # When the parent is gone the write fails; the closed stdin ends this process next.
        send(self.out, message)

    def poll(self) -> None:
        """Handle the messages read from stdin since the last poll, then poll again."""
        while True:
            try:
                message = self.inbox.get_nowait()
            except queue.Empty:
                break
            if message is None:
                self.quit()
                return
            self.handle(message)
            if self._closing:
                return
        self.root.after(_POLL_MS, self.poll)

    def handle(self, message: Mapping[str, Any]) -> None:
        kind = message["type"]
        if kind == "show":
            self.show()
        elif kind == "hide":
            self.hide()
        elif kind == "busy":
            self.set_busy()
        elif kind == "reply":
            self.show_reply(message)
        elif kind == "state":
            self.send(self.state())
        elif kind == "quit":
            self.quit()
        else:
            print(f"segue popup: unknown message type {kind!r}", file=sys.stderr)

    # -- the window ---------------------------------------------------------------------------

    def place(self) -> None:
        """Move the window next to the tray for its current size."""
        root = self.root
        root.update_idletasks()
        x, y = _position(
            str(root.tk.call("tk", "windowingsystem")),
            root.winfo_screenwidth(),
            root.winfo_screenheight(),
            root.winfo_reqwidth(),
            root.winfo_reqheight(),
        )
        root.geometry(f"+{x}+{y}")

    def show(self) -> None:
        root = self.root
        self.place()
        root.deiconify()
        root.lift()
        root.attributes("-topmost", True)
        self.visible = True
        root.update_idletasks()
        root.focus_force()
        self.entry.focus_set()
        self.entry.select_range(0, "end")

    def hide(self) -> None:
        self.root.withdraw()
        self.visible = False

    def hide_by_user(self) -> None:
        self.hide()
        self.send({"type": "hidden"})

    def quit(self) -> None:
        if self._closing:
            return
        self._closing = True
        self.root.destroy()

    def set_busy(self) -> None:
        self.busy = True
        self.ok = None
        self.reply_label.configure(text=_BUSY_TEXT, fg=self._default_fg)
        self.calls_label.configure(text="")
        self._set_options([])

    def show_reply(self, message: Mapping[str, Any]) -> None:
        self.busy = False
        text = str(message.get("text", ""))
        self.ok = bool(message.get("ok", True))
        self.reply_label.configure(text=text, fg=self._default_fg if self.ok else "#b00020")
        self.calls = [_call_line(call) for call in message.get("calls") or [] if _is_map(call)]
        self.calls_label.configure(text="\n".join(self.calls))
        self._set_options([str(option) for option in message.get("options") or []])
        if self.visible and sys.platform == "win32":
            # Opened above the task bar: grow upwards rather than off the screen.
            self.place()

    def _set_options(self, options: list[str]) -> None:
        import tkinter as tk

        for child in self.options_frame.winfo_children():
            child.destroy()
        self.options = options
        for option in options:
            button = tk.Button(
                self.options_frame,
                text=option,
                command=lambda text=option: self._run(text),  # type: ignore[misc]
            )
            button.pack(side="left", padx=(0, 6))

    def state(self) -> dict[str, Any]:
        root = self.root
        root.update_idletasks()
        return {
            "type": "state",
            "visible": self.visible,
            "busy": self.busy,
            "reply": str(self.reply_label.cget("text")),
            "ok": self.ok,
            "calls": list(self.calls),
            "options": list(self.options),
            "option_boxes": [
                [b.winfo_rootx(), b.winfo_rooty(), b.winfo_width(), b.winfo_height()]
                for b in self.options_frame.winfo_children()
            ],
            "history": list(self.history),
            "entry": self.entry.get(),
            "focus": str(root.tk.call("focus")) == str(self.entry),
            "geometry": [
                root.winfo_rootx(),
                root.winfo_rooty(),
                root.winfo_width(),
                root.winfo_height(),
            ],
        }

    # -- the text field -----------------------------------------------------------------------

    def _on_return(self, _event: object) -> str:
        text = self.entry.get().strip()
        if text:
            self.entry.delete(0, "end")
            self._remember(text)
            self._run(text)
        return "break"

    def _run(self, text: str) -> None:
        self.set_busy()
        self.send({"type": "command", "text": text})

    def _remember(self, text: str) -> None:
        if not self.history or self.history[-1] != text:
            self.history.append(text)
            del self.history[:-HISTORY_LIMIT]
        self._history_index = len(self.history)
        self._draft = ""

    def _on_up(self, _event: object) -> str:
        if self._history_index == len(self.history):
            self._draft = self.entry.get()
        if self._history_index > 0:
            self._history_index -= 1
            self._set_entry(self.history[self._history_index])
        return "break"

    def _on_down(self, _event: object) -> str:
        if self._history_index < len(self.history):
            self._history_index += 1
            if self._history_index == len(self.history):
                self._set_entry(self._draft)
            else:
                self._set_entry(self.history[self._history_index])
        return "break"

    def _set_entry(self, text: str) -> None:
        self.entry.delete(0, "end")
        self.entry.insert(0, text)
        self.entry.icursor("end")


def _is_map(value: object) -> bool:
    return isinstance(value, Mapping)


def _call_line(call: Mapping[str, Any]) -> str:
    mark = "✓" if call.get("ok", True) else "✗"
    name = str(call.get("name", "?"))
    result = str(call.get("result") or "").strip()
    if len(result) > 80:
        result = result[:79] + "…"
    return f"{mark} {name}" + (f" — {result}" if result else "")


def _position(
    windowing: str, screen_width: int, screen_height: int, width: int, height: int
) -> tuple[int, int]:
    """Where the window opens: near the system tray of each system."""
    x = max(0, screen_width - width - _MARGIN)
    if windowing == "win32":
        # The notification area is at the bottom right, above the task bar.
        return x, max(0, screen_height - height - 60)
    if windowing == "aqua":
        # Menu-bar extras are top right, below the 25 px menu bar.
        return x, 30
    # X11: trays and panels are usually along the top; open just below them, at the right.
    return x, _TRAY_HEIGHT + _MARGIN


def _read_stdin(stream: IO[str], inbox: queue.Queue[dict[str, Any] | None]) -> None:
    """Put each message read from ``stream`` into ``inbox``; None once it closes."""
    try:
        for line in stream:
            message = decode(line)
            if message is None:
                if line.strip():
                    print("segue popup: ignored a line that is not a message", file=sys.stderr)
                continue
            inbox.put(message)
    except (OSError, ValueError):
        pass
    finally:
        inbox.put(None)


def run_popup(
    stdin: IO[str] | None = None, stdout: IO[str] | None = None, argv: Sequence[str] = ()
) -> int:
    """Run the popup window until stdin closes or "quit" arrives; return the exit status.

    Args:
        stdin: Where messages come from (default ``sys.stdin``).
        stdout: Where messages go (default ``sys.stdout``).
        argv: Unused; reserved for options.
    """
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    for stream in (stdin, stdout):
        # JSON lines are ASCII, but a parent on Windows may still hand over a cp1252 stream.
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(encoding="utf-8", errors="replace")
    import tkinter as tk

    try:
        root = tk.Tk(className=TITLE)
    except tk.TclError as err:
        stdout.write(encode({"type": "error", "message": f"The popup window cannot open: {err}"}))
        stdout.flush()
        return 1
    inbox: queue.Queue[dict[str, Any] | None] = queue.Queue()
    window = _PopupWindow(root, inbox, stdout)
    # Tk is not thread-safe: a reader thread only queues what it reads, and the Tk loop polls
    # that queue.
    threading.Thread(
        target=_read_stdin, args=(stdin, inbox), name="popup-stdin", daemon=True
    ).start()
    window.send({"type": "ready"})
    root.after(_POLL_MS, window.poll)
    root.mainloop()
    return 0


# -- the parent side --------------------------------------------------------------------------


class PopupProcess:
    """Starts the popup process on first use and talks to it (the tray process's side).

    Args:
        on_command: Called with the text of each command typed (or option clicked) in the
            popup; runs on this object's reader thread and must only signal.
        python: The Python interpreter that runs ``-m assistant.desktop.popup``.
        on_hidden: Called (on the reader thread) when the person hides the popup.
        on_error: Called (on the reader thread) with a sentence when the window cannot open.
    """

    def __init__(
        self,
        on_command: Callable[[str], None],
        *,
        python: str = sys.executable,
        on_hidden: Callable[[], None] | None = None,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        self._on_command = on_command
        self._on_hidden = on_hidden
        self._on_error = on_error
        self._python = python
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None
        self._states: queue.Queue[dict[str, Any]] = queue.Queue()
        self._ready = threading.Event()

    @property
    def running(self) -> bool:
        """Whether the popup process is alive."""
        proc = self._proc
        return proc is not None and proc.poll() is None

    @property
    def pid(self) -> int | None:
        """The popup process's id, while it runs."""
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    def show(self) -> None:
        """Show the popup (starting its process on first use) and give it the focus."""
        self._send({"type": "show"}, start=True)

    def hide(self) -> None:
        """Hide the popup, if it runs."""
        self._send({"type": "hide"})

    def set_busy(self) -> None:
        """Show that a command is running (the reply area shows "…"), if the popup runs."""
        self._send({"type": "busy"})

    def send_reply(
        self,
        text: str,
        ok: bool,
        calls: Sequence[Mapping[str, object]],
        options: Sequence[str] = (),
    ) -> None:
        """Show a reply in the popup, if it runs (it is not started for a reply alone).

        Args:
            text: The reply sentence.
            ok: False for an error (drawn in red).
            calls: What was done, as ``{"name", "ok", "result"}`` mappings.
            options: Answers to a clarifying question, shown as buttons.
        """
        message = {
            "type": "reply",
            "text": text,
            "ok": ok,
            "calls": [
                {
                    "name": str(call.get("name", "")),
                    "ok": bool(call.get("ok", True)),
                    "result": _jsonable(call.get("result")),
                }
                for call in calls
            ],
            "options": [str(option) for option in options],
        }
        self._send(message)

    def wait_ready(self, timeout: float = 10.0) -> bool:
        """Wait until the popup process reports its window exists; False on timeout."""
        return self._ready.wait(timeout)

    def request_state(self, timeout: float = 5.0) -> dict[str, Any] | None:
        """Ask the popup for its state (see the module docstring); None if it does not answer."""
        while True:
            try:
                self._states.get_nowait()
            except queue.Empty:
                break
        if not self._send({"type": "state"}):
            return None
        try:
            return self._states.get(timeout=timeout)
        except queue.Empty:
            return None

    def close(self, timeout: float = _CLOSE_TIMEOUT) -> None:
        """End the popup process: ask it to quit, and terminate it if it is not gone in time."""
        deadline = time.monotonic() + timeout
        with self._lock:
            proc, self._proc = self._proc, None
            reader, self._reader = self._reader, None
        if proc is None:
            return
        if proc.poll() is None:
            _write(proc, {"type": "quit"})
        if proc.stdin is not None:
            try:
                proc.stdin.close()
            except OSError:
                pass
        try:
            proc.wait(timeout=max(0.05, (deadline - time.monotonic()) * 0.7))
        except subprocess.TimeoutExpired:
            logger.warning("The popup did not quit in time; terminating it")
            proc.terminate()
            try:
                proc.wait(timeout=max(0.05, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if reader is not None and reader is not threading.current_thread():
            reader.join(max(0.05, deadline - time.monotonic()))

    # -- internals ----------------------------------------------------------------------------

    def _start(self) -> subprocess.Popen[str]:
        """Start the popup process (called with the lock held)."""
        self._ready.clear()
        proc = subprocess.Popen(
            module_command("assistant.desktop.popup", python=self._python),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
            bufsize=1,
            # No console window for the popup on Windows.
            creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0),
        )
        self._proc = proc
        self._reader = threading.Thread(
            target=self._read, args=(proc,), name="popup-reader", daemon=True
        )
        self._reader.start()
        logger.info("Started the popup process (pid %d)", proc.pid)
        return proc

    def _send(self, message: Mapping[str, Any], *, start: bool = False) -> bool:
        with self._lock:
            proc = self._proc
            if proc is None or proc.poll() is not None:
                if not start:
                    return False
                proc = self._start()
            if _write(proc, message):
                return True
            if not start:
                return False
            # The process died since the last message: start a new one once.
            proc = self._start()
            return _write(proc, message)

    def _read(self, proc: subprocess.Popen[str]) -> None:
        # The top of the reader thread: a failing callback is logged, and reading goes on.
        stream = proc.stdout
        assert stream is not None
        try:
            for line in stream:
                message = decode(line)
                if message is None:
                    continue
                try:
                    self._dispatch(message)
                except Exception:
                    logger.exception("Handling the popup's %s message failed", message["type"])
        except (OSError, ValueError):
            pass
        logger.debug("The popup process's output closed")

    def _dispatch(self, message: Mapping[str, Any]) -> None:
        kind = message["type"]
        if kind == "command":
            text = str(message.get("text", "")).strip()
            if text:
                self._on_command(text)
        elif kind == "hidden":
            if self._on_hidden is not None:
                self._on_hidden()
        elif kind == "ready":
            self._ready.set()
        elif kind == "state":
            self._states.put(dict(message))
        elif kind == "error":
            text = str(message.get("message", "The popup window cannot open."))
            logger.warning("%s", text)
            if self._on_error is not None:
                self._on_error(text)


def _write(proc: subprocess.Popen[str], message: Mapping[str, Any]) -> bool:
    stream = proc.stdin
    if stream is None:
        return False
    try:
        stream.write(encode(message))
        stream.flush()
    except (OSError, ValueError):
        return False
    return True


def _jsonable(value: object) -> object:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return str(value)
    return value


def main() -> None:
    """Entry point of ``python -m assistant.desktop.popup``."""
    raise SystemExit(run_popup(argv=sys.argv[1:]))


if __name__ == "__main__":
    main()

"""The popup: a small Tk panel run as its own process, spoken to over JSON lines.

What it shows, top to bottom: what is playing (album art, title, artist, album, progress), the
conversation (each command, typed or heard, and Segue's reply; newest at the bottom; a question's
answers as buttons; a long list's "Show all" link), what Segue is doing (a moving indicator while
a command runs, a level meter while it listens), the command field, and "what you can say" (the
command grammar's examples, sent by the parent; a click puts one into the field).

Tk and the tray (pystray) both want the main thread on macOS, so the window lives in a process of
its own, ``python -m assistant.desktop.popup``; ``PopupProcess`` starts it and talks to it over its
stdin and stdout, one JSON object per line:

parent -> popup
    ``{"type": "show"}``    show the window near the tray and take the focus
    ``{"type": "hide"}``    hide it
    ``{"type": "busy", "activity": "thinking" | "listening", "doing": str}``
                            a command runs (a moving indicator, and what it does now when
                            ``doing`` says: "Searching Spotify…"), or the microphone is open
                            (the level meter)
    ``{"type": "level", "value": float}``  the microphone's level (0..1) while listening
    ``{"type": "reply", "text": str, "ok": bool, "heard": str | null, "options": [str],
    "more": [str]}``        add a reply to the conversation: ``heard`` ("Heard: “pause”") is
                            shown first as the command for a spoken one; ``options`` are the
                            answers to a question (buttons); ``more`` is the whole list a reply
                            names a few of ("... and 8 more"), shown on a click
    ``{"type": "now_playing", "title": str | null, "artist": str, "album": str, "art": str |
    null, "progress_ms": int, "duration_ms": int, "is_playing": bool, "device": str}``
                            what plays (``art``: a PNG file) and where ("this computer");
                            no title: nothing plays
    ``{"type": "examples", "featured": [str], "all": [[category, example]]}``
                            the "what you can say" list
    ``{"type": "state"}``   ask for the window's state (tests, diagnostics)
    ``{"type": "quit"}``    end the popup process

popup -> parent
    ``{"type": "ready"}``   the window exists (hidden until the first "show")
    ``{"type": "command", "text": str}``   Enter in the field, or an answer button clicked
    ``{"type": "hidden"}``  the person hid the window (Esc or the window's close button)
    ``{"type": "attention", "attended": bool}``  the window became (or stopped being) visible
                            with the keyboard focus: the person is looking at it
    ``{"type": "state", ...}``  the answer to "state" (see ``_PopupWindow.state``; boxes are
                            ``[x, y, width, height]`` in screen coordinates)
    ``{"type": "error", "message": str}``  the window could not be opened (no display, no Tk)

The popup ends when its stdin closes (the parent is gone) or on "quit".
"""

from __future__ import annotations

import argparse
import logging
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

from assistant.desktop.jsonlines import decode, encode, send
from assistant.desktop.state import NowPlaying
from assistant.desktop.theme import LIGHT, Palette, palette
from assistant.resources import module_command

if TYPE_CHECKING:
    import tkinter as tk

logger = logging.getLogger(__name__)

T = TypeVar("T")

TITLE = "Segue"
HISTORY_LIMIT = 50
"""How many earlier commands Up/Down can recall (kept in the popup process's memory)."""
CONVERSATION_LIMIT = 40
"""How many lines (commands, replies) the conversation keeps; older ones scroll away for good."""
METER_BARS = 24
"""Segments of the level meter."""
ART_SIZE = 64
"""Edge of the album art in the now-playing card, in pixels."""

_POLL_MS = 50  # how often the Tk loop looks at the messages read from stdin
_FRAME_MS = 90  # one step of the working indicator
_PROGRESS_MS = 500  # how often the progress bar moves on while music plays
_MARGIN = 12
_TRAY_HEIGHT = 36  # the X11 panel/tray strip the window opens below
_CLOSE_TIMEOUT = 1.0
_DOTS = 7  # dots of the working indicator
_MORE = re.compile(r"\band (\d+) more\b")
_LISTED = re.compile(r"(?<=\?)\s+1\. ")  # a question's numbered answers, after its "?"

_ACTIVITY_TEXT = {
    "thinking": "Working on it…",
    "listening": "Listening… speak now",
}
_OPENING_TEXT = "Opening the microphone…"  # listening, before its first sound arrives


@dataclass
class _Line:
    """One line of the conversation."""

    role: str  # "command", "heard", "reply", "error" or "question"
    text: str
    more: tuple[str, ...] = ()
    expanded: bool = False


@dataclass
class _Playing:
    """What the now-playing card shows; progress runs on from ``since`` while playing."""

    title: str
    artist: str
    album: str
    progress_ms: int
    duration_ms: int
    is_playing: bool
    since: float
    art: bool
    device: str = ""

    def position_ms(self) -> int:
        """Where the track is now."""
        position = self.progress_ms
        if self.is_playing:
            position += int((time.monotonic() - self.since) * 1000)
        return min(position, self.duration_ms) if self.duration_ms else position


# -- the popup process ------------------------------------------------------------------------


class _PopupWindow:
    """The Tk window; every method runs on the Tk (main) thread of the popup process."""

    def __init__(
        self,
        root: tk.Tk,
        inbox: queue.Queue[dict[str, Any] | None],
        out: IO[str],
        colours: Palette = LIGHT,
    ):
        import tkinter as tk
        from tkinter import font as tkfont
        from tkinter import ttk

        self.root = root
        self.c = colours
        self.inbox = inbox
        self.out = out
        self.history: list[str] = []
        self._history_index = 0
        self._draft = ""
        self.lines: list[_Line] = []
        self.activity: str | None = None
        self.doing: str | None = None  # what the running command does now, in words
        self.level = 0.0
        self.level_peak = 0.0  # the loudest the meter showed while last listening
        self.live = False  # the microphone's first sound has arrived (since listening began)
        self.ok: bool | None = None
        self.options: list[str] = []
        self.featured: list[str] = []
        self.all_examples: list[tuple[str, str]] = []
        self.examples_expanded = False
        self.playing: _Playing | None = None
        self.visible = False
        self._attended = False
        self._frame = 0
        self._art_image: tk.PhotoImage | None = None
        self._closing = False

        root.title(TITLE)
        root.withdraw()
        root.resizable(False, False)
        root.configure(bg=self.c.bg)
        root.protocol("WM_DELETE_WINDOW", self.hide_by_user)
        if root.tk.call("tk", "windowingsystem") == "x11":
            # A dialog-type window: window managers draw it with little or no decoration and
            # keep it off the task bar.
            root.attributes("-type", "dialog")
        root.attributes("-topmost", True)
        style = ttk.Style(root)
        style.theme_use("clam")
        # The one ttk widget, the conversation's scroll bar, in the panel's colours.
        style.configure(
            "Vertical.TScrollbar",
            background=self.c.card,
            troughcolor=self.c.bg,
            bordercolor=self.c.border,
            arrowcolor=self.c.muted,
            lightcolor=self.c.card,
            darkcolor=self.c.card,
        )

        base = tkfont.nametofont("TkDefaultFont").copy()
        base.configure(size=10)
        self.font = base
        self.bold = base.copy()
        self.bold.configure(weight="bold")
        self.small = base.copy()
        self.small.configure(size=9)
        self.title_font = base.copy()
        self.title_font.configure(size=11, weight="bold")
        self.italic = base.copy()
        self.italic.configure(slant="italic")
        entry_font = tkfont.nametofont("TkTextFont").copy()
        entry_font.configure(size=12)

        outer = tk.Frame(root, bg=self.c.bg, padx=12, pady=12)
        outer.pack(fill="both", expand=True)

        # What is playing.
        self.card = tk.Frame(
            outer,
            bg=self.c.card,
            padx=10,
            pady=10,
            highlightthickness=1,
            highlightbackground=self.c.border,
        )
        self.card.pack(fill="x")
        self.art = tk.Canvas(
            self.card, width=ART_SIZE, height=ART_SIZE, bg=self.c.track, highlightthickness=0
        )
        self.art.pack(side="left")
        about = tk.Frame(self.card, bg=self.c.card, padx=10)
        about.pack(side="left", fill="both", expand=True)
        self.title_label = tk.Label(
            about,
            text="Nothing playing",
            font=self.title_font,
            bg=self.c.card,
            fg=self.c.text,
            anchor="w",
        )
        self.title_label.pack(fill="x")
        self.artist_label = tk.Label(
            about, text="", font=self.font, bg=self.c.card, fg=self.c.muted, anchor="w"
        )
        self.artist_label.pack(fill="x")
        self.progress = tk.Canvas(about, height=4, bg=self.c.card, highlightthickness=0)
        self.progress.pack(fill="x", pady=(8, 2))
        self.time_label = tk.Label(
            about, text="", font=self.small, bg=self.c.card, fg=self.c.muted, anchor="w"
        )
        self.time_label.pack(fill="x")

        # The conversation.
        talk = tk.Frame(
            outer, bg=self.c.card, highlightthickness=1, highlightbackground=self.c.border
        )
        talk.pack(fill="both", expand=True, pady=(10, 0))
        self.text = _text_box(
            talk, font=self.font, bg=self.c.card, fg=self.c.text, height=11, link_tag="link"
        )
        self.text.configure(padx=10, pady=8)
        # The scroll bar shows only once the conversation outgrows its box.
        self.scroll = ttk.Scrollbar(talk, orient="vertical", command=self.text.yview)
        self._scroll_shown = False
        self.text.configure(yscrollcommand=self._scrolled)
        self.text.pack(side="left", fill="both", expand=True)
        self.text.tag_configure(
            "command", font=self.bold, justify="right", spacing1=8, foreground=self.c.text
        )
        self.text.tag_configure(
            "heard", font=self.italic, justify="right", spacing1=8, foreground=self.c.muted
        )
        self.text.tag_configure("reply", spacing1=3, foreground=self.c.text)
        self.text.tag_configure("error", spacing1=3, foreground=self.c.error)
        self.text.tag_configure("question", spacing1=3, foreground=self.c.question, font=self.bold)
        self.text.tag_configure("item", lmargin1=14, lmargin2=28, foreground=self.c.muted)
        self.text.tag_configure("hint", foreground=self.c.muted, font=self.italic)
        self.text.tag_configure("link", foreground=self.c.link, underline=True)

        # The answers to a question (packed above the activity row while a question waits).
        self.options_frame = tk.Frame(outer, bg=self.c.bg, pady=6)

        # What Segue is doing.
        activity = tk.Frame(outer, bg=self.c.bg)
        activity.pack(fill="x", pady=(8, 0))
        self.activity_row = activity
        self.meter = tk.Canvas(activity, width=150, height=14, bg=self.c.bg, highlightthickness=0)
        self.meter.pack(side="left")
        self.activity_label = tk.Label(
            activity, text="", font=self.small, bg=self.c.bg, fg=self.c.muted, anchor="w"
        )
        self.activity_label.pack(side="left", fill="x", padx=(8, 0))

        # The command field.
        tk.Label(
            outer,
            text="Type a command: Enter runs it, Esc hides.",
            font=self.small,
            bg=self.c.bg,
            fg=self.c.muted,
            anchor="w",
        ).pack(fill="x", pady=(8, 2))
        self.entry = tk.Entry(
            outer,
            font=entry_font,
            relief="flat",
            bg=self.c.card,
            fg=self.c.text,
            insertbackground=self.c.text,
            highlightthickness=2,
            highlightcolor=self.c.accent,
            highlightbackground=self.c.border,
            selectbackground=self.c.chip_border,
            selectforeground=self.c.text,
        )
        self.entry.pack(fill="x", ipady=4)
        self.entry.bind("<Return>", self._on_return)
        self.entry.bind("<KP_Enter>", self._on_return)
        self.entry.bind("<Up>", self._on_up)
        self.entry.bind("<Down>", self._on_down)
        # Text-field keys as people expect them elsewhere (Tk's own Ctrl+A goes to the start).
        for sequence in ("<Control-a>", "<Control-A>"):
            self.entry.bind(sequence, self._select_all)
        self.entry.bind("<Control-BackSpace>", self._delete_word)
        root.bind("<Escape>", lambda _event: self.hide_by_user())
        root.bind("<FocusIn>", self._focus_changed, add="+")
        root.bind("<FocusOut>", self._focus_changed, add="+")

        # What you can say.
        head = tk.Frame(outer, bg=self.c.bg)
        head.pack(fill="x", pady=(10, 2))
        tk.Label(
            head, text="What you can say", font=self.bold, bg=self.c.bg, fg=self.c.text, anchor="w"
        ).pack(side="left")
        self.examples_toggle = tk.Label(
            head, text="", font=self.small, bg=self.c.bg, fg=self.c.link, cursor="hand2"
        )
        self.examples_toggle.pack(side="right")
        self.examples_toggle.bind("<Button-1>", lambda _e: self._toggle_examples())
        self.examples_text = _text_box(
            outer, font=self.small, bg=self.c.bg, fg=self.c.text, height=3, link_tag="chip"
        )
        self.examples_text.configure(spacing1=2, spacing3=2)
        self.examples_text.pack(fill="x")
        self.examples_text.tag_configure(
            "chip", background=self.c.chip, foreground=self.c.accent_text
        )
        self.examples_text.tag_configure("category", foreground=self.c.muted, font=self.bold)

        self._draw_art(None)
        self._draw_now_playing()
        self._draw_activity()
        self._render_conversation()
        self._render_examples()
        self.root.after(_PROGRESS_MS, self._tick_progress)

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
            doing = message.get("doing")
            self.set_busy(
                str(message.get("activity") or "thinking"),
                doing if isinstance(doing, str) and doing else None,
            )
        elif kind == "level":
            self.set_level(message.get("value"))
        elif kind == "reply":
            self.show_reply(message)
        elif kind == "now_playing":
            self.set_now_playing(message)
        elif kind == "examples":
            self.set_examples(message)
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
        self.entry.icursor("end")
        self.text.see("end")
        self._report_attention()

    def hide(self) -> None:
        self.root.withdraw()
        self.visible = False
        self._report_attention()

    def hide_by_user(self) -> None:
        self.hide()
        self.send({"type": "hidden"})

    def quit(self) -> None:
        if self._closing:
            return
        self._closing = True
        self.root.destroy()

    def _focus_changed(self, _event: object) -> None:
        # Focus moves in steps (out of one widget, into the next): look once they are done.
        self.root.after_idle(self._report_attention)

    def _report_attention(self) -> None:
        if self._closing:
            return
        attended = self.visible and bool(str(self.root.tk.call("focus")))
        if attended != self._attended:
            self._attended = attended
            self.send({"type": "attention", "attended": attended})

    def _scrolled(self, first: float, last: float) -> None:
        self.scroll.set(first, last)
        needed = float(first) > 0.0 or float(last) < 1.0
        if needed and not self._scroll_shown:
            self.scroll.pack(side="right", fill="y", before=self.text)
        elif not needed and self._scroll_shown:
            self.scroll.pack_forget()
        self._scroll_shown = needed

    # -- what Segue is doing ------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """Whether a command runs or the microphone is open."""
        return self.activity is not None

    def set_busy(self, activity: str, doing: str | None = None) -> None:
        starting = self.activity is None
        self.activity = activity if activity in _ACTIVITY_TEXT else "thinking"
        self.doing = doing if self.activity == "thinking" else None
        self.level = 0.0
        if self.activity == "listening":
            self.level_peak = 0.0
            self.live = False
        self._set_options([])
        self._draw_activity()
        if starting:
            self.root.after(_FRAME_MS, self._animate)

    def set_level(self, value: object) -> None:
        if self.activity != "listening" or not isinstance(value, int | float):
            return
        self.level = max(0.0, min(1.0, float(value)))
        self.level_peak = max(self.level_peak, self.level)
        self.live = True
        self._draw_activity()

    def _animate(self) -> None:
        if self._closing or self.activity is None:
            return
        self._frame += 1
        self._draw_activity()
        self.root.after(_FRAME_MS, self._animate)

    def _draw_activity(self) -> None:
        canvas = self.meter
        canvas.delete("all")
        label = _ACTIVITY_TEXT.get(self.activity or "", "")
        if self.activity == "thinking" and self.doing:
            label = self.doing
        if self.activity == "listening" and not self.live:
            label = _OPENING_TEXT
        self.activity_label.configure(text=label)
        width, height = int(canvas.cget("width")), int(canvas.cget("height"))
        if self.activity == "listening":
            # The level meter: one lit segment per 1/METER_BARS of the level, green then amber.
            step = width / METER_BARS
            lit = round(self.level * METER_BARS)
            for bar in range(METER_BARS):
                colour = (
                    (self.c.accent if bar < METER_BARS * 0.75 else self.c.warm)
                    if bar < lit
                    else self.c.track
                )
                x = bar * step
                canvas.create_rectangle(x, 1, x + step - 2, height - 1, fill=colour, outline="")
        elif self.activity == "thinking":
            # A bright dot runs along a row of dots, back and forth.
            span = 2 * (_DOTS - 1)
            position = self._frame % span
            lead = position if position < _DOTS else span - position
            step = width / _DOTS
            radius = height / 2 - 2
            for dot in range(_DOTS):
                x = step * dot + step / 2
                near = abs(dot - lead)
                colour = (
                    self.c.accent
                    if near == 0
                    else self.c.accent_soft
                    if near == 1
                    else self.c.track
                )
                canvas.create_oval(
                    x - radius,
                    height / 2 - radius,
                    x + radius,
                    height / 2 + radius,
                    fill=colour,
                    outline="",
                )

    # -- the conversation ---------------------------------------------------------------------

    def add_command(self, text: str) -> None:
        """Show a command the person typed (or an answer they clicked)."""
        self._add(_Line("command", text))

    def show_reply(self, message: Mapping[str, Any]) -> None:
        self.activity = None
        self.level = 0.0
        self._draw_activity()
        text = str(message.get("text", ""))
        self.ok = bool(message.get("ok", True))
        options = [str(option) for option in message.get("options") or []]
        heard = message.get("heard")
        if isinstance(heard, str) and heard.strip():
            self.lines.append(_Line("heard", heard.strip()))
        more = tuple(str(item) for item in message.get("more") or [])
        role = "question" if options else "reply" if self.ok else "error"
        listed = _LISTED.search(text) if options else None
        if listed is not None:
            # "Which playlist? 1. Deep Work 2. Deep Work II": the buttons list the answers.
            text = text[: listed.start()]
        self._add(_Line(role, text, more=more if _MORE.search(text) else ()))
        self._set_options(options)
        if self.visible and sys.platform == "win32":
            # Opened above the task bar: grow upwards rather than off the screen.
            self.place()

    def _add(self, line: _Line) -> None:
        self.lines.append(line)
        del self.lines[:-CONVERSATION_LIMIT]
        self._render_conversation()

    def _render_conversation(self, opened: int | None = None) -> None:
        text = self.text
        _start_over(text, "more-")
        if not self.lines:
            text.insert(
                "end",
                "Ask for music here, with the hotkey, or with Talk in the tray menu. "
                "What you say and what Segue answers shows here.",
                ("hint",),
            )
        starts: dict[int, str] = {}
        for index, line in enumerate(self.lines):
            if index:
                text.insert("end", "\n")
            starts[index] = text.index("end - 1 char")
            text.insert("end", line.text, (line.role,))
            if line.more and not line.expanded:
                tag = f"more-{index}"
                text.insert("end", "\n")
                text.insert("end", f"Show all {len(line.more)}", ("link", tag))
                text.tag_bind(tag, "<Button-1>", _on_click(self._expand, index))
            elif line.more:
                for number, item in enumerate(line.more, 1):
                    text.insert("end", f"\n{number}. {item}", ("item",))
        text.configure(state="disabled")
        text.see("end")
        if opened is not None and opened in starts:
            # A list opened higher up shows from its reply, not from the bottom.
            text.see(starts[opened])

    def _expand(self, index: int) -> None:
        if 0 <= index < len(self.lines):
            self.lines[index].expanded = True
            self._render_conversation(opened=index)

    def _set_options(self, options: list[str]) -> None:
        import tkinter as tk

        for child in self.options_frame.winfo_children():
            child.destroy()
        self.options = options
        if not options:
            # An empty frame would keep its last size (a Tk grid quirk): take it out instead.
            self.options_frame.pack_forget()
            return
        self.options_frame.pack(fill="x", before=self.activity_row)
        for number, option in enumerate(options):
            button = tk.Label(
                self.options_frame,
                text=option,
                font=self.bold,
                bg=self.c.chip,
                fg=self.c.accent_text,
                padx=10,
                pady=4,
                cursor="hand2",
                highlightthickness=1,
                highlightbackground=self.c.chip_border,
            )
            button.bind("<Button-1>", _on_click(self._answer, option))
            button.grid(row=number // 3, column=number % 3, padx=(0, 6), pady=(0, 4), sticky="w")

    def _answer(self, text: str) -> None:
        self.add_command(text)
        self._run(text)

    # -- what is playing ----------------------------------------------------------------------

    def set_now_playing(self, message: Mapping[str, Any]) -> None:
        title = message.get("title")
        if not isinstance(title, str) or not title:
            self.playing = None
            self._draw_art(None)
        else:
            art = message.get("art")
            shown = self._draw_art(art if isinstance(art, str) else None)
            self.playing = _Playing(
                title=title,
                artist=str(message.get("artist") or ""),
                album=str(message.get("album") or ""),
                progress_ms=_int(message.get("progress_ms")),
                duration_ms=_int(message.get("duration_ms")),
                is_playing=bool(message.get("is_playing")),
                since=time.monotonic(),
                art=shown,
                device=str(message.get("device") or ""),
            )
        self._draw_now_playing()

    def _draw_art(self, path: str | None) -> bool:
        """Show the album art in ``path`` (a PNG), or the empty square; True if art is shown."""
        import tkinter as tk

        canvas = self.art
        canvas.delete("all")
        self._art_image = None
        if path is not None and Path(path).is_file():
            try:
                image = tk.PhotoImage(file=path)
            except tk.TclError:
                image = None
            if image is not None:
                factor = max(1, -(-max(image.width(), image.height()) // ART_SIZE))
                if factor > 1:
                    image = image.subsample(factor)
                self._art_image = image
                canvas.create_image(ART_SIZE // 2, ART_SIZE // 2, image=image)
                return True
        canvas.create_text(
            ART_SIZE // 2,
            ART_SIZE // 2,
            text="♪",
            fill=self.c.muted,
            font=(self.font.actual("family"), 24),
        )
        return False

    def _draw_now_playing(self) -> None:
        playing = self.playing
        if playing is None:
            self.title_label.configure(text="Nothing playing")
            self.artist_label.configure(
                text="Say or type “play” and a song, an artist or a playlist."
            )
            self.time_label.configure(text="")
            self.progress.delete("all")
            return
        self.title_label.configure(text=_clip(playing.title, 44))
        self.artist_label.configure(
            text=_clip(" · ".join(p for p in (playing.artist, playing.album) if p), 56)
        )
        position = playing.position_ms()
        times = f"{_clock(position)} / {_clock(playing.duration_ms)}" if playing.duration_ms else ""
        where = f"on {playing.device}" if playing.device else ""
        state = "" if playing.is_playing else "Paused"
        self.time_label.configure(text="   ".join(p for p in (times, state, where) if p))
        canvas = self.progress
        canvas.delete("all")
        width = max(canvas.winfo_width(), int(canvas.winfo_reqwidth()))
        canvas.create_rectangle(0, 0, width, 4, fill=self.c.track, outline="")
        if playing.duration_ms:
            done = width * min(1.0, position / playing.duration_ms)
            canvas.create_rectangle(0, 0, done, 4, fill=self.c.accent, outline="")

    def _tick_progress(self) -> None:
        if self._closing:
            return
        if self.playing is not None and self.playing.is_playing and self.visible:
            self._draw_now_playing()
        self.root.after(_PROGRESS_MS, self._tick_progress)

    # -- what you can say ---------------------------------------------------------------------

    def set_examples(self, message: Mapping[str, Any]) -> None:
        self.featured = [str(text) for text in message.get("featured") or []]
        self.all_examples = [
            (str(pair[0]), str(pair[1]))
            for pair in message.get("all") or []
            if isinstance(pair, list | tuple) and len(pair) == 2
        ]
        self._render_examples()

    def shown_examples(self) -> list[str]:
        """The examples on screen now, in order."""
        if self.examples_expanded:
            return [text for _, text in self.all_examples]
        return list(self.featured)

    def _toggle_examples(self) -> None:
        self.examples_expanded = not self.examples_expanded
        self._render_examples()
        if self.visible:
            self.place()

    def _render_examples(self) -> None:
        text = self.examples_text
        _start_over(text, "ex-")
        shown = 0

        def chip(example: str) -> None:
            nonlocal shown
            tag = f"ex-{shown}"
            shown += 1
            # No-break spaces: an example is never split across two lines.
            text.insert("end", f" {example} ".replace(" ", "\u00a0"), ("chip", tag))
            text.insert("end", "  ")
            text.tag_bind(tag, "<Button-1>", _on_click(self._use_example, example))

        if self.examples_expanded:
            groups: dict[str, list[str]] = {}
            for category, example in self.all_examples:
                groups.setdefault(category, []).append(example)
            for number, (category, examples) in enumerate(groups.items()):
                if number:
                    text.insert("end", "\n")
                text.insert("end", f"{category.capitalize()}  ", ("category",))
                for example in examples:
                    chip(example)
        else:
            for example in self.featured:
                chip(example)
        text.configure(state="disabled")
        if self.all_examples and len(self.all_examples) > len(self.featured):
            self.examples_toggle.configure(
                text="Fewer" if self.examples_expanded else f"All {len(self.all_examples)} ▾"
            )
        else:
            self.examples_toggle.configure(text="")
        self.root.update_idletasks()
        lines = _display_lines(text)
        text.configure(height=max(1, min(lines, 9 if self.examples_expanded else 4)))

    def _use_example(self, example: str) -> None:
        self._set_entry(example)
        self.entry.focus_set()

    # -- the state, for tests and diagnostics -------------------------------------------------

    def state(self) -> dict[str, Any]:
        """What the window shows, as data.

        ``conversation`` holds ``{"role", "text"}`` for each line in order (roles: command,
        heard, reply, error, question, item); ``links`` the "Show all" links; ``activity`` is
        None, "thinking" or "listening"; ``live`` whether the microphone's sound has arrived
        since listening began and ``level_peak`` the loudest the meter showed then;
        ``selection`` the field's selected characters ``[first, last]``; ``attended`` whether
        the window is on screen with the focus; ``boxes`` the screen boxes of the now-playing
        card, the conversation, the activity row and the examples.
        """
        root = self.root
        root.update_idletasks()
        conversation: list[dict[str, str]] = []
        for line in self.lines:
            conversation.append({"role": line.role, "text": line.text})
            if line.expanded:
                conversation += [{"role": "item", "text": item} for item in line.more]
        links = [
            {"text": f"Show all {len(line.more)}", "box": self._tag_box(self.text, f"more-{n}")}
            for n, line in enumerate(self.lines)
            if line.more and not line.expanded
        ]
        selection = (
            [int(self.entry.index("sel.first")), int(self.entry.index("sel.last"))]
            if self.entry.selection_present()
            else None
        )
        playing = self.playing
        last = next((line for line in reversed(self.lines) if line.role not in _SAID), None)
        return {
            "type": "state",
            "theme": self.c.name,
            "visible": self.visible,
            "busy": self.busy,
            "activity": self.activity,
            "activity_text": str(self.activity_label.cget("text")),
            "level": self.level,
            "level_peak": self.level_peak,
            "live": self.live,
            "reply": last.text if last is not None else "",
            "ok": self.ok,
            "conversation": conversation,
            "links": links,
            "options": list(self.options),
            "option_boxes": [_box(b) for b in self.options_frame.winfo_children()],
            "now_playing": None
            if playing is None
            else {
                "title": playing.title,
                "artist": playing.artist,
                "album": playing.album,
                "progress_ms": playing.position_ms(),
                "duration_ms": playing.duration_ms,
                "is_playing": playing.is_playing,
                "art": playing.art,
                "device": playing.device,
                "time_line": str(self.time_label.cget("text")),
            },
            "examples": self.shown_examples(),
            "example_boxes": [
                self._tag_box(self.examples_text, f"ex-{n}")
                for n in range(len(self.shown_examples()))
            ],
            "examples_toggle_box": _box(self.examples_toggle),
            "history": list(self.history),
            "entry": self.entry.get(),
            "selection": selection,
            "focus": str(root.tk.call("focus")) == str(self.entry),
            "attended": self._attended,
            "geometry": _box(root),
            "boxes": {
                "now_playing": _box(self.card),
                "conversation": _box(self.text),
                "activity": _box(self.meter),
                "examples": _box(self.examples_text),
            },
        }

    @staticmethod
    def _tag_box(widget: tk.Text, tag: str) -> list[int] | None:
        """The screen box of the first character of ``tag`` in ``widget``, if it is on screen."""
        ranges = widget.tag_ranges(tag)
        if not ranges:
            return None
        found = widget.bbox(ranges[0])
        if found is None:
            return None
        x, y, width, height = found
        end = widget.bbox(f"{ranges[1]} - 1 char")
        if end is not None and end[1] == y:
            width = end[0] + end[2] - x
        return [widget.winfo_rootx() + x, widget.winfo_rooty() + y, width, height]

    # -- the text field -----------------------------------------------------------------------

    def _on_return(self, _event: object) -> str:
        text = self.entry.get().strip()
        if text:
            # The command stays in the field, selected: typing replaces it, Enter runs it again.
            self.entry.select_range(0, "end")
            self.entry.icursor("end")
            self._remember(text)
            self.add_command(text)
            self._run(text)
        return "break"

    def _run(self, text: str) -> None:
        self.set_busy("thinking")
        self.send({"type": "command", "text": text})

    def _select_all(self, _event: object) -> str:
        self.entry.select_range(0, "end")
        self.entry.icursor("end")
        return "break"

    def _delete_word(self, _event: object) -> str:
        cursor = int(self.entry.index("insert"))
        before = self.entry.get()[:cursor]
        start = len(before.rstrip()) - len(before.rstrip().split(" ")[-1])
        self.entry.delete(max(0, start), cursor)
        return "break"

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


_SAID = ("command", "heard")


def _text_box(
    parent: tk.Misc, *, font: Any, bg: str, fg: str, height: int, link_tag: str
) -> tk.Text:
    """A text box the person reads and clicks in (no typing), the mouse a hand over ``link_tag``."""
    import tkinter as tk

    text = tk.Text(
        parent,
        width=50,
        height=height,
        wrap="word",
        font=font,
        bg=bg,
        fg=fg,
        relief="flat",
        highlightthickness=0,
        cursor="arrow",
        takefocus=False,
    )
    text.tag_bind(link_tag, "<Enter>", lambda _e: text.configure(cursor="hand2"))
    text.tag_bind(link_tag, "<Leave>", lambda _e: text.configure(cursor="arrow"))
    return text


def _start_over(text: tk.Text, tags: str) -> None:
    """Empty ``text`` for drawing it anew, with the click tags named ``tags...``."""
    text.configure(state="normal")
    text.delete("1.0", "end")
    for name in text.tag_names():
        if name.startswith(tags):
            text.tag_delete(name)


def _box(widget: tk.Misc) -> list[int]:
    return [widget.winfo_rootx(), widget.winfo_rooty(), widget.winfo_width(), widget.winfo_height()]


def _on_click(action: Callable[[T], object], value: T) -> Callable[[object], None]:
    """A click handler that calls ``action(value)``."""

    def handler(_event: object) -> None:
        action(value)

    return handler


def _display_lines(text: tk.Text) -> int:
    counted: object = text.count("1.0", "end", "displaylines")
    if isinstance(counted, tuple):
        counted = counted[0]
    return counted if isinstance(counted, int) and counted > 0 else 1


def _int(value: object) -> int:
    return int(value) if isinstance(value, int | float) else 0


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _clock(ms: int) -> str:
    seconds = max(0, ms) // 1000
    return f"{seconds // 60}:{seconds % 60:02d}"


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
        argv: Options: ``--theme light|dark|system`` (the ``popup_theme`` setting; "system",
            the default, follows the system's light or dark appearance).
    """
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    for stream in (stdin, stdout):
        # JSON lines are ASCII, but a parent on Windows may still hand over a cp1252 stream.
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(encoding="utf-8", errors="replace")
    import tkinter as tk

    options = _options(argv)
    try:
        root = tk.Tk(className=TITLE)
    except tk.TclError as err:
        stdout.write(encode({"type": "error", "message": f"The popup window cannot open: {err}"}))
        stdout.flush()
        return 1
    inbox: queue.Queue[dict[str, Any] | None] = queue.Queue()
    window = _PopupWindow(root, inbox, stdout, palette(options.theme))
    # Tk is not thread-safe: a reader thread only queues what it reads, and the Tk loop polls
    # that queue.
    threading.Thread(
        target=_read_stdin, args=(stdin, inbox), name="popup-stdin", daemon=True
    ).start()
    window.send({"type": "ready"})
    root.after(_POLL_MS, window.poll)
    root.mainloop()
    return 0


def _options(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m assistant.desktop.popup", add_help=False)
    parser.add_argument("--theme", choices=("system", "light", "dark"), default="system")
    # Options from a newer parent are left alone: the popup opens with what it knows.
    return parser.parse_known_args(list(argv))[0]


# -- the parent side --------------------------------------------------------------------------


def grammar_examples() -> tuple[list[str], list[tuple[str, str]]]:
    """The "what you can say" lists from the command grammar: (featured, all by category)."""
    from assistant.agent import grammar

    return grammar.featured(), grammar.examples()


class PopupProcess:
    """Starts the popup process on first use and talks to it (the tray process's side).

    Args:
        on_command: Called with the text of each command typed (or option clicked) in the
            popup; runs on this object's reader thread and must only signal.
        python: The Python interpreter that runs ``-m assistant.desktop.popup``.
        on_hidden: Called (on the reader thread) when the person hides the popup.
        on_error: Called (on the reader thread) with a sentence when the window cannot open.
        examples: Gives the "what you can say" lists (featured, all by category), sent to each
            new popup from the reader thread; None sends none.
        theme: The ``popup_theme`` setting: "system", "light" or "dark".
    """

    def __init__(
        self,
        on_command: Callable[[str], None],
        *,
        python: str = sys.executable,
        on_hidden: Callable[[], None] | None = None,
        on_error: Callable[[str], None] | None = None,
        examples: Callable[[], tuple[Sequence[str], Sequence[tuple[str, str]]]]
        | None = grammar_examples,
        theme: str = "system",
    ) -> None:
        self._on_command = on_command
        self._theme = theme
        self._on_hidden = on_hidden
        self._on_error = on_error
        self._examples = examples
        self._python = python
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None
        self._states: queue.Queue[dict[str, Any]] = queue.Queue()
        self._ready = threading.Event()
        self._attended = False

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

    @property
    def attended(self) -> bool:
        """Whether the popup is on screen with the keyboard focus (the person is looking at it).

        A notification for a reply the popup shows would then only cover it.
        """
        return self._attended and self.running

    def show(self) -> None:
        """Show the popup (starting its process on first use) and give it the focus."""
        self._send({"type": "show"}, start=True)

    def hide(self) -> None:
        """Hide the popup, if it runs."""
        self._send({"type": "hide"})

    def set_busy(self, doing: str | None = None) -> None:
        """Show that a command is running (a moving indicator), if the popup runs.

        Args:
            doing: What it is doing now, in words ("Searching Spotify…"); None: working.
        """
        message: dict[str, Any] = {"type": "busy", "activity": "thinking"}
        if doing:
            message["doing"] = doing
        self._send(message)

    def set_listening(self) -> None:
        """Show that the microphone is open (the level meter), if the popup runs."""
        self._send({"type": "busy", "activity": "listening"})

    def send_level(self, level: float) -> None:
        """Show the microphone's level (0..1) on the meter, if the popup runs."""
        self._send({"type": "level", "value": round(float(level), 3)})

    def send_reply(
        self,
        text: str,
        ok: bool,
        *,
        heard: str | None = None,
        options: Sequence[str] = (),
        more: Sequence[str] = (),
    ) -> bool:
        """Add a reply to the popup's conversation, if it runs (it is not started for a reply).

        Args:
            text: The reply sentence.
            ok: False for an error (drawn in red).
            heard: What was heard, for a spoken command ("Heard: “pause”"), shown as its
                command line.
            options: Answers to a question, shown as buttons.
            more: The whole list a reply names only a few of ("... and 8 more"), shown when
                the person asks for it.

        Returns:
            Whether the popup got it.
        """
        message = {
            "type": "reply",
            "text": text,
            "ok": ok,
            "heard": heard,
            "options": [str(option) for option in options],
            "more": [str(item) for item in more],
        }
        return self._send(message)

    def send_now_playing(self, now: NowPlaying | None, art: Path | None = None) -> None:
        """Show what plays in the popup's card, if it runs.

        Args:
            now: What plays; None: nothing.
            art: Its album art, a PNG file.
        """
        if now is None:
            self._send({"type": "now_playing", "title": None})
            return
        self._send(
            {
                "type": "now_playing",
                "title": now.title or now.text,
                "artist": now.artist,
                "album": now.album,
                "art": str(art) if art is not None else None,
                "progress_ms": now.progress_ms,
                "duration_ms": now.duration_ms,
                "is_playing": now.is_playing,
                "device": now.device,
            }
        )

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
        self._attended = False
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
        self._attended = False
        proc = subprocess.Popen(
            [
                *module_command("assistant.desktop.popup", python=self._python),
                "--theme",
                self._theme,
            ],
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
        self._attended = False
        logger.debug("The popup process's output closed")

    def _dispatch(self, message: Mapping[str, Any]) -> None:
        kind = message["type"]
        if kind == "command":
            text = str(message.get("text", "")).strip()
            if text:
                self._on_command(text)
        elif kind == "attention":
            self._attended = bool(message.get("attended"))
        elif kind == "hidden":
            if self._on_hidden is not None:
                self._on_hidden()
        elif kind == "ready":
            self._ready.set()
            self._send_examples()
        elif kind == "state":
            self._states.put(dict(message))
        elif kind == "error":
            text = str(message.get("message", "The popup window cannot open."))
            logger.warning("%s", text)
            if self._on_error is not None:
                self._on_error(text)

    def _send_examples(self) -> None:
        if self._examples is None:
            return
        featured, every = self._examples()
        self._send(
            {
                "type": "examples",
                "featured": list(featured),
                "all": [[category, text] for category, text in every],
            }
        )


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


def main() -> None:
    """Entry point of ``python -m assistant.desktop.popup``."""
    raise SystemExit(run_popup(argv=sys.argv[1:]))


if __name__ == "__main__":
    main()

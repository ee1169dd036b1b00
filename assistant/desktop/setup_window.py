"""The "Connect Spotify" window: a Tk window run as its own process, doing the setup itself.

Tk and the tray (pystray) both want the main thread on macOS, so, like the popup, this window lives
in a process of its own: ``python -m assistant.desktop.setup_window``. It does the work itself with
the functions of :mod:`assistant.setup` (the same ones ``segue setup`` uses): open the Spotify
dashboard, copy the redirect URI, check and save the Client ID, sign in in the browser, and check
and store an optional OpenAI key.

It reports on stdout, one JSON object per line:

``{"type": "ready"}``                           the window is open
``{"type": "client_id_saved"}``                 the Client ID was written to config.toml
``{"type": "signed_in", "name": str}``          the browser sign-in completed
``{"type": "sign_in_failed", "message": str}``  it did not (the sentence shown)
``{"type": "openai_key", "ok": bool, "message": str}``   the key check's outcome
``{"type": "result", "client_id_saved": bool, "signed_in": bool, "openai_key_saved": bool}``
                                                the last line, when the window closes
``{"type": "error", "message": str}``           the window could not open (no display, no Tk)

With ``--control`` it also reads JSON lines on stdin: ``{"type": "state"}`` answers with
``{"type": "state", ...}`` (the texts shown and each control's screen box, for tests and
diagnostics) and ``{"type": "quit"}`` closes the window; without it stdin is not read.
"""

from __future__ import annotations

import argparse
import functools
import logging
import queue
import subprocess
import sys
import threading
import webbrowser
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from assistant.config import Paths, Settings, load_settings
from assistant.desktop.jsonlines import decode, encode, send
from assistant.errors import ConfigError, SegueError
from assistant.resources import module_command
from assistant.secrets import SecretStore
from assistant.setup import (
    DASHBOARD_URL,
    OWN_APP_NOTE,
    check_openai_key,
    connect_spotify,
    save_client_id,
    store_openai_key,
    validate_client_id,
)

if TYPE_CHECKING:
    import tkinter as tk

logger = logging.getLogger(__name__)

TITLE = "Connect Spotify — Segue"
CLIENT_ID_OK = "✓ That looks like a Client ID."
_POLL_MS = 50  # how often the Tk loop looks at what the worker threads and stdin sent
_WRAP = 460
_ERROR_FG = "#b00020"
_OK_FG = "#1b7f2a"
_NOTE_FG = "#555555"


def open_setup_window(
    *, python: str = sys.executable, config_file: Path | None = None
) -> subprocess.Popen[str]:
    """Start the setup window process (the tray's "Connect Spotify..." item).

    Its stdout carries the JSON lines described in the module docstring; the last one is the
    ``result``. Its stdin is not used.

    Args:
        python: The Python interpreter that runs ``-m assistant.desktop.setup_window``.
        config_file: The settings file to save the Client ID in; the default one when None.
    """
    argv = module_command("assistant.desktop.setup_window", python=python)
    if config_file is not None:
        argv += ["--config-file", str(config_file)]
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",
        # No console window on Windows.
        creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0),
    )
    logger.info("Started the setup window (pid %d)", proc.pid)
    return proc


class _SetupWindow:
    """The window; every method runs on the Tk (main) thread of the setup process."""

    def __init__(
        self,
        root: tk.Tk,
        *,
        config_file: Path,
        settings: Settings,
        settings_problem: str | None,
        secrets_factory: Callable[[], SecretStore],
        out: IO[str],
    ) -> None:
        import tkinter as tk

        self.root = root
        self.config_file = config_file
        self.settings = settings
        self.secrets_factory = secrets_factory
        self._secrets: SecretStore | None = None
        self.out = out
        self.inbox: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self.client_id_saved = False
        self.signed_in = False
        self.openai_key_saved = False
        self._closing = False
        self._signing_in = False
        self._checking_key = False

        root.title(TITLE)
        root.resizable(False, False)
        root.protocol("WM_DELETE_WINDOW", self.quit)
        root.bind("<Escape>", lambda _event: self.quit())

        frame = tk.Frame(root, padx=16, pady=12)
        frame.pack(fill="both", expand=True)
        probe = tk.Label(frame)
        self._default_fg = str(probe.cget("fg"))
        probe.destroy()

        def heading(text: str) -> None:
            tk.Label(
                frame, text=text, anchor="w", justify="left", wraplength=_WRAP, font="TkHeadingFont"
            ).pack(fill="x", pady=(10, 2))

        def note(text: str, fg: str = _NOTE_FG) -> tk.Label:
            label = tk.Label(frame, text=text, anchor="w", justify="left", wraplength=_WRAP, fg=fg)
            label.pack(fill="x")
            return label

        tk.Label(
            frame, text="Connect Segue to your Spotify", anchor="w", font="TkCaptionFont"
        ).pack(fill="x")
        note(OWN_APP_NOTE)
        self.settings_label = note(settings_problem or "", _ERROR_FG)
        if not settings_problem:
            self.settings_label.pack_forget()

        # 1. The dashboard.
        heading("1. Create an app in the Spotify developer dashboard (tick “Web API”).")
        self.dashboard_button = tk.Button(
            frame, text="Open the Spotify dashboard", command=self.open_dashboard
        )
        self.dashboard_button.pack(anchor="w")

        # 2. The redirect URI, read-only, with a Copy button.
        heading("2. Add this exact Redirect URI to the app:")
        row = tk.Frame(frame)
        row.pack(fill="x")
        self.redirect_var = tk.StringVar(value=settings.spotify_redirect_uri)
        self.redirect_entry = tk.Entry(
            row, textvariable=self.redirect_var, state="readonly", width=40
        )
        self.redirect_entry.pack(side="left", fill="x", expand=True)
        self.copy_button = tk.Button(row, text="Copy", command=self.copy_redirect_uri)
        self.copy_button.pack(side="left", padx=(6, 0))
        self.copy_label = note("")

        # 3. The Client ID, checked as it is typed.
        heading("3. Paste the app's Client ID (on its Settings page):")
        self.client_id_var = tk.StringVar(value=settings.spotify_client_id or "")
        self.client_id_entry = tk.Entry(frame, textvariable=self.client_id_var, width=40)
        self.client_id_entry.pack(fill="x")
        self.client_id_label = note("")
        self.client_id_var.trace_add("write", lambda *_args: self.check_client_id())
        self.check_client_id()

        # 4. Sign in.
        heading("4. Sign in to Spotify in your browser:")
        self.sign_in_button = tk.Button(frame, text="Sign in", command=self.sign_in)
        self.sign_in_button.pack(anchor="w")
        self.sign_in_label = note("")
        self.url_var = tk.StringVar(value="")
        self.url_entry = tk.Entry(frame, textvariable=self.url_var, state="readonly", width=40)

        # 5. The optional OpenAI key.
        heading("5. Optional: an OpenAI API key")
        note(
            "It lets Segue understand free-form commands and use OpenAI's speech recognition; "
            "without one Segue uses the local speech model and its built-in commands."
        )
        row = tk.Frame(frame)
        row.pack(fill="x")
        self.key_var = tk.StringVar(value="")
        self.key_entry = tk.Entry(row, textvariable=self.key_var, show="•", width=30)
        self.key_entry.pack(side="left", fill="x", expand=True)
        self.show_key = tk.BooleanVar(value=False)
        self.show_button = tk.Checkbutton(
            row, text="Show", variable=self.show_key, command=self._show_or_hide_key
        )
        self.show_button.pack(side="left", padx=(6, 0))
        self.check_button = tk.Button(row, text="Check and save", command=self.check_key)
        self.check_button.pack(side="left", padx=(6, 0))
        self.key_label = note("")

        self.done_button = tk.Button(frame, text="Done", command=self.quit, width=10)
        self.done_button.pack(anchor="e", pady=(14, 0))

    # -- output -------------------------------------------------------------------------------

    def send(self, message: Mapping[str, Any]) -> None:
        # When nobody reads any more (the tray is gone) the write fails; the window works on.
        send(self.out, message)

    def poll(self) -> None:
        """Run what the worker and stdin threads handed over, then poll again."""
        while True:
            try:
                task = self.inbox.get_nowait()
            except queue.Empty:
                break
            if task is None:
                self.quit()
                return
            task()
            if self._closing:
                return
        self.root.after(_POLL_MS, self.poll)

    def _set(self, label: tk.Label, text: str, fg: str | None = None) -> None:
        label.configure(text=text, fg=fg or self._default_fg)

    # -- the steps ----------------------------------------------------------------------------

    def open_dashboard(self) -> None:
        def run() -> None:
            try:
                webbrowser.open(DASHBOARD_URL)
            except (webbrowser.Error, OSError) as err:
                logger.warning("Could not open a browser: %s", type(err).__name__)

        # webbrowser waits for a BROWSER command to exit: keep the window responsive.
        threading.Thread(target=run, name="setup-dashboard", daemon=True).start()

    def copy_redirect_uri(self) -> None:
        self.root.clipboard_clear()
        self.root.clipboard_append(self.redirect_var.get())
        self._set(self.copy_label, "Copied. Paste it under Redirect URIs and save the app.")

    def check_client_id(self) -> bool:
        text = self.client_id_var.get()
        if not text.strip():
            self._set(self.client_id_label, "")
            return False
        try:
            validate_client_id(text)
        except ConfigError as err:
            self._set(self.client_id_label, err.user_message, _ERROR_FG)
            return False
        self._set(self.client_id_label, CLIENT_ID_OK, _OK_FG)
        return True

    def secrets(self) -> SecretStore:
        if self._secrets is None:
            self._secrets = self.secrets_factory()
        return self._secrets

    def sign_in(self) -> None:
        if self._signing_in:
            return
        try:
            client_id = validate_client_id(self.client_id_var.get())
            save_client_id(self.config_file, client_id)
            self.settings = load_settings(self.config_file)
            secrets = self.secrets()
        except SegueError as err:
            self._set(self.sign_in_label, err.user_message, _ERROR_FG)
            return
        if not self.client_id_saved:
            self.client_id_saved = True
            self.send({"type": "client_id_saved"})
        self._set(self.settings_label, "")
        self.settings_label.pack_forget()
        self._signing_in = True
        self.sign_in_button.configure(state="disabled")
        self._set(self.sign_in_label, "Opening your browser…")
        settings = self.settings
        threading.Thread(
            target=self._sign_in_thread, args=(settings, secrets), name="setup-sign-in", daemon=True
        ).start()

    def _sign_in_thread(self, settings: Settings, secrets: SecretStore) -> None:
        # Runs off the Tk thread: it hands every update to the Tk loop through the inbox.
        def announce(line: str) -> None:
            self.inbox.put(lambda: self._announced(line))

        try:
            name = connect_spotify(settings, secrets, announce=announce)
        except SegueError as err:
            message = err.user_message
            self.inbox.put(lambda: self._signed_in(None, message))
        except Exception:
            # The top of this thread: the window says so and stays usable.
            logger.exception("Sign-in failed")
            self.inbox.put(lambda: self._signed_in(None, "Sign-in failed unexpectedly."))
        else:
            self.inbox.put(lambda: self._signed_in(name, None))

    def _announced(self, line: str) -> None:
        if line.startswith(("http://", "https://")):
            # The consent page's address, for when no browser opens by itself.
            self.url_var.set(line)
            self.url_entry.pack(fill="x", after=self.sign_in_label)
            self._set(
                self.sign_in_label,
                "Waiting for you to agree in the browser. If no browser opened, open this address:",
            )
        elif line.startswith("No browser could be opened"):
            self._set(self.sign_in_label, line, _ERROR_FG)

    def _signed_in(self, name: str | None, problem: str | None) -> None:
        self._signing_in = False
        self.sign_in_button.configure(state="normal")
        self.url_entry.pack_forget()
        if name is not None:
            self.signed_in = True
            self._set(self.sign_in_label, f"Signed in to Spotify as {name}.", _OK_FG)
            self.send({"type": "signed_in", "name": name})
        else:
            text = problem or "Sign-in did not complete."
            self._set(self.sign_in_label, text, _ERROR_FG)
            self.send({"type": "sign_in_failed", "message": text})

    def _show_or_hide_key(self) -> None:
        self.key_entry.configure(show="" if self.show_key.get() else "•")

    def check_key(self) -> None:
        if self._checking_key:
            return
        key = self.key_var.get().strip()
        if not key:
            self._set(self.key_label, "Paste an OpenAI API key first (or leave this step out).")
            return
        try:
            secrets = self.secrets()
        except SegueError as err:
            self._set(self.key_label, err.user_message, _ERROR_FG)
            return
        self._checking_key = True
        self.check_button.configure(state="disabled")
        self._set(self.key_label, "Checking the key…")
        settings = self.settings
        threading.Thread(
            target=self._check_key_thread,
            args=(settings, secrets, key),
            name="setup-openai-key",
            daemon=True,
        ).start()

    def _check_key_thread(self, settings: Settings, secrets: SecretStore, key: str) -> None:
        try:
            check_openai_key(
                key,
                base_url=settings.openai_base_url,
                timeout=settings.openai_timeout_seconds,
                model=settings.openai_model,
            )
            store_openai_key(secrets, key)
        except SegueError as err:
            message = err.user_message
            self.inbox.put(lambda: self._key_checked(False, message))
        except Exception:
            logger.exception("The OpenAI key check failed")
            self.inbox.put(lambda: self._key_checked(False, "The key check failed unexpectedly."))
        else:
            self.inbox.put(
                lambda: self._key_checked(True, "The key works; it is stored in the keyring.")
            )

    def _key_checked(self, ok: bool, message: str) -> None:
        self._checking_key = False
        self.check_button.configure(state="normal")
        self._set(self.key_label, message, _OK_FG if ok else _ERROR_FG)
        if ok:
            self.openai_key_saved = True
        self.send({"type": "openai_key", "ok": ok, "message": message})

    # -- state and the end --------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        self.root.update_idletasks()
        widgets: dict[str, tk.Widget] = {
            "dashboard": self.dashboard_button,
            "redirect_uri": self.redirect_entry,
            "copy": self.copy_button,
            "client_id": self.client_id_entry,
            "sign_in": self.sign_in_button,
            "openai_key": self.key_entry,
            "show_key": self.show_button,
            "check_key": self.check_button,
            "done": self.done_button,
        }
        return {
            "type": "state",
            "redirect_uri": self.redirect_var.get(),
            "copy_status": str(self.copy_label.cget("text")),
            "client_id": self.client_id_var.get(),
            "client_id_message": str(self.client_id_label.cget("text")),
            "sign_in_status": str(self.sign_in_label.cget("text")),
            "sign_in_url": self.url_var.get(),
            "openai_status": str(self.key_label.cget("text")),
            "openai_key_shown": str(self.key_entry.cget("show")) == "",
            "settings_problem": str(self.settings_label.cget("text")),
            "boxes": {
                name: [w.winfo_rootx(), w.winfo_rooty(), w.winfo_width(), w.winfo_height()]
                for name, w in widgets.items()
            },
            "geometry": [
                self.root.winfo_rootx(),
                self.root.winfo_rooty(),
                self.root.winfo_width(),
                self.root.winfo_height(),
            ],
        }

    def handle(self, message: Mapping[str, Any]) -> None:
        kind = message.get("type")
        if kind == "state":
            self.send(self.state())
        elif kind == "quit":
            self.quit()

    def quit(self) -> None:
        if self._closing:
            return
        self._closing = True
        self.send(
            {
                "type": "result",
                "client_id_saved": self.client_id_saved,
                "signed_in": self.signed_in,
                "openai_key_saved": self.openai_key_saved,
            }
        )
        self.root.destroy()


def _read_control(stream: IO[str], window: _SetupWindow) -> None:
    """Hand each control message read from ``stream`` to the Tk loop; quit once it closes."""
    try:
        for line in stream:
            message = decode(line)
            if message is not None:
                window.inbox.put(functools.partial(window.handle, message))
    except (OSError, ValueError):
        pass
    window.inbox.put(None)


def run_setup_window(
    argv: Sequence[str] = (),
    *,
    stdin: IO[str] | None = None,
    stdout: IO[str] | None = None,
    secrets_factory: Callable[[], SecretStore] | None = None,
) -> int:
    """Show the setup window until the person closes it; return the exit status.

    Args:
        argv: ``[--config-file PATH] [--control]``.
        stdin: Where control messages come from with ``--control`` (default ``sys.stdin``).
        stdout: Where reports go (default ``sys.stdout``).
        secrets_factory: Builds the secret store; the system keyring by default.
    """
    parser = argparse.ArgumentParser(prog="python -m assistant.desktop.setup_window")
    parser.add_argument("--config-file", type=Path, help="the settings file (default: Segue's)")
    parser.add_argument("--control", action="store_true", help="read state/quit messages on stdin")
    args = parser.parse_args(list(argv))
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    reconfigure = getattr(stdout, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(encoding="utf-8", errors="replace")
    config_file: Path = args.config_file or Paths.default().config_file
    if secrets_factory is None:
        from assistant.app import build_secrets

        secrets_factory = build_secrets

    problem: str | None = None
    try:
        settings = load_settings(config_file)
    except ConfigError as err:
        # The window still opens: it shows the sentence, and the defaults for the rest.
        problem = err.user_message
        settings = Settings.model_validate({})

    import tkinter as tk

    try:
        root = tk.Tk(className="Segue")
    except tk.TclError as err:
        stdout.write(encode({"type": "error", "message": f"The setup window cannot open: {err}"}))
        stdout.flush()
        return 1
    window = _SetupWindow(
        root,
        config_file=config_file,
        settings=settings,
        settings_problem=problem,
        secrets_factory=secrets_factory,
        out=stdout,
    )
    if args.control:
        threading.Thread(
            target=_read_control, args=(stdin, window), name="setup-control", daemon=True
        ).start()
    root.update_idletasks()
    root.deiconify()
    root.lift()
    root.focus_force()
    window.client_id_entry.focus_set()
    window.send({"type": "ready"})
    root.after(_POLL_MS, window.poll)
    root.mainloop()
    return 0


if __name__ == "__main__":
    sys.exit(run_setup_window(sys.argv[1:]))

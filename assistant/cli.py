"""The ``segue`` command line: the entry point of every way to start Segue.

Subcommands import what they need when they run, so ``segue --help`` and ``segue --version`` stay
fast. Errors Segue understands end as one sentence on stderr and a non-zero exit status; anything
else is logged with its traceback and reported as one sentence pointing to the log. Start-up is
inside that handling too: an unreadable settings file is a sentence and exit 2; a log directory
that cannot be written is a sentence, and Segue runs on without a log file.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from assistant import __version__
from assistant.config import Paths, Settings, load_settings
from assistant.errors import ConfigError, SegueError

if TYPE_CHECKING:
    from assistant.app import Assistant
    from assistant.pipeline import Pipeline, Reply

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

DEMO_RESET = (
    "The demo world is back at its start: nothing is playing, and the demo's playlists and "
    "library are as they were."
)
NOT_UTF8 = "That command is not UTF-8 text, so Segue did not run it; type it again."


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="segue",
        description="Segue: control Spotify by voice or by typing, from the system tray.",
        epilog="With no command, Segue starts; without a Spotify app configured it runs "
        "against the built-in simulated Spotify.",
    )
    parser.add_argument("--version", action="version", version=f"segue {__version__}")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="run against the built-in simulated Spotify even when an account is configured",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    sim = commands.add_parser(
        "sim", help="serve the simulated Spotify (Web API and accounts) on 127.0.0.1"
    )
    sim.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one)")
    sim.add_argument(
        "--latency-ms", type=float, default=0.0, help="delay added to every request (ms)"
    )
    sim.add_argument(
        "--consent",
        choices=("ask", "approve", "deny"),
        default="ask",
        help="what the sign-in page does: show Agree/Cancel (default), approve or deny at once",
    )
    sim.add_argument(
        "--exchange-log", type=Path, help="append every HTTP exchange to this file as JSON lines"
    )
    sim.add_argument(
        "--reset",
        action="store_true",
        help="put the demo world (what the tray, `segue say` and `segue listen` play in demo "
        "mode) back at its start, and exit",
    )

    say = commands.add_parser(
        "say",
        help="run a typed command and print the reply (with no TEXT: one command per line "
        "from stdin, as one conversation)",
        description="Run one command as if it were spoken, and print Segue's reply. With no "
        "TEXT, read commands from stdin, one per line, keeping the conversation (pending "
        "questions included), and print one reply per line. Exit status 0 when every command "
        "was carried out or answered, 1 otherwise.",
    )
    say.add_argument("text", nargs="*", metavar="TEXT", help="the command, e.g. pause")
    say.add_argument(
        "--json",
        action="store_true",
        help='print {"ok", "reply", "used_llm", "tool_calls", "timings"} per command',
    )
    say.add_argument(
        "--demo",
        action="store_true",
        default=argparse.SUPPRESS,
        help="use the built-in simulated Spotify with a demo user (the default when no "
        "spotify_client_id is configured)",
    )

    listen = commands.add_parser(
        "listen",
        help="run a spoken command: from a WAV/FLAC file, or from the microphone until you stop",
        description="Record one spoken command from the microphone (hands-free: it stops by "
        "itself after a short silence), or read it from a file, run it, and print the reply. "
        "Bind `segue listen` to a desktop shortcut where the hold-to-talk hotkey cannot work "
        "(Wayland without a global-shortcuts portal).",
    )
    listen.add_argument("--file", type=Path, help="a recording (WAV, FLAC, ...) instead of the mic")
    listen.add_argument(
        "--json",
        action="store_true",
        help="print the reply as `segue say --json` does, plus the transcript",
    )
    listen.add_argument(
        "--demo",
        action="store_true",
        default=argparse.SUPPRESS,
        help="use the built-in simulated Spotify (the default without spotify_client_id)",
    )

    mcp = commands.add_parser(
        "mcp",
        help="serve Segue's tools to an AI client over the Model Context Protocol (stdio)",
        description="Serve Segue's Spotify tools to an MCP host (an AI desktop client or an "
        "editor's agent) over stdin and stdout. The host starts this command itself: put "
        "`segue` with the argument `mcp` in its server settings. Tools that remove things are "
        "marked destructive, for the host to ask first. Logs go to the log file.",
    )
    mcp.add_argument(
        "--demo",
        action="store_true",
        default=argparse.SUPPRESS,
        help="use the built-in simulated Spotify (the default without spotify_client_id)",
    )

    commands.add_parser("login", help="sign in to Spotify in the browser (OAuth with PKCE)")
    commands.add_parser("logout", help="forget the Spotify sign-in stored in the keyring")
    commands.add_parser(
        "setup",
        help="connect your own Spotify app (Client ID, sign-in) and an optional OpenAI key, "
        "step by step",
        description="Connect Segue to your own Spotify app step by step (Client ID, sign-in) "
        "and optionally store an OpenAI API key. Answers are read one per line, so they can be "
        "piped in.",
    )
    doctor = commands.add_parser(
        "doctor",
        help="check the microphone, tray, keyring, Spotify and OpenAI, and say how to fix what "
        "is wrong",
    )
    doctor.add_argument(
        "--json",
        action="store_true",
        help='print {"ok": bool, "checks": [{"name", "status", "detail", "fix"}, ...]}',
    )
    autostart = commands.add_parser(
        "autostart", help="start Segue in the tray at login: on, off or status"
    )
    autostart.add_argument(
        "action",
        choices=("on", "off", "status"),
        help="on: start Segue in the tray at login; off: stop that; status: say which",
    )
    taste = commands.add_parser(
        "taste",
        help="show what Segue has learned you like (kept on this computer only), or forget it",
        description="Show the artists Segue believes you like and the ones it leaves out, with "
        "the evidence (likes, plays, early skips, what you said). `segue taste forget ARTIST` "
        "deletes what it holds about one artist, `segue taste forget all` everything.",
    )
    taste.add_argument(
        "--demo",
        action="store_true",
        default=argparse.SUPPRESS,
        help="the demo's taste memory (the default without a signed-in Spotify account)",
    )
    forget = taste.add_subparsers(dest="taste_command", metavar="forget").add_parser(
        "forget", help="delete what Segue learned about one artist, or all of it"
    )
    forget.add_argument("artist", nargs="+", metavar="ARTIST", help="an artist's name, or all")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``segue`` command line.

    Args:
        argv: The arguments after the program name; defaults to ``sys.argv[1:]``.

    Returns:
        The process exit status.
    """
    args = _build_parser().parse_args(argv)
    paths = Paths.default()
    try:
        settings = load_settings(paths.config_file)
    except ConfigError as err:
        print(err.user_message, file=sys.stderr)
        return EXIT_USAGE

    from assistant.logs import configure_logging

    log_file: Path | None
    try:
        log_file = configure_logging(paths.log_dir, settings.log_level)
    except OSError as err:
        log_file = None
        print(
            f"Segue cannot write its log in {paths.log_dir} ({err.strerror or err}); it runs "
            "without a log file until that folder can be written.",
            file=sys.stderr,
        )
    args.log_file = log_file
    command: Callable[[argparse.Namespace, Settings, Paths], int] = _COMMANDS[args.command]
    try:
        return command(args, settings, paths)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except SegueError as err:
        logger.info("%s ended: %s", args.command or "segue", type(err).__name__)
        print(err.user_message, file=sys.stderr)
        return EXIT_USAGE if isinstance(err, ConfigError) else EXIT_FAILED
    except Exception:
        logger.exception("Unexpected error in %s", args.command or "segue")
        print(_went_wrong(log_file), file=sys.stderr)
        return EXIT_FAILED


def _went_wrong(log_file: Path | None) -> str:
    """The sentence for a failure Segue does not understand (a bug)."""
    if log_file is None:
        return "Something went wrong, and there is no log file to hold the details."
    return f"Something went wrong; the details are in {log_file}."


def _run(args: argparse.Namespace, settings: Settings, paths: Paths) -> int:
    import platformdirs

    from assistant import app

    runtime_dir = Path(platformdirs.user_runtime_dir("segue", appauthor=False))
    return app.run_desktop(
        settings,
        data_dir=paths.data_dir,
        cache_dir=paths.cache_dir,
        config_file=paths.config_file,
        runtime_dir=runtime_dir,
        demo=args.demo,
        announce=lambda line: print(line, flush=True),
    )


def _sim(args: argparse.Namespace, settings: Settings, paths: Paths) -> int:
    if args.reset:
        from assistant import app

        app.reset_demo_world(paths.data_dir)
        print(DEMO_RESET)
        return EXIT_OK
    from assistant.sim import run_standalone

    run_standalone(
        port=args.port,
        latency_ms=args.latency_ms,
        consent=args.consent,
        exchange_log=args.exchange_log,
        announce=lambda line: print(line, flush=True),
    )
    return EXIT_OK


def _login(args: argparse.Namespace, settings: Settings, paths: Paths) -> int:
    from assistant import app
    from assistant.spotify.auth import sign_in

    if settings.demo:
        raise ConfigError(
            "No Spotify app is configured: put your app's Client ID in "
            f"{paths.config_file} as spotify_client_id, or set SEGUE_SPOTIFY_CLIENT_ID."
        )
    auth = app.build_auth(settings, app.build_secrets())
    sign_in(
        auth,
        timeout=settings.login_timeout_seconds,
        announce=lambda line: print(line, flush=True),
    )
    user = app.build_spotify(settings, auth).me()
    print(f"Signed in to Spotify as {user.display_name}.")
    return EXIT_OK


def _say(args: argparse.Namespace, settings: Settings, paths: Paths) -> int:
    import json

    from assistant import app
    from assistant.pipeline import Reply

    def show(reply: Reply) -> None:
        # Replies on stdout, failures on stderr (both modes); --json prints every reply.
        if args.json:
            print(json.dumps(reply.as_dict(), ensure_ascii=False), flush=True)
        elif reply.ok:
            print(" ".join(reply.text.split()), flush=True)
        else:
            print(" ".join(reply.text.split()), file=sys.stderr, flush=True)

    text = " ".join(args.text).strip()
    try:
        assistant = app.build_assistant(settings, data_dir=paths.data_dir, demo=args.demo)
    except SegueError as err:
        if args.json:
            show(Reply(text=err.user_message, ok=False))
        raise
    with assistant:
        _say_demo(assistant)
        if text:
            # An argument that is not UTF-8 arrives with stand-in characters that cannot be sent.
            reply = (
                _handle(assistant.pipeline, text, args.log_file)
                if _is_text(text)
                else Reply(text=NOT_UTF8, ok=False)
            )
            show(reply)
            if args.json and not reply.ok:
                print(" ".join(reply.text.split()), file=sys.stderr)
            return EXIT_OK if reply.ok else EXIT_FAILED
        # A dialogue: one reply per command, in order. A line that fails gets its sentence and
        # the next one runs. On a terminal a prompt shows that Segue waits for a command.
        prompt = _prompter(sys.stdin)
        all_ok = True
        for raw in _lines(sys.stdin, prompt):
            try:
                line = raw.decode("utf-8").strip()
            except UnicodeDecodeError:
                logger.info("A line of stdin was not UTF-8")
                show(Reply(text=NOT_UTF8, ok=False))
                all_ok = False
                continue
            if not line:
                continue
            reply = _handle(assistant.pipeline, line, args.log_file)
            show(reply)
            all_ok = all_ok and reply.ok
        return EXIT_OK if all_ok else EXIT_FAILED


def _say_demo(assistant: Assistant) -> None:
    """Say once, on stderr, that the demo plays when the person did not ask for it."""
    from assistant import app

    sentence = app.demo_sentence(assistant.demo_reason)
    if sentence is not None:
        print(sentence, file=sys.stderr, flush=True)


def _prompter(stdin: TextIO | None) -> Callable[[], None] | None:
    """A prompt for a person typing at a terminal; None when commands are piped in."""
    try:
        interactive = stdin is not None and stdin.isatty()
    except (AttributeError, ValueError):
        interactive = False
    if not interactive:
        return None
    print("Type a command and press Enter; Ctrl-D ends.", file=sys.stderr, flush=True)
    return lambda: print("segue> ", end="", file=sys.stderr, flush=True)


def _lines(stdin: TextIO | None, prompt: Callable[[], None] | None) -> Iterator[bytes]:
    """The raw lines of stdin, each after its prompt (when there is one)."""
    if stdin is None:
        return
    while True:
        if prompt is not None:
            prompt()
        raw = stdin.buffer.readline()
        if not raw:
            if prompt is not None:
                print(file=sys.stderr, flush=True)  # end the prompt's line
            return
        yield raw


def _is_text(text: str) -> bool:
    """Whether ``text`` is valid Unicode (an undecodable argument holds lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _handle(pipeline: Pipeline, text: str, log_file: Path | None) -> Reply:
    """One typed command through the pipeline; a bug in it is that command's sentence only."""
    from assistant.pipeline import Reply, Utterance

    try:
        return pipeline.handle(Utterance(text=text, source="cli"))
    except Exception:  # the top of one command: the conversation goes on with the next
        logger.exception("Unexpected error in a typed command")
        return Reply(text=_went_wrong(log_file), ok=False)


def _listen(args: argparse.Namespace, settings: Settings, paths: Paths) -> int:
    import json

    from assistant import app
    from assistant.pipeline import Reply, Utterance
    from assistant.voice.audio import Recording

    try:
        assistant = app.build_assistant(settings, data_dir=paths.data_dir, demo=args.demo)
    except SegueError as err:
        if args.json:
            print(json.dumps(Reply(text=err.user_message, ok=False).as_dict()), flush=True)
        raise
    with assistant:
        _say_demo(assistant)
        if args.file is not None:
            try:
                recording = Recording.from_wav(args.file)
            except (OSError, ValueError, RuntimeError) as err:
                raise ConfigError(f"Cannot read {args.file} as a recording: {err}.") from err
        else:
            recording = app.record_command(
                settings,
                assistant,
                announce=lambda line: print(line, file=sys.stderr, flush=True),
            )
        reply = assistant.pipeline.handle(Utterance(text=None, audio=recording, source="cli"))
        if not args.json and reply.heard is not None:
            print(reply.heard, file=sys.stderr, flush=True)  # what was heard, beside the reply
        if args.json:
            print(json.dumps(reply.as_dict(), ensure_ascii=False), flush=True)
        elif reply.ok:
            print(" ".join(reply.text.split()), flush=True)
        if not reply.ok:
            print(" ".join(reply.text.split()), file=sys.stderr)
        return EXIT_OK if reply.ok else EXIT_FAILED


def _mcp(args: argparse.Namespace, settings: Settings, paths: Paths) -> int:
    from assistant import app
    from assistant.mcp_server import INSTRUCTIONS, protocol_stdout, serve

    # Before anything is built: from here on only the protocol reaches stdout.
    with protocol_stdout() as wire:
        # A configured app never signed in is no demo here: each call says how to sign in.
        with app.build_assistant(
            settings, data_dir=paths.data_dir, demo=args.demo, demo_until_signed_in=False
        ) as assistant:
            instructions = INSTRUCTIONS
            sentence = app.demo_sentence(assistant.demo_reason)
            if sentence is not None:
                # The host's log shows stderr; its model learns it from the instructions.
                print(sentence, file=sys.stderr, flush=True)
                instructions = f"{INSTRUCTIONS} {sentence}"
            serve(
                assistant.pipeline.agent.registry,
                wire,
                instructions=instructions,
                went_wrong=_went_wrong(args.log_file),
            )
    return EXIT_OK


def _logout(args: argparse.Namespace, settings: Settings, paths: Paths) -> int:
    from assistant import app

    secrets = app.build_secrets()
    was_signed_in = secrets.spotify_refresh_token() is not None
    secrets.clear_spotify()
    print("Signed out of Spotify." if was_signed_in else "Segue was not signed in to Spotify.")
    return EXIT_OK


def _setup(args: argparse.Namespace, settings: Settings, paths: Paths) -> int:
    from assistant import setup

    return setup.run(args, settings, paths)


def _doctor(args: argparse.Namespace, settings: Settings, paths: Paths) -> int:
    from assistant import doctor

    return doctor.run(args, settings, paths)


def _taste(args: argparse.Namespace, settings: Settings, paths: Paths) -> int:
    from assistant import app
    from assistant.taste.report import describe, forget

    demo = app.plays_demo(settings, paths.data_dir, demo=args.demo)
    memory = app.build_taste(paths.data_dir, demo=demo)
    if args.taste_command != "forget":
        print(describe(memory, demo=demo))
        return EXIT_OK
    done, sentence = forget(memory, " ".join(args.artist))
    print(sentence, file=sys.stdout if done else sys.stderr)
    return EXIT_OK if done else EXIT_FAILED


def _autostart(args: argparse.Namespace, settings: Settings, paths: Paths) -> int:
    from assistant.desktop import autostart

    return autostart.run(args, settings, paths)


_COMMANDS: dict[str | None, Callable[[argparse.Namespace, Settings, Paths], int]] = {
    None: _run,
    "sim": _sim,
    "say": _say,
    "listen": _listen,
    "mcp": _mcp,
    "login": _login,
    "logout": _logout,
    "setup": _setup,
    "doctor": _doctor,
    "autostart": _autostart,
    "taste": _taste,
}

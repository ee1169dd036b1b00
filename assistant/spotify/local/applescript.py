"""macOS: the Spotify app's AppleScript dictionary, through ``osascript``.

Each call runs one short script. Every script first checks that Spotify is running, because
``tell application "Spotify"`` would otherwise start it: the local route is for an app that is
already here. The status script prints its fields on one line, separated by the ASCII unit
separator (no track name contains it), and gives the player position in whole milliseconds so the
number does not depend on the user's locale.
"""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Callable, Mapping, Sequence

from assistant.errors import LocalAppUnavailable
from assistant.spotify.links import parse_spotify_ref
from assistant.spotify.local import TRANSPORT, Command, LocalState, LocalStatus, LocalTrack
from assistant.spotify.models import RepeatMode

logger = logging.getLogger(__name__)

NOT_RUNNING = "not running"
SEPARATOR = "\x1f"  # `character id 31` in the script
STATUS_FIELDS = 11

STATE_BY_PLAYER_STATE: Mapping[str, LocalState] = {
    "playing": "playing",
    "paused": "paused",
    "stopped": "stopped",
}

STATUS_SCRIPT = f"""\
if application "Spotify" is not running then return "{NOT_RUNNING}"
tell application "Spotify"
    set fields to {{player state as string, ¬
        (player position * 1000) as integer as string, ¬
        shuffling as string, repeating as string, sound volume as string}}
    if player state is stopped then
        set fields to fields & {{"", "", "", "", "", ""}}
    else
        set t to current track
        set fields to fields & {{id of t, name of t, artist of t, album of t, ¬
            (duration of t) as string, artwork url of t}}
    end if
end tell
set AppleScript's text item delimiters to (character id 31)
return fields as string
"""

Runner = Callable[[Sequence[str], float], str]
"""Runs a command with a timeout and returns its standard output (raising on failure)."""


def run_osascript(argv: Sequence[str], timeout: float) -> str:
    """Run ``osascript`` and return what it printed.

    Raises:
        OSError: osascript is missing.
        subprocess.SubprocessError: It failed or timed out.
    """
    done = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, check=True)
    return done.stdout


def command_script(command: str) -> str:
    """The script for one Spotify command, run only when the app is already running.

    Args:
        command: AppleScript in Spotify's dictionary, e.g. ``next track``.
    """
    return (
        f'if application "Spotify" is not running then return "{NOT_RUNNING}"\n'
        f'tell application "Spotify" to {command}\n'
        'return "ok"\n'
    )


class AppleScriptApp:
    """The Spotify app on macOS, through its AppleScript dictionary.

    Args:
        run: Runs ``osascript`` (injectable: the tests check the scripts it is handed).
        timeout: Seconds one script may take.
    """

    name = "AppleScript"
    # `repeating` is on or off: repeating one track is only on the Web API.
    commands: frozenset[Command] = (TRANSPORT - {"repeat_track"}) | {"open_uri", "volume"}

    def __init__(self, *, run: Runner = run_osascript, timeout: float = 2.0) -> None:
        self._run = run
        self._timeout = timeout

    def status(self) -> LocalStatus:
        """Player state, position, shuffling, repeating, volume and the current track."""
        return parse_status(self._script(STATUS_SCRIPT))

    def play(self) -> None:
        """``play``."""
        self._command("play")

    def pause(self) -> None:
        """``pause``."""
        self._command("pause")

    def next_track(self) -> None:
        """``next track``."""
        self._command("next track")

    def previous_track(self) -> None:
        """``previous track``."""
        self._command("previous track")

    def seek(self, position_ms: int) -> None:
        """``set player position`` (seconds, written with a point whatever the locale)."""
        seconds = max(0, int(position_ms)) / 1000
        self._command(f"set player position to {seconds:.3f}")

    def set_shuffle(self, on: bool) -> None:
        """``set shuffling``."""
        self._command(f"set shuffling to {'true' if on else 'false'}")

    def set_repeat(self, mode: RepeatMode) -> None:
        """``set repeating``: on repeats the album or playlist.

        Raises:
            ValueError: ``mode`` is "track", which the dictionary cannot say.
        """
        if mode == "track":
            raise ValueError("Spotify's AppleScript cannot repeat one track")
        self._command(f"set repeating to {'true' if mode == 'context' else 'false'}")

    def open_uri(self, uri: str) -> None:
        """``play track "spotify:..."`` (plays albums and playlists too).

        Raises:
            ValueError: ``uri`` is not a Spotify URI or link (so nothing else reaches the script).
        """
        ref = parse_spotify_ref(uri)
        if ref is None:
            raise ValueError(f"{uri!r} is not a Spotify URI")
        # A parsed URI holds only letters, digits and colons: safe inside the quotes.
        self._command(f'play track "{ref.uri}"')

    def set_volume(self, percent: int) -> None:
        """``set sound volume`` (0-100)."""
        level = min(100, max(0, int(percent)))
        self._command(f"set sound volume to {level}")

    def close(self) -> None:
        """Nothing to close: each call is its own process."""

    def _command(self, command: str) -> None:
        self._script(command_script(command))

    def _script(self, script: str) -> str:
        try:
            output = self._run(["osascript", "-e", script], self._timeout).strip()
        except (OSError, subprocess.SubprocessError) as err:
            # Not allowed to control Spotify (Automation permission), a script error, or slow.
            logger.info("osascript failed: %s", type(err).__name__)
            raise LocalAppUnavailable() from err
        if output == NOT_RUNNING:
            raise LocalAppUnavailable("Spotify is not running on this computer.")
        return output


def parse_status(output: str) -> LocalStatus:
    """Read what :data:`STATUS_SCRIPT` printed.

    Raises:
        LocalAppUnavailable: The output is not the status line.
    """
    fields = output.rstrip("\r\n").split(SEPARATOR)
    if len(fields) != STATUS_FIELDS:
        raise LocalAppUnavailable("Spotify's AppleScript answer could not be read.")
    state_text, position, shuffling, repeating, volume = fields[:5]
    track_id, title, artist, album, duration, artwork = fields[5:]
    state = STATE_BY_PLAYER_STATE.get(state_text.strip().casefold(), "stopped")
    ref = parse_spotify_ref(track_id) if track_id else None
    track = (
        LocalTrack(
            uri=ref.uri if ref is not None and ref.kind == "track" else None,
            title=title,
            # One string, which may itself hold a comma ("Crosby, Stills, Nash & Young").
            artists=(artist,) if artist else (),
            album=album,
            duration_ms=_int(duration),
            art_url=artwork or None,
        )
        if title
        else None
    )
    repeat_on = _bool(repeating)
    repeat: RepeatMode | None = None if repeat_on is None else ("context" if repeat_on else "off")
    return LocalStatus(
        state=state if track is not None else "stopped",
        track=track,
        position_ms=_int(position),
        shuffle=_bool(shuffling),
        repeat=repeat,
        volume_percent=_int(volume),
    )


def _int(text: str) -> int | None:
    try:
        value = int(text.strip())
    except ValueError:
        return None
    return value if value >= 0 else None


def _bool(text: str) -> bool | None:
    folded = text.strip().casefold()
    if folded in ("true", "false"):
        return folded == "true"
    return None

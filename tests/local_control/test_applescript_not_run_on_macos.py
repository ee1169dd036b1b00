"""macOS local control, as far as Linux reaches: the scripts, and how their output is read.

NOT RUN ON macOS: no osascript or Spotify app runs these scripts here; they check the script text
Segue hands ``osascript`` and how it reads what Spotify's AppleScript prints.

The runner (``osascript`` in a subprocess) is the seam: these tests record the scripts instead
of running them, and answer with what Spotify's AppleScript prints.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence

import pytest

from assistant.errors import LocalAppUnavailable
from assistant.sim import SimulatedSpotify
from assistant.spotify.client import SpotifyClient
from assistant.spotify.control import PlayerControl
from assistant.spotify.devices import LocalPlayer
from assistant.spotify.local.applescript import (
    NOT_RUNNING,
    SEPARATOR,
    STATUS_SCRIPT,
    AppleScriptApp,
    parse_status,
)
from tests.local_control.conftest import play_on_computer, player_requests

GUARD = 'if application "Spotify" is not running then return "not running"'
TRACK = "spotify:track:4uLU6hMCjMI75M1A2tKUQC"
LINK = "https://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC?si=x"


class Osascript:
    """Records each script and answers with the next scripted output (or raises it)."""

    def __init__(self, *answers: str | BaseException) -> None:
        self.answers = list(answers)
        self.scripts: list[str] = []

    def __call__(self, argv: Sequence[str], timeout: float) -> str:
        assert list(argv[:2]) == ["osascript", "-e"] and len(argv) == 3
        assert 0 < timeout <= 5
        self.scripts.append(argv[2])
        answer = self.answers.pop(0) if self.answers else "ok"
        if isinstance(answer, BaseException):
            raise answer
        return answer


def status_line(*fields: str) -> str:
    return SEPARATOR.join(fields) + "\n"


PLAYING = status_line(
    "playing", "83512", "true", "false", "64", TRACK, "Never Gonna Give You Up",
    "Rick Astley", "Whenever You Need Somebody", "213573", "https://i.scdn.co/image/ab67",
)  # fmt: skip


@pytest.mark.parametrize(
    ("call", "command"),
    [
        (lambda a: a.play(), "play"),
        (lambda a: a.pause(), "pause"),
        (lambda a: a.next_track(), "next track"),
        (lambda a: a.previous_track(), "previous track"),
        (lambda a: a.seek(90_500), "set player position to 90.500"),
        (lambda a: a.set_shuffle(True), "set shuffling to true"),
        (lambda a: a.set_repeat("context"), "set repeating to true"),
        (lambda a: a.set_repeat("off"), "set repeating to false"),
        (lambda a: a.open_uri(LINK), f'play track "{TRACK}"'),
        (lambda a: a.set_volume(140), "set sound volume to 100"),
    ],
)  # fmt: skip
def test_each_command_is_one_guarded_tell_not_run_on_macos(call: object, command: str) -> None:
    osascript = Osascript()

    call(AppleScriptApp(run=osascript))  # type: ignore[operator]

    assert osascript.scripts == [f'{GUARD}\ntell application "Spotify" to {command}\nreturn "ok"\n']


def test_status_script_and_its_output_not_run_on_macos() -> None:
    osascript = Osascript(PLAYING)

    status = AppleScriptApp(run=osascript).status()

    assert osascript.scripts == [STATUS_SCRIPT]
    assert STATUS_SCRIPT.startswith(GUARD)
    # The position is asked for in whole milliseconds: "83,512" in a German locale never occurs.
    assert "(player position * 1000) as integer" in STATUS_SCRIPT
    assert "(character id 31)" in STATUS_SCRIPT
    assert status.state == "playing"
    assert status.track is not None
    assert status.track.uri == TRACK
    assert status.track.title == "Never Gonna Give You Up"
    assert status.track.artists == ("Rick Astley",)
    assert status.track.album == "Whenever You Need Somebody"
    assert (status.track.duration_ms, status.position_ms) == (213_573, 83_512)
    assert (status.shuffle, status.repeat, status.volume_percent) == (True, "off", 64)


def test_stopped_and_odd_outputs_not_run_on_macos() -> None:
    stopped = parse_status(status_line("stopped", "0", "false", "true", "50", *[""] * 6))
    csny = "Crosby, Stills, Nash & Young"
    artists = parse_status(
        status_line("paused", "0", "false", "false", "50", TRACK, "Ohio", csny, "", "186000", "")
    )

    assert (stopped.state, stopped.track, stopped.repeat) == ("stopped", None, "context")
    assert artists.track is not None and artists.track.artists == ("Crosby, Stills, Nash & Young",)
    with pytest.raises(LocalAppUnavailable):
        parse_status("execution error: Spotify got an error (-1728)")


def test_spotify_not_running_or_osascript_failing_is_unavailable_not_run_on_macos() -> None:
    refused = subprocess.CalledProcessError(1, "osascript", stderr="Not authorized (-1743)")

    with pytest.raises(LocalAppUnavailable, match="not running"):
        AppleScriptApp(run=Osascript(NOT_RUNNING + "\n")).pause()
    with pytest.raises(LocalAppUnavailable):
        AppleScriptApp(run=Osascript(refused)).status()
    with pytest.raises(LocalAppUnavailable):
        AppleScriptApp(run=Osascript(subprocess.TimeoutExpired("osascript", 2))).next_track()
    with pytest.raises(LocalAppUnavailable):
        AppleScriptApp(run=Osascript(FileNotFoundError("osascript"))).play()


def test_nothing_but_a_spotify_uri_reaches_a_script_not_run_on_macos() -> None:
    osascript = Osascript()
    app = AppleScriptApp(run=osascript)

    with pytest.raises(ValueError):
        app.open_uri('spotify:track:x" & (do shell script "rm -rf ~") & "')
    with pytest.raises(ValueError):
        app.set_repeat("track")  # the dictionary's repeating is on or off

    assert osascript.scripts == []
    assert "repeat_track" not in app.commands


def test_repeating_one_song_goes_to_the_web_api_on_macos_not_run_on_macos(
    sim: SimulatedSpotify, client: SpotifyClient, player: LocalPlayer
) -> None:
    play_on_computer(sim, client)
    osascript = Osascript(PLAYING)
    control = PlayerControl(client, player, AppleScriptApp(run=osascript))
    start = len(sim.exchanges)

    assert control.set_repeat("track") == "web"
    assert control.set_shuffle(True) == "local"

    assert player_requests(sim, start) == ["PUT /v1/me/player/repeat 204"]
    assert osascript.scripts[-1].endswith(
        'tell application "Spotify" to set shuffling to true\nreturn "ok"\n'
    )

"""Linux local control for real: Segue drives the simulator's Computer app over MPRIS on D-Bus.

The Web API's player endpoints are made to fail (503, 429) and transport commands still work;
with both up, they send no Web API player request while the app plays here; a phone that plays
is still reached through the Web API.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from assistant import app, doctor
from assistant.config import Settings
from assistant.errors import LocalAppUnavailable
from assistant.sim import Fault, SimulatedSpotify
from assistant.sim.computer_app import ComputerApp
from assistant.sim.mpris import MprisService, PrivateSessionBus
from assistant.spotify import control as control_module
from assistant.spotify.client import SpotifyClient
from assistant.spotify.control import PlayerControl
from assistant.spotify.devices import LocalPlayer
from assistant.spotify.local.mpris import MprisApp, parse_metadata
from tests.local_control.conftest import ALBUM, Segue, play_on_computer, player_requests
from tests.support.sim_helpers import album_named

PLAYER_PATHS = r"/v1/me/player.*"
CLIENT_ID = "0123456789abcdef0123456789abcdef"  # a configured app: not demo mode


def test_mpris_status_is_the_simulators_playback_read_over_dbus(
    sim: SimulatedSpotify, client: SpotifyClient, spotify_app: ComputerApp, mpris: MprisApp
) -> None:
    play_on_computer(sim, client)
    client.set_repeat("context")
    web = client.playback()
    assert web is not None and web.item is not None

    status = mpris.status()

    assert status.state == "playing"
    assert status.track is not None
    assert status.track.uri == web.item.uri
    assert status.track.title == web.item.name
    assert status.track.artists == ("Queen",)
    assert status.track.album == ALBUM
    assert status.track.duration_ms == web.item.duration_ms
    assert status.repeat == "context" and status.shuffle is False
    assert status.volume_percent is None  # Spotify's Linux app does not keep Volume in step


def test_a_local_pause_shows_in_the_web_api_and_a_web_change_shows_locally(
    sim: SimulatedSpotify, client: SpotifyClient, spotify_app: ComputerApp, mpris: MprisApp
) -> None:
    play_on_computer(sim, client)

    mpris.pause()
    state = client.playback()
    client.set_shuffle(True)

    assert state is not None and state.is_playing is False
    assert mpris.status().state == "paused"
    assert mpris.status().shuffle is True


def test_nothing_on_the_bus_or_no_bus_is_local_app_unavailable(
    session_bus: PrivateSessionBus,
) -> None:
    on_empty_bus = MprisApp(bus=session_bus.address)
    no_bus = MprisApp(bus="unix:path=/nonexistent/segue-test-bus")
    try:
        with pytest.raises(LocalAppUnavailable):
            on_empty_bus.status()
        with pytest.raises(LocalAppUnavailable):
            no_bus.pause()
    finally:
        on_empty_bus.close()
        no_bus.close()


@pytest.mark.parametrize("status", [503, 429])
def test_transport_commands_work_while_the_web_api_player_fails(
    segue: Callable[..., Segue],
    sim: SimulatedSpotify,
    client: SpotifyClient,
    spotify_app: ComputerApp,
    status: int,
) -> None:
    play_on_computer(sim, client)
    client.pause()  # paused through the Web API: Segue has no reason yet to think it is local
    first = sim.snapshot()["track_uri"]
    segue_ = segue()
    sim.add_fault(Fault(path=PLAYER_PATHS, status=status, times=None))
    start = len(sim.exchanges)

    segue_.say("resume")  # the Web API first (the app is paused), then the app
    assert segue_.state()["is_playing"] is True
    assert segue_.say("pause").text == "Paused."
    assert segue_.state()["is_playing"] is False
    skipped = segue_.say("next").text
    second = segue_.state()["track_uri"]
    assert second != first and skipped.startswith("Skipped to “")
    assert segue_.say("back").text.startswith("Back to “")
    assert segue_.state()["track_uri"] == first
    segue_.say("go to 1:30")
    assert segue_.state()["progress_ms"] == 90_000
    segue_.say("skip ahead 30 seconds")
    assert segue_.state()["progress_ms"] == 120_000
    segue_.say("shuffle on")
    assert segue_.state()["shuffle"] is True
    segue_.say("repeat this song")
    assert segue_.state()["repeat"] == "track"
    said = segue_.say("what's playing").text
    title = next(t.name for t in sim.catalog.tracks.values() if t.uri == first)
    assert said.startswith(f"Paused: “{title}” by Queen from “{ALBUM}”"), said

    # The Web API was asked (for "resume") and failed every time; the app did the rest.
    asked = player_requests(sim, start)
    assert asked and all(line.endswith(f" {status}") for line in asked), asked
    assert spotify_app.calls == 8  # resume, pause, next, back, two seeks, shuffle, repeat


def test_with_the_web_api_up_transport_commands_send_no_player_request(
    segue: Callable[..., Segue],
    sim: SimulatedSpotify,
    client: SpotifyClient,
    spotify_app: ComputerApp,
) -> None:
    play_on_computer(sim, client)
    segue_ = segue()
    start = len(sim.exchanges)

    for text in (
        "pause",
        "resume",
        "next",
        "back",
        "go to 1:30",
        "skip ahead 30 seconds",
        "shuffle on",
        "repeat this song",
        "what's playing",
    ):
        segue_.say(text)

    assert player_requests(sim, start) == []
    state = segue_.state()
    assert (state["is_playing"], state["shuffle"], state["repeat"]) == (True, True, "track")
    progress = state["progress_ms"]  # 2:00, and playing on since
    assert isinstance(progress, int) and 120_000 <= progress < 130_000, progress


def test_without_local_control_the_same_commands_use_the_web_api(
    segue: Callable[..., Segue],
    sim: SimulatedSpotify,
    client: SpotifyClient,
    spotify_app: ComputerApp,
) -> None:
    play_on_computer(sim, client)
    segue_ = segue(local=None)
    start = len(sim.exchanges)

    for text in ("pause", "resume", "next", "shuffle on", "what's playing"):
        segue_.say(text)

    assert len(player_requests(sim, start)) >= 5
    assert spotify_app.calls == 0


def test_a_phone_playing_is_paused_through_the_web_api_not_the_app(
    segue: Callable[..., Segue],
    sim: SimulatedSpotify,
    client: SpotifyClient,
    spotify_app: ComputerApp,
) -> None:
    play_on_computer(sim, client)
    phone = next(d for d in client.devices() if d.type == "Smartphone")
    assert phone.id is not None
    client.transfer(phone.id, play=True)
    segue_ = segue()
    start = len(sim.exchanges)

    segue_.say("pause")

    assert player_requests(sim, start) == ["PUT /v1/me/player/pause 204"]
    assert segue_.state()["active_device_id"] == phone.id
    assert segue_.state()["is_playing"] is False
    assert spotify_app.calls == 0


def test_without_the_app_on_the_bus_commands_use_the_web_api(
    segue: Callable[..., Segue], sim: SimulatedSpotify, client: SpotifyClient
) -> None:
    play_on_computer(sim, client)
    segue_ = segue()  # nothing owns org.mpris.MediaPlayer2.spotify on the bus
    start = len(sim.exchanges)

    segue_.say("pause")

    assert player_requests(sim, start) == ["PUT /v1/me/player/pause 204"]
    assert segue_.state()["is_playing"] is False


def test_play_opens_the_uri_in_the_app_when_the_web_player_fails(
    segue: Callable[..., Segue],
    sim: SimulatedSpotify,
    client: SpotifyClient,
    spotify_app: ComputerApp,
) -> None:
    segue_ = segue()
    sim.add_fault(Fault(path="/v1/me/player/play", method="PUT", status=503, times=None))

    segue_.say(f"play the album {ALBUM}")

    state = segue_.state()
    assert state["context_uri"] == album_named(sim.catalog, ALBUM).uri
    assert state["is_playing"] is True
    assert spotify_app.calls == 1


def test_a_paused_app_is_asked_about_again_after_ten_minutes(
    sim: SimulatedSpotify,
    client: SpotifyClient,
    player: LocalPlayer,
    spotify_app: ComputerApp,
    mpris: MprisApp,
) -> None:
    now = [0.0]
    control = PlayerControl(client, player, mpris, clock=lambda: now[0])
    play_on_computer(sim, client)
    assert control.pause() == "local"

    now[0] += control_module.LOCAL_ACTIVE_SECONDS - 1
    assert control.next_track() == "local"  # paused, but Segue drove it a moment ago
    now[0] += control_module.LOCAL_ACTIVE_SECONDS + 1
    start = len(sim.exchanges)

    assert control.resume() == "web"  # a phone may have taken over meanwhile: ask Spotify
    assert player_requests(sim, start) == ["PUT /v1/me/player/play 204"]


def test_doctor_says_whether_the_app_answers(
    monkeypatch: pytest.MonkeyPatch,
    session_bus: PrivateSessionBus,
    sim: SimulatedSpotify,
    client: SpotifyClient,
) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", session_bus.address)
    connected = Settings(spotify_client_id=CLIENT_ID)
    absent = doctor.check_local_control(connected)
    play_on_computer(sim, client)

    with MprisService(sim.computer_app(), session_bus.address):
        present = doctor.check_local_control(connected)
        in_demo = doctor.check_local_control(Settings())
    off = doctor.check_local_control(Settings(local_control=False))

    assert (absent.status, absent.fix) == ("warn", doctor.LOCAL_CONTROL_FIX)
    assert absent.detail.startswith("MPRIS: ")
    assert (present.status, present.detail) == ("ok", "MPRIS: the Spotify app answers (playing)")
    assert in_demo.detail.endswith("; not used in demo mode")
    assert off.status == "ok" and "turned off" in off.detail


def test_no_local_control_in_demo_mode_or_when_turned_off() -> None:
    assert isinstance(app.build_local_app(Settings(spotify_client_id=CLIENT_ID)), MprisApp)
    assert app.build_local_app(Settings(spotify_client_id=CLIENT_ID), demo=True) is None
    assert app.build_local_app(Settings(spotify_client_id=CLIENT_ID, local_control=False)) is None


def test_metadata_of_older_apps_ads_and_empty_players() -> None:
    old_style = {
        "mpris:trackid": ("s", "spotify:track:4uLU6hMCjMI75M1A2tKUQC"),
        "xesam:title": ("s", "Never Gonna Give You Up"),
        "xesam:artist": ("as", ["Rick Astley"]),
        "mpris:length": ("t", 213_000_000),
    }
    advert = {
        "mpris:trackid": ("o", "/com/spotify/ad/7b1c3f1e2d"),
        "xesam:title": ("s", "Spotify"),
    }

    track = parse_metadata(old_style)
    ad = parse_metadata(advert)

    assert track is not None and track.uri == "spotify:track:4uLU6hMCjMI75M1A2tKUQC"
    assert (track.artists, track.duration_ms) == (("Rick Astley",), 213_000)
    assert ad is not None and ad.uri is None
    assert (
        parse_metadata({"mpris:trackid": ("o", "/org/mpris/MediaPlayer2/TrackList/NoTrack")})
        is None
    )

"""What the person would notice, read from the simulator's state."""

from __future__ import annotations

from assistant.sim import SimulatedSpotify
from assistant.spotify.client import SpotifyClient


def label(sim: SimulatedSpotify, uri: str | None) -> str:
    """The "Title — Artist" of a catalog track URI."""
    assert uri is not None, "nothing is playing"
    track = sim.catalog.tracks[uri.rsplit(":", 1)[-1]]
    artists = ", ".join(sim.catalog.artists[a].name for a in track.artist_ids)
    return f"{track.name} — {artists}"


def playing(sim: SimulatedSpotify) -> str:
    """What the person hears now."""
    state = sim.snapshot()
    assert state["is_playing"], "the player is not playing"
    return label(sim, state["track_uri"])


def track_uri(sim: SimulatedSpotify, name: str, artist: str) -> str:
    """The URI of the catalog track called ``name`` by ``artist`` (first album wins)."""
    for track in sim.catalog.tracks.values():
        names = [sim.catalog.artists[a].name for a in track.artist_ids]
        if track.name == name and artist in names:
            return track.uri
    raise AssertionError(f"no {name} by {artist} in the catalog")


def album_uri(sim: SimulatedSpotify, name: str) -> str:
    return next(a.uri for a in sim.catalog.albums.values() if a.name == name)


def playlist_id(sim: SimulatedSpotify, name: str) -> str:
    return str(next(pid for pid, p in sim.snapshot()["playlists"].items() if p["name"] == name))


def device_id(sim: SimulatedSpotify, type_: str) -> str:
    return str(next(d["id"] for d in sim.devices if d["type"] == type_))


def activate_computer(sim: SimulatedSpotify, client: SpotifyClient) -> None:
    """Make this computer's Spotify the active (paused) device, as if the person had used it."""
    client.transfer(device_id(sim, "Computer"), play=False)

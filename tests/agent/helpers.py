"""What the person would notice (the simulator's state) and what the model was sent."""

from __future__ import annotations

import json
from typing import Any

from assistant.sim import SimulatedSpotify


def label(sim: SimulatedSpotify, uri: str | None) -> str:
    """The "Title — Artist" label of a catalog track URI."""
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
    for track in sim.catalog.tracks.values():
        if track.name == name and artist in [sim.catalog.artists[a].name for a in track.artist_ids]:
            return track.uri
    raise AssertionError(f"no {name} by {artist} in the catalog")


def playlist(sim: SimulatedSpotify, name: str) -> dict[str, Any]:
    """The simulator's record of the playlist called ``name``."""
    found = [p for p in sim.snapshot()["playlists"].values() if p["name"] == name]
    assert len(found) == 1, f"{len(found)} playlists called {name}"
    return dict(found[0])


def playlist_labels(sim: SimulatedSpotify, name: str) -> list[str]:
    return [label(sim, uri) for uri in playlist(sim, name)["track_uris"]]


def system_prompt(request: dict[str, Any]) -> str:
    first = request["messages"][0]
    assert first["role"] == "system"
    return str(first["content"])


def tool_results(request: dict[str, Any]) -> list[dict[str, Any]]:
    """The tool messages of a chat request, each content parsed as the JSON it must be."""
    return [json.loads(m["content"]) for m in request["messages"] if m["role"] == "tool"]


def last_tool_result(request: dict[str, Any]) -> dict[str, Any]:
    results = tool_results(request)
    assert results, "the request carries no tool result"
    return results[-1]


def tool_call_names(request: dict[str, Any]) -> list[str]:
    """Names of the tool calls in the request's history, in order."""
    return [
        call["function"]["name"]
        for m in request["messages"]
        if m["role"] == "assistant"
        for call in m.get("tool_calls") or []
    ]

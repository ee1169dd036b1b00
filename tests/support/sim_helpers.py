"""Helpers for tests that drive the simulated Spotify with plain HTTP (``requests``)."""

from __future__ import annotations

from typing import Any

import requests

from assistant.sim import SimulatedSpotify
from assistant.sim.catalog import Album, Catalog, Track


class Api:
    """Plain ``requests`` calls to the simulator's Web API as the signed-in demo user."""

    def __init__(self, sim: SimulatedSpotify) -> None:
        self.sim = sim
        self.token = sim.sign_in()["access_token"]
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {self.token}"

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        return self.session.request(
            method,
            f"{self.sim.api_url}{path}",
            params=params,
            json=json,
            headers=headers,
            timeout=5,
        )

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.request("GET", path, params=params or None)

    def put(self, path: str, json: Any = None, **params: Any) -> requests.Response:
        return self.request("PUT", path, params=params or None, json=json)

    def post(self, path: str, json: Any = None, **params: Any) -> requests.Response:
        return self.request("POST", path, params=params or None, json=json)

    def delete(self, path: str, json: Any = None, **params: Any) -> requests.Response:
        return self.request("DELETE", path, params=params or None, json=json)

    def playback(self) -> dict[str, Any]:
        """GET /me/player, which must answer 200."""
        response = self.get("/me/player")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def device_id(self, kind: str) -> str:
        """The id of the listed device of type ``kind`` ("Computer" or "Smartphone")."""
        devices = self.get("/me/player/devices").json()["devices"]
        return str(next(d["id"] for d in devices if d["type"] == kind))


def album_named(catalog: Catalog, name: str) -> Album:
    return next(a for a in catalog.albums.values() if a.name == name)


def track_named(catalog: Catalog, name: str, artist: str | None = None) -> Track:
    return next(
        t
        for t in catalog.tracks.values()
        if t.name == name
        and (artist is None or any(catalog.artists[a].name == artist for a in t.artist_ids))
    )


def error_of(response: requests.Response) -> dict[str, Any]:
    """The ``error`` object of a Spotify error response."""
    error: dict[str, Any] = response.json()["error"]
    assert error["status"] == response.status_code
    return error

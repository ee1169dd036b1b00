"""``run_standalone`` (behind ``segue sim``) and simulators over a catalog of one's own."""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from assistant.sim import SIM_CLIENT_ID, Catalog, CatalogError, SimulatedSpotify, run_standalone
from tests.support.spotify_contract import validate_exchange_log, validate_exchanges

VERIFIER = "v" * 50
CHALLENGE = "CrlVwe1WSHWuTQYh3iczmx3aS-faRx6C92k9_hNxl4A"  # S256 of VERIFIER


def test_standalone_serves_announces_logs_and_stops(tmp_path: Path) -> None:
    lines: list[str] = []
    ready, stop = threading.Event(), threading.Event()
    log = tmp_path / "exchanges.jsonl"
    thread = threading.Thread(
        target=run_standalone,
        kwargs={
            "consent": "approve",
            "exchange_log": log,
            "announce": lines.append,
            "ready": ready,
            "stop": stop,
        },
        daemon=True,
    )
    thread.start()
    assert ready.wait(10)
    base = re.search(r"http://127\.0\.0\.1:\d+", lines[0])
    assert base is not None
    assert any(SIM_CLIENT_ID in line for line in lines)
    assert any(f"{base.group(0)}/v1" in line for line in lines)

    redirect = "http://127.0.0.1:8974/callback"
    query = urlencode(
        {
            "client_id": SIM_CLIENT_ID,
            "response_type": "code",
            "redirect_uri": redirect,
            "code_challenge_method": "S256",
            "code_challenge": CHALLENGE,
            "scope": "user-read-private",
        }
    )
    answer = requests.get(f"{base.group(0)}/authorize?{query}", allow_redirects=False, timeout=5)
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect,
        "client_id": SIM_CLIENT_ID,
        "code_verifier": VERIFIER,
    }
    token = requests.post(f"{base.group(0)}/api/token", data=form, timeout=5).json()
    me = requests.get(
        f"{base.group(0)}/v1/me",
        headers={"Authorization": f"Bearer {token['access_token']}"},
        timeout=5,
    )
    assert me.json()["id"] == "segue-demo"

    stop.set()
    thread.join(10)
    assert not thread.is_alive()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{base.group(0)}/v1/me", timeout=5)
    logged = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(e["method"], e["path"], e["status"]) for e in logged] == [
        ("GET", "/authorize", 302),
        ("POST", "/api/token", 200),
        ("GET", "/v1/me", 200),
    ]
    validate_exchange_log(log)


TINY = {
    "artists": [{"id": "art1", "name": "Björk", "genres": ["art pop"]}],
    "albums": [
        {
            "id": "alb1",
            "name": "Homogenic",
            "artist_ids": ["art1"],
            "album_type": "album",
            "release_date": "1997-09-22",
            "tracks": [
                {"id": "t1", "name": "Hunter", "artist_ids": ["art1"], "duration_ms": 255000},
                {"id": "t2", "name": "Jóga", "artist_ids": ["art1"], "duration_ms": 305000},
            ],
        }
    ],
    "users": [{"id": "segue-demo", "display_name": "Demo Listener", "product": "premium"}],
    "playlists": [],
}


def test_a_simulator_over_a_catalog_of_ones_own() -> None:
    with SimulatedSpotify(catalog=Catalog.from_dict(TINY)) as sim:
        token = sim.sign_in()["access_token"]
        found = requests.get(
            f"{sim.api_url}/search",
            params={"q": "joga", "type": "track"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        ).json()
    assert [t["name"] for t in found["tracks"]["items"]] == ["Jóga"]
    assert found["tracks"]["items"][0]["track_number"] == 2
    validate_exchanges(sim.exchanges)


def test_a_catalog_with_a_dangling_reference_is_refused() -> None:
    broken = {
        **TINY,
        "playlists": [{"id": "p", "name": "x", "owner_id": "segue-demo", "track_ids": ["missing"]}],
    }

    with pytest.raises(CatalogError, match="missing"):
        Catalog.from_dict(broken)

"""Playlists and the library, with the limits and refusals of development-mode apps."""

from __future__ import annotations

from typing import Any

from assistant.sim import SimulatedSpotify
from assistant.sim.catalog import Catalog
from tests.support.sim_helpers import Api, error_of


def playlist_named(api: Api, name: str) -> dict[str, Any]:
    items = api.get("/me/playlists", limit=50).json()["items"]
    return next(p for p in items if p["name"] == name)


def create(api: Api, name: str = "Deep Focus") -> dict[str, Any]:
    response = api.post("/me/playlists", {"name": name, "public": False, "description": "calm"})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_new_playlist_is_empty_private_and_listed_first(api: Api) -> None:
    playlist = create(api)

    assert playlist["public"] is False
    assert playlist["owner"]["id"] == "segue-demo"
    assert playlist["items"]["total"] == 0
    assert playlist["uri"] == f"spotify:playlist:{playlist['id']}"
    first = api.get("/me/playlists").json()["items"][0]
    assert (first["id"], first["items"]["total"]) == (playlist["id"], 0)


def test_adding_and_removing_items_changes_the_snapshot(
    api: Api, sim: SimulatedSpotify, catalog: Catalog
) -> None:
    playlist = create(api)
    uris = [t.uri for t in list(catalog.tracks.values())[:3]]

    added = api.post(f"/playlists/{playlist['id']}/items", {"uris": uris})
    assert added.status_code == 201
    assert added.json()["snapshot_id"] != playlist["snapshot_id"]
    inserted = api.post(f"/playlists/{playlist['id']}/items", {"uris": [uris[2]], "position": 0})
    assert inserted.status_code == 201

    items = api.get(f"/playlists/{playlist['id']}/items").json()
    assert [i["item"]["uri"] for i in items["items"]] == [uris[2], *uris]
    assert items["items"][0]["added_by"]["id"] == "segue-demo"

    removed = api.delete(f"/playlists/{playlist['id']}/items", {"items": [{"uri": uris[2]}]})
    assert removed.status_code == 200
    assert sim.snapshot()["playlists"][playlist["id"]]["track_uris"] == uris[:2]


def test_at_most_100_items_are_added_per_request(api: Api, catalog: Catalog) -> None:
    playlist = create(api)
    uris = [t.uri for t in catalog.tracks.values()]

    too_many = api.post(f"/playlists/{playlist['id']}/items", {"uris": uris[:101]})
    enough = api.post(f"/playlists/{playlist['id']}/items", {"uris": uris[:100]})

    assert too_many.status_code == 400
    assert enough.status_code == 201
    assert api.get(f"/playlists/{playlist['id']}").json()["items"]["total"] == 100


def test_item_pages_hold_at_most_50(api: Api, catalog: Catalog) -> None:
    playlist = create(api)
    api.post(
        f"/playlists/{playlist['id']}/items",
        {"uris": [t.uri for t in catalog.tracks.values()][:60]},
    )

    page = api.get(f"/playlists/{playlist['id']}/items", limit=50, offset=50).json()

    assert (len(page["items"]), page["total"], page["next"]) == (10, 60, None)


def test_changing_details_renames_the_playlist(api: Api, sim: SimulatedSpotify) -> None:
    playlist = create(api)

    response = api.put(f"/playlists/{playlist['id']}", {"name": "Deep Work III", "public": True})

    assert response.status_code == 200
    assert sim.snapshot()["playlists"][playlist["id"]]["name"] == "Deep Work III"
    assert api.get(f"/playlists/{playlist['id']}").json()["public"] is True


def test_someone_elses_playlist_shows_no_items(api: Api) -> None:
    rainy = playlist_named(api, "Rainy Days ☔")

    details = api.get(f"/playlists/{rainy['id']}")
    items = api.get(f"/playlists/{rainy['id']}/items")
    add = api.post(f"/playlists/{rainy['id']}/items", {"uris": []})

    assert details.status_code == 200
    assert "items" not in details.json()
    assert items.status_code == 403
    assert add.status_code == 403


def test_a_collaborative_playlist_can_be_read_and_edited(api: Api, catalog: Catalog) -> None:
    party = playlist_named(api, "Grillabend im Garten")
    uri = next(iter(catalog.tracks.values())).uri

    assert api.get(f"/playlists/{party['id']}/items").status_code == 200
    assert api.post(f"/playlists/{party['id']}/items", {"uris": [uri]}).status_code == 201


def test_spotify_owned_playlists_are_not_found(api: Api) -> None:
    hits = api.get("/search", q="today's top hits", type="playlist").json()["playlists"]["items"]
    top = next(p for p in hits if p["owner"]["id"] == "spotify")

    for response in (api.get(f"/playlists/{top['id']}"), api.get(f"/playlists/{top['id']}/items")):
        assert response.status_code == 404
        error_of(response)


def test_playing_a_playlist_plays_its_items_in_order(api: Api, sim: SimulatedSpotify) -> None:
    deep_work = playlist_named(api, "Deep Work")
    expected = sim.snapshot()["playlists"][deep_work["id"]]["track_uris"]
    computer = api.device_id("Computer")

    api.put("/me/player/play", {"context_uri": deep_work["uri"]}, device_id=computer)
    api.post("/me/player/next")

    state = api.playback()
    assert state["item"]["uri"] == expected[1]
    assert state["context"]["uri"] == deep_work["uri"]


def test_saving_to_the_library(api: Api, sim: SimulatedSpotify, catalog: Catalog) -> None:
    first, second = [t.uri for t in list(catalog.tracks.values())[:2]]

    assert api.put("/me/library", uris=first).status_code == 200

    assert api.get("/me/library/contains", uris=f"{first},{second}").json() == [True, False]
    assert sim.snapshot()["library"] == [first]
    assert api.delete("/me/library", uris=first).status_code == 200
    assert api.get("/me/library/contains", uris=first).json() == [False]


def test_the_library_takes_at_most_40_uris(api: Api, catalog: Catalog) -> None:
    uris = ",".join(t.uri for t in list(catalog.tracks.values())[:41])

    response = api.put("/me/library", uris=uris)

    assert response.status_code == 400
    assert error_of(response)["message"] == "Too many ids requested"


def test_me_describes_the_demo_user(api: Api) -> None:
    me = api.get("/me").json()

    assert (me["id"], me["display_name"], me["uri"]) == (
        "segue-demo",
        "Demo Listener",
        "spotify:user:segue-demo",
    )
    assert "product" not in me and "email" not in me

"""Playlists: listing and its cache, finding by spoken name, creating, adding in batches."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from assistant.errors import AmbiguousMatch, NotFound, SpotifyError, SpotifyRequestRejected
from assistant.sim import Exchange, SimulatedSpotify
from assistant.sim.catalog import Catalog
from assistant.spotify.client import SpotifyClient

Calls = Callable[..., list[Exchange]]


def test_my_playlists(client: SpotifyClient, catalog: Catalog) -> None:
    playlists = {p.name: p for p in client.my_playlists()}
    assert set(playlists) == {seed.name for seed in catalog.playlists}
    deep_work = playlists["Deep Work"]
    assert deep_work.owner_id == "segue-demo" and deep_work.owner_name == "Demo Listener"
    assert deep_work.total_items > 0 and deep_work.public is False
    assert playlists["Rainy Days ☔"].owner_id == "marta.k"


def test_my_playlists_reads_every_page(
    client: SpotifyClient, catalog: Catalog, api_calls: Calls
) -> None:
    for number in range(45):
        client.create_playlist(f"Mix {number}")
    playlists = client.my_playlists()
    assert len(playlists) == len(catalog.playlists) + 45
    assert len({p.id for p in playlists}) == len(playlists)
    pages = api_calls("GET", "/v1/me/playlists")
    assert [(e.query["limit"], e.query.get("offset")) for e in pages] == [
        (["50"], ["0"]),
        (["50"], ["50"]),
    ]


def test_playlists_are_cached(
    make_client: Callable[..., SpotifyClient], clock: Any, api_calls: Calls
) -> None:
    client = make_client(clock=clock, playlist_ttl=60)
    first = client.my_playlists()
    clock.advance(59)
    assert client.my_playlists() == first
    assert len(api_calls("GET", "/v1/me/playlists")) == 1

    clock.advance(2)  # past the TTL
    client.my_playlists()
    assert len(api_calls("GET", "/v1/me/playlists")) == 2

    client.my_playlists(refresh=True)
    assert len(api_calls("GET", "/v1/me/playlists")) == 3


def test_our_own_changes_empty_the_cache(client: SpotifyClient, tracks: list[str]) -> None:
    before = client.my_playlists()
    created = client.create_playlist("Deep Work Mix")
    after = client.my_playlists()
    assert created in after and len(after) == len(before) + 1

    client.add_to_playlist(created.id, tracks[:3])
    assert next(p for p in client.my_playlists() if p.id == created.id).total_items == 3
    client.remove_from_playlist(created.id, tracks[:1])
    assert next(p for p in client.my_playlists() if p.id == created.id).total_items == 2


# --- finding a playlist by name -------------------------------------------------------------


@pytest.mark.parametrize(
    ("said", "found"),
    [
        ("deep work", "Deep Work"),  # exact beats "Deep Work II"
        ("Deep Work II", "Deep Work II"),
        ("deep work two", "Deep Work II"),  # numbers as a recogniser writes them
        ("deep work 2", "Deep Work II"),
        ("cafe lounge", "Café Lounge"),  # accents
        ("CAFÉ  LOUNGE", "Café Lounge"),
        ("morning rn", "Morning Run"),  # a slip
        ("friday night party", "Friday Night Party 🎉"),
        ("road trip 99", "Road Trip '99"),
        ("jazz", "Sunday Jazz"),  # a partial that only one name contains
        ("rainy days", "Rainy Days ☔"),  # followed, not owned
    ],
)
def test_find_playlist(client: SpotifyClient, said: str, found: str) -> None:
    assert client.find_playlist(said).name == found


def test_find_playlist_ambiguous_partial(client: SpotifyClient) -> None:
    with pytest.raises(AmbiguousMatch) as caught:
        client.find_playlist("work")
    assert set(caught.value.candidates) == {"Deep Work", "Deep Work II", "Workout Mix"}
    assert "Which one?" in caught.value.user_message


def test_find_playlist_nothing_close(client: SpotifyClient) -> None:
    with pytest.raises(NotFound) as caught:
        client.find_playlist("heavy metal thunder")
    assert "heavy metal thunder" in caught.value.user_message
    assert "closest" in caught.value.user_message


def test_find_playlist_owned_only(client: SpotifyClient) -> None:
    with pytest.raises(NotFound):
        client.find_playlist("rainy days", owned_only=True)
    assert client.find_playlist("deep work", owned_only=True).name == "Deep Work"


def test_find_playlist_same_name_twice_prefers_the_newest(client: SpotifyClient) -> None:
    created = client.create_playlist("Chill Vibes")
    # Spotify lists the newest first; both are the user's own.
    assert client.find_playlist("chill vibes") == created


def test_find_playlist_made_elsewhere_since_the_cache_was_filled(
    client: SpotifyClient, make_client: Callable[..., SpotifyClient], api_calls: Calls
) -> None:
    client.my_playlists()
    make_client().create_playlist("Beach House Mix")  # as if made in the Spotify app
    assert client.find_playlist("beach house mix").name == "Beach House Mix"
    assert client.find_playlist("beach house").name == "Beach House Mix"
    assert len(api_calls("GET", "/v1/me/playlists")) == 2  # one refetch, then the cache


def test_find_playlist_needs_a_name(client: SpotifyClient) -> None:
    with pytest.raises(SpotifyRequestRejected):
        client.find_playlist("  ")


# --- creating and changing ------------------------------------------------------------------


def test_create_playlist_is_private_unless_asked(
    client: SpotifyClient, sim: SimulatedSpotify, api_calls: Calls
) -> None:
    private = client.create_playlist("Late Night Coding", description="Quiet, steady")
    public = client.create_playlist("Share Me", public=True)
    assert (private.public, public.public) == (False, True)
    assert private.owner_id == "segue-demo" and private.total_items == 0
    stored = sim.snapshot()["playlists"][private.id]
    assert (stored["name"], stored["description"], stored["public"]) == (
        "Late Night Coding",
        "Quiet, steady",
        False,
    )
    first = api_calls("POST", "/v1/me/playlists")[0]
    assert json.loads(first.request_body) == {
        "name": "Late Night Coding",
        "public": False,
        "collaborative": False,
        "description": "Quiet, steady",
    }


def test_add_250_tracks_in_three_requests_in_order(
    client: SpotifyClient, sim: SimulatedSpotify, api_calls: Calls, tracks: list[str]
) -> None:
    playlist = client.create_playlist("Big One")
    uris = tracks[:250]
    assert client.add_to_playlist(playlist.id, uris) == 250

    posts = api_calls("POST", f"/v1/playlists/{playlist.id}/items")
    bodies = [json.loads(e.request_body) for e in posts]
    assert [len(b["uris"]) for b in bodies] == [100, 100, 50]
    assert [uri for b in bodies for uri in b["uris"]] == uris
    assert sim.snapshot()["playlists"][playlist.id]["track_uris"] == uris

    # Read back in pages of 50.
    assert [t.uri for t in client.playlist_tracks(playlist.id)] == uris
    pages = api_calls("GET", f"/v1/playlists/{playlist.id}/items")
    assert [e.query["offset"] for e in pages] == [["0"], ["50"], ["100"], ["150"], ["200"]]
    assert {e.query["limit"][0] for e in pages} == {"50"}


def test_add_accepts_links_and_uris_and_playlist_links(
    client: SpotifyClient, sim: SimulatedSpotify, tracks: list[str]
) -> None:
    playlist = client.create_playlist("Links")
    track_id = tracks[0].rsplit(":", 1)[1]
    link = f"https://open.spotify.com/intl-de/track/{track_id}?si=x"
    client.add_to_playlist(f"https://open.spotify.com/playlist/{playlist.id}", [link, tracks[1]])
    assert sim.snapshot()["playlists"][playlist.id]["track_uris"] == tracks[:2]


def test_add_nothing_sends_nothing(client: SpotifyClient, api_calls: Calls) -> None:
    playlist = client.create_playlist("Empty")
    assert client.add_to_playlist(playlist.id, []) == 0
    assert api_calls("POST", f"/v1/playlists/{playlist.id}/items") == []


def test_add_rejects_non_tracks_before_sending(client: SpotifyClient, api_calls: Calls) -> None:
    playlist = client.create_playlist("Strict")
    with pytest.raises(SpotifyRequestRejected, match="not a Spotify track"):
        client.add_to_playlist(playlist.id, ["spotify:album:6i6folBtxKV28WX3msQ4FE"])
    with pytest.raises(SpotifyRequestRejected, match="playlist"):
        client.add_to_playlist("Deep Work", ["spotify:track:6i6folBtxKV28WX3msQ4FE"])
    assert api_calls("POST", f"/v1/playlists/{playlist.id}/items") == []


def test_remove_from_playlist(
    client: SpotifyClient, sim: SimulatedSpotify, api_calls: Calls, tracks: list[str]
) -> None:
    playlist = client.create_playlist("Trim")
    client.add_to_playlist(playlist.id, tracks[:5])
    client.remove_from_playlist(playlist.id, [tracks[1], tracks[3]])
    assert sim.snapshot()["playlists"][playlist.id]["track_uris"] == [
        tracks[0],
        tracks[2],
        tracks[4],
    ]
    (delete,) = api_calls("DELETE", f"/v1/playlists/{playlist.id}/items")
    assert json.loads(delete.request_body) == {"items": [{"uri": tracks[1]}, {"uri": tracks[3]}]}


def test_tracks_of_a_playlist_the_user_only_follows(client: SpotifyClient) -> None:
    rainy = client.find_playlist("rainy days")
    with pytest.raises(SpotifyError, match="own or collaborate"):
        client.playlist_tracks(rainy.id)


def test_tracks_of_a_collaborative_playlist(client: SpotifyClient) -> None:
    grill = client.find_playlist("grillabend im garten")
    assert grill.collaborative
    assert len(client.playlist_tracks(grill.uri)) == grill.total_items > 0


def test_tracks_of_a_spotify_playlist(client: SpotifyClient) -> None:
    top = client.find_playlist("today's top hits")
    with pytest.raises(NotFound, match="its own playlists are closed"):
        client.playlist_tracks(top.id)

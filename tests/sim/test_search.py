"""Search ranks results the way a listener expects, with Spotify's limits."""

from __future__ import annotations

from typing import Any

from tests.support.sim_helpers import Api, error_of


def search(api: Api, q: str, type_: str = "track", **params: Any) -> dict[str, Any]:
    response = api.get("/search", q=q, type=type_, **params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def names(page: dict[str, Any]) -> list[str]:
    return [item["name"] for item in page["items"]]


def test_an_exact_title_comes_before_titles_that_contain_it(api: Api) -> None:
    tracks = search(api, "paranoid", limit=10)["tracks"]

    assert names(tracks)[:2] == ["Paranoid", "Paranoid Android"]
    assert tracks["items"][0]["artists"][0]["name"] == "Black Sabbath"


def test_title_and_artist_words_find_that_recording(api: Api) -> None:
    tracks = search(api, "bohemian rhapsody queen")["tracks"]

    first = tracks["items"][0]
    assert (first["name"], first["artists"][0]["name"]) == ("Bohemian Rhapsody", "Queen")
    assert first["uri"] == f"spotify:track:{first['id']}"
    assert first["href"] == f"{api.sim.api_url}/tracks/{first['id']}"
    assert first["external_urls"] == {"spotify": f"https://open.spotify.com/track/{first['id']}"}
    assert first["album"]["name"] == "A Night at the Opera"


def test_search_ignores_case_and_accents(api: Api) -> None:
    assert names(search(api, "beyonce", "artist")["artists"])[0] == "Beyoncé"
    assert names(search(api, "MOTLEY CRUE", "artist")["artists"])[0] == "Mötley Crüe"
    assert names(search(api, "sigur ros", "artist")["artists"])[0] == "Sigur Rós"
    assert names(search(api, "cafe lounge", "playlist")["playlists"])[0] == "Café Lounge"


def test_a_misspelt_title_still_finds_the_song(api: Api) -> None:
    assert names(search(api, "bohemain rapsody")["tracks"])[0] == "Bohemian Rhapsody"


def test_artist_filter_keeps_only_that_artists_tracks(api: Api) -> None:
    tracks = search(api, "hallelujah artist:buckley")["tracks"]

    assert tracks["total"] >= 1
    assert {item["artists"][0]["name"] for item in tracks["items"]} == {"Jeff Buckley"}
    assert names(tracks)[0] == "Hallelujah"

    queen = search(api, 'artist:"queen"', limit=10)["tracks"]
    assert queen["total"] > 10
    assert all(item["artists"][0]["name"] == "Queen" for item in queen["items"])


def test_track_and_album_filters(api: Api) -> None:
    tracks = search(api, "track:dreams artist:fleetwood")["tracks"]
    assert [(t["name"], t["artists"][0]["name"]) for t in tracks["items"]] == [
        ("Dreams", "Fleetwood Mac")
    ]
    albums = search(api, "album:rumours", "album")["albums"]
    assert names(albums)[0] == "Rumours"


def test_an_artist_name_finds_the_artist_first(api: Api) -> None:
    body = search(api, "queen", "artist,track")
    assert names(body["artists"])[0] == "Queen"
    assert body["tracks"]["items"][0]["artists"][0]["name"] == "Queen"


def test_playlists_include_the_users_followed_and_public_ones(api: Api) -> None:
    own = search(api, "deep work", "playlist")["playlists"]
    assert names(own)[:2] == ["Deep Work", "Deep Work II"]
    followed = search(api, "rainy days", "playlist")["playlists"]
    assert followed["items"][0]["owner"]["id"] == "marta.k"


def test_paging_defaults_to_five_and_links_the_next_page(api: Api) -> None:
    first = search(api, "artist:queen")["tracks"]
    assert first["limit"] == 5
    assert len(first["items"]) == 5
    assert first["previous"] is None
    assert first["next"] is not None

    second = api.session.get(first["next"], timeout=5).json()["tracks"]
    assert second["offset"] == 5
    assert not set(names(first)) & set(names(second))


def test_more_than_ten_results_per_page_is_refused(api: Api) -> None:
    response = api.get("/search", q="queen", type="track", limit=11)

    assert response.status_code == 400
    assert error_of(response)["message"] == "Invalid limit"


def test_nothing_found_gives_empty_pages(api: Api) -> None:
    body = search(api, "zzqxv wvxq", "track,album")

    assert body["tracks"]["items"] == []
    assert body["tracks"]["total"] == 0
    assert body["albums"]["items"] == []

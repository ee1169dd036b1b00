from __future__ import annotations

import pytest

from assistant.spotify.links import parse_spotify_ref
from assistant.spotify.models import SpotifyRef

ID = "4u7EnebtmKWzUH433cf5Qv"
PLAYLIST = "37i9dQZF1DXcBWIGoYBM5M"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"spotify:track:{ID}", SpotifyRef("track", ID)),
        (f"spotify:album:{ID}", SpotifyRef("album", ID)),
        (f"spotify:artist:{ID}", SpotifyRef("artist", ID)),
        (f"spotify:playlist:{PLAYLIST}", SpotifyRef("playlist", PLAYLIST)),
        (f"spotify:user:spotify:playlist:{PLAYLIST}", SpotifyRef("playlist", PLAYLIST)),
        (f"spotify:user:marta.k:playlist:{PLAYLIST}", SpotifyRef("playlist", PLAYLIST)),
        (f"https://open.spotify.com/track/{ID}", SpotifyRef("track", ID)),
        (f"https://open.spotify.com/track/{ID}?si=abc&utm_source=x", SpotifyRef("track", ID)),
        (f"http://open.spotify.com/album/{ID}", SpotifyRef("album", ID)),
        (f"open.spotify.com/intl-de/album/{ID}", SpotifyRef("album", ID)),
        (f"https://open.spotify.com/intl-pt-br/artist/{ID}?si=1", SpotifyRef("artist", ID)),
        (f"https://open.spotify.com/playlist/{PLAYLIST}/", SpotifyRef("playlist", PLAYLIST)),
        (
            f"https://open.spotify.com/user/spotify/playlist/{PLAYLIST}",
            SpotifyRef("playlist", PLAYLIST),
        ),
        (f"https://open.spotify.com/track/{ID}#fragment", SpotifyRef("track", ID)),
        (f"  spotify:track:{ID}\n", SpotifyRef("track", ID)),
        (f"<https://open.spotify.com/track/{ID}?si=x>", SpotifyRef("track", ID)),
        (f" < spotify:album:{ID} > ", SpotifyRef("album", ID)),
        (f"SPOTIFY:TRACK:{ID}", SpotifyRef("track", ID)),
    ],
)
def test_recognised(text: str, expected: SpotifyRef) -> None:
    assert parse_spotify_ref(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "bohemian rhapsody",
        ID,  # a bare ID says nothing about its kind
        f"spotify:track:{ID[:-1]}",  # 21 characters
        f"spotify:track:{ID}x",  # 23 characters
        f"spotify:track:{ID[:-1]}-",  # not base62
        f"spotify:show:{ID}",
        f"spotify:episode:{ID}",
        f"spotify:local:artist:album:{ID}:123",
        f"spotify:track:{ID} and more",
        f"play spotify:track:{ID}",
        f"https://example.com/track/{ID}",
        f"https://open.spotify.com.evil.example/track/{ID}",
        f"https://open.spotify.com/genre/{ID}",
        f"https://open.spotify.com/track/{ID}/extra",
        f"ftp://open.spotify.com/track/{ID}",
        "https://spotify.link/AbCdEf123",
        f"<spotify:track:{ID}",
    ],
)
def test_not_recognised(text: str) -> None:
    assert parse_spotify_ref(text) is None


def test_ref_uri_and_url() -> None:
    ref = SpotifyRef("album", ID)
    assert ref.uri == f"spotify:album:{ID}"
    assert ref.url == f"https://open.spotify.com/album/{ID}"
    assert parse_spotify_ref(ref.url) == ref
    assert parse_spotify_ref(ref.uri) == ref

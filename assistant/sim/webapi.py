"""The Web API subset Segue uses, over the simulated world.

Each request passes, in order: the removed-endpoint check (recorded, then 403 after the token
check), the bearer token (401), the development-mode checks on the app owner's Premium and the
user's allow-listing (403), the scope, Premium for player commands (403 PREMIUM_REQUIRED), then the
handler. Limits are the real ones: search ``limit`` 1-10 (default 5) and ``offset`` 0-1000,
playlist item pages at most 50, at most 100 URIs added per request, at most 40 library URIs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from assistant.sim import apierror
from assistant.sim.accounts import AccessToken, Accounts
from assistant.sim.apierror import ApiError, bad_request, not_found
from assistant.sim.catalog import Catalog
from assistant.sim.library import iso_utc
from assistant.sim.objects import JSON, WebObjects
from assistant.sim.search import SEARCH_TYPES, Query, SearchIndex
from assistant.sim.state import UserAccount, World
from assistant.sim.wire import Reply, Request, empty_reply, json_reply

_ID = r"([^/]+)"

# Endpoints closed to new development-mode apps in February 2026: they answer 403 "Forbidden".
REMOVED_ENDPOINTS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (method, re.compile(pattern))
    for method, pattern in (
        ("GET", r"/v1/recommendations(/.*)?"),
        ("GET", r"/v1/audio-features(/[^/]+)?"),
        ("GET", r"/v1/audio-analysis/[^/]+"),
        ("GET", r"/v1/artists/[^/]+/related-artists"),
        ("GET", r"/v1/artists/[^/]+/top-tracks"),
        ("*", r"/v1/browse(/.*)?"),
        ("GET", r"/v1/tracks"),  # batch reads: GET /tracks?ids=
        ("GET", r"/v1/albums"),
        ("GET", r"/v1/artists"),
        ("GET", r"/v1/users/[^/]+"),
        ("*", r"/v1/users/[^/]+/playlists"),
        ("*", r"/v1/playlists/[^/]+/tracks"),
    )
)

Handler = Callable[["Call"], Reply]


@dataclass(frozen=True)
class Call:
    """One authorised Web API call: the request, the path parameters and whose account."""

    request: Request
    params: tuple[str, ...]
    account: UserAccount
    token: AccessToken

    def json_body(self) -> Any:
        """The request body parsed as JSON (None when empty)."""
        if not self.request.body.strip():
            return None
        try:
            return json.loads(self.request.body)
        except ValueError:
            raise bad_request("Error parsing json") from None

    def body_object(self) -> dict[str, Any]:
        """The JSON body, which must be an object (an empty body counts as ``{}``)."""
        body = self.json_body()
        if body is None:
            return {}
        if not isinstance(body, dict):
            raise bad_request("Error parsing json")
        return body


@dataclass(frozen=True)
class Route:
    """One endpoint."""

    method: str
    pattern: re.Pattern[str]
    handler: Handler
    scopes: tuple[str, ...] = ()  # any one of these is enough
    player_command: bool = False


def _int_arg(
    request: Request, name: str, default: int | None, low: int, high: int, message: str
) -> int:
    raw = request.arg(name)
    if raw is None or raw == "":
        if default is None:
            raise bad_request(f"Missing required parameter: {name}")
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(message) from None
    if not low <= value <= high:
        raise bad_request(message)
    return value


def _required(request: Request, name: str) -> str:
    value = request.arg(name)
    if value is None or value == "":
        raise bad_request(f"Missing required parameter: {name}")
    return value


class WebApi:
    """Answers ``/v1/...`` requests.

    Args:
        catalog: The catalog.
        world: The users' state.
        accounts: The token store.
        objects: The JSON object builder.
        search: The search index.
    """

    def __init__(
        self,
        catalog: Catalog,
        world: World,
        accounts: Accounts,
        objects: WebObjects,
        search: SearchIndex,
    ) -> None:
        self._catalog = catalog
        self._world = world
        self._accounts = accounts
        self._objects = objects
        self._search = search
        self.removed_calls: list[str] = []
        self._routes = self._route_table()

    def _route_table(self) -> list[Route]:
        read_state = ("user-read-playback-state",)
        modify = ("user-modify-playback-state",)
        modify_playlists = ("playlist-modify-public", "playlist-modify-private")
        table: list[tuple[str, str, Handler, tuple[str, ...], bool]] = [
            ("GET", "/v1/me", self._me, (), False),
            ("GET", "/v1/search", self._search_items, (), False),
            ("GET", f"/v1/tracks/{_ID}", self._track, (), False),
            ("GET", f"/v1/albums/{_ID}", self._album, (), False),
            ("GET", f"/v1/albums/{_ID}/tracks", self._album_tracks, (), False),
            ("GET", f"/v1/artists/{_ID}", self._artist, (), False),
            ("GET", f"/v1/artists/{_ID}/albums", self._artist_albums, (), False),
            ("GET", "/v1/me/playlists", self._my_playlists, (), False),
            ("POST", "/v1/me/playlists", self._create_playlist, modify_playlists, False),
            ("GET", f"/v1/playlists/{_ID}", self._playlist, (), False),
            ("PUT", f"/v1/playlists/{_ID}", self._change_playlist, modify_playlists, False),
            ("GET", f"/v1/playlists/{_ID}/items", self._playlist_items, (), False),
            ("POST", f"/v1/playlists/{_ID}/items", self._add_items, modify_playlists, False),
            ("PUT", f"/v1/playlists/{_ID}/items", self._update_items, modify_playlists, False),
            ("DELETE", f"/v1/playlists/{_ID}/items", self._remove_items, modify_playlists, False),
            ("PUT", "/v1/me/library", self._save, ("user-library-modify",), False),
            ("DELETE", "/v1/me/library", self._unsave, ("user-library-modify",), False),
            ("GET", "/v1/me/library/contains", self._contains, ("user-library-read",), False),
            ("GET", "/v1/me/tracks", self._saved_tracks, ("user-library-read",), False),
            ("GET", "/v1/me/player", self._playback_state, read_state, False),
            ("PUT", "/v1/me/player", self._transfer, modify, True),
            ("GET", "/v1/me/player/devices", self._devices, read_state, False),
            (
                "GET",
                "/v1/me/player/currently-playing",
                self._currently_playing,
                ("user-read-currently-playing", "user-read-playback-state"),
                False,
            ),
            ("PUT", "/v1/me/player/play", self._play, modify, True),
            ("PUT", "/v1/me/player/pause", self._pause, modify, True),
            ("POST", "/v1/me/player/next", self._next, modify, True),
            ("POST", "/v1/me/player/previous", self._previous, modify, True),
            ("PUT", "/v1/me/player/seek", self._seek, modify, True),
            ("PUT", "/v1/me/player/repeat", self._repeat, modify, True),
            ("PUT", "/v1/me/player/volume", self._volume, modify, True),
            ("PUT", "/v1/me/player/shuffle", self._shuffle, modify, True),
            (
                "GET",
                "/v1/me/player/recently-played",
                self._recently_played,
                ("user-read-recently-played",),
                False,
            ),
            ("GET", "/v1/me/player/queue", self._queue, read_state, False),
            ("POST", "/v1/me/player/queue", self._add_to_queue, modify, True),
        ]
        return [
            Route(method, re.compile(pattern), handler, scopes, player)
            for method, pattern, handler, scopes, player in table
        ]

    # Dispatch

    def is_removed(self, method: str, path: str) -> bool:
        """Whether ``method path`` is an endpoint closed to new development-mode apps."""
        return any(
            (m == "*" or m == method) and pattern.fullmatch(path)
            for m, pattern in REMOVED_ENDPOINTS
        )

    def handle(self, request: Request) -> Reply:
        """Answer one ``/v1`` request (the caller holds the simulator's lock)."""
        removed = self.is_removed(request.method, request.path)
        if removed:
            self.removed_calls.append(f"{request.method} {request.path}")
        token = self._accounts.check_bearer(request.headers.get("authorization"))
        account = self._world.account(token.user_id)
        if not account.owner_premium:
            raise ApiError(403, "Active premium subscription required for the owner of the app.")
        if not account.allow_listed:
            raise ApiError(
                403,
                "Check settings on developer.spotify.com/dashboard, the user may not be "
                "registered.",
            )
        if removed:
            raise ApiError(403, "Forbidden")
        route, params = self._find(request)
        if route.scopes and not token.scopes.intersection(route.scopes):
            raise ApiError(403, "Insufficient client scope")
        if route.player_command and not account.premium:
            raise apierror.premium_required()
        return route.handler(Call(request, params, account, token))

    def _find(self, request: Request) -> tuple[Route, tuple[str, ...]]:
        path_known = False
        for route in self._routes:
            match = route.pattern.fullmatch(request.path)
            if match is None:
                continue
            if route.method == request.method:
                return route, match.groups()
            path_known = True
        if path_known:
            raise ApiError(405, "Method not allowed")
        raise not_found("Service not found")

    # Catalog

    def _me(self, call: Call) -> Reply:
        return json_reply(200, self._objects.private_user(call.account.user))

    def _track(self, call: Call) -> Reply:
        track = self._catalog.tracks.get(call.params[0])
        if track is None:
            raise not_found("Resource not found")
        return json_reply(200, self._objects.track(track))

    def _album(self, call: Call) -> Reply:
        album = self._catalog.albums.get(call.params[0])
        if album is None:
            raise not_found("Resource not found")
        return json_reply(200, self._objects.album(album))

    def _album_tracks(self, call: Call) -> Reply:
        album = self._catalog.albums.get(call.params[0])
        if album is None:
            raise not_found("Resource not found")
        limit = _int_arg(call.request, "limit", 20, 1, 50, "Invalid limit")
        offset = _int_arg(call.request, "offset", 0, 0, 100_000, "Invalid offset")
        return json_reply(200, self._objects.album_tracks(album, limit=limit, offset=offset))

    def _artist(self, call: Call) -> Reply:
        artist = self._catalog.artists.get(call.params[0])
        if artist is None:
            raise not_found("Resource not found")
        return json_reply(200, self._objects.artist(artist))

    def _artist_albums(self, call: Call) -> Reply:
        artist_id = call.params[0]
        if artist_id not in self._catalog.artists:
            raise not_found("Resource not found")
        limit = _int_arg(call.request, "limit", 5, 1, 10, "Invalid limit")
        offset = _int_arg(call.request, "offset", 0, 0, 100_000, "Invalid offset")
        groups = (call.request.arg("include_groups") or "album,single,compilation").split(",")
        albums = [
            self._catalog.albums[a]
            for a in self._catalog.albums_by_artist.get(artist_id, ())
            if self._catalog.albums[a].album_type in groups
        ]
        items = [
            {**self._objects.simple_album(a), "album_group": a.album_type}
            for a in albums[offset : offset + limit]
        ]
        page = self._objects.paging(
            f"/artists/{artist_id}/albums", items, len(albums), limit, offset
        )
        return json_reply(200, page)

    def _search_items(self, call: Call) -> Reply:
        request = call.request
        raw_q = request.arg("q")
        if not raw_q or not raw_q.strip():
            raise bad_request("No search query")
        raw_types = request.arg("type")
        if not raw_types:
            raise bad_request("Missing parameter type")
        types = [t.strip() for t in raw_types.split(",")]
        for kind in types:
            if kind not in SEARCH_TYPES:
                raise bad_request(f"Bad search type field {kind}")
        # Since February 2026 search pages hold at most 10 items (default 5).
        limit = _int_arg(request, "limit", 5, 1, 10, "Invalid limit")
        offset = _int_arg(request, "offset", 0, 0, 1000, "Invalid offset")
        query = Query.parse(raw_q)
        wanted = offset + limit
        base = {"q": raw_q, "type": raw_types}
        result: JSON = {}
        for kind in dict.fromkeys(types):
            ids: list[str]
            items: list[JSON]
            if kind == "track":
                ids = self._search.tracks_for(query, wanted)
                items = [self._objects.track_by_id(t) for t in ids[offset:wanted]]
            elif kind == "album":
                ids = self._search.albums_for(query, wanted)
                items = [
                    self._objects.simple_album(self._catalog.albums[a]) for a in ids[offset:wanted]
                ]
            elif kind == "artist":
                ids = self._search.artists_for(query, wanted)
                items = [self._objects.artist(self._catalog.artists[a]) for a in ids[offset:wanted]]
            elif kind == "playlist":
                library = call.account.library
                playlists = library.visible_playlists()
                by_id = {p.id: p for p in playlists}
                ids = SearchIndex.playlists_for(
                    query,
                    [(p.id, p.name, f"{p.description} {p.owner_id}") for p in playlists],
                    wanted,
                )
                items = [self._objects.simple_playlist(by_id[p]) for p in ids[offset:wanted]]
            else:
                ids, items = [], []  # shows, episodes and audiobooks: none in the catalog
            result[f"{kind}s"] = self._objects.paging(
                "/search", items, len(ids), limit, offset, query=base
            )
        return json_reply(200, result)

    # Playlists

    def _my_playlists(self, call: Call) -> Reply:
        limit = _int_arg(call.request, "limit", 20, 1, 50, "Invalid limit")
        offset = _int_arg(call.request, "offset", 0, 0, 100_000, "Invalid offset")
        playlists = call.account.library.my_playlists()
        items = [self._objects.simple_playlist(p) for p in playlists[offset : offset + limit]]
        return json_reply(
            200, self._objects.paging("/me/playlists", items, len(playlists), limit, offset)
        )

    def _create_playlist(self, call: Call) -> Reply:
        body = call.body_object()
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise bad_request("Missing required field: name")
        public = body.get("public", True)
        collaborative = body.get("collaborative", False)
        description = body.get("description", "")
        if not isinstance(public, bool) or not isinstance(collaborative, bool):
            raise bad_request("public and collaborative must be booleans")
        if not isinstance(description, str):
            raise bad_request("description must be a string")
        if collaborative and public:
            raise bad_request("Collaborative playlists can't be public.")
        playlist = call.account.library.create(
            name, public=public, collaborative=collaborative, description=description
        )
        return json_reply(201, self._objects.playlist(playlist, with_items=True))

    def _playlist(self, call: Call) -> Reply:
        library = call.account.library
        playlist = library.playlist(call.params[0])
        obj = self._objects.playlist(playlist, with_items=library.can_read_items(playlist))
        return json_reply(200, obj)

    def _change_playlist(self, call: Call) -> Reply:
        body = call.body_object()
        values: dict[str, Any] = {}
        for name, kind in (
            ("name", str),
            ("public", bool),
            ("collaborative", bool),
            ("description", str),
        ):
            value = body.get(name)
            if value is not None and not isinstance(value, kind):
                raise bad_request(f"{name} has the wrong type")
            values[name] = value
        call.account.library.change_details(call.params[0], **values)
        return empty_reply(200)

    def _playlist_items(self, call: Call) -> Reply:
        playlist = call.account.library.playlist(call.params[0], for_items=True)
        limit = _int_arg(call.request, "limit", 20, 1, 50, "Invalid limit")
        offset = _int_arg(call.request, "offset", 0, 0, 100_000, "Invalid offset")
        return json_reply(200, self._objects.playlist_items(playlist, limit=limit, offset=offset))

    @staticmethod
    def _uris_and_position(call: Call) -> tuple[list[str] | None, int | None, dict[str, Any]]:
        request = call.request
        body = call.json_body()
        # spotipy 2.26 posts a bare JSON array; the live service takes it like {"uris": [...]}.
        body_obj: dict[str, Any] = {"uris": body} if isinstance(body, list) else (body or {})
        if not isinstance(body_obj, dict):
            raise bad_request("Error parsing json")
        uris: list[str] | None = None
        raw_query_uris = request.arg("uris")
        if raw_query_uris:
            uris = [u.strip() for u in raw_query_uris.split(",") if u.strip()]
        elif "uris" in body_obj:
            value = body_obj["uris"]
            if not isinstance(value, list) or not all(isinstance(u, str) for u in value):
                raise bad_request("uris must be a list of strings")
            uris = value
        position: int | None = None
        if request.arg("position") is not None:
            position = _int_arg(request, "position", None, 0, 1_000_000, "Invalid position")
        elif body_obj.get("position") is not None:
            if not isinstance(body_obj["position"], int):
                raise bad_request("Invalid position")
            position = body_obj["position"]
        return uris, position, body_obj

    def _add_items(self, call: Call) -> Reply:
        uris, position, _ = self._uris_and_position(call)
        playlist = call.account.library.add_items(call.params[0], uris or [], position)
        return json_reply(201, {"snapshot_id": playlist.snapshot_id})

    def _update_items(self, call: Call) -> Reply:
        uris, _, body = self._uris_and_position(call)
        library = call.account.library
        if uris is not None:
            playlist = library.replace_items(call.params[0], uris)
        else:
            try:
                range_start = int(body["range_start"])
                insert_before = int(body["insert_before"])
                range_length = int(body.get("range_length", 1))
            except (KeyError, TypeError, ValueError):
                raise bad_request("Either uris or range_start and insert_before") from None
            playlist = library.reorder_items(
                call.params[0], range_start, insert_before, range_length
            )
        return json_reply(200, {"snapshot_id": playlist.snapshot_id})

    def _remove_items(self, call: Call) -> Reply:
        body = call.body_object()
        items = body.get("items")
        # The key is "items" since February 2026 (it was "tracks").
        if not isinstance(items, list) or not all(
            isinstance(i, dict) and isinstance(i.get("uri"), str) for i in items
        ):
            raise bad_request('items must be a list of {"uri": ...} objects')
        playlist = call.account.library.remove_items(call.params[0], [i["uri"] for i in items])
        return json_reply(200, {"snapshot_id": playlist.snapshot_id})

    # Library

    def _save(self, call: Call) -> Reply:
        call.account.library.save(call.request.arg("uris"))
        return empty_reply(200)

    def _unsave(self, call: Call) -> Reply:
        call.account.library.remove(call.request.arg("uris"))
        return empty_reply(200)

    def _contains(self, call: Call) -> Reply:
        return json_reply(200, call.account.library.contains(call.request.arg("uris")))

    def _saved_tracks(self, call: Call) -> Reply:
        limit = _int_arg(call.request, "limit", 20, 1, 50, "Invalid limit")
        offset = _int_arg(call.request, "offset", 0, 0, 100_000, "Invalid offset")
        saved = call.account.library.saved_tracks()
        items = [
            {"added_at": iso_utc(at), "track": self._objects.track_by_id(track_id)}
            for track_id, at in saved[offset : offset + limit]
        ]
        return json_reply(200, self._objects.paging("/me/tracks", items, len(saved), limit, offset))

    # Player

    def _playback_state(self, call: Call) -> Reply:
        state = call.account.player.state()
        if state.device is None:
            return empty_reply(204)
        return json_reply(200, self._objects.playback_state(state))

    def _currently_playing(self, call: Call) -> Reply:
        state = call.account.player.state()
        if state.device is None or state.track is None:
            return empty_reply(204)
        return json_reply(200, self._objects.currently_playing(state))

    def _devices(self, call: Call) -> Reply:
        player = call.account.player
        active = player.active_device()
        devices = [
            self._objects.device(d, active=active is not None and d.id == active.id)
            for d in player.listed_devices()
        ]
        return json_reply(200, {"devices": devices})

    def _transfer(self, call: Call) -> Reply:
        body = call.body_object()
        play = body.get("play")
        if play is not None and not isinstance(play, bool):
            raise bad_request("play must be a boolean")
        call.account.player.transfer(body.get("device_ids"), play)
        return empty_reply(204)

    def _play(self, call: Call) -> Reply:
        body = call.body_object()
        context_uri = body.get("context_uri")
        uris = body.get("uris")
        offset = body.get("offset")
        position_ms = body.get("position_ms")
        if context_uri is not None and not isinstance(context_uri, str):
            raise bad_request("context_uri must be a string")
        if uris is not None and not isinstance(uris, list):
            raise bad_request("uris must be a list")
        if position_ms is not None and (
            isinstance(position_ms, bool) or not isinstance(position_ms, int)
        ):
            raise bad_request("position_ms must be an integer")
        call.account.player.play(
            call.request.arg("device_id"),
            context_uri=context_uri,
            uris=uris,
            offset=offset,
            position_ms=position_ms,
        )
        return empty_reply(204)

    def _pause(self, call: Call) -> Reply:
        call.account.player.pause(call.request.arg("device_id"))
        return empty_reply(204)

    def _next(self, call: Call) -> Reply:
        call.account.player.next(call.request.arg("device_id"))
        return empty_reply(204)

    def _previous(self, call: Call) -> Reply:
        call.account.player.previous(call.request.arg("device_id"))
        return empty_reply(204)

    def _seek(self, call: Call) -> Reply:
        position = _int_arg(
            call.request, "position_ms", None, 0, 2**31, "position_ms must be a positive integer"
        )
        call.account.player.seek(call.request.arg("device_id"), position)
        return empty_reply(204)

    def _repeat(self, call: Call) -> Reply:
        state = _required(call.request, "state")
        call.account.player.set_repeat(call.request.arg("device_id"), state)
        return empty_reply(204)

    def _volume(self, call: Call) -> Reply:
        volume = _int_arg(
            call.request,
            "volume_percent",
            None,
            0,
            100,
            "Invalid volume_percent: must be between 0 and 100",
        )
        call.account.player.set_volume(call.request.arg("device_id"), volume)
        return empty_reply(204)

    def _shuffle(self, call: Call) -> Reply:
        raw = _required(call.request, "state").lower()
        if raw not in ("true", "false"):
            raise bad_request("state must be true or false")
        call.account.player.set_shuffle(call.request.arg("device_id"), raw == "true")
        return empty_reply(204)

    def _recently_played(self, call: Call) -> Reply:
        request = call.request
        limit = _int_arg(request, "limit", 20, 1, 50, "Invalid limit")
        after = request.arg("after")
        before = request.arg("before")
        if after is not None and before is not None:
            raise bad_request("Only one of after and before can be given")
        try:
            after_ms = int(after) if after is not None else None
            before_ms = int(before) if before is not None else None
        except ValueError:
            raise bad_request("after and before must be Unix times in milliseconds") from None
        played = call.account.player.recently_played()
        if after_ms is not None:
            played = [p for p in played if p.played_at * 1000 > after_ms]
        if before_ms is not None:
            played = [p for p in played if p.played_at * 1000 < before_ms]
        page = played[:limit]
        href = f"{self._objects.api_url}/me/player/recently-played?limit={limit}"
        body: JSON = {
            "href": href,
            "items": [self._objects.play_history(p) for p in page],
            "limit": limit,
            "total": len(played),
        }
        if page:
            first_ms = int(page[0].played_at * 1000)
            last_ms = int(page[-1].played_at * 1000)
            body["cursors"] = {"after": str(first_ms), "before": str(last_ms)}
            body["next"] = f"{href}&before={last_ms}"
        return json_reply(200, body)

    def _queue(self, call: Call) -> Reply:
        player = call.account.player
        state = player.state()
        current = self._objects.track(state.track) if state.track is not None else None
        upcoming = [self._objects.track_by_id(t) for t in player.upcoming()]
        return json_reply(200, {"currently_playing": current, "queue": upcoming})

    def _add_to_queue(self, call: Call) -> Reply:
        uri = _required(call.request, "uri")
        call.account.player.add_to_queue(call.request.arg("device_id"), uri)
        return empty_reply(204)

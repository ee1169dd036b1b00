"""``SimulatedSpotify``: the Web API subset and the accounts service on 127.0.0.1.

The demo mode, the tests and the benchmarks all run against it::

    with SimulatedSpotify() as sim:
        token = sim.sign_in()["access_token"]
        requests.get(f"{sim.api_url}/me", headers={"Authorization": f"Bearer {token}"})
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from assistant.sim.accounts import ALL_SCOPES, SIM_CLIENT_ID, Accounts
from assistant.sim.art import cover_png
from assistant.sim.catalog import Catalog
from assistant.sim.computer_app import ComputerApp
from assistant.sim.objects import WebObjects
from assistant.sim.player import Device, device_id_for
from assistant.sim.search import SearchIndex
from assistant.sim.server import Exchange, Fault, Faults, Router, SimHTTPServer
from assistant.sim.state import DEMO_USER_ID, World
from assistant.sim.webapi import WebApi
from assistant.sim.wire import Reply, Request, empty_reply, json_reply
from assistant.sim.world_file import SharedWorldLock, WorldFile

_CATALOG_CACHE: dict[Path | None, tuple[float, Catalog, SearchIndex]] = {}
_CATALOG_CACHE_LOCK = threading.Lock()


def _load(catalog_path: Path | None) -> tuple[Catalog, SearchIndex]:
    # The catalog and its search index never change once built, so simulators in one process
    # (a test session starts many) share them; a changed file is read again.
    from assistant.sim.catalog import DEFAULT_CATALOG_PATH

    path = catalog_path or DEFAULT_CATALOG_PATH
    try:
        mtime = path.stat().st_mtime
    except OSError:
        mtime = -1.0
    with _CATALOG_CACHE_LOCK:
        cached = _CATALOG_CACHE.get(path)
        if cached is not None and cached[0] == mtime:
            return cached[1], cached[2]
        catalog = Catalog.load(path)
        index = SearchIndex(catalog)
        _CATALOG_CACHE[path] = (mtime, catalog, index)
        return catalog, index


class SimulatedSpotify:
    """A simulated Spotify Web API and accounts service over real HTTP.

    Args:
        catalog_path: The catalog JSON file (default: the bundled one). A ``Catalog`` object may
            be passed as ``catalog`` instead.
        host: Interface to listen on.
        port: Port to listen on; 0 picks a free one.
        latency_ms: Delay added to every request (settable later as ``latency_ms``).
        computer_name: Name of the "Computer" device (default: this host's name).
        computer_online: Whether the Computer device is listed at start; when False it appears
            on ``set_device_online("Computer", True)`` (or the ``/_sim`` control endpoint).
        consent: What ``/authorize`` does: "ask" (consent page), "approve" or "deny" at once.
        access_token_ttl: Lifetime of access tokens in seconds.
        rotate_refresh_tokens: Whether a refresh returns a new refresh token and retires the old.
        catalog: A ready catalog (tests); overrides ``catalog_path``.
        seed: Seed for shuffle order and probabilistic faults.
        keep_exchanges: Whether to keep every exchange in ``exchanges`` (long benchmarks may
            turn this off and use ``on_exchange``).
        on_exchange: Called with every exchange, on the server thread that answered it.
        world_file: Keep the world in this SQLite file, shared with every simulator given the
            same file, in this process or another (demo mode: see ``world_file.py``); playback
            then runs on the wall clock. None (the tests, the benchmarks): a world of its own.

    Attributes:
        wall_clock: The date the simulated service lives by, in Unix seconds (when a song was
            played or saved); ``time.time`` unless a test sets another, to spread a listening
            history over days. Playback progress keeps its own clock.
    """

    def __init__(
        self,
        catalog_path: Path | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        latency_ms: float = 0.0,
        computer_name: str | None = None,
        computer_online: bool = True,
        consent: str = "ask",
        access_token_ttl: int = 3600,
        rotate_refresh_tokens: bool = True,
        catalog: Catalog | None = None,
        seed: int = 0,
        keep_exchanges: bool = True,
        on_exchange: Callable[[Exchange], None] | None = None,
        world_file: Path | None = None,
    ) -> None:
        if catalog is None:
            self.catalog, self._search = _load(catalog_path)
        else:
            self.catalog, self._search = catalog, SearchIndex(catalog)
        self._host = host
        self._port = port
        self.latency_ms = latency_ms
        self.wall_clock: Callable[[], float] = time.time
        self._lock = threading.RLock()
        self._world = World(
            self.catalog,
            computer_name=computer_name,
            computer_online=computer_online,
            # Another process takes the progress over: the one clock they share is the wall's.
            clock=time.time if world_file is not None else time.monotonic,
            wall_clock=lambda: self.wall_clock(),
            seed=seed,
        )
        # Held around every read and change of the world; with a world file, each holder takes
        # its turn at the file (the MPRIS app of the tests holds the plain lock).
        self._shared = SharedWorldLock(
            self._lock, self._world, WorldFile(world_file) if world_file is not None else None
        )
        self._accounts = Accounts(
            default_user=DEMO_USER_ID,
            consent=consent,
            access_token_ttl=access_token_ttl,
            rotate_refresh_tokens=rotate_refresh_tokens,
        )
        self._faults = Faults(seed)
        self._keep_exchanges = keep_exchanges
        self._on_exchange = on_exchange
        self._exchanges: list[Exchange] = []
        self._exchanges_lock = threading.Lock()
        self._server: SimHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._api: WebApi | None = None
        self._router: Router | None = None

    # Life cycle

    def start(self) -> SimulatedSpotify:
        """Bind the port and serve on a daemon thread; returns self."""
        if self._server is not None:
            return self
        router = Router(
            api=self._api_call,
            authorize=self._accounts.authorize,
            consent=lambda query, agree: self._accounts.answer_consent(query, agree=agree),
            token=self._accounts.token,
            control=self._control,
            lock=self._shared,
            faults=self._faults,
            on_exchange=self._record,
            latency=lambda: self.latency_ms,
        )
        server = SimHTTPServer((self._host, self._port), router)
        self._port = server.server_address[1]
        self._api = WebApi(
            self.catalog,
            self._world,
            self._accounts,
            WebObjects(self.catalog, self.api_url),
            self._search,
        )
        self._router = router
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            # Idle, the loop wakes only this often (a tray running the demo stays quiet);
            # stop() wakes it at once with a connection.
            kwargs={"poll_interval": 0.5},
            name=f"SimulatedSpotify:{self._port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and cut open connections; the port is free again when this returns."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._faults.clear()  # answers held by a fault go (to clients that may have gone)
        stopper = threading.Thread(target=server.shutdown, name="sim-stop", daemon=True)
        stopper.start()
        while stopper.is_alive():
            # Wake the serving loop so it sees the stop now, not at its next poll.
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", self._port), timeout=1).close()
            stopper.join(0.02)
        server.close_connections()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = None
        self._thread = None
        self._shared.close()

    def __enter__(self) -> SimulatedSpotify:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # Addresses

    @property
    def port(self) -> int:
        """The port served on (known once started)."""
        return self._port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self._port}"

    @property
    def api_url(self) -> str:
        """The Web API base URL: ``base_url + "/v1"``."""
        return f"{self.base_url}/v1"

    @property
    def accounts_url(self) -> str:
        """The accounts service base URL (``/authorize``, ``/api/token``)."""
        return self.base_url

    @property
    def world_file(self) -> Path | None:
        """The file the world is kept in; None when it is this simulator's own."""
        file = self._shared.file
        return file.path if file is not None else None

    # Routing glue

    def _api_call(self, request: Request) -> Reply:
        assert self._api is not None
        return self._api.handle(request)

    def _record(self, exchange: Exchange) -> None:
        if self._keep_exchanges:
            with self._exchanges_lock:
                self._exchanges.append(exchange)
        if self._on_exchange is not None:
            self._on_exchange(exchange)

    def _control(self, method: str, path: str) -> Reply:
        # Control endpoints for other processes (a fake `spotify` command a test puts on PATH).
        parts = path.strip("/").split("/")
        if method == "POST" and len(parts) == 4 and parts[1] == "devices":
            if parts[2] in ("computer", "smartphone") and parts[3] in ("online", "offline"):
                self._set_online_locked(DEMO_USER_ID, parts[2], parts[3] == "online")
                return empty_reply(204)
        if method == "POST" and len(parts) == 3 and parts[1] == "history":
            # A listening past for the demo user: track IDs, comma-separated, oldest first.
            ids = [track_id for track_id in parts[2].split(",") if track_id]
            if ids and all(track_id in self.catalog.tracks for track_id in ids):
                self._world.account(DEMO_USER_ID).player.remember_played(ids)
                return empty_reply(204)
        if method == "GET" and parts[1:] == ["state"]:
            return json_reply(200, self._snapshot_locked(DEMO_USER_ID))
        if method == "GET" and len(parts) == 3 and parts[1] == "art" and parts[2].endswith(".png"):
            album = self.catalog.albums.get(parts[2].removesuffix(".png"))
            if album is not None:
                return Reply(200, cover_png(album.id, album.name), {"Content-Type": "image/png"})
        return json_reply(404, {"error": {"status": 404, "message": "Service not found"}})

    # Accounts

    def sign_in(
        self,
        user_id: str = DEMO_USER_ID,
        client_id: str = SIM_CLIENT_ID,
        scope: str = ALL_SCOPES,
    ) -> dict[str, Any]:
        """Sign a user in without the browser; returns the token response.

        Returns:
            ``access_token``, ``token_type``, ``expires_in``, ``scope`` and ``refresh_token``.
        """
        with self._shared:
            self._world.account(user_id)
            return self._accounts.issue(user_id, client_id, scope)

    def expire_access_tokens(self) -> None:
        """Every issued access token now answers 401 "The access token expired"."""
        with self._shared:
            self._accounts.expire_access_tokens()

    def revoke_grants(self) -> None:
        """Every refresh token now answers ``invalid_grant``."""
        with self._shared:
            self._accounts.revoke_grants()

    @property
    def consent(self) -> str:
        """What ``/authorize`` does: "ask", "approve" or "deny"."""
        return self._accounts.consent

    @consent.setter
    def consent(self, value: str) -> None:
        if value not in ("ask", "approve", "deny"):
            raise ValueError("consent must be 'ask', 'approve' or 'deny'")
        self._accounts.consent = value

    # Users and devices

    def set_user_status(
        self,
        user_id: str = DEMO_USER_ID,
        *,
        premium: bool | None = None,
        owner_premium: bool | None = None,
        allow_listed: bool | None = None,
    ) -> None:
        """Change a user's development-mode status.

        Args:
            user_id: The user.
            premium: False: player commands answer 403 PREMIUM_REQUIRED.
            owner_premium: False: every endpoint answers 403 "Active premium subscription
                required for the owner of the app."
            allow_listed: False: every endpoint answers 403 "Check settings on
                developer.spotify.com/dashboard, the user may not be registered."
        """
        with self._shared:
            account = self._world.account(user_id)
            if premium is not None:
                account.premium = premium
            if owner_premium is not None:
                account.owner_premium = owner_premium
            if allow_listed is not None:
                account.allow_listed = allow_listed

    def set_device_online(self, device: str, online: bool, *, user_id: str = DEMO_USER_ID) -> None:
        """List or unlist a device: "Computer" or "Smartphone" (or a device's name)."""
        with self._shared:
            self._set_online_locked(user_id, device, online)

    def _set_online_locked(self, user_id: str, device: str, online: bool) -> None:
        player = self._world.account(user_id).player
        player.set_online(player.device_named(device), online)

    def computer_app(self, user_id: str = DEMO_USER_ID) -> ComputerApp:
        """The Spotify desktop app on the Computer device, sharing this simulator's state.

        Serve it over MPRIS with ``assistant.sim.mpris.MprisService`` (tests, benchmarks).
        """
        with self._shared:
            player = self._world.account(user_id).player
        return ComputerApp(
            player,
            self.catalog,
            self._lock,
            art_url=lambda album_id: f"{self.base_url}/_sim/art/{album_id}.png",
        )

    def add_device(
        self,
        name: str,
        type_: str = "Computer",
        *,
        online: bool = True,
        volume_percent: int = 50,
        user_id: str = DEMO_USER_ID,
    ) -> str:
        """Give a user another device (a second computer at home, a speaker).

        Args:
            name: The device's name; ``set_device_online`` finds it by this name.
            type_: Its Spotify device type ("Computer", "Speaker", ...).
            online: Whether it is listed from the start.
            volume_percent: Its volume.
            user_id: The user.

        Returns:
            The device's id (stable: derived from its type and name).
        """
        device = Device(
            id=device_id_for(name, type_),
            name=name,
            type=type_,
            online=online,
            volume_percent=volume_percent,
        )
        with self._shared:
            self._world.account(user_id).player.devices.append(device)
        return device.id

    @property
    def devices(self) -> list[dict[str, Any]]:
        """The Web API device objects of the demo user's listed devices."""
        with self._shared:
            player = self._world.account(DEMO_USER_ID).player
            active = player.active_device()
            objects = self._objects()
            return [
                objects.device(d, active=active is not None and d.id == active.id)
                for d in player.listed_devices()
            ]

    def _objects(self) -> WebObjects:
        return WebObjects(self.catalog, self.api_url)

    # Faults and latency

    def add_fault(self, fault: Fault) -> None:
        """Inject ``fault`` into matching requests."""
        self._faults.add(fault)

    def clear_faults(self) -> None:
        """Stop injecting faults; answers a fault holds are sent now."""
        self._faults.clear()

    # What happened

    @property
    def exchanges(self) -> list[Exchange]:
        """Every HTTP exchange so far, in order (a copy)."""
        with self._exchanges_lock:
            return list(self._exchanges)

    @property
    def removed_endpoint_calls(self) -> list[str]:
        """``"METHOD /path"`` of every call to an endpoint closed to new dev-mode apps."""
        with self._shared:
            return list(self._api.removed_calls) if self._api is not None else []

    @property
    def server_errors(self) -> list[str]:
        """``"METHOD /path"`` of every request the simulator failed on with a bug (500)."""
        return list(self._router.server_errors) if self._router is not None else []

    def snapshot(self, user_id: str = DEMO_USER_ID) -> dict[str, Any]:
        """The user's playback, playlists and library, as plain data for assertions."""
        with self._shared:
            return self._snapshot_locked(user_id)

    def _snapshot_locked(self, user_id: str) -> dict[str, Any]:
        account = self._world.account(user_id)
        state = account.player.state()
        tracks = self.catalog.tracks
        return {
            "active_device_id": state.device.id if state.device is not None else None,
            "is_playing": state.is_playing,
            "track_uri": state.track.uri if state.track is not None else None,
            "context_uri": state.context_uri,
            "progress_ms": state.progress_ms if state.track is not None else None,
            "shuffle": state.shuffle,
            "repeat": state.repeat,
            "volume_percent": state.device.volume_percent if state.device is not None else None,
            "queue": [tracks[t].uri for t in state.queue],
            "playlists": {
                p.id: {
                    "name": p.name,
                    "description": p.description,
                    "owner_id": p.owner_id,
                    "public": p.public,
                    "collaborative": p.collaborative,
                    "track_uris": [tracks[t].uri for t in p.track_ids()],
                }
                for p in account.library.playlists.values()
            },
            "library": list(account.library.saved),
        }

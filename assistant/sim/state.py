"""The simulated world: each user's account status, library, devices and player.

Accounts are made on first use from the catalog's users, so every catalog user can sign in; the
demo user ("segue-demo") is the one the consent page signs in and the one ``snapshot()`` reports.
"""

from __future__ import annotations

import random
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from assistant.sim.catalog import Catalog, User
from assistant.sim.library import Library
from assistant.sim.player import Device, Player, device_id_for

DEMO_USER_ID = "segue-demo"
SMARTPHONE_NAME = "Pixel 8"


@dataclass
class UserAccount:
    """One user: their development-mode status, library and player.

    Attributes:
        premium: Whether the user has Premium (player commands need it).
        owner_premium: Whether the app's owner has Premium (development-mode apps need it).
        allow_listed: Whether the user is on the app's user list in the dashboard.
    """

    user: User
    library: Library
    player: Player
    premium: bool
    owner_premium: bool = True
    allow_listed: bool = True


class World:
    """All users' state.

    Args:
        catalog: The catalog.
        computer_name: Name of the "Computer" device (default: this host's name).
        computer_online: Whether the Computer device is listed at start.
        clock: Seconds for playback progress: monotonic, or the wall clock for a world kept
            in a file (progress then runs on between processes).
        wall_clock: Unix seconds.
        seed: Seed of the random source (shuffle order).
    """

    def __init__(
        self,
        catalog: Catalog,
        *,
        computer_name: str | None = None,
        computer_online: bool = True,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        seed: int = 0,
    ) -> None:
        self.catalog = catalog
        self.computer_name = computer_name or socket.gethostname()
        self.computer_online = computer_online
        self._clock = clock
        self._wall = wall_clock
        self._seed = seed
        self._accounts: dict[str, UserAccount] = {}

    def account(self, user_id: str) -> UserAccount:
        """The account of ``user_id``, made on first use.

        Raises:
            KeyError: The catalog has no such user.
        """
        account = self._accounts.get(user_id)
        if account is None:
            account = self._new_account(user_id)
            self._accounts[user_id] = account
        return account

    def _new_account(self, user_id: str) -> UserAccount:
        user = self.catalog.users[user_id]
        library = Library(self.catalog, user_id, self._wall)
        devices = [
            Device(
                id=device_id_for(self.computer_name, "Computer"),
                name=self.computer_name,
                type="Computer",
                online=self.computer_online,
            ),
            Device(
                id=device_id_for(SMARTPHONE_NAME, "Smartphone"),
                name=SMARTPHONE_NAME,
                type="Smartphone",
            ),
        ]
        player = Player(
            self.catalog,
            library,
            devices,
            clock=self._clock,
            wall_clock=self._wall,
            rng=random.Random(f"{self._seed}:{user_id}"),
        )
        return UserAccount(user, library, player, premium=user.product == "premium")

    # Keeping the state (the demo world lives in a file between processes: sim/world_file.py)

    def to_data(self) -> dict[str, Any]:
        """Every account made so far, as JSON-ready data (see ``load_data``)."""
        return {
            user_id: {
                "premium": account.premium,
                "owner_premium": account.owner_premium,
                "allow_listed": account.allow_listed,
                "library": account.library.to_data(),
                "player": account.player.to_data(),
            }
            for user_id, account in self._accounts.items()
        }

    def load_data(self, data: dict[str, Any] | None) -> None:
        """Take over the state ``to_data`` gave; None puts every account back at its start.

        Accounts are changed in place, so whoever holds one (a ``ComputerApp``) sees the new
        state. An account the data lacks starts afresh.

        Raises:
            KeyError: A user, a field or a track is not known (the world is then at its start).
            AttributeError, TypeError, ValueError: A field has the wrong shape (likewise).
        """
        try:
            for user_id, item in (data or {}).items():
                account = self.account(user_id)
                account.library.load_data(item["library"])
                account.player.load_data(item["player"])
                account.premium = bool(item["premium"])
                account.owner_premium = bool(item["owner_premium"])
                account.allow_listed = bool(item["allow_listed"])
        except (AttributeError, KeyError, TypeError, ValueError):
            self.load_data(None)
            raise
        for user_id, account in self._accounts.items():
            if data is None or user_id not in data:
                fresh = self._new_account(user_id)
                account.library.load_data(fresh.library.to_data())
                account.player.load_data(fresh.player.to_data())
                account.premium = fresh.premium
                account.owner_premium = fresh.owner_premium
                account.allow_listed = fresh.allow_listed

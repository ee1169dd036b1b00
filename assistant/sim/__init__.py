"""A simulated Spotify (Web API subset and accounts service) over real HTTP on 127.0.0.1.

Demo mode, the tests and the benchmarks run against it; see ``SimulatedSpotify``.
"""

from assistant.sim.accounts import ALL_SCOPES, SIM_CLIENT_ID
from assistant.sim.catalog import Catalog, CatalogError
from assistant.sim.server import Exchange, Fault
from assistant.sim.simulator import SimulatedSpotify
from assistant.sim.standalone import exchange_to_json, run_standalone

__all__ = [
    "ALL_SCOPES",
    "SIM_CLIENT_ID",
    "Catalog",
    "CatalogError",
    "Exchange",
    "Fault",
    "SimulatedSpotify",
    "exchange_to_json",
    "run_standalone",
]

"""The taste memory over real HTTP: the simulated Spotify, its calendar moved by the test.

``listener`` assembles what ``app.build_agent`` assembles for the fast path (SpotifyTools and
TasteTools over one memory, the registry, the grammar), with the memory in a file and one calendar
for the simulated Spotify (when songs were played and saved) and the memory (when Segue saw a like,
a skip, a word), so a week of listening takes a few seconds.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from assistant.agent import intents
from assistant.agent.agent import Agent
from assistant.agent.spotify_tools import SpotifyTools
from assistant.agent.taste_tools import TasteTools
from assistant.agent.tools import ToolRegistry
from assistant.pipeline import Pipeline, Reply, Utterance
from assistant.sim import SimulatedSpotify
from assistant.spotify.client import SpotifyClient
from assistant.spotify.devices import LocalPlayer
from assistant.taste import TasteMemory
from tests.agent_tools.helpers import activate_computer, device_id, track_uri

DAY = 86_400.0


class Calendar:
    """Unix seconds that the test moves day by day; each reading is a second later."""

    def __init__(self) -> None:
        self.today = time.time()
        self.now = self.today

    def __call__(self) -> float:
        self.now += 1.0  # time passes between two things that happen
        return self.now

    def day(self, offset: int) -> None:
        """Go to ``offset`` days from today (negative: the past), at the start of that day."""
        self.now = self.today + offset * DAY


@dataclass
class Listener:
    """A person who listens through Segue and through Spotify's own app."""

    sim: SimulatedSpotify
    client: SpotifyClient
    memory: TasteMemory
    tools: TasteTools
    registry: ToolRegistry
    pipeline: Pipeline
    calendar: Calendar

    def say(self, text: str) -> Reply:
        """A typed command, through the pipeline as every front end sends it."""
        reply = self.pipeline.handle(Utterance(text=text, source="test"))
        assert reply.ok, reply.text
        return reply

    def new_day(self, offset: int) -> None:
        """A day begins: the tray warms up for the first command (the plays are learned)."""
        self.calendar.day(offset)
        self.pipeline.agent.warm_up()

    def hear_to_the_end(self, name: str, artist: str) -> None:
        """The song plays to its end in Spotify's app (no Segue command)."""
        uri = track_uri(self.sim, name, artist)
        duration = self.sim.catalog.tracks[uri.rsplit(":", 1)[-1]].duration_ms
        computer = device_id(self.sim, "Computer")
        self.client.play(uris=[uri], device_id=computer, position_ms=duration - 150)
        deadline = time.monotonic() + 5
        while self.sim.snapshot()["is_playing"]:  # it stops at its end (nothing after it)
            assert time.monotonic() < deadline, "the song did not end"
            time.sleep(0.01)

    def listen_for(self, seconds: int) -> None:
        """Listen to what plays for a while (the app's position bar moved there)."""
        self.client.seek(seconds * 1000)


@pytest.fixture
def calendar(sim: SimulatedSpotify) -> Calendar:
    made = Calendar()
    sim.wall_clock = made
    return made


@pytest.fixture
def memory(calendar: Calendar, tmp_path: Path) -> TasteMemory:
    return TasteMemory(tmp_path / "data" / "taste.sqlite3", clock=calendar)


@pytest.fixture
def listener(
    sim: SimulatedSpotify,
    client: SpotifyClient,
    player: LocalPlayer,
    memory: TasteMemory,
    calendar: Calendar,
) -> Listener:
    activate_computer(sim, client)
    tools = TasteTools(memory, client, player, clock=calendar)
    registry = ToolRegistry(SpotifyTools(client, player, taste=memory), tools)
    pipeline = Pipeline(Agent(registry, fast_path=intents.parse, llm=None))
    return Listener(sim, client, memory, tools, registry, pipeline, calendar)

"""TasteTools: the taste memory as tools, beside the Spotify tools in the one registry.

``taste_feedback`` keeps what the person says about the current song or its artist ("I love
this", "no more of this artist"); ``play_favourites`` plays the songs the memory says they like
("play something I like", "my favourites from this month"), and without such evidence says so and
changes nothing: never a guess. Before picking songs, and when Segue warms up for a command, the
memory learns Spotify's recently-played list (one request; see assistant/taste/).

The other evidence is kept where it happens, by ``SpotifyTools``: likes and unlikes, skips within
30 s, and the ranking of "more like this".
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Literal

from assistant.agent.spotify_tools import NOTHING_PLAYING
from assistant.agent.tools import Change, ToolOutput, tool
from assistant.agent.undo import UNKNOWN, playback_record
from assistant.errors import NotFound, SegueError
from assistant.spotify.client import SpotifyClient
from assistant.spotify.control import PlayerControl
from assistant.spotify.devices import LocalPlayer
from assistant.taste import Kind, Song, TasteMemory
from assistant.text.names import as_data as _data
from assistant.text.names import one_line as _clean
from assistant.text.names import quoted as _q

logger = logging.getLogger(__name__)

PLAY_SET = 10  # songs "play something I like" plays
MONTH_DAYS = 30  # "this month"
SYNC_SECONDS = 60.0  # warm-ups read the recently-played list at most this often

NOTHING_LEARNED = (
    "Segue hasn't learned what you like yet: like songs or say “I love this”, and it will."
)
NOTHING_THIS_MONTH = "Segue has no favourites of yours from the last 30 days yet."

# What the person said, as evidence: (about, liked) -> kind.
_FEEDBACK: dict[tuple[str, bool], Kind] = {
    ("song", True): "loved",
    ("song", False): "disliked",
    ("artist", True): "artist_liked",
    ("artist", False): "artist_avoided",
}
# The reply to each ({song} and {artist} are filled in).
_SAID: dict[Kind, str] = {
    "loved": "you love {song}",
    "disliked": "Segue won't pick {song} for you",
    "artist_liked": "you like {artist}",
    "artist_avoided": "Segue will leave {artist} out of what it picks for you",
}


class TasteTools:
    """Tools over the taste memory: feedback on what plays, and playing what the person likes.

    Args:
        memory: The taste memory (the account's, or the demo's).
        client: The Spotify client.
        player: This computer's player (brought up when nothing is active).
        control: Where "what's playing" is read and plays go (this computer's app or the Web
            API); by default the Web API only.
        clock: Monotonic clock for :data:`SYNC_SECONDS`.
    """

    def __init__(
        self,
        memory: TasteMemory,
        client: SpotifyClient,
        player: LocalPlayer,
        *,
        control: PlayerControl | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.memory = memory
        self._client = client
        self._control = control if control is not None else PlayerControl(client, player)
        self._clock = clock
        self._synced_at = float("-inf")

    def warm_up(self) -> None:
        """Learn Spotify's recently-played list, at most once every :data:`SYNC_SECONDS`."""
        if self._clock() - self._synced_at >= SYNC_SECONDS:
            self.sync()

    def sync(self) -> int:
        """Learn Spotify's recently-played list now (one request); a failure is logged.

        Returns:
            How many plays were new.
        """
        try:
            plays = self._client.recent_plays()
        except SegueError as err:
            logger.info("Recently played not read: %s", type(err).__name__)
            return 0
        self._synced_at = self._clock()
        return self.memory.add_plays(plays)

    @tool
    def taste_feedback(
        self, about: Literal["song", "artist"] = "song", liked: bool = True
    ) -> ToolOutput:
        """Remember what the person thinks of the current song or its artist; plays nothing.

        For "I don't like this song", "no more of this artist", "I love this artist". Segue
        leaves what they dislike out of what it picks for them.

        Args:
            about: The current "song", or its "artist".
            liked: True when they like it, false when they don't ("no more of this artist").
        """
        state = self._control.currently_playing()
        if state is None or state.item is None:
            raise NotFound(NOTHING_PLAYING)
        song = Song.of(state.item)
        kind = _FEEDBACK[(about, liked)]
        self.memory.note(kind, [song])
        said = _SAID[kind].format(song=_spoken(song), artist=_clean(song.artist))
        return ToolOutput(
            f"Noted: {said}.",
            f"Kept {kind} about track {_data(song.title)} by {_data(song.artist)} ({song.uri}).",
            {"kind": kind, "uri": song.uri},
        )

    @tool
    def play_favourites(self, this_month: bool = False) -> ToolOutput:
        """Play songs the person likes, from what Segue learned of their listening; never a guess.

        For "play something I like", "play my favourites"; not for a mood or a genre.

        Args:
            this_month: Only favourites from the last 30 days ("my favourites from this month").
        """
        self.sync()
        chosen = self.memory.favourites(PLAY_SET, within_days=MONTH_DAYS if this_month else None)
        if not chosen:
            return ToolOutput(NOTHING_THIS_MONTH if this_month else NOTHING_LEARNED)
        uris = [t.song.uri for t in chosen]
        try:
            before = Change("playback", playback_record(self._control.playback()))
        except SegueError as err:  # "undo" then says it cannot put back what played
            logger.info("What played before favourites was not read: %s", type(err).__name__)
            before = UNKNOWN
        self._control.play(lambda target: self._client.play(uris=uris, device_id=target), uris[0])
        first = _spoken(chosen[0].song)
        if len(uris) == 1:
            summary = f"Playing {first}, " + (
                "your favourite from the last 30 days." if this_month else "a song you like."
            )
        elif this_month:
            summary = (
                f"Playing {len(uris)} favourites from the last 30 days, starting with {first}."
            )
        else:
            summary = f"Playing {len(uris)} songs you like, starting with {first}."
        listed = "; ".join(
            f"{_data(t.song.title)} by {_data(t.song.artist)} ({t.song.uri})" for t in chosen
        )
        played = [
            {"kind": "track", "uri": t.song.uri, "name": t.song.title, "by": t.song.artist}
            for t in chosen
        ]
        return ToolOutput(summary, f"{summary} In order: {listed}.", played, changes=(before,))


def _spoken(song: Song) -> str:
    """“Creep” by Radiohead."""
    title = _q(song.title) if song.title else "this song"
    return f"{title} by {_clean(song.artist)}" if song.artist else title

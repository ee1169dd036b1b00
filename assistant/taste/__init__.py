"""The taste memory: what this person likes, learned on this computer from how they listen.

Evidence (each with its date, in SQLite in the data dir: :class:`TasteMemory`):

- songs liked or unliked through Segue (``save_to_library``, ``remove_from_library``);
- songs Segue skipped within 30 s of their start ("next");
- songs Spotify lists as played (its recently-played list: a song that played for more than
  30 s; a song repeated is listed each time), read when Segue warms up for a command and before
  it picks songs from the memory;
- what the person says: "I love this", "I don't like this song", "no more of this artist"
  (the ``taste_feedback`` tool).

Beliefs, derived from the evidence each time (:mod:`assistant.taste.beliefs`): a score per song
and per artist, the artists to leave out. They choose what "play something I like" plays, order
and filter the model's "more like this" suggestions, and give the model a few lines about the
person's favourite and avoided artists. ``segue taste`` shows them; ``segue taste forget`` deletes.
The demo keeps a memory of its own, never mixed with an account's.
"""

from __future__ import annotations

from assistant.taste.beliefs import ArtistBelief, Beliefs, Evidence, Kind, Song, TrackBelief
from assistant.taste.memory import TasteMemory

__all__ = [
    "ArtistBelief",
    "Beliefs",
    "Evidence",
    "Kind",
    "Song",
    "TasteMemory",
    "TrackBelief",
]

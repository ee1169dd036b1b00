"""What people say to Segue, as data: commands it must carry out, and traps it must leave alone.

``POSITIVE`` holds commands that Segue's fast path understands when typed (``parse(text)`` is
not None), the way a person says them: short ("pause", "skip", "louder"), with number words
("volume seventy"), with titles, albums, artists and playlists from the simulator's catalog and
its demo user. Every command runs on a fresh demo Segue that is already playing "Bohemian
Rhapsody" by Queen (volume 50, shuffle and repeat off, nothing queued, nothing liked); a command
that would change nothing there ("resume", "shuffle off") first runs its ``before`` commands,
typed.

``NEGATIVE`` holds what a person might say to a voice assistant that is not a music command, and
open-vocabulary traps that read like one ("can I hear the news", "give me the time"): each must
change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    """One thing to say.

    Attributes:
        text: The words, as a person says them.
        topic: What kind of command it is ("volume", "play title"...), for reports.
        before: Typed commands that run first (after the demo's setup), so that this one has
            something to change.
    """

    text: str
    topic: str
    before: tuple[str, ...] = ()


def _c(text: str, topic: str, *before: str) -> Command:
    return Command(text, topic, tuple(before))


POSITIVE: tuple[Command, ...] = (
    # playback
    _c("pause", "pause"),
    _c("pause the music", "pause"),
    _c("resume", "resume", "pause"),
    _c("keep playing", "resume", "pause"),
    _c("next", "next"),
    _c("skip", "next"),
    _c("skip this song", "next"),
    _c("previous", "previous"),
    _c("go back", "previous"),
    # volume: absolute with number words, relative, mute
    _c("volume seventy", "volume"),
    _c("set the volume to thirty percent", "volume"),
    _c("louder", "volume"),
    _c("turn it up", "volume"),
    _c("turn the volume down", "volume"),
    _c("mute", "mute"),
    _c("unmute", "mute", "mute"),
    # shuffle and repeat
    _c("shuffle on", "shuffle"),
    _c("turn on shuffle", "shuffle"),
    _c("shuffle off", "shuffle", "shuffle on"),
    _c("turn shuffle off", "shuffle", "shuffle on"),
    _c("repeat this song", "repeat"),
    # questions (they only read)
    _c("what's playing", "what's playing"),
    _c("who sings this", "what's playing"),
    _c("what's next", "what's next"),
    _c("show my playlists", "show"),
    _c("show my devices", "show"),
    # library
    _c("like this", "like"),
    _c("like this song", "like"),
    _c("add this to Chill Vibes", "add to playlist"),
    _c("add this to Focus Piano", "add to playlist"),
    # queue
    _c("queue billie jean", "queue"),
    _c("add billie jean to the queue", "queue"),
    _c("queue Come Together by the Beatles", "queue"),
    # a title by an artist ("Hello" by Adele is not in the catalog; "Rolling in the Deep" is)
    _c("play Rolling in the Deep by Adele", "play title"),
    _c("play Billie Jean by Michael Jackson", "play title"),
    _c("play Creep by Radiohead", "play title"),
    _c("play Mr. Brightside by the Killers", "play title"),
    _c("play Blinding Lights by the Weeknd", "play title"),
    # albums, artists, playlists
    _c("play the album Rumours", "play album"),
    _c("play the album Thriller", "play album"),
    _c("play songs by Daft Punk", "play artist"),
    _c("play songs by Taylor Swift", "play artist"),
    _c("play my playlist Deep Work", "play playlist"),
    _c("play my Morning Run playlist", "play playlist"),
    # devices
    _c("switch to Pixel 8", "device"),
)

NEGATIVE: tuple[Command, ...] = (
    # open-vocabulary traps: "can I hear X", "give me X" read like "play X"
    _c("can I hear the news", "trap"),
    _c("give me the time", "trap"),
    _c("play a game with me", "trap"),
    _c("give me directions home", "trap"),
    _c("play the news", "trap"),
    # other assistants' jobs
    _c("can I get a taxi", "other"),
    _c("what's the weather", "other"),
    _c("what's the time", "other"),
    _c("set an alarm for seven", "other"),
    _c("remind me to buy milk", "other"),
    _c("call mom", "other"),
    _c("send a message to John", "other"),
    _c("turn on the lights", "other"),
    _c("turn off the lights", "other"),
    _c("read my email", "other"),
    _c("tell me a joke", "other"),
    _c("open the door", "other"),
    _c("how far is the moon", "other"),
    _c("order a pizza", "other"),
    _c("add milk to my shopping list", "other"),
)

CORPORA: dict[str, tuple[Command, ...]] = {"positive": POSITIVE, "negative": NEGATIVE}

# What a regular listener has played lately (oldest first), for the runs "with their history":
# Segue fills the grammar's sentences with the titles and artists of recent plays, so a person
# saying a song they know is checked against it. It holds the corpus's titles among rivals that
# sound alike or share words ("Creep" by TLC, two "Halo"s, two "Dreams", "Beat It" from
# "Thriller"), and artists the corpus plays songs of (Daft Punk, Taylor Swift).
HISTORY: tuple[str, ...] = (
    "Creep by TLC",
    "Halo by Beyoncé",
    "Halo by Depeche Mode",
    "Dreams by Fleetwood Mac",
    "Dreams by The Cranberries",
    "Beat It by Michael Jackson",
    "Get Lucky (feat. Pharrell Williams and Nile Rodgers) by Daft Punk",
    "Blank Space by Taylor Swift",
    "Clean by Taylor Swift",
    "Hurt by Johnny Cash",
    "Hallelujah by Jeff Buckley",
    "Feeling Good by Nina Simone",
    "Hey Ya! by OutKast",
    "Levitating by Dua Lipa",
    "Clocks by Coldplay",
    "Enter Sandman by Metallica",
    "Lose Yourself by Eminem",
    "Skinny Love by Bon Iver",
    "Sweet Child O' Mine by Guns N' Roses",
    "Ain't No Sunshine by Bill Withers",
    "Nuvole bianche by Ludovico Einaudi",
    "Hey Brother by Avicii",
    "Rolling in the Deep by Adele",
    "Billie Jean by Michael Jackson",
    "Creep by Radiohead",
    "Mr. Brightside by The Killers",
    "Blinding Lights by The Weeknd",
    "Come Together by The Beatles",
)

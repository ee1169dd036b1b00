"""The fast path: common spoken or typed commands become tool calls without a model call.

:func:`parse` reads one utterance and returns the :class:`~assistant.agent.tools.ToolCall` list
the model would make for it (same tool names and argument names; arguments that take their
default are left out), or None when it does not fully understand the text; the LLM decides then.
It uses one dictionary lookup and precompiled regular expressions, takes microseconds, and never
touches the network.

Normalisation: case is ignored (names keep the case they were typed in); curly quotes become
straight ones; surrounding punctuation and quotes go; polite filler goes ("hey segue", "please",
"could you", "can you", "just" ... in front; "please", "now", "thanks", "for me" at the end of a
command that carries no name; any of them after a comma); numbers may be words ("thirty", "forty
five", "a hundred") with "%" or "percent".

Rules for the ambiguous cases:

- Steps: relative volume moves 10 points ("louder", "turn it down", "a bit louder") or 20 with an
  intensifier ("much louder", "a lot quieter", "way louder", "crank it up"); "turn it up by 15"
  and "volume down 15 percent" move that many points; "turn it up to 70" is absolute. A bare
  "rewind" / "fast forward" moves 10 seconds.
- Names keep their words: a trailing "now" stays in the name ("play Don't Stop Me Now"); a name
  ending in "please", "thanks" or "for me" without a comma goes to the LLM ("Pretty Please",
  "Pray for Me"), while "play X, please" is fine.
- Titles made of command words are names: "play Stop", "play Pause", "play Back in Black",
  "play Skip to My Lou", "play Next to Me". Bare "play" resumes; "play it louder" is volume.
- "by": "play X by Y" splits at the last " by ", except when Y starts with a pronoun or a
  possessive ("Stand by Me", "Stand by Your Man") or repeats the word before "by" ("Side by
  Side"); the whole text is the title then. A wrong split ("Saved by the Bell") makes the tool
  answer "not found" rather than play something else.
- "play X next" queues X, unless "next" ends a title ("Thank U, Next", "Who's Next").
  "play X on repeat" is two calls: play X, then repeat the track.
- Artists: "play the artist/band X", "play songs/music by X", "play X's music/songs" and "play
  some songs by X" are ``kind="artist"``. "play some X", "play X songs", "play X music", "play
  jazz" (only genre or mood words) go to the LLM: that is what genres and moods look like.
- Playlists: "play my playlist X", "play my X playlist", "play the playlist X", "play X playlist"
  are ``kind="playlist"``. "play my X" without the word goes to the LLM, which knows the playlist
  names: "My Way" is a title, and "my liked songs" / "my favorites" are not playlists.
- Devices: "play X on Y" takes Y as a device only when it names one (speaker, phone, computer,
  laptop, TV, Echo, Sonos, Pixel, ...; or a room: "in the kitchen"): "play Sitting on the Dock of
  the Bay" and "play On the Floor" are titles. "the"/"my" are dropped from device names. "switch
  to Y" and "play on Y" need such a word too; "switch playback to Y", "move the music to Y" and
  "transfer to Y" take any name. "here", "this computer", "this laptop" become "this computer",
  a device type the tools know. "resume/continue on Y" and "play music on Y" resume there.
- Identification: "what's playing", "what is this", "who is this", "who sings this" are
  ``now_playing``; questions *about* the music ("who is this band", "tell me about this song")
  go to the LLM.
- The current track: "this", "it", "this song" mean the current track; "that" refers to
  something said earlier and goes to the LLM ("add that to my workout playlist"). "like this",
  "save this song", "add this to my library / liked songs", "I love this song" save it; "add this
  to my favorites" goes to the LLM (a playlist called Favorites, or Liked Songs?). Removing
  anything goes to the LLM.
- Numbered results: "play number 2", "number three", "the second one", "option 2" play that
  result; a bare "2" does not (it may answer a question, or be a title: "22").
- Always the LLM's: descriptions ("play something relaxing", "play that song from Titanic", "the
  song that goes ...", "play a relaxing song", "play the new Taylor Swift album"), "play some
  <words>", several steps ("... and turn it up", "and then", "after this", "when this ends"),
  conditions and timers ("if ...", "in 10 minutes"), corrections ("no, the live version", "not
  this one", "... instead"), "X from Y", versions, making playlists, names of more than ten words
  and text longer than 300 characters.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from assistant.agent.tools import ToolCall
from assistant.spotify.links import parse_spotify_ref

__all__ = ["parse"]

_I = re.IGNORECASE

# Relative volume steps, in percentage points.
STEP = 10
BIG_STEP = 20
# Seconds moved by a bare "rewind" / "fast forward".
SEEK_STEP = 10
# The longest name (in words) the fast path passes on; longer text is probably a description.
MAX_NAME_WORDS = 10
# The longest text the fast path reads (a command with a long Spotify link fits easily).
MAX_TEXT = 300
# The highest result number "play number N" accepts (search shows at most 10, playlists 50).
MAX_RESULT_NUMBER = 50

# --------------------------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------------------------

_UNITS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fourty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_UNIT_VALUES = {word: value for value, word in enumerate(_UNITS)}
_SMALL_UNITS = "|".join(_UNITS[9:0:-1])  # nine..one, for "forty five"
_ALL_UNITS = "|".join(sorted(_UNITS, key=len, reverse=True))  # "seventeen" before "seven"
_TENS_WORDS = "|".join(_TENS)
_WORDS = (
    rf"(?:(?:a|one)\s+hundred|hundred|(?:{_TENS_WORDS})(?:[\s-]+(?:{_SMALL_UNITS}))?|{_ALL_UNITS})"
)
# A number in digits (up to three) or in words up to a hundred.
NUM = rf"(?:\d{{1,3}}|{_WORDS})"


def number_value(text: str) -> int | None:
    """The value of a number matched by ``NUM`` ("30", "thirty", "forty-five", "a hundred")."""
    words = text.lower().replace("-", " ").split()
    if not words:
        return None
    if words[0].isdigit():
        return int(words[0])
    if words[-1] == "hundred":
        return 100
    total = 0
    for word in words:
        if word in _TENS:
            total += _TENS[word]
        elif word in _UNIT_VALUES:
            total += _UNIT_VALUES[word]
        else:
            return None
    return total


ORDINALS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
}
_ORD = rf"(?:{'|'.join(ORDINALS)}|\d{{1,2}}(?:st|nd|rd|th))"


def _ordinal(text: str) -> int:
    word = text.lower()
    return ORDINALS[word] if word in ORDINALS else int(word[:-2])


# --------------------------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------------------------

_TRANSLATE = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u00b4": "'",
        "`": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2026": "...",
        "\u00a0": " ",
    }
)
_EDGES = ' .,!?;:"'

_LEADING = re.compile(
    r"^(?:hey|hi|hello|ok(?:ay)?|yo|so|um+|uh+|erm?|hmm+|oh|well|alright|all\s+right|"
    r"segue|segway|please|pls|plz|kindly|just|quickly|"
    r"would\s+you\s+mind|(?:could|can|would|will)\s+you(?:\s+please)?|"
    r"i\s+want\s+you\s+to|i'?d\s+like\s+you\s+to|go\s+ahead\s+and)\b[\s,.!]*",
    _I,
)
_FILLER_WORDS = (
    r"please|pls|plz|thanks|thank\s+you|thx|now|right\s+now|for\s+me|segue|segway|already|"
    r"quickly|immediately"
)
# Filler after a comma ends any command, names included ("play Thriller, please").
_COMMA_FILLER = re.compile(rf"\s*,\s*(?:{_FILLER_WORDS}|ok(?:ay)?|mate|buddy)$", _I)
# Filler without a comma ends only commands that carry no name ("pause now", "volume 30 please").
_TRAILING_FILLER = re.compile(rf"\s+(?:{_FILLER_WORDS})$", _I)
# A name that ends like this may be a title ("Pretty Please", "Pray for Me"): the LLM decides.
_NAME_ENDS_IN_FILLER = re.compile(r"\b(?:please|thanks|thank\s+you|thx|for\s+me|for\s+us)$", _I)


def _strip_edges(text: str) -> str:
    text = text.strip(_EDGES)
    if len(text) > 1 and text[0] == "'" and text[-1] == "'":
        text = text[1:-1].strip(_EDGES)
    return text


def _normalise(text: str) -> str:
    """Straight quotes, single spaces, no surrounding punctuation or polite filler; case kept."""
    text = _strip_edges(" ".join(text.translate(_TRANSLATE).split()))
    while True:
        before = text
        text = _strip_edges(_LEADING.sub("", text, count=1))
        text = _strip_edges(_COMMA_FILLER.sub("", text, count=1))
        if text == before:
            return text


def _strip_trailing_filler(text: str) -> str:
    """Drop filler words at the end, each word once ("play Please Please Please" keeps two)."""
    seen: set[str] = set()
    while True:
        match = _TRAILING_FILLER.search(text)
        if match is None:
            return text
        word = " ".join(match.group(0).lower().split())
        if word in seen:
            return text
        seen.add(word)
        text = _strip_edges(text[: match.start()])


def _key(text: str) -> str:
    """The lookup form of a fixed phrase: lower case, no apostrophes, commas or hyphens."""
    return " ".join(text.lower().replace("'", "").replace(",", " ").replace("-", " ").split())


# --------------------------------------------------------------------------------------------
# Fixed phrases (no names, no numbers): one dictionary lookup
# --------------------------------------------------------------------------------------------


def _expand(pattern: str) -> Iterator[str]:
    """Spell out "(a|b|) c" into "a c", "b c", "c" (an empty choice makes the part optional)."""
    start = pattern.find("(")
    if start < 0:
        yield " ".join(pattern.split())
        return
    end = pattern.index(")", start)
    for choice in pattern[start + 1 : end].split("|"):
        yield from _expand(pattern[:start] + choice + pattern[end + 1 :])


_THIS_SONG = "(it|this|this song|this track|this one|the song|the track|the current song|)"

_FIXED_PHRASES: list[tuple[str, dict[str, Any], tuple[str, ...]]] = [
    (
        "pause",
        {},
        (
            "(pause|stop|hold) (it|this|the music|music|the song|this song|the track|this track"
            "|playback|the playback|spotify|everything|playing|the player|)",
            "pause (for a|for a sec|for a second|for a moment|for a minute|a sec|a second)",
            "(hold on|hang on|shut up|be quiet|silence|shush|quiet please|stop stop)",
            "turn (it|the music|this|spotify|the song) off",
            "turn off (the music|spotify|the song)",
            "(stop|pause) (the|) (music|song|track) (please|)",
        ),
    ),
    (
        "resume",
        {},
        (
            "(resume|continue|unpause|un pause) (it|the music|music|playback|the playback|playing"
            "|the song|the track|spotify|play|)",
            "play (it|music|the music|spotify|)",
            "(keep playing|keep going|carry on|start playing|start the music|start music)",
            "(go on|unpause the song|resume where i left off|resume where we left off)",
        ),
    ),
    (
        "next_track",
        {},
        (
            "(skip|next)",
            "(skip|next) (song|track|one)",
            "skip (this|it|this song|this track|this one|the song|the track|the current song)",
            "(play|go to|skip to|jump to|move to|move on to|on to) (the|) next (song|track|one|)",
            "(skip forward|move on|next please|another one please|skip this song please)",
        ),
    ),
    (
        "previous_track",
        {},
        (
            "(back|previous|prev|go back|skip back|jump back|move back|skip backwards"
            "|skip backward|back one)",
            "(go|skip|jump|move|) back (a|one|1) (song|track)",
            "(play|go to|skip to|jump to|go back to|back to|) (the|) (previous|last) "
            "(song|track|one)",
            "previous (song|track|one)",
        ),
    ),
    (
        "seek",
        {"seconds": 0},
        (
            "restart (it|this|the song|this song|the track|this track|the current song|)",
            "start (it|this|this song|the song|) over",
            "(play|start|play it|play this|play the song|play this song|start it|start this|"
            "start the song|take it|) from the (start|beginning|top)",
            "(go back|back|go|skip|jump|rewind|seek|skip back) to the (start|beginning)",
            "(go back|back|go|skip|jump|rewind|seek|skip back) to the (start|beginning) of "
            "(the|this) (song|track)",
            "replay (this song|this track|the song|this|)",
            "rewind (the|this) (song|track)",
            "(play|start) (this song|the song|this track|it) (again|) from the (start|beginning)",
        ),
    ),
    (
        "seek",
        {"seconds": -SEEK_STEP, "relative": True},
        (
            "(rewind|go back a bit|skip back a bit|jump back a bit|rewind a bit|back a bit"
            "|rewind a little)",
        ),
    ),
    (
        "seek",
        {"seconds": SEEK_STEP, "relative": True},
        (
            "(fast forward|skip ahead a bit|jump ahead a bit|go forward a bit|fast forward a bit"
            "|forward a bit)",
        ),
    ),
    (
        "now_playing",
        {},
        (
            "(whats|what is) (playing|this|on|currently playing|playing right now|this song"
            "|this track|the song|the song playing|the track|the current song|this called"
            "|this song called|the name of this song|the name of this track"
            "|the name of the song|the song called|this tune)",
            "(what|which) (song|track|tune) is (this|playing|on)",
            "(what|which) song (is this|am i hearing)",
            "what am i (listening to|hearing)",
            "what are we (listening to|hearing)",
            "(who sings|who sang|who is singing|whos singing|who is this|whos this"
            "|who is this by|whos this by|who is playing|whos playing|who performs) "
            "(this|this song|this track|)",
            "(now playing|current song|current track|name this song|name that tune"
            "|song name|track name|identify this song)",
        ),
    ),
    (
        "save_to_library",
        {},
        (
            "(like|save|heart|favorite|favourite|love) " + _THIS_SONG,
            "(i like|i love|i really like|i really love) (this|this song|this track|it|this one)",
            "(add|save|put) "
            + _THIS_SONG
            + " (to|in|into) (my|the|) (library|liked songs|likes|saved songs|spotify library"
            "|collection|liked tracks)",
            "like (song|track)",
            "save (song|track|to library|to my library|to liked songs|it to my library)",
        ),
    ),
    ("mute", {}, ("mute (it|the music|the sound|the volume|this|spotify|everything|audio|)",)),
    (
        "mute",
        {"muted": False},
        (
            "(unmute|un mute) (it|the music|the sound|the volume|this|spotify|audio|)",
            "(sound on|turn the sound back on|turn the sound on)",
        ),
    ),
    (
        "set_shuffle",
        {"on": True},
        (
            "shuffle (on|this|it|mode|mode on|play|the playlist|this playlist|the album"
            "|this album|the songs|the queue|everything|)",
            "(turn|switch|set|put) (on shuffle|shuffle on|shuffle mode on|on shuffle mode)",
            "(enable|activate|start) (shuffle|shuffling|shuffle mode)",
            "(put|play) (it|this|this playlist|this album|the music|) on shuffle",
            "(play|put) (it|this|) (shuffled|in shuffle mode|on shuffle mode)",
        ),
    ),
    (
        "set_shuffle",
        {"on": False},
        (
            "(shuffle off|shuffle mode off|unshuffle|no shuffle|no more shuffle|no shuffling"
            "|stop shuffling|stop shuffle|stop the shuffle|dont shuffle|do not shuffle"
            "|play in order|turn shuffling off|turn off shuffling)",
            "(turn|switch|set|put) (off shuffle|shuffle off|shuffle mode off|off shuffle mode)",
            "(disable|deactivate|end) (shuffle|shuffling|shuffle mode)",
        ),
    ),
    (
        "set_repeat",
        {"mode": "track"},
        (
            "(repeat|loop) (this|it|this song|this track|the song|the track|this one"
            "|the current song|song|track|one|1)",
            "set repeat (to|on) (one|track|song|this song|the song|this track)",
            "(put|play|keep) (it|this|this song|this track|the song) on (repeat|loop|a loop)",
            "(on repeat|on loop|repeat mode track|repeat one song|repeat the current track"
            "|keep playing this song|keep playing this|set repeat to track|repeat track on)",
        ),
    ),
    (
        "set_repeat",
        {"mode": "context"},
        (
            "(repeat|loop) (the|this) (album|playlist|queue|record)",
            "(repeat|loop) (all|everything|on|mode on)",
            "(turn|switch|set|put) (on repeat|repeat on|on loop|loop on)",
            "(enable|activate) (repeat|looping|loop)",
            "put (the|this) (album|playlist) on (repeat|loop)",
            "set repeat to (context|all|album|playlist)",
        ),
    ),
    (
        "set_repeat",
        {"mode": "off"},
        (
            "(repeat off|loop off|no repeat|no more repeat|no repeating|unrepeat|stop repeating"
            "|stop repeat|stop looping|stop the loop|dont repeat|do not repeat|repeat mode off"
            "|no loop|no looping|set repeat to off)",
            "(turn|switch|set) (off repeat|repeat off|off loop|loop off|off looping"
            "|looping off|repeat mode off)",
            "(disable|deactivate) (repeat|loop|looping)",
        ),
    ),
    (
        "set_volume",
        {"percent": STEP, "relative": True},
        (
            "(louder|volume up|more volume|sound up|increase volume|increase the volume"
            "|raise the volume|raise volume|up the volume|pump up the volume|turn up|even louder)",
            "(a bit|bit|a little|a little bit|slightly|a tad|somewhat|a touch) louder",
            "(make|play|turn) (it|this|the music|the song) (a bit|a little|a little bit|) louder",
            "turn (it|this|the music|the volume|the sound|the song|) up "
            "(a bit|a little|a little bit|a notch|slightly|)",
            "turn up (the|) (volume|music|sound) (a bit|a little|a notch|)",
            "volume up (a bit|a little|a notch|)",
            "(its too quiet|too quiet|its too soft|i cant hear it|i can barely hear it"
            "|play louder|louder please|louder louder)",
        ),
    ),
    (
        "set_volume",
        {"percent": BIG_STEP, "relative": True},
        (
            "(much|a lot|way|lots|loads|far|a good bit) louder",
            "(make|play|turn) (it|this|the music) (much|a lot|way) louder",
            "(turn|crank) (it|this|the music|the volume|the sound|) (way up|up a lot|way way up)",
            "(crank it|crank it up|crank up the volume|crank the volume|turn up the volume a lot"
            "|volume way up|pump it up|turn it up loud|blast it)",
        ),
    ),
    (
        "set_volume",
        {"percent": -STEP, "relative": True},
        (
            "(quieter|softer|volume down|sound down|decrease volume|decrease the volume"
            "|lower the volume|lower volume|reduce volume|reduce the volume|turn down"
            "|less loud|not so loud|too loud|its too loud|its a bit loud|a bit too loud"
            "|quieter please|softer please)",
            "(a bit|bit|a little|a little bit|slightly|a tad|somewhat|a touch) (quieter|softer)",
            "(make|play|turn) (it|this|the music|the song) (a bit|a little|a little bit|) "
            "(quieter|softer)",
            "turn (it|this|the music|the volume|the sound|the song|) down "
            "(a bit|a little|a little bit|a notch|slightly|)",
            "turn down (the|) (volume|music|sound) (a bit|a little|a notch|)",
            "volume down (a bit|a little|a notch|)",
        ),
    ),
    (
        "set_volume",
        {"percent": -BIG_STEP, "relative": True},
        (
            "(much|a lot|way|lots|far) (quieter|softer)",
            "(make|turn) (it|this|the music) (much|a lot|way) (quieter|softer)",
            "turn (it|this|the music|the volume|the sound|) (way down|down a lot)",
            "(way too loud|volume way down|its way too loud)",
        ),
    ),
    (
        "set_volume",
        {"percent": 100},
        (
            "(max volume|maximum volume|full volume|volume max|volume maximum|volume full"
            "|volume to max|volume to maximum|max it out|full blast)",
            "(turn|crank|put) (it|this|the music|the volume|) (all the way up|up all the way"
            "|to the max|to max|to full|to maximum)",
            "volume all the way up",
            "(set|turn|put) (the|) volume (to|at|on) (max|maximum|full|the max|the maximum)",
        ),
    ),
    (
        "set_volume",
        {"percent": 50},
        ("(half volume|volume half|volume to half|volume at half|set the volume to half)",),
    ),
    (
        "transfer_playback",
        {"device": "this computer"},
        (
            "(play|move|bring|switch|put|transfer|send) (it|this|the music|music|playback"
            "|the playback|everything) (over|) here",
            "(switch|move|transfer) (it|this|the music|playback|) (over|) to here",
        ),
    ),
    ("resume", {"device": "this computer"}, ("(resume|continue|keep playing|unpause) here",)),
    (
        "get_queue",
        {},
        (
            "(whats|what is) (next|up next|coming up|coming up next|coming next|queued"
            "|queued up|in the queue|in my queue|on the queue|on my queue|the next song"
            "|the next track|playing next|after this song|after this|in the queue next)",
            "(what|which) (song|track) (is|comes) (next|up next|after this)",
            "what (plays|comes|will play) (next|after this)",
            "(show|list|read|show me|tell me) (the|my|) queue",
            "(the queue|my queue|queue list|whats next in the queue|whats next on the queue)",
        ),
    ),
    (
        "list_devices",
        {},
        (
            "(show|list|show me|tell me|read|what are) (my|the|all|all my|all the|) "
            "(available|) (devices|speakers)",
            "(what|which) (devices|speakers) (are there|are available|do i have|can i use"
            "|can i play on|are online|are connected|)",
            "(devices|my devices|available devices|where can i play|what can i play on)",
        ),
    ),
    (
        "list_playlists",
        {},
        (
            "(show|list|show me|tell me|read|read out|what are) (my|all my|all of my) playlists",
            # A recogniser's slip ("show my playlist."): there is no one playlist it could mean.
            "(show|list|show me) (my|all my) playlist",
            "(show|list) playlists",
            "(what|which) playlists (do i have|have i got|are there|are mine)",
            "(playlists|my playlists)",
        ),
    ),
]


def _build_fixed() -> dict[str, tuple[str, dict[str, Any]]]:
    table: dict[str, tuple[str, dict[str, Any]]] = {}
    for name, arguments, patterns in _FIXED_PHRASES:
        for pattern in patterns:
            for phrase in _expand(pattern):
                key = _key(phrase)
                if key in table and table[key] != (name, arguments):
                    raise ValueError(f"fast path phrase {key!r} has two meanings")
                table[key] = (name, arguments)
    return table


_FIXED = _build_fixed()

# --------------------------------------------------------------------------------------------
# Text the fast path never handles
# --------------------------------------------------------------------------------------------

_VERBS = (
    r"play|pause|stop|skip|resume|turn|set|add|queue|put|shuffle|repeat|like|save|go|make|create|"
    r"remove|delete|tell|show|switch|move|transfer|mute|unmute|rewind|restart|jump|seek|volume|"
    r"louder|quieter|start|build|find|search|list|give"
)
_DEFER = re.compile(
    rf"\b(?:and|then|also|but|plus)\s+(?:then\s+|also\s+|after\s+that\s+)?(?:{_VERBS})\b"
    r"|\band\s+then\b|,\s*then\b|\bafter\s+(?:this|that|the\s+current|it)\b|\bafterwards\b"
    r"|\bwhen\s+(?:this|it|that|the\s+(?:song|track|album))\s+(?:ends|is\s+over|finishes|is\s+done)"
    r"|\binstead\b|\brather\s+than\b|,\s*not\b"
    rf"|\b(?:in|for)\s+(?:{NUM}|a|an|half\s+an?)\s+(?:minutes?|mins?|hours?|seconds?\s+from\s+now)\b"
    r"|^(?:no|nope|nah|not|don'?t|do\s+not|never|actually|wait|oops|wrong|i\s+meant|i\s+said|"
    r"that'?s\s+not|that\s+is\s+not|i\s+didn'?t|if|unless|once|until|whenever|before|after|"
    r"remember|remind|set\s+a\s+timer|timer)\b",
    _I,
)

# A name must not be a description. Checked on names after the command words are gone. Words
# that also start titles ("This Is America", "Another One Bites the Dust", "More Than a Feeling",
# "The Next Episode") count only when a description word follows them, or nothing does.
_NOUNS = (
    r"songs?|tracks?|tunes?|ones?|albums?|playlists?|artists?|bands?|music|stuff|things?|again|"
    r"records?|singles?|versions?|hits?|mix|radio|theme"
)
_DESCRIPTION_START = re.compile(
    r"^(?:(?:something|anything|some|whatever|whichever|random|similar|them|him|her|us)\b|"
    rf"(?:this|that|these|those|any|other|different|more|another)(?:\s+(?:{_NOUNS})"
    r"(?:\s+(?:like|by|from|of|again|with|that|for|about|on|in)\b|$)|\s+(?:like|by|from|of)\b|$)|"
    r"me(?!\s+and\b)\b|"
    # "that Queen song about ...", "the deep one": pointing at something by describing it.
    rf"(?:that|those|these)\s+(?:\S+\s+){{1,3}}(?:{_NOUNS})\b|"
    r"(?:the\s+)?(?:\S+\s+){1,2}one$|"
    r"it\s+(?:back|again|louder|quieter|softer|loud|loudly|here|there|on|for)\b|"
    r"what\s+(?:i|we|you)\b|"
    r"the\s+(?:new|newest|latest|last|first|next|previous|other|same|top|best|most|whole|"
    rf"entire|rest|current|original|live|acoustic)\s+(?:\S+\s+)?(?:{_NOUNS}|release|ep)\b|"
    rf"the\s+(?:{_NOUNS}|same|other)(?:\s+(?:that|from|with|where|which|who|i|we|you|they|"
    r"by|about|of|in|on|for|like)\b|$))",
    _I,
)
_GENERIC_START = re.compile(r"^(?:music|songs?|tracks?|tunes?|stuff)\b", _I)
# "my ..." is the user's own thing ("my workout mix"), unless an artist follows ("My Way by ...").
_MY_START = re.compile(r"^my\b", _I)
_NOT_A_NAME = frozenset(("a", "an", "the", "it", "to", "on", "in", "of", "by", "and"))
_DANGLING = re.compile(r"^(?:by|and|or|with|to|from)\b|\b(?:by|and|or|with|to|the|a|of)$", _I)
# "a/an" with a description word, or with one word only ("play a game").
_A_DESCRIPTION = re.compile(
    r"^an?\s+(?:\S+$|(?:.*\s)?(?:songs?|tracks?|tunes?|one|mix|playlist|album|bit|few|couple|random|"
    r"something|music|new|different|good|nice|great|cool|fun|chill|relaxing|sad|happy|"
    r"upbeat)\b)",
    _I,
)
_DESCRIPTION_ANYWHERE = re.compile(
    r"\b(?:music|songs|tracks|tunes|something|anything|stuff|version|versions|vibes?|playlist|"
    r"playlists|album|albums|(?:radio|station)$|podcast|genre|similar|recommend\w*|"
    r"that\s+goes|goes\s+like|(?:song|track|tune|one)\s+(?:about|where|which|with)|"
    r"(?:loud|louder|loudly|quiet|quieter|quietly|softly)$|the\s+one\s+(?:from|with|where|which|who|i|we|you|they|by|"
    r"about|in|on|for|like)|from|for\s+(?:me|us|him|her|them|my|a|an|the|\d+)|"
    r"(?:i|we)\s+(?:heard|listened|played|was\s+(?:listening|playing)|were\s+(?:listening|playing))|(?:new|newest|latest|recent|last|"
    r"first|top|best|greatest|popular|most|biggest|debut)\s+(?:album|song|single|track|"
    r"release|record|ep|hits?)|at\s+\d|\d:[0-5]\d)\b",
    _I,
)
# "play one Adele song", "play the Titanic song": a description ending in "song" (while "Your
# Song" and "Love Song" are titles).
_ENDS_IN_SONG = re.compile(r"^\S+\s+\S+.*\s+(?:song|track|tune)$", _I)
# A name made only of genre and mood words is a description ("play jazz", "play lo-fi beats").
_GENRE_WORDS = frozenset(
    """jazz blues rock pop classical country hip hop hip-hop rap r&b rnb soul funk disco techno
    house edm electronic ambient lofi lo-fi lo fi metal punk indie folk reggae latin kpop k-pop
    jpop gospel opera piano instrumental acoustic chill chillout relaxing relax calm study
    studying sleep sleeping workout party dance christmas holiday beats oldies 60s 70s 80s 90s
    2000s sixties seventies eighties nineties background focus upbeat mellow romantic classic
    soft hard alternative grunge trap drill afrobeat afrobeats salsa bossa nova swing bluegrass
    smooth lounge dubstep trance synthwave""".split()
)
_THE_X_SONG = re.compile(r"^the\s+.+\s+(?:song|track|tune|single)$", _I)
_POSSESSIVE_DESCRIPTION = re.compile(
    r"'s?\s+(?:new|newest|latest|last|first|most|top|best|popular|recent|biggest|debut|"
    r"second|third|other|greatest)\b",
    _I,
)
_ONLY_NUMBER = re.compile(rf"^(?:#\s*)?{NUM}$", _I)


def _name(
    text: str, *, kind_given: bool = False, number_ok: bool = False, by_artist: bool = False
) -> str | None:
    """``text`` as a name to search for, or None when it may be a description or a request.

    Args:
        text: The candidate name.
        kind_given: The user said which kind it is ("the album X", "my X playlist"): words like
            "music" or "songs" may then be part of the name.
        number_ok: A name that is only a number is fine ("22 by Taylor Swift").
        by_artist: An artist follows the name, so "my" starts a title ("My Way by Frank Sinatra").
    """
    name = text.strip(' ,"')
    if len(name) > 1 and name[0] == name[-1] == "'":
        name = name[1:-1].strip()
    if not name or len(name.split()) > MAX_NAME_WORDS or name.lower() in _NOT_A_NAME:
        return None
    if _NAME_ENDS_IN_FILLER.search(name) or _DESCRIPTION_START.search(name):
        return None
    if not by_artist and _DANGLING.search(name):
        return None  # "play Thriller by": unfinished
    if not kind_given and _GENERIC_START.search(name):
        return None
    if not by_artist and _MY_START.search(name):
        return None
    if _A_DESCRIPTION.search(name) or _POSSESSIVE_DESCRIPTION.search(name):
        return None
    if not kind_given and (
        _DESCRIPTION_ANYWHERE.search(name)
        or _THE_X_SONG.search(name)
        or _ENDS_IN_SONG.search(name)
        or all(word in _GENRE_WORDS for word in name.lower().split())
    ):
        return None
    if not number_ok and _ONLY_NUMBER.fullmatch(name):
        # "play 2" may mean a numbered result or a title ("22"): the LLM knows the conversation.
        return None
    return name


# --------------------------------------------------------------------------------------------
# Devices
# --------------------------------------------------------------------------------------------

_DEVICE_NOUN = re.compile(
    r"\b(?:speakers?|phone|smartphone|iphone|android|pixel|galaxy|computer|laptop|desktop|pc|"
    r"mac|macbook|imac|tv|television|echo|alexa|sonos|chromecast|homepod|ipad|tablet|"
    r"headphones|headset|earbuds|airpods|car|stereo|soundbar|receiver|xbox|playstation|ps[45]|"
    r"google\s+home|nest|web\s+player|browser|watch|device)\b",
    _I,
)
_ROOMS = (
    r"kitchen|living\s+room|lounge|bedroom|bathroom|office|den|garage|basement|dining\s+room|"
    r"hallway|patio|study|nursery|guest\s+room|family\s+room"
)
_ROOM = re.compile(rf"(?:{_ROOMS})(?:\s+\w+)?", _I)
_MUSIC_WORD = re.compile(
    r"\b(?:songs?|tracks?|album|albums|playlists?|music|artist|band|radio|podcast|some|"
    r"something|anything|next|previous|shuffle|repeat|loop|volume|by)\b",
    _I,
)
# "here" is this computer: Segue runs on it. The tools know "this computer" as a device type.
_HERE = re.compile(
    r"^(?:here|this\s+(?:computer|laptop|pc|desktop|mac|machine|device)|my\s+computer)$", _I
)
THIS_COMPUTER = "this computer"
_DEVICE_ARTICLE = re.compile(r"^(?:the|my|our|your)\s+", _I)


def _device(text: str, *, needs_noun: bool, room_ok: bool = False) -> str | None:
    """A device name from "my phone" / "the kitchen speaker", or None when it is not one."""
    name = _strip_trailing_filler(text.strip(" ,"))
    if _HERE.fullmatch(name):
        return THIS_COMPUTER
    if re.match(r"this\b", name, _I):
        return None  # "this speaker": which one is the LLM's call
    name = _DEVICE_ARTICLE.sub("", name)
    if not name or len(name.split()) > 5 or _MUSIC_WORD.search(name):
        return None
    if needs_noun and not _DEVICE_NOUN.search(name):
        if not (room_ok and _ROOM.fullmatch(name)):
            return None
    return name


# "play X on the kitchen speaker", "play X on my phone", "play X in the kitchen". The greedy
# rest makes the last " on " the device one: "Sitting on the Dock of the Bay on my phone".
_DEVICE_SUFFIX = re.compile(r"^(?P<rest>.+)\s+(?P<prep>on|in)\s+(?P<device>[^,]+)$", _I)


def _split_device(rest: str) -> tuple[str, str | None]:
    """Split "X on <device>" into X and the device; the whole text when no device is named."""
    match = _DEVICE_SUFFIX.fullmatch(rest)
    if match is None:
        return rest, None
    device = _device(match.group("device"), needs_noun=True, room_ok=True)
    return (rest, None) if device is None else (match.group("rest"), device)


# --------------------------------------------------------------------------------------------
# What to play
# --------------------------------------------------------------------------------------------

_REPEAT_SUFFIX = re.compile(r"^(?P<rest>.+?)\s+(?:on\s+repeat|on\s+a?\s*loop)$", _I)
_SHUFFLE_SUFFIX = re.compile(
    r"^(?P<rest>.+?)\s+(?:on\s+shuffle|shuffled|in\s+shuffle\s+mode|with\s+shuffle(?:\s+on)?)$",
    _I,
)
_RESULT_AFTER_VERB = re.compile(
    rf"^(?:(?:result\s+|option\s+)?(?:number|no\.?|#)\s*(?P<n>{NUM})|"
    rf"(?:option|result|choice|item)\s+(?P<m>{NUM})|"
    rf"(?:the\s+)?(?P<ord>{_ORD})\s+(?:one|result|option|choice|item)|the\s+(?P<ord2>{_ORD}))$",
    _I,
)
_RESULT_ALONE = re.compile(
    rf"^(?:(?:result\s+|option\s+)?(?:number|no\.?|#)\s*(?P<n>{NUM})|"
    rf"(?:option|result|choice)\s+(?P<m>{NUM})|"
    rf"(?:the\s+)?(?P<ord>{_ORD})\s+(?:one|result|option|choice)|the\s+(?P<ord2>{_ORD}))$",
    _I,
)


def _result_number(match: re.Match[str]) -> int | None:
    groups = match.groupdict()
    if groups.get("n") or groups.get("m"):
        value = number_value(groups.get("n") or groups.get("m") or "")
    else:
        value = _ordinal(groups.get("ord") or groups.get("ord2") or "")
    if value is None or not 1 <= value <= MAX_RESULT_NUMBER:
        return None
    return value


_ALBUM = re.compile(
    r"^(?:(?:the\s+)?(?:album|record|lp)\s+(?:called\s+|named\s+|titled\s+)?(?P<a>.+)|"
    r"(?P<b>.+?)\s+album(?P<by>\s+by\s+.+)?)$",
    _I,
)
# "play my X" without the word "playlist" is not here: "My Way" and "My Girl" are titles.
_PLAYLIST = re.compile(
    r"^(?:(?:my\s+|the\s+)?playlist\s+(?:called\s+|named\s+|titled\s+)?(?P<a>.+)|"
    r"(?:my\s+)?(?P<b>.+?)\s+playlist)$",
    _I,
)
_LEADING_THE = re.compile(r"^the\s+", _I)
# "the new Taylor Swift album", "my latest playlist": which one is the LLM's call.
_MODIFIER_START = re.compile(
    r"^(?:the\s+|an?\s+|my\s+)?(?:new|newest|latest|last|first|next|previous|other|same|top|"
    r"best|most|whole|entire|current|original|recent|debut|greatest|live|acoustic)\b",
    _I,
)
_TRACK = re.compile(
    r"^(?:the\s+)?(?:song|track|single|tune)\s+(?:called\s+|named\s+|titled\s+)?(?P<a>.+)$",
    _I,
)
_TRACK_DESCRIPTION = re.compile(
    r"^(?:that|which|who|where|when|from|about|with|in|on|of|for|by|like|i|we|you|they|he|she|"
    r"it|everyone|everybody|people|my|your|this|these)\b",
    _I,
)
_ARTIST = re.compile(
    r"^(?:(?:the\s+)?(?:artist|band|singer|group|rapper)\s+(?:called\s+|named\s+)?(?P<a>.+)|"
    r"(?:some\s+)?(?:songs|music|tracks|tunes|stuff|hits)\s+by\s+(?P<b>.+)|"
    r"(?P<c>.+?)'s?\s+(?:songs|music|tracks|tunes|stuff|hits))$",
    _I,
)
_BY = re.compile(r"^(?P<title>.+)\s+by\s+(?P<artist>.+)$", _I)
# What follows " by " in a title rather than an artist: "Stand by Me", "Stand by Your Man".
# (Followed by a space or the end: "a-ha" is an artist.)
_NOT_AN_ARTIST = re.compile(
    r"^(?:me|you|him|her|us|them|it|myself|yourself|himself|herself|ourselves|themselves|"
    r"my|your|his|its|our|their|now|then|the\s+way|a|an|any|some|this|that)(?:\s|$)",
    _I,
)
MAX_ARTIST_WORDS = 6


def _title_and_artist(text: str, *, kind_given: bool = False) -> dict[str, Any] | None:
    """``{"query": X, "artist": Y}`` for "X by Y" (see the module rules), or ``{"query": text}``.

    None when a part is not a name.
    """
    match = _BY.fullmatch(text)
    if match is not None:
        title, artist = match.group("title"), match.group("artist").strip()
        # "Side by Side", "Day by Day": the word after "by" repeats the one before it.
        repeats = artist.split()[0].lower() == title.split()[-1].lower()
        if not repeats and not _NOT_AN_ARTIST.match(artist):
            title_name = _name(title, kind_given=kind_given, number_ok=True, by_artist=True)
            artist_name = _name(artist)
            if title_name is None or artist_name is None:
                return None
            if len(artist_name.split()) > MAX_ARTIST_WORDS:
                return None
            return {"query": title_name, "artist": artist_name}
    whole = _name(text, kind_given=kind_given)
    return None if whole is None else {"query": whole}


def _link(text: str) -> str | None:
    """The Spotify link or URI that is the whole of ``text``, without angle brackets."""
    text = text.strip()
    if parse_spotify_ref(text) is None:
        return None
    return text[1:-1].strip() if text.startswith("<") else text


def _what_to_play(rest: str, *, playlist_ok: bool = True) -> dict[str, Any] | None:
    """The arguments naming what to play (query, kind, artist or result_number), or None."""
    rest = rest.strip()
    link = _link(rest)
    if link is not None:
        return {"query": link}
    result = _RESULT_AFTER_VERB.fullmatch(rest)
    if result is not None:
        number = _result_number(result)
        return None if number is None else {"result_number": number}
    match = _ARTIST.fullmatch(rest)
    if match is not None:
        artist = _name(match.group("a") or match.group("b") or match.group("c") or "")
        if artist is None or _BY.fullmatch(artist):
            return None
        return {"query": artist, "kind": "artist"}
    match = _ALBUM.fullmatch(rest)
    if match is not None:
        if match.group("a") is not None:
            if _TRACK_DESCRIPTION.match(match.group("a")):
                return None
            found = _title_and_artist(match.group("a"), kind_given=True)
        else:
            # "the Thriller album": the words are checked with "the" ("the whole album" is no
            # name), then "the" goes.
            words = match.group("b")
            if _name(words, kind_given=True) is None or _MODIFIER_START.match(words):
                return None
            if "'" in words:
                return None  # "the Beatles' White Album": whose album is the LLM's call
            title = _LEADING_THE.sub("", match.group("b"))
            found = _title_and_artist(title + (match.group("by") or ""), kind_given=True)
        return None if found is None else {**found, "kind": "album"}
    match = _PLAYLIST.fullmatch(rest)
    if match is not None:
        if not playlist_ok:
            return None
        raw = match.group("a") or match.group("b") or ""
        if match.group("b") is not None:
            if _name(raw, kind_given=True) is None or _MODIFIER_START.match(raw):
                return None
            raw = _LEADING_THE.sub("", raw)
        playlist = _name(raw, kind_given=True)
        return None if playlist is None else {"query": playlist, "kind": "playlist"}
    match = _TRACK.fullmatch(rest)
    if match is not None:
        if _TRACK_DESCRIPTION.match(match.group("a")):
            return None
        found = _title_and_artist(match.group("a"), kind_given=True)
        return None if found is None else {**found, "kind": "track"}
    return _title_and_artist(rest)


# --------------------------------------------------------------------------------------------
# Rules with free text or numbers, tried in order
# --------------------------------------------------------------------------------------------

_Handler = Callable[[re.Match[str]], list[ToolCall] | None]


def _one(name: str, **arguments: Any) -> list[ToolCall]:
    return [ToolCall(name=name, arguments=arguments)]


_PERCENT = r"(?:\s*%|\s+percent|\s+per\s+cent|\s+pct)"
_VOLUME_ABSOLUTE = [
    rf"(?:(?:set|turn|put|change|adjust|bring|make)\s+)?(?:the\s+)?(?:volume|vol)(?:\s+level)?"
    rf"(?:\s+(?:up|down))?(?:\s+(?:to|at|on))?\s+(?P<n>{NUM}){_PERCENT}?",
    rf"(?:set|turn|put|change|bring|make)\s+(?:it|the\s+music|the\s+sound|this|spotify)"
    rf"(?:\s+(?:up|down))?\s+(?:to\s+(?P<a>{NUM}){_PERCENT}?|(?P<b>{NUM}){_PERCENT})",
    rf"(?:turn|crank|bring)\s+(?:up|down)\s+(?:the\s+)?(?:volume|music|sound)\s+to\s+"
    rf"(?P<n>{NUM}){_PERCENT}?",
    rf"(?P<n>{NUM}){_PERCENT}(?:\s+(?:volume|loud))?",
]
_VOLUME_RELATIVE = [
    rf"(?:turn|crank|bring)\s+(?:(?:it|this|the\s+music|the\s+volume|the\s+sound)\s+)?"
    rf"(?P<dir>up|down)\s+(?:by\s+)?(?P<n>{NUM})(?:{_PERCENT}|\s+points?)?",
    rf"(?:turn|crank)\s+(?P<dir>up|down)\s+(?:the\s+)?(?:volume|music|sound)\s+(?:by\s+)?"
    rf"(?P<n>{NUM})(?:{_PERCENT}|\s+points?)?",
    rf"(?:volume|vol)\s+(?P<dir>up|down)\s+(?:by\s+)?(?P<n>{NUM})(?:{_PERCENT}|\s+points?)?",
    rf"(?P<dir>louder|quieter|softer)\s+by\s+(?P<n>{NUM})(?:{_PERCENT}|\s+points?)?",
    rf"(?P<dir>increase|raise|lower|decrease|reduce|drop)\s+(?:the\s+)?(?:volume|vol)\s+by\s+"
    rf"(?P<n>{NUM})(?:{_PERCENT}|\s+points?)?",
]


_DOWN = frozenset(("down", "quieter", "softer", "lower", "decrease", "reduce", "drop"))


def _volume_absolute(match: re.Match[str]) -> list[ToolCall] | None:
    groups = match.groupdict()
    percent = number_value(groups.get("n") or groups.get("a") or groups.get("b") or "")
    if percent is None or percent > 100:
        return None
    return _one("set_volume", percent=percent)


def _volume_relative(match: re.Match[str]) -> list[ToolCall] | None:
    amount = number_value(match.group("n"))
    if amount is None or not 1 <= amount <= 100:
        return None
    down = match.group("dir").lower() in _DOWN
    return _one("set_volume", percent=-amount if down else amount, relative=True)


_DURATION = re.compile(
    rf"^(?:(?P<m>{NUM}|an?)\s+min(?:ute)?s?(?:\s+(?:and\s+)?(?P<ms>{NUM})\s+sec(?:ond)?s?)?|"
    rf"(?P<s>{NUM})\s*(?:sec(?:ond)?s?|s)|(?P<half>half\s+a\s+minute)|(?P<bare>{NUM}))$",
    _I,
)


def _duration(text: str, *, unit_needed: bool) -> int | None:
    """Seconds in "30 seconds", "a minute", "2 minutes and 10 seconds", "half a minute"."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        return None
    if match.group("half"):
        return 30
    if match.group("m"):
        minutes = 1 if match.group("m").lower() in ("a", "an") else number_value(match.group("m"))
        extra = number_value(match.group("ms")) if match.group("ms") else 0
        if minutes is None or extra is None:
            return None
        return minutes * 60 + extra
    if match.group("s"):
        return number_value(match.group("s"))
    if unit_needed:
        return None
    return number_value(match.group("bare"))


_POSITION = re.compile(
    rf"^(?:(?P<mm>\d{{1,2}}):(?P<ss>[0-5]\d)|minute\s+(?P<minute>{NUM})|"
    rf"second\s+(?P<second>{NUM})|(?P<dur>.+?)(?:\s+mark)?)$",
    _I,
)


def _position(text: str) -> int | None:
    """Seconds from the start in "1:30", "minute 2", "the 2 minute mark", "90 seconds"."""
    match = _POSITION.fullmatch(text.strip())
    if match is None:
        return None
    if match.group("mm"):
        return int(match.group("mm")) * 60 + int(match.group("ss"))
    if match.group("minute"):
        minutes = number_value(match.group("minute"))
        return None if minutes is None else minutes * 60
    if match.group("second"):
        return number_value(match.group("second"))
    dur = match.group("dur")
    # "the 2 minute mark": singular unit.
    dur = re.sub(r"\bminute$", "minutes", dur, flags=_I) if dur else dur
    return _duration(dur, unit_needed=True) if dur else None


_SEEK_FORWARD = [
    r"(?:(?:skip|jump|go|seek|move|scroll|fast)\s+)?(?:ahead|forward|forwards)\s+(?:by\s+)?"
    r"(?P<unit>.+)",
    r"(?:fast[\s-]+forward|seek\s+forward|seek\s+ahead)\s+(?:by\s+)?(?P<free>.+)",
    r"skip\s+(?P<unit>.+?)(?:\s+(?:ahead|forward))?",
    r"(?P<unit>.+?)\s+(?:ahead|forward|forwards)",
]
_SEEK_BACK = [
    r"(?:(?:skip|jump|go|seek|move|scroll)\s+)?(?:back|backwards?)\s+(?:by\s+)?(?P<unit>.+)",
    r"(?:rewind|seek\s+back|seek\s+backwards?)\s+(?:by\s+)?(?P<free>.+)",
    r"(?P<unit>.+?)\s+(?:back|backwards?)",
]
_SEEK_TO = [
    r"(?:go|jump|skip|seek|move|scroll|fast[\s-]+forward|rewind|set\s+(?:the\s+)?position)\s+"
    r"to\s+(?:the\s+)?(?P<t>.+)",
    r"(?:play|start|continue)\s+(?:it\s+|this\s+|the\s+song\s+)?(?:from|at)\s+(?:the\s+)?(?P<t>.+)",
]


def _seek_by(sign: int) -> _Handler:
    def handle(match: re.Match[str]) -> list[ToolCall] | None:
        groups = match.groupdict()
        if groups.get("free"):
            seconds = _duration(groups["free"], unit_needed=False)
        else:
            seconds = _duration(groups.get("unit") or "", unit_needed=True)
        if seconds is None or seconds == 0 or seconds > 3600:
            return None
        return _one("seek", seconds=sign * seconds, relative=True)

    return handle


def _seek_to(match: re.Match[str]) -> list[ToolCall] | None:
    seconds = _position(match.group("t"))
    if seconds is None or seconds > 6 * 3600:
        return None
    return _one("seek", seconds=seconds)


def _result_alone(match: re.Match[str]) -> list[ToolCall] | None:
    number = _result_number(match)
    return None if number is None else _one("play", result_number=number)


_PLAYBACK = (
    r"(?:playback|the\s+playback|the\s+music|music|the\s+audio|audio|spotify|everything|"
    r"the\s+player)"
)
_TRANSFER = [
    # "switch to my phone", "change to the kitchen speaker": a device word is needed.
    r"(?P<noun>switch|change|go)(?:\s+over)?\s+to\s+(?P<device>.+)",
    # "switch playback to X", "move the music to X": any name.
    rf"(?:switch|move|transfer|send|shift)\s+{_PLAYBACK}(?:\s+over)?\s+(?:to|onto|over\s+to)\s+"
    r"(?P<device>.+)",
    r"transfer(?:\s+over)?\s+to\s+(?P<device>.+)",
    # "put it on my phone", "move this to the kitchen speaker": "it" may be the song ("put it on
    # Deep Work"), so a device word is needed.
    r"(?P<noun3>switch|move|transfer|send|change|put|take|shift)\s+(?:it|this|the\s+music)"
    r"(?:\s+over)?\s+(?:to|onto|on|over\s+to)\s+(?P<device>.+)",
    # "play on Y" needs a device word: "play On the Floor" is a title.
    r"(?P<noun2>use|play(?:\s+it|\s+this|\s+everything)?\s+(?:on|through)|listen\s+on)\s+"
    r"(?P<device>.+)",
]
_RESUME_ON = [
    r"(?:resume|continue|unpause|keep\s+playing|continue\s+playing|start\s+playing|"
    r"resume\s+playing|resume\s+playback|play\s+(?:the\s+)?music|start\s+the\s+music)"
    r"(?:\s+(?:the\s+)?music)?\s+(?P<prep>on|in)\s+(?P<device>.+)",
]


def _transfer(match: re.Match[str]) -> list[ToolCall] | None:
    groups = match.groupdict()
    needs_noun = bool(groups.get("noun") or groups.get("noun2") or groups.get("noun3"))
    device = _device(match.group("device"), needs_noun=needs_noun, room_ok=needs_noun)
    return None if device is None else _one("transfer_playback", device=device)


def _resume_on(match: re.Match[str]) -> list[ToolCall] | None:
    room_ok = match.group("prep").lower() == "in"
    device = _device(match.group("device"), needs_noun=room_ok, room_ok=room_ok)
    return None if device is None else _one("resume", device=device)


_QUEUE_RULES = [
    r"(?:add|put|stick|throw|pop)\s+(?P<what>.+?)\s+(?:to|on|in|into|onto)\s+(?:the\s+|my\s+)?"
    r"(?:queue|up\s+next)",
    r"queue(?:\s+up)?\s+(?P<what>.+?)(?P<suffix>\s+(?:up\s+)?next)?",
    r"play\s+(?P<next>.+?)(?P<tail>\s+(?:up\s+)?next)",
]
# Words before a final "next" that make it part of a title ("Thank U, Next", "Who's Next").
_TITLE_BEFORE_NEXT = re.compile(
    r"(?:,|\b(?:u|you|you're|youre|who's|whos|what's|whats|i'm|im|is|am|are|be|was|were|"
    r"comes|come|we're|they're|it's|its))$",
    _I,
)


def _queue(match: re.Match[str]) -> list[ToolCall] | None:
    groups = match.groupdict()
    what = groups.get("what") or groups.get("next") or ""
    if groups.get("next") and _TITLE_BEFORE_NEXT.search(what):
        return _play_text(what + groups["tail"])  # "play Thank U, Next"
    if groups.get("suffix") and _TITLE_BEFORE_NEXT.search(what):
        what += groups["suffix"]  # "queue Thank U, Next"
    if _THIS.fullmatch(what) or re.search(r"\band\b|&|,", what):
        return None  # the current track, or several things: the LLM
    arguments = _what_to_play(what, playlist_ok=False)
    if arguments is None or arguments.get("kind") in ("artist", "playlist"):
        return None
    if arguments.get("kind") == "track":
        del arguments["kind"]
    return [ToolCall(name="add_to_queue", arguments=arguments)]


_THIS = re.compile(
    r"(?:this|it|this\s+song|this\s+track|this\s+one|the\s+song|the\s+track|"
    r"the\s+current\s+(?:song|track)|the\s+song\s+(?:that'?s|that\s+is)\s+playing|"
    r"what'?s\s+playing|what\s+is\s+playing|the\s+playing\s+song)",
    _I,
)
_ADD_VERB = r"(?:add|put|save|stick|throw|pop)"
_PREP = r"(?:to|on|in|into|onto)"
_ADD_RULES = [
    rf"{_ADD_VERB}\s+(?P<this>{_THIS.pattern})\s+{_PREP}\s+(?P<target>.+)",
    # Speech recognisers often hear "add" as "and"; "and this song to my X playlist" means
    # nothing else (only with "this" and an explicit playlist).
    rf"and\s+(?P<this>{_THIS.pattern})\s+to\s+(?P<target>(?:my|the)\s+.+\s+playlist)",
    rf"add\s+{_PREP}\s+(?P<target>.+)",
    rf"{_ADD_VERB}\s+(?P<what>(?!on\s).+)\s+{_PREP}\s+(?P<target>.+)",
]
_LIBRARY = re.compile(
    r"(?:my\s+|the\s+)?(?:library|liked\s+songs|liked\s+tracks|likes|liked|saved\s+songs|"
    r"saved\s+tracks|collection|spotify\s+library|music\s+library|songs\s+i\s+like)",
    _I,
)
_QUEUE_TARGET = re.compile(r"(?:my\s+|the\s+)?(?:queue|up\s+next)", _I)
_PLAYLIST_TARGET = re.compile(
    r"^(?:(?:my|the)\s+)?(?:playlist\s+(?:called\s+|named\s+)?(?P<a>.+)|(?P<b>.+?)\s+playlist)$",
    _I,
)
_NEW_PLAYLIST = re.compile(r"^(?:an?\s+|my\s+|the\s+)?(?:new|fresh|another|different)\b", _I)
# Targets that are not playlists: "add milk to my shopping list", "add this to my favorites".
_NOT_A_PLAYLIST = re.compile(
    r"\b(?:list|calendar|reminders?|notes?|cart|basket|todos?|to\s+do|favou?rites?)$", _I
)


def _add(match: re.Match[str]) -> list[ToolCall] | None:
    groups = match.groupdict()
    target = _strip_trailing_filler(groups["target"].strip())
    tracks: list[str] | None = None
    if groups.get("what"):
        what = groups["what"]
        track_match = _TRACK.fullmatch(what)
        if track_match is not None:
            what = track_match.group("a")
        # One named track, kept whole ("Thriller by Michael Jackson" is a valid track query);
        # lists and references to earlier results go to the LLM.
        if re.search(r"\band\b|&|,|\bnumber\b|\balbum\b", what, _I):
            return None
        name = _name(what)
        if name is None or _RESULT_AFTER_VERB.fullmatch(name):
            return None
        tracks = [name]
    if _LIBRARY.fullmatch(target):
        return _one("save_to_library") if tracks is None else _one("save_to_library", tracks=tracks)
    if _QUEUE_TARGET.fullmatch(target):
        return None if tracks is None else _one("add_to_queue", query=tracks[0])
    if _NEW_PLAYLIST.match(target) or re.match(r"^an?\s", target, _I):
        return None  # creating a playlist: the LLM
    if _NOT_A_PLAYLIST.search(target):
        return None
    explicit = _PLAYLIST_TARGET.fullmatch(target)
    if explicit is not None:
        playlist = _name(explicit.group("a") or explicit.group("b") or "", kind_given=True)
    else:
        plain = _DEVICE_ARTICLE.sub("", target)
        if _DEVICE_NOUN.search(plain):
            return None  # a device: "put this on my phone" is not for a playlist
        playlist = _name(plain, kind_given=True)
    if playlist is None or len(playlist.split()) > 8:
        return None
    if tracks is None:
        return _one("add_to_playlist", playlist=playlist)
    return _one("add_to_playlist", playlist=playlist, tracks=tracks)


_PLAY_VERB = (
    r"(?P<verb>play|put\s+on|start\s+playing|shuffle\s+play|shuffle|listen\s+to|throw\s+on|"
    r"i\s+want\s+to\s+(?:hear|listen\s+to)|i\s+wanna\s+(?:hear|listen\s+to)|"
    r"i'?d\s+like\s+to\s+(?:hear|listen\s+to)|let'?s\s+(?:hear|listen\s+to)|let\s+me\s+hear|"
    r"can\s+i\s+(?:hear|get)|give\s+me)"
)


def _play(match: re.Match[str]) -> list[ToolCall] | None:
    verb = " ".join(match.group("verb").lower().split())
    return _play_text(match.group("rest"), shuffle=verb.startswith("shuffle"))


def _play_text(rest: str, *, shuffle: bool = False) -> list[ToolCall] | None:
    """Calls for "play <rest>": what to play, then where and whether shuffled."""
    device: str | None = None
    repeat = False
    for _ in range(3):  # "on my phone", "on shuffle" and "on repeat", in any order
        if device is None:
            rest, device = _split_device(rest.strip())
        shuffled = _SHUFFLE_SUFFIX.fullmatch(rest)
        if shuffled is not None:
            rest, shuffle = shuffled.group("rest"), True
        repeated = _REPEAT_SUFFIX.fullmatch(rest)
        if repeated is not None:
            rest, repeat = repeated.group("rest"), True
    arguments = _what_to_play(rest)
    if arguments is None:
        return None
    if device is not None:
        arguments["device"] = device
    if shuffle:
        arguments["shuffle"] = True
    calls = [ToolCall(name="play", arguments=arguments)]
    if repeat:
        # "play X on repeat": repeat the track that starts playing.
        calls.append(ToolCall(name="set_repeat", arguments={"mode": "track"}))
    return calls


def _bare_link(match: re.Match[str]) -> list[ToolCall] | None:
    link = _link(match.group(0))
    return None if link is None else _one("play", query=link)


def _compile(rules: list[tuple[list[str], _Handler]]) -> list[tuple[re.Pattern[str], _Handler]]:
    return [
        (re.compile(pattern, _I), handler) for patterns, handler in rules for pattern in patterns
    ]


# Rules on the text with trailing filler removed (no names in them, or a device at most).
_CORE_RULES = _compile(
    [
        (_VOLUME_RELATIVE, _volume_relative),
        (_VOLUME_ABSOLUTE, _volume_absolute),
        (_SEEK_TO, _seek_to),
        (_SEEK_BACK, _seek_by(-1)),
        (_SEEK_FORWARD, _seek_by(1)),
        ([_RESULT_ALONE.pattern], _result_alone),
        (_RESUME_ON, _resume_on),
        (_TRANSFER, _transfer),
    ]
)
# Rules on the text as said (names may end in "now": "Don't Stop Me Now").
_NAME_RULES = _compile(
    [
        ([r"\S+"], _bare_link),
        (_QUEUE_RULES, _queue),
        (_ADD_RULES, _add),
        ([rf"{_PLAY_VERB}\s+(?P<rest>.+)"], _play),
    ]
)


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


def parse(text: str) -> list[ToolCall] | None:
    """Understand a common command without the model.

    Args:
        text: What the person said or typed.

    Returns:
        The tool calls to make, in order, or None when the text is not a command the fast path
        fully understands (the LLM handles it then).
    """
    if len(text) > MAX_TEXT:
        return None  # no command is this long: a paste or a dictation, for the LLM
    clean = _normalise(text)
    if not clean:
        return None
    core = _strip_trailing_filler(clean)
    fixed = _FIXED.get(_key(core))
    if fixed is not None:
        name, arguments = fixed
        return [ToolCall(name=name, arguments=dict(arguments))]
    if _DEFER.search(clean):
        return None
    for pattern, handler in _CORE_RULES:
        # These rules carry no names, so when one matches but cannot read its numbers or device
        # ("skip to my lou" is no position), the next rule may still apply.
        match = pattern.fullmatch(core)
        if match is not None:
            calls = handler(match)
            if calls is not None:
                return calls
    for pattern, handler in _NAME_RULES:
        match = pattern.fullmatch(clean)
        if match is not None:
            return handler(match)
    return None

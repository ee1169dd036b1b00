"""What data cannot say: whether the words a wildcard caught are a name, and tidying the text.

The grammar (commands.yaml) says where a name may stand; these checks say whether the words
there are one. A name must not be a description ("something relaxing", "the song from Titanic",
"jazz"), a pointer at the conversation ("that", "the other one") or something that is not music
("the news"). Each wildcard list of the grammar has one check here, chosen by the list's name.
The word lists they read come from the grammar's ``words`` section.

Rules for the ambiguous cases:

- "by": "X by Y" splits at the last " by " (:func:`assistant.text.songs.title_artist_readings`),
  except where Y cannot be an artist ("Stand by Me", "Side by Side"). A wrong split ("Saved by the
  Bell") makes the tool answer "not found" rather than play something else.
- Names keep their words: a name ending in "please", "thanks" or "for me" goes to the model
  ("Pretty Please", "Pray for Me"); "play X, please" is fine (the comma ends the name).
- "play some X", "play X songs", "play jazz" (only genre or mood words) are descriptions.
- "my X" without the word "playlist" is not a playlist: "My Way" is a title, and "my liked songs"
  / "my favorites" are not playlists.
- Devices: "play X on Y" takes Y as a device only when it names one (a device word or a room):
  "play Sitting on the Dock of the Bay" is a title. "the"/"my" are dropped from device names;
  "here" and "this computer" become "this computer", a device the tools know.
- A number alone is no name ("play 2" may answer a question, or be the title "22").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from assistant.spotify.links import parse_spotify_ref
from assistant.text.numbers import number_value
from assistant.text.songs import title_artist_readings

__all__ = ["LINK_WORD", "MAX_TEXT", "Checks", "Prepared", "Words"]

# The longest text the grammar reads (a command with a long Spotify link fits easily).
MAX_TEXT = 300
# The longest name (in words) passed on; longer text is probably a description.
MAX_NAME_WORDS = 10
MAX_ARTIST_WORDS = 6
MAX_PLAYLIST_WORDS = 8
MAX_DEVICE_WORDS = 5
# The word a Spotify link or URI is written as while matching (the grammar's `link` list).
LINK_WORD = "spotifylink"
# The tools' name for the computer Segue runs on.
THIS_COMPUTER = "this computer"

_I = re.IGNORECASE

# Typographic quotes and dashes as their plain forms; case is kept.
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


def _alternatives(phrases: Iterable[str]) -> str:
    """A regex alternation of ``phrases``, longest first, any run of spaces between words."""
    ordered = sorted(set(phrases), key=len, reverse=True)
    return "|".join(r"\s+".join(re.escape(word) for word in phrase.split()) for phrase in ordered)


@dataclass(frozen=True)
class Words:
    """The grammar's ``words`` section: word lists for the checks and the normaliser."""

    filler_start: tuple[str, ...]
    filler_end: tuple[str, ...]
    filler_after_comma: tuple[str, ...]
    title_endings: tuple[str, ...]
    after_comma_for_model: tuple[str, ...]
    title_words_before_next: tuple[str, ...]
    genres: tuple[str, ...]
    not_music: tuple[str, ...]
    music_nouns: tuple[str, ...]
    modifiers: tuple[str, ...]
    not_playlists: tuple[str, ...]
    device_nouns: tuple[str, ...]
    rooms: tuple[str, ...]
    not_device: tuple[str, ...]
    this_computer: tuple[str, ...]
    not_in_new_name: tuple[str, ...]

    @classmethod
    def from_dict(cls, data: Mapping[str, Iterable[Any]]) -> Words:
        """Read the ``words`` mapping; every list of the class must be there."""
        return cls(
            **{name: tuple(str(word) for word in data[name]) for name in cls.__annotations__}
        )


@dataclass(frozen=True)
class Prepared:
    """Text ready for matching.

    Attributes:
        clean: Without polite filler around it; names are matched on this.
        core: ``clean`` without filler at the end too; commands without names use this.
        link: The Spotify link or URI in the text, written as ``LINK_WORD`` in both texts.
        for_model: The text is the model's whatever matches (", then ...", ", not ...").
    """

    clean: str
    core: str
    link: str | None
    for_model: bool


# A wildcard check: the words a wildcard caught -> (the slot's value, more arguments), or None.
Check = Callable[[str], "tuple[Any, dict[str, Any]] | None"]


class Checks:
    """The name checks and the normaliser, built from the grammar's word lists."""

    def __init__(self, words: Words) -> None:
        self.words = words
        alt = _alternatives
        nouns = alt(words.music_nouns)
        modifiers = alt(words.modifiers)
        self._leading = re.compile(rf"^(?:{alt(words.filler_start)})\b[\s,.!]*", _I)
        self._comma_filler = re.compile(
            rf"\s*,\s*(?:{alt(words.filler_end + words.filler_after_comma)})$", _I
        )
        self._trailing_filler = re.compile(rf"\s+(?:{alt(words.filler_end)})$", _I)
        self._comma_for_model = re.compile(rf",\s*(?:{alt(words.after_comma_for_model)})\b", _I)
        self._title_ending = re.compile(rf"\b(?:{alt(words.title_endings)})$", _I)
        self._title_before_next = re.compile(rf"\b(?:{alt(words.title_words_before_next)})$", _I)
        self._genres = frozenset(word.casefold() for word in words.genres)
        self._not_music = frozenset(word.casefold() for word in words.not_music)
        # A name must not be a description. Words that also start titles ("This Is America",
        # "Another One Bites the Dust", "More Than a Feeling", "The Next Episode") count only
        # when a music noun follows them, or nothing does.
        self._description_start = re.compile(
            r"^(?:(?:something|anything|some|whatever|whichever|random|similar|them|him|her|us)\b|"
            rf"(?:this|that|these|those|any|other|different|more|another)(?:\s+(?:{nouns})"
            r"(?:\s+(?:like|by|from|of|again|with|that|for|about|on|in)\b|$)|\s+(?:like|by|from|of)\b|$)|"
            r"me(?!\s+and\b)\b|"
            # "that Queen song about ...", "the deep one": pointing at something by describing it.
            rf"(?:that|those|these)\s+(?:\S+\s+){{1,3}}(?:{nouns})\b|"
            r"(?:the\s+)?(?:\S+\s+){1,2}one$|"
            r"it\s+(?:back|again|louder|quieter|softer|loud|loudly|here|there|on|for|at)\b|"
            r"what\s+(?:i|we|you)\b|"
            rf"the\s+(?:{modifiers})\s+(?:\S+\s+)?(?:{nouns}|release|ep)\b|"
            rf"the\s+(?:{nouns}|same|other)(?:\s+(?:that|from|with|where|which|who|i|we|you|they|"
            r"by|about|of|in|on|for|like)\b|$))",
            _I,
        )
        self._generic_start = re.compile(r"^(?:music|songs?|tracks?|tunes?|stuff)\b", _I)
        self._dangling = re.compile(
            r"^(?:by|and|or|with|to|from)\b|\b(?:by|and|or|with|to|the|a|of)$", _I
        )
        # "a/an" with a description word, with one word only ("play a game"), or with words
        # about someone ("a game with me").
        self._a_description = re.compile(
            r"^an?\s+(?:\S+$|\S+\s+(?:with|for|about|from|that|which)\b|(?:.*\s)?(?:songs?|"
            r"tracks?|tunes?|one|mix|playlist|album|bit|few|couple|random|something|music|new|"
            r"different|good|nice|great|cool|fun|chill|relaxing|sad|happy|upbeat)\b)",
            _I,
        )
        self._description_anywhere = re.compile(
            r"\b(?:music|songs|tracks|tunes|something|anything|stuff|version|versions|vibes?|"
            r"playlist|playlists|album|albums|(?:radio|station)$|podcast|genre|similar|"
            r"recommend\w*|that\s+goes|goes\s+like|(?:song|track|tune|one)\s+(?:about|where|"
            r"which|with)|(?:loud|louder|loudly|quiet|quieter|quietly|softly)$|the\s+one\s+"
            r"(?:from|with|where|which|who|i|we|you|they|by|about|in|on|for|like)|from|"
            r"for\s+(?:me|us|him|her|them|my|a|an|the|\d+)|(?:i|we)\s+(?:heard|listened|played|"
            r"was\s+(?:listening|playing)|were\s+(?:listening|playing))|(?:new|newest|latest|"
            r"recent|last|first|top|best|greatest|popular|most|biggest|debut)\s+(?:album|song|"
            r"single|track|release|record|ep|hits?)|at\s+\d|\d:[0-5]\d)\b",
            _I,
        )
        # "play one Adele song", "play the Titanic song": a description ending in "song"
        # (while "Your Song" and "Love Song" are titles).
        self._ends_in_song = re.compile(r"^\S+\s+\S+.*\s+(?:song|track|tune)$", _I)
        self._the_x_song = re.compile(r"^the\s+.+\s+(?:song|track|tune|single)$", _I)
        self._possessive_description = re.compile(
            r"'s?\s+(?:new|newest|latest|last|first|most|top|best|popular|recent|biggest|debut|"
            r"second|third|other|greatest)\b",
            _I,
        )
        self._modifier_start = re.compile(rf"^(?:the\s+|an?\s+|my\s+)?(?:{modifiers})\b", _I)
        # What follows "the song/album" in a description rather than a title.
        self._title_description = re.compile(
            r"^(?:that|which|who|where|when|from|about|with|in|on|of|for|by|like|i|we|you|they|"
            r"he|she|it|everyone|everybody|people|my|your|this|these)\b",
            _I,
        )
        self._several = re.compile(r"\band\b|&|,", _I)
        self._not_a_track = re.compile(r"\band\b|&|,|\bnumber\b|\balbum\b|^#", _I)
        self._new_playlist = re.compile(
            r"^(?:an?\s+|my\s+|the\s+)?(?:new|fresh|another|different)\b|^an?\s", _I
        )
        self._not_a_playlist = re.compile(rf"\b(?:{alt(words.not_playlists)})$", _I)
        self._not_in_new_name = re.compile(rf"\b(?:{alt(words.not_in_new_name)})\b", _I)
        self._device_noun = re.compile(rf"\b(?:{alt(words.device_nouns)})\b", _I)
        self._room = re.compile(rf"(?:{alt(words.rooms)})(?:\s+\w+)?", _I)
        self._not_device = re.compile(rf"\b(?:{alt(words.not_device)})\b", _I)
        self._this_computer = re.compile(rf"(?:{alt(words.this_computer)})", _I)
        self._article = re.compile(r"^(?:the|my|our|your)\s+", _I)
        self._this_start = re.compile(r"^this\b", _I)
        self.checks: dict[str, Check] = {
            "song": lambda text: self._song(text, kind_given=False),
            "title": self._title,
            "named": self._named,
            "artist": self._artist,
            "playlist_artist": self._playlist_artist,
            "single": self._single,
            "before_next": self._before_next,
            "track": self._track,
            "playlist": self._playlist,
            "target": self._target,
            "new_name": self._new_name,
            "device": lambda text: self._device(text, needs_word=True),
            "any_device": lambda text: self._device(text, needs_word=False),
            "any": lambda text: (text, {}),
        }

    # ----------------------------------------------------------------------------------------
    # Normalising
    # ----------------------------------------------------------------------------------------

    def prepare(self, text: str) -> Prepared | None:
        """The text to match, or None when there is nothing to read (or far too much)."""
        if len(text) > MAX_TEXT:
            return None  # no command is this long: a paste or a dictation, for the model
        clean = _strip_edges(" ".join(text.translate(_TRANSLATE).split()))
        while True:
            before = clean
            clean = _strip_edges(self._leading.sub("", clean, count=1))
            clean = _strip_edges(self._comma_filler.sub("", clean, count=1))
            if clean == before:
                break
        if not clean:
            return None
        clean, link = _take_link(clean)
        for_model = self._comma_for_model.search(clean) is not None
        return Prepared(clean, self.strip_trailing_filler(clean), link, for_model)

    def strip_trailing_filler(self, text: str) -> str:
        """Drop filler words at the end, each word once ("Please Please Please" keeps two)."""
        seen: set[str] = set()
        while True:
            match = self._trailing_filler.search(text)
            if match is None:
                return text
            word = " ".join(match.group(0).lower().split())
            if word in seen:
                return text
            seen.add(word)
            text = _strip_edges(text[: match.start()])

    # ----------------------------------------------------------------------------------------
    # Names
    # ----------------------------------------------------------------------------------------

    def name(
        self,
        text: str,
        *,
        kind_given: bool = False,
        number_ok: bool = False,
        by_artist: bool = False,
    ) -> str | None:
        """``text`` as a name to search for, or None when it may be a description or a request.

        Args:
            text: The candidate name.
            kind_given: The person said which kind it is ("the album X", "my X playlist"):
                words like "music" or "songs" may then be part of the name.
            number_ok: A name that is only a number is fine ("22 by Taylor Swift").
            by_artist: An artist follows, so "my" starts a title ("My Way by Frank Sinatra").
        """
        name = _unquote(text)
        if not name or len(name.split()) > MAX_NAME_WORDS:
            return None
        if name.lower() in ("a", "an", "the", "it", "to", "on", "in", "of", "by", "and"):
            return None
        if self._title_ending.search(name) or self._description_start.search(name):
            return None
        if not by_artist and self._dangling.search(name):
            return None  # "play Thriller by": unfinished
        if not kind_given and self._generic_start.search(name):
            return None
        if not by_artist and re.match(r"my\b", name, _I):
            return None
        if self._a_description.search(name):
            return None
        if not kind_given and self._possessive_description.search(name):
            return None  # "Taylor Swift's latest" (but "my Today's Top Hits playlist" is a name)
        words = [word.casefold() for word in name.split()]
        if all(
            word in self._not_music or word in ("the", "a", "an", "my", "some") for word in words
        ):
            return None  # "the news", "the game": not music
        if not kind_given and (
            self._description_anywhere.search(name)
            or self._the_x_song.search(name)
            or self._ends_in_song.search(name)
            or all(word in self._genres for word in words)
        ):
            return None
        if not number_ok and number_value(name.lstrip("#").strip()) is not None:
            # "play 2" may mean a numbered result or a title ("22"): the model knows the
            # conversation.
            return None
        return name

    def _song(self, text: str, *, kind_given: bool) -> tuple[Any, dict[str, Any]] | None:
        """A title, split into title and artist at "by" when that reads as an artist."""
        if text.strip().lower() == LINK_WORD:
            return text.strip(), {}
        readings = title_artist_readings(text, dash=False)
        if readings:
            title, artist = readings[0]
            title_name = self.name(title, kind_given=kind_given, number_ok=True, by_artist=True)
            artist_name = self.name(artist)
            if title_name is None or artist_name is None:
                return None
            if len(artist_name.split()) > MAX_ARTIST_WORDS:
                return None
            return title_name, {"artist": artist_name}
        whole = self.name(text, kind_given=kind_given)
        return None if whole is None else (whole, {})

    def _title(self, text: str) -> tuple[Any, dict[str, Any]] | None:
        """A name after its kind ("the song X", "the album X"): describing words are allowed."""
        if self._title_description.match(text):
            return None  # "the song that goes ...", "the song from Titanic"
        return self._song(text, kind_given=True)

    def _named(self, text: str) -> tuple[Any, dict[str, Any]] | None:
        """An album name before the word "album" ("the Thriller album")."""
        if self._modifier_start.match(text) or "'" in text:
            return None  # "the new Taylor Swift album", "the Beatles' White Album": the model's
        name = self.name(text, kind_given=True)
        return None if name is None else (name, {})

    def _artist(self, text: str) -> tuple[Any, dict[str, Any]] | None:
        name = self.name(text)
        if name is None or title_artist_readings(name, dash=False):
            return None  # "songs by X by Y" is no artist
        if len(name.split()) > MAX_ARTIST_WORDS:
            return None
        return name, {}

    def _playlist_artist(self, text: str) -> tuple[Any, dict[str, Any]] | None:
        """The artist of a new playlist: "10 calm piano pieces" and "chill" describe songs."""
        words = [word.casefold() for word in text.split()]
        if not words or number_value(words[0]) is not None:
            return None
        if any(word in self._genres for word in words):
            return None
        return self._artist(text)

    def _single(self, text: str) -> tuple[Any, dict[str, Any]] | None:
        """One song to queue: several ("X and Y", "X, Y") are the model's."""
        if text.strip().lower() == LINK_WORD:
            return text.strip(), {}
        if self._several.search(text):
            return None
        return self._song(text, kind_given=False)

    def _before_next(self, text: str) -> tuple[Any, dict[str, Any]] | None:
        """A song before "next"; none when "next" ends a title ("Thank U, Next", "Who's Next")."""
        if text.rstrip().endswith(",") or self._title_before_next.search(text.rstrip()):
            return None
        return self._single(text)

    def _track(self, text: str) -> tuple[Any, dict[str, Any]] | None:
        """One track to add, kept whole ("Hey Jude by the Beatles" is a good track query)."""
        match = re.match(
            r"(?:the\s+)?(?:song|track|single|tune)\s+(?:called\s+|named\s+)?", text, _I
        )
        what = text[match.end() :] if match else text
        if self._not_a_track.search(what):
            return None  # lists and earlier results are the model's
        name = self.name(what, by_artist=bool(title_artist_readings(what, dash=False)))
        return None if name is None else ([name], {})

    def _playlist(self, text: str) -> tuple[Any, dict[str, Any]] | None:
        """A playlist name said with the word "playlist" (or after "add to")."""
        name = self.strip_trailing_filler(text.strip())
        if self._new_playlist.match(name) or self._not_a_playlist.search(name):
            return None  # creating one, or a shopping list: the model's
        if self._modifier_start.match(name):
            return None  # "my latest playlist": which one is the model's call
        checked = self.name(name, kind_given=True)
        if checked is None or len(checked.split()) > MAX_PLAYLIST_WORDS:
            return None
        return checked, {}

    def _target(self, text: str) -> tuple[Any, dict[str, Any]] | None:
        """Where to add without the word "playlist": a playlist, but no device."""
        bare = self._article.sub("", text.strip())
        if self._device_noun.search(bare) or self._new_playlist.match(text.strip()):
            return None  # "put this on my phone" is not for a playlist
        return self._playlist(bare)

    def _new_name(self, text: str) -> tuple[Any, dict[str, Any]] | None:
        """The name of a new playlist: a few words that do not describe its songs."""
        name = _unquote(text)
        if not name or len(name.split()) > MAX_PLAYLIST_WORDS:
            return None
        if self._not_in_new_name.search(name) or self._dangling.search(name):
            return None  # "called X with ten calm piano pieces": the model builds that
        return name, {}

    def _device(self, text: str, *, needs_word: bool) -> tuple[Any, dict[str, Any]] | None:
        """A device name from "my phone" / "the kitchen speaker", or None when it is not one."""
        name = self.strip_trailing_filler(text.strip(" ,"))
        if self._this_computer.fullmatch(name):
            return THIS_COMPUTER, {}
        if self._this_start.match(name):
            return None  # "this speaker": which one is the model's call
        name = self._article.sub("", name)
        if not name or len(name.split()) > MAX_DEVICE_WORDS or self._not_device.search(name):
            return None
        if needs_word and not self._device_noun.search(name) and not self._room.fullmatch(name):
            return None
        return name, {}


def _strip_edges(text: str) -> str:
    text = text.strip(_EDGES)
    if len(text) > 1 and text[0] == "'" and text[-1] == "'":
        text = text[1:-1].strip(_EDGES)
    return text


def _unquote(text: str) -> str:
    """``text`` without spaces, commas and double quotes around it, or a pair of single quotes."""
    name = text.strip(' ,"')
    if len(name) > 1 and name[0] == name[-1] == "'":
        name = name[1:-1].strip()
    return name


def _take_link(text: str) -> tuple[str, str | None]:
    """``text`` with its one Spotify link or URI written as ``LINK_WORD``, and the link."""
    tokens = text.split(" ")
    found = [i for i, token in enumerate(tokens) if parse_spotify_ref(token) is not None]
    if len(found) != 1:
        return text, None
    token = tokens[found[0]]
    link = token[1:-1].strip() if token.startswith("<") else token
    tokens[found[0]] = LINK_WORD
    return " ".join(tokens), link

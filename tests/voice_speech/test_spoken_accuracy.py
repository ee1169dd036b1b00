"""Spoken-command accuracy on a robotic and a neural voice, counting wrong actions.

The commands of ``corpora.POSITIVE`` (what Segue's fast path carries out when typed) and the traps
of ``corpora.NEGATIVE`` (what must change nothing) are spoken by espeak-ng (en-us, 140 words a
minute) and by Piper's neural en_US "joe" voice (``tests/support/voices.py``), transcribed by the
bundled tiny.en model with the simulator user's vocabulary, and run through a fresh demo Segue
each. ``accuracy.py`` judges each one right, refused (nothing changed) or wrong (the state changed,
and not as the typed command changes it). The figures go to the terminal summary.

Each corpus runs for two listeners: a new one (the demo user as it starts: no recent plays but
"Bohemian Rhapsody") and a regular one, whose recent plays (``corpora.HISTORY``: the corpus's
titles among 28 songs, with rivals such as "Creep" by TLC and two "Halo"s) give the grammar's
sentences their names. Traps run for the regular listener, where more names could be mistaken.

Measured on this project's 2-core machine (faster-whisper 1.2, tiny.en int8, beam 5; Piper 1.8
with joe-medium at length scale 1.0, seeded so each run speaks the same), with the grammar's
sentences scored against each recording when the transcript is not a command (``agent/hearing.py``,
``voice/rescore.py``) and, for comparison, the same transcripts taken as they are:

| corpus, voice, listener | right | refused (a question) | wrong | without rescoring |
|---|---|---|---|---|
| positive, espeak-ng en-us 140 wpm, new | 39/45 | 6 (1) | 0 | 30 right, 0 wrong |
| positive, piper joe 1.0, new | 40/45 | 5 (3) | 0 | 29 right, 1 wrong |
| positive, espeak-ng en-us 140 wpm, regular | 42/45 | 3 (1) | 0 | 30 right, 0 wrong |
| positive, piper joe 1.0, regular | 44/45 | 1 (1) | 0 | 29 right, 1 wrong |
| negative, espeak-ng en-us 140 wpm, regular | - | 20/20 | 0 | 20 refused |
| negative, piper joe 1.0, regular | - | 20/20 | 0 | 20 refused |

The one wrong action without rescoring is "volume seventy" heard as "Volume 17.". What rescoring
recovers: short commands ("Cephalon." -> "shuffle on", "Vause." -> "pause", "Scoop." -> "skip",
"Newt." -> "mute"), "add this to" a playlist ("And Mr. Kill Vibes."), "play my playlist X"
("Play My Playless Deep Work."), the person's own songs ("Cubility Gene." -> "queue Billie
Jean" for the regular listener) and, with the transcript's own words behind repaired command
words, "Place ons by Taylor Swift." and "Playin' the album, rumors.". A transcript that is a
command whose name is nobody's is checked against the person's own sentences closest to it:
"Play Creek, Ivera Adele, Head." becomes "play Creep by Radiohead" for the regular listener
(it fits the recording clearly better than the words written). Where the transcript's own
spelling of a name and the person's name fit equally ("add Willy Dean to the queue" / "add
Billie Jean to the queue"), the person's wins. A title heard one sound off, by the artist named,
is played when it is the person's own song (played lately or liked: "Play Creek by Radiohead."
and "Play Mr., Right Side by The Killers." for the regular listener; the model's scores cannot
tell such a pair apart, the person's listening can); for anyone else it is a question ("Did you
mean “Creep” by Radiohead?"). Of "mute" and "unmute", which the model hears alike ("I'm
mute.", "A Nute."), the one that would change something is done: "unmute" while the sound is
off. What is asked: "Volume 17." ("Did you say “volume 17” or “volume 70”?"; both 17 and 70
would change the volume). What is refused: "Play Mr. Right Side by Michaela.", "Playin' the
album Freeler." ("Nothing on Spotify matched “Freeler”"). Piper's "skip" heard "It's good." is
taken since only the closest sentences are scored ("turn it up", which fit almost as well, is
not among them: ``hearing.SPOKEN_LIMIT``).

The default run covers the regular listener (positive and traps, both voices). Set
``SEGUE_SPEECH_ALL_VOICES=1`` to also run the new listener (with the comparison without
rescoring) and espeak-ng en-gb at 170 wpm, Piper faster (0.85), slower (1.15) and with pink
noise at 15 dB SNR (about 6 more minutes; floors for the new listener, reported for the rest).
Measured for the regular listener (en-gb, faster, with noise, slower): 38, 43, 41 and 44 of 45
right (35, 40, 42, 42 before the person's own sentences were checked for an understood
transcript, mute/unmute decided by what would change and only the closest sentences scored;
the noisy "shuffle on", heard "Jepa One.", is refused since), 0 wrong; every trap refused.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import pytest

from assistant.agent.intents import parse
from assistant.sim.catalog import Catalog
from assistant.voice.stt import LocalWhisper
from tests.support.voices import (
    ESPEAK_GB_FAST,
    ESPEAK_US,
    PIPER_JOE,
    PIPER_JOE_FAST,
    PIPER_JOE_NOISY,
    PIPER_JOE_SLOW,
    Voice,
    Voices,
)
from tests.voice_speech.accuracy import (
    Corpus,
    DemoSegue,
    SameWhisper,
    Tally,
    run_corpus,
    typed_effect,
)
from tests.voice_speech.corpora import CORPORA, HISTORY, NEGATIVE, POSITIVE

# Floors for the regular listener are the targets (90% of 45 for the robotic voice, 95% for the
# neural one: 41 and 43; measured 42 and 44); those for the new listener sit two commands below
# what was measured (39 and 40), as int8 decoding can differ by a command between CPUs.
RIGHT_FLOOR = {
    ("positive", ESPEAK_US.name, False): 37,
    ("positive", PIPER_JOE.name, False): 38,
    ("positive", ESPEAK_US.name, True): 41,
    ("positive", PIPER_JOE.name, True): 43,
}
# Wrong actions allowed, in every run and every voice: none. A spoken command Segue is not sure
# of changes nothing.
WRONG_CEILING = 0

# (corpus, voice, with the listener's history). Traps run with the history: more of the
# person's names means more sentences a trap could be mistaken for.
RUNS: list[tuple[Corpus, Voice, bool]] = [
    ("positive", ESPEAK_US, True),
    ("positive", PIPER_JOE, True),
    ("negative", ESPEAK_US, True),
    ("negative", PIPER_JOE, True),
]
if os.environ.get("SEGUE_SPEECH_ALL_VOICES"):
    # The new listener (and, for it, the same words without rescoring), then four more voices:
    # about 6 more minutes, kept out of the default run for the suite's 10-minute budget.
    RUNS += [("positive", ESPEAK_US, False), ("positive", PIPER_JOE, False)]
    RUNS += [
        (corpus, voice, True)
        for voice in (PIPER_JOE_NOISY, ESPEAK_GB_FAST, PIPER_JOE_FAST, PIPER_JOE_SLOW)
        for corpus in ("positive", "negative")
    ]


def _label(voice: Voice, history: bool) -> str:
    return f"{voice.name}, {'a regular listener' if history else 'a new listener'}"


@pytest.fixture(scope="module")
def tally() -> Tally:
    return Tally()


def test_the_corpora_are_what_they_say(sim_vocabulary: list[str]) -> None:
    assert len(POSITIVE) >= 40
    assert len(NEGATIVE) >= 20
    assert len({c.text for c in POSITIVE + NEGATIVE}) == len(POSITIVE) + len(NEGATIVE)
    # A spoken command can only do what the typed one does if the typed one is understood.
    assert [c.text for c in POSITIVE if parse(c.text) is None] == []
    # Titles and artists from the simulator's catalog; playlists and devices are the demo user's.
    catalog = Catalog.load()
    titles = {(t.name, catalog.artists[t.artist_ids[0]].name) for t in catalog.tracks.values()}
    for title, artist in (
        ("Billie Jean", "Michael Jackson"),
        ("Rolling in the Deep", "Adele"),
        ("Creep", "Radiohead"),
        ("Mr. Brightside", "The Killers"),
        ("Blinding Lights", "The Weeknd"),
        ("Come Together", "The Beatles"),
    ):
        assert (title, artist) in titles
    assert {"Rumours", "Thriller"} <= {album.name for album in catalog.albums.values()}
    assert {"Chill Vibes", "Focus Piano", "Deep Work", "Morning Run", "Pixel 8"} <= set(
        sim_vocabulary
    )


def test_typed_commands_do_something_and_traps_do_nothing() -> None:
    # The yardstick: each positive command typed works, the same way on every fresh demo Segue,
    # and changes the state unless it only reads; each trap typed changes nothing.
    read_only = {"what's playing", "who sings this", "what's next", "show my playlists"}
    read_only.add("show my devices")
    for command in POSITIVE:
        effect = typed_effect(command)
        assert effect.ok, f"{command.text!r} fails typed: {effect.text}"
        assert effect.changed == (command.text not in read_only), command.text
        with DemoSegue(command.before) as again:
            reply = again.typed(command.text)
            assert (reply.ok, reply.text, again.state()) == (effect.ok, effect.text, effect.after)
    changed = [c.text for c in NEGATIVE if typed_effect(c).changed]
    assert changed == []


@pytest.mark.parametrize(
    ("corpus", "voice", "history"),
    RUNS,
    ids=[f"{corpus}-{voice.name}-{'history' if h else 'new'}" for corpus, voice, h in RUNS],
)
def test_spoken_commands_right_refused_or_wrong(
    corpus: Corpus,
    voice: Voice,
    history: bool,
    voices: Voices,
    whisper: LocalWhisper,
    sim_vocabulary: list[str],
    tally: Tally,
    report: Callable[[str, str], None],
) -> None:
    commands = CORPORA[corpus]
    started = time.perf_counter()
    recordings = [voices(voice, command.text) for command in commands]
    synthesis = time.perf_counter() - started
    same = SameWhisper(whisper)
    played = HISTORY if history else ()
    label = _label(voice, history)
    run_corpus(tally, corpus, commands, label, recordings, same, sim_vocabulary, history=played)
    if not history:
        # The same words without rescoring: what the grammar's candidates add. (The listening
        # history only fills candidates, so without rescoring both listeners fare the same.)
        plain = f"{label}, without rescoring"
        run_corpus(
            tally, corpus, commands, plain, recordings, same, sim_vocabulary, rescoring=False
        )
        report(f"spoken accuracy, {corpus}, {plain}", tally.summary(corpus, plain))

    counts = tally.counts(corpus, label)
    misses = tally.misses(corpus, label)
    report(
        f"spoken accuracy, {corpus}, {label}",
        f"{tally.summary(corpus, label)}; synthesis {synthesis:.1f} s "
        f"({voices.mean_seconds(voice):.2f} s a command)",
    )
    if misses:
        report(
            f"spoken accuracy, {corpus}, {label}, misses",
            "; ".join(f"{t.command.text!r} -> {t.transcript!r} [{t.outcome}]" for t in misses),
        )
    print("\n  " + "\n  ".join(t.describe() for t in misses))

    key = (corpus, voice.name, history)
    wrong = [t.describe() for t in misses if t.outcome == "wrong"]
    assert counts.wrong <= WRONG_CEILING, wrong
    if key in RIGHT_FLOOR:
        assert counts.right >= RIGHT_FLOOR[key], [t.describe() for t in misses]

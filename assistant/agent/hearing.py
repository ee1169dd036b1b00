"""Hearing a command: the sentences a recording may say, given what the recogniser wrote.

Whisper-class recognisers are weak on short commands without context ("pause" comes out as
"Fause.", "shuffle on" as "Cephalon.", "volume seventy" as "Volume 17."), while Segue knows
what a command can be: the grammar's sentences, filled with the person's own names. The pipeline
asks :func:`candidates` for the sentences worth checking against the recording; the recogniser
scores them where it can (the local model's forced alignment: ``voice/rescore.py``, which also
holds the thresholds), and :func:`choose_by_text` decides where it cannot (OpenAI speech to
text gives no scores).

- A transcript the grammar understands fully is checked only against what it is easily confused
  with: the same words with a "-teen" number for a "-ty" one and back ("17" / "70"), and, when
  its names are not the person's own ("Play Creek, Ivera Adele, Head."), the person's sentences
  closest to it (``OWN_LIMIT``), one of which is taken only when it fits the recording clearly
  better than the transcript itself (the search and its near-miss question decide otherwise).
  The local
  model cannot tell those apart reliably (measured on four voices: a correct "Volume 70." scored
  below "Volume 17." on one, a wrong "Volume 17." above "Volume 70." on another), so unless its
  own reading wins clearly (``TWIN_CLEAR``), Segue asks which was meant. The grammar's
  ``confusable`` commands ("mute" / "unmute") are checked against each other the same way,
  whether the transcript says one of them or the recording is found to (the pipeline then does
  the one that would change something, if only one would: ``Agent.only_change``). Other
  understood commands stand as heard: swapping one fixed command for another by score turned a
  correct "Next." into "what's next".
- Any other transcript is checked against the grammar's ``spoken_commands`` (the commands
  without names, as people say it) and the name-bearing sentences closest to it by spelling and
  by sound (``SPOKEN_LIMIT``, ``NAMED_LIMIT``: a third of the cost of checking them all, for the
  same decisions where measured).
- Names the person has never played cannot come from their names, so the transcript's own words
  are tried as the name behind each command's words (:func:`echoes`: "Place ons by Taylor
  Swift." -> "play songs by Taylor Swift", "Playin' the album, rumors." -> "play the album
  rumors"). Such a sentence changes only the command's words, and a wrong verb is the costliest
  mistake ("call mom" -> "play mom"), so it is taken only when it costs the recording almost
  nothing against the transcript (``ECHO_DEFICIT``); the name is then searched and judged like
  a typed one. An echo is no rival of the person's own name: when they fit about equally
  ("add Willy Dean to the queue" / "add Billie Jean to the queue"), the person's wins.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import jellyfish
from rapidfuzz import fuzz

from assistant.agent import grammar
from assistant.agent.grammar import Names
from assistant.text.fold import fold

logger = logging.getLogger(__name__)

__all__ = [
    "Heard",
    "candidates",
    "choose_by_text",
    "closeness",
    "decide",
    "echoes",
    "nearest_command",
]

# For a transcript the grammar does not understand: the spoken commands and the name-bearing
# sentences closest to it by spelling and sound, and up to ECHO_LIMIT echoes (24-32 sentences,
# 130-230 ms on 2 cores; benchmarks/rescoring.md). Every spoken command (52) and the 20 closest
# named ones, 72-80 sentences, cost twice that. On 390 recordings (the accuracy corpora in six
# voices) 16 and 8 decided as all of them did but for four: a noisy "shuffle on" ("Jepa One.")
# refused, and three traps refused or left alone instead of asked about or read; no wrong
# action either way. A slip keeps most of the sounds of what was said.
SPOKEN_LIMIT = 16
NAMED_LIMIT = 8
# How much better (mean log-probability per token) the heard number must fit the recording than
# its "-teen"/"-ty" twin to be taken without asking. Measured gaps for numbers heard right: 0.02
# to 3.04 (half of them under 1.6); for "seventy" heard as 17: 0.97.
TWIN_CLEAR = 1.2
# When no candidate is accepted but the best two fit the recording about equally well, and about
# as well as the transcript does, Segue asks which was said ("mute" or "unmute"). The voice
# side accepts a candidate at most 2.0 below the transcript and 0.3 above the next; sentences
# that were no command scored 2.5 or more below their transcript.
TIE_BELOW = 1.5
TIE_MARGIN = 0.3
# Without audio scores, a sentence this close to the transcript by spelling or sound replaces
# it; otherwise the transcript stands (and is not understood: nothing happens).
TEXT_ACCEPT = 88.0
# A command Segue cannot run is answered with the spoken command closest to it when at least
# this close by spelling or sound ("paws" -> "Did you mean “pause”?"); only a question, so the
# bar is lower than TEXT_ACCEPT's; "turn on the lights" is 75 from its nearest command.
SUGGEST_AT = 80.0
# For a transcript the grammar understands whose names are not the person's own ("Play Creek,
# Ivera Adele, Head."): the person's sentences closest to it, checked against the recording (one
# is taken only when it fits clearly better than the transcript itself). The right one was the
# closest by spelling and sound in every case measured.
OWN_LIMIT = 6
# Echo sentences (the transcript's own words behind a command's words) kept for scoring: the
# closest to the transcript by spelling and sound.
ECHO_LIMIT = 8
# The longest run of the transcript's words tried as one name.
ECHO_NAME_WORDS = 7
# How much less likely (natural log, summed over the tokens) an echo may be than the free
# transcript and still be taken. Measured on Piper's joe and espeak-ng (2 speeds each): repaired
# command words cost -0.4 to 0.5 ("Add Billy Jean to the cube." -> "add Billy Jean to the
# queue" 0.4, "Playing the album rumors." -> "play the album rumors" 0.5); a verb that was not
# said cost 8.0 at the least ("It's an alarm for 7." -> "play an alarm for 7"), 10.6-22 usually
# ("Call mom." -> "play mom" 17-22, "Send a message to John." -> "play a message to John" 15).
ECHO_DEFICIT = 3.0

_NUMBER = re.compile(r"\b\d{2}\b")
# A word of a name as the recogniser writes it: letters and digits, inner apostrophes and dots.
_WORD = re.compile(r"[^\W_]+(?:['\u2019.][^\W_]+)*")


@lru_cache(maxsize=8192)
def _sound(text: str) -> str:
    """A phonetic key of the words (Metaphone per word): "queue billie jean" -> "K BL JN"."""
    return " ".join(jellyfish.metaphone(word) for word in fold(text).split())


def closeness(transcript: str, sentence: str) -> float:
    """How alike two texts are by spelling or by sound (0-100)."""
    spelled = fuzz.ratio(fold(transcript), fold(sentence))
    sounded = fuzz.ratio(_sound(transcript), _sound(sentence))
    return float(max(spelled, sounded))


def _teen_ty(number: int) -> int | None:
    """The number a "-teen" is confused with and back: 17 <-> 70, 13 <-> 30."""
    if 13 <= number <= 19:
        return (number - 10) * 10
    if number in range(30, 100, 10):
        return number // 10 + 10
    return None


def _number_variants(transcript: str) -> list[str]:
    variants = []
    for found in _NUMBER.finditer(transcript):
        other = _teen_ty(int(found.group()))
        if other is not None:
            variants.append(transcript[: found.start()] + str(other) + transcript[found.end() :])
    return variants


def _confusable_with(sentence: str) -> list[str]:
    """The grammar's ``confusable`` commands ``sentence`` may be mistaken for ("mute" -> unmute)."""
    folded = fold(sentence)
    return [
        other
        for group in grammar.grammar().confusable()
        if folded in {fold(member) for member in group}
        for other in group
        if fold(other) != folded
    ]


def _twins(transcript: str) -> list[str]:
    """What an understood transcript is easily confused with: number twins, confusable commands."""
    return [*_number_variants(transcript), *_confusable_with(transcript)]


def _closest(transcript: str, sentences: Sequence[str], limit: int) -> list[str]:
    return sorted(sentences, key=lambda s: -closeness(transcript, s))[:limit]


def candidates(
    transcript: str,
    names: Names | None = None,
    *,
    scoring: bool = True,
    spoken_limit: int = SPOKEN_LIMIT,
    named_limit: int = NAMED_LIMIT,
) -> list[str]:
    """The sentences to check against the recording; empty when there is nothing to check.

    Args:
        transcript: What the recogniser wrote.
        names: The person's own names, to fill the grammar's name-bearing sentences.
        scoring: The recogniser scores the sentences against the recording. Only then are
            the transcript's own words tried as names (:func:`echoes`: spelling alone cannot
            tell "call mom" from "play mom") and the person's sentences offered for an
            understood transcript (spelling never puts one above the transcript itself).
        spoken_limit: The most spoken commands (the closest) for a transcript not understood.
        named_limit: The most name-bearing sentences (the closest) for one not understood.

    Returns:
        Candidate sentences (the transcript itself among them when the grammar understands it,
        so it can win).
    """
    if not transcript.strip():
        return []
    understood = grammar.understand(transcript)
    spoken = grammar.grammar().spoken_commands()
    if understood is not None and understood.quality >= 1.0:
        variants = [v for v in _twins(transcript) if fold(v) != fold(transcript)]
        if understood.names and scoring:
            variants += _own_readings(transcript, names)
        return [transcript, *variants] if variants else []
    closest = _closest(transcript, _named(names), named_limit)
    found = [*_closest(transcript, spoken, spoken_limit), *closest]
    if scoring:
        # An echo that only respells one of the person's names ("add Billy Jean to the queue"
        # beside "add Billie Jean to the queue") would be the name's rival: the name stays.
        found += [e for e in echoes(transcript) if all(_respelling(e, n) < 90 for n in closest)]
    return list(dict.fromkeys(found))


def _named(names: Names | None) -> list[str]:
    """The grammar's sentences that carry the person's names ("play Creep by Radiohead")."""
    fixed = set(grammar.grammar().fixed_sentences())
    return [s for s in grammar.sentences(names) if s not in fixed]


def _own_readings(transcript: str, names: Names | None) -> list[str]:
    """For an understood command with names not the person's own: their closest sentences.

    "Play Creek, Ivera Adele, Head." is a command, but its name is nobody's; the person's "play
    Creep by Radiohead" may be what was said. None when the transcript already says one of the
    person's sentences.
    """
    if names is None:
        return []
    unnamed = set(grammar.sentences(None))  # the fixed commands and the volume levels
    own = [s for s in grammar.sentences(names) if s not in unnamed]
    spoken = fold(transcript)
    if any(fold(sentence) == spoken for sentence in own):
        return []
    return _closest(transcript, own, OWN_LIMIT)


def _respelling(one: str, other: str) -> float:
    return float(fuzz.ratio(fold(one), fold(other)))


@lru_cache(maxsize=64)
def _echoes(transcript: str) -> tuple[str, ...]:
    words = _WORD.findall(transcript)
    if len(words) < 2 and words:
        words = _unglued(words[0])
    elif words:
        words = [*_unglued(words[0]), *words[1:]]
    if len(words) < 2:
        return ()
    count = len(words)
    spans = [
        " ".join(words[start:end])
        for start in range(1, count)
        for end in range(start + 1, min(count, start + ECHO_NAME_WORDS) + 1)
    ]
    pairs = [
        (" ".join(words[start:by]), " ".join(words[by + 1 :]))
        for by in range(2, count - 1)
        if words[by].casefold() == "by"
        for start in range(1, by)
    ]
    names = Names(artists=tuple(spans), tracks=(*pairs, *spans), albums=tuple(spans))
    spoken = fold(transcript)
    filled = [s for s in grammar.grammar().filled(names, numbers=False) if fold(s) != spoken]
    understood = grammar.grammar().understood_fully
    closest = _closest(transcript, list(dict.fromkeys(filled)), 2 * ECHO_LIMIT)
    return tuple([s for s in closest if understood(s)][:ECHO_LIMIT])


def echoes(transcript: str) -> list[str]:
    """Sentences that take the transcript's own words as the name behind a command's words.

    "Place ons by Taylor Swift." gives "play songs by Taylor Swift" among others: the grammar's
    ``speech`` templates filled with runs of the transcript's words after its first (the
    command's) word, the ``ECHO_LIMIT`` closest to the transcript by spelling and sound that
    the grammar understands fully. A first word that glues a command's word to a name
    ("Playbilly") is split first.

    Args:
        transcript: What the recogniser wrote.
    """
    return list(_echoes(transcript))


def _unglued(word: str) -> list[str]:
    """``word`` split after a command's first word it starts with ("Playbilly" -> play, billy)."""
    lowered = word.casefold()
    for verb in grammar.grammar().speech_verbs():
        rest = word[len(verb) :]
        if lowered.startswith(verb) and len(rest) >= 3 and rest.isalpha():
            return [word[: len(verb)], rest]
    return [word]


@dataclass(frozen=True)
class Heard:
    """What Segue takes a recording to say.

    Attributes:
        text: The words to act on (the transcript when nothing fits better).
        options: When the recording may say either of these, the question to ask instead.
    """

    text: str
    options: tuple[str, ...] = ()


def decide(
    transcript: str,
    scores: Mapping[str, float],
    accepted: str | None,
    transcript_score: float | None = None,
    *,
    log_probs: Mapping[str, float] | None = None,
    transcript_log_prob: float | None = None,
) -> Heard:
    """Act on the recogniser's scores for :func:`candidates`' sentences.

    Args:
        transcript: What the recogniser wrote.
        scores: Each candidate's fit to the recording (mean log-probability per token).
        accepted: The candidate the recogniser's own rule accepts (it fits about as well as the
            transcript and clearly better than the rest), or None.
        transcript_score: The transcript's own fit on the same scale; None when unknown (no
            question about a near tie is asked then).
        log_probs: Each candidate's summed log-probability; an echo (:func:`echoes`) is taken
            only with it and ``transcript_log_prob``, when it costs at most ``ECHO_DEFICIT``.
        transcript_log_prob: The transcript's summed log-probability.
    """
    echoed = set(_echoes(transcript))
    if accepted is not None and accepted not in echoed:
        asked = _confusable_question(transcript, accepted, scores)
        if asked is not None:
            return asked
    if accepted is not None and accepted in echoed:
        cost = (
            None
            if log_probs is None or transcript_log_prob is None or accepted not in log_probs
            else transcript_log_prob - log_probs[accepted]
        )
        if cost is None or cost > ECHO_DEFICIT:
            return Heard(transcript)
        return Heard(accepted)
    # Echoes are no rivals in a near tie: they repeat the transcript's words.
    echo_scores = [score for text, score in scores.items() if text in echoed]
    scores = {text: score for text, score in scores.items() if text not in echoed}
    if transcript in scores:  # an understood command, checked against its twins
        twins = set(_twins(transcript))
        if accepted is not None and accepted != transcript and accepted not in twins:
            # One of the person's own sentences fits clearly better than the words heard.
            return Heard(accepted)
        others = {text: score for text, score in scores.items() if text in twins}
        if not others:
            return Heard(transcript)
        twin = max(others, key=others.__getitem__)
        if scores[transcript] - others[twin] >= TWIN_CLEAR:
            return Heard(transcript)
        first, second = sorted((transcript, twin), key=lambda t: -scores[t])
        return Heard(transcript, options=(_plain(first), _plain(second)))
    if accepted is None and transcript_score is not None and len(scores) >= 2:
        ranked = sorted(scores, key=lambda t: -scores[t])
        first = ranked[0]
        near = transcript_score - scores[first] <= TIE_BELOW
        if near and scores[first] - scores[ranked[1]] < TIE_MARGIN:
            # Sentences that mean the same ("shuffle on", "turn on shuffle") are one reading;
            # the rival is the best sentence that means something else.
            rival = next((t for t in ranked[1:] if not _same_calls(first, t)), None)
            if rival is None or scores[first] - scores[rival] >= TIE_MARGIN:
                return Heard(first)
            return Heard(transcript, options=(_plain(first), _plain(rival)))
        if near and any(abs(score - scores[first]) < TIE_MARGIN for score in echo_scores):
            # Clearly ahead of every other reading, it lost its lead only to an echo (the
            # transcript's spelling of a name: "add Willy Dean to the queue" beside the
            # person's "add Billie Jean to the queue"): the person's own words win a near tie.
            return _confusable_question(transcript, first, scores) or Heard(first)
    return Heard(accepted or transcript)


def _confusable_question(transcript: str, taken: str, scores: Mapping[str, float]) -> Heard | None:
    """The question to ask when ``taken``'s ``confusable`` twin fits about as well, else None."""
    twins = [t for t in _confusable_with(taken) if t in scores]
    twin = max(twins, key=scores.__getitem__, default=None)
    if twin is not None and scores[taken] - scores[twin] < TWIN_CLEAR:
        return Heard(transcript, options=(_plain(taken), _plain(twin)))
    return None


def _same_calls(one: str, other: str) -> bool:
    first, second = grammar.understand(one), grammar.understand(other)
    return first is not None and second is not None and first.calls == second.calls


def _plain(text: str) -> str:
    """A heard sentence as an option to say back: "Volume 70." -> "volume 70"."""
    plain = text.strip().rstrip(".!?").replace("%", " percent")
    if len(plain) > 1 and plain[1].islower():  # the recogniser's capital, not a name's
        plain = plain[0].lower() + plain[1:]
    return plain


def choose_by_text(transcript: str, sentences: Sequence[str]) -> str:
    """Without audio scores: a sentence only when its words or sound are very close."""
    if not sentences:
        return transcript
    best = max(sentences, key=lambda s: closeness(transcript, s))
    score = closeness(transcript, best)
    if score >= TEXT_ACCEPT and fold(best) != fold(transcript):
        logger.info("Heard %r as the command %r (closeness %.0f)", transcript, best, score)
        return best
    return transcript


def nearest_command(text: str) -> str | None:
    """The grammar's spoken command closest to ``text``, when close enough to ask about."""
    spoken = grammar.grammar().spoken_commands()
    if not text.strip() or not spoken:
        return None
    best = max(spoken, key=lambda sentence: closeness(text, sentence))
    return best if closeness(text, best) >= SUGGEST_AT else None

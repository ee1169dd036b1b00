"""Hearing a command: the sentences a recording may say, given what the recogniser wrote.

Whisper-class recognisers are weak on short commands without context ("pause" comes out as
"Fause.", "shuffle on" as "Cephalon.", "volume seventy" as "Volume 17."), while Segue knows
what a command can be: the grammar's sentences, filled with the person's own names. The pipeline
asks :func:`candidates` for the sentences worth checking against the recording; the recogniser
scores them where it can (the local model's forced alignment: ``voice/rescore.py``, which also
holds the thresholds), and :func:`choose_by_text` decides where it cannot (OpenAI speech to
text gives no scores).

- A transcript the grammar understands fully is checked only against what it is easily confused
  with: the same words with a "-teen" number for a "-ty" one and back ("17" / "70"). The local
  model cannot tell those apart reliably (measured on four voices: a correct "Volume 70." scored
  below "Volume 17." on one, a wrong "Volume 17." above "Volume 70." on another), so unless its
  own reading wins clearly (``NUMBER_CLEAR``), Segue asks which was meant. Other understood
  commands stand as heard: swapping one fixed command for another by score turned a correct
  "Next." into "what's next".
- Any other transcript is checked against the grammar's ``spoken_commands`` (every command
  without names, as people say it: a recogniser's slip can share no letter with the command, so
  all of them are kept) and the name-bearing sentences closest to it by spelling and by sound.
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

__all__ = ["Heard", "candidates", "choose_by_text", "closeness", "decide"]

# Name-bearing sentences kept for a transcript the grammar does not understand. With the 52
# spoken commands that makes about 72 sentences to score: 0.3-0.6 s on 2 cores (about 5 ms a
# sentence). Scoring only the 24 closest by spelling and sound took a third of that and kept
# every right answer, but with fewer rivals one non-command ("set an alarm for seven") passed as
# "turn down the volume": the full set stays until a cheaper scorer allows more.
NAMED_LIMIT = 20
# How much better (mean log-probability per token) the heard number must fit the recording than
# its "-teen"/"-ty" twin to be taken without asking. Measured gaps for numbers heard right: 0.02
# to 3.04 (half of them under 1.6); for "seventy" heard as 17: 0.97.
NUMBER_CLEAR = 1.2
# When no candidate is accepted but the best two fit the recording about equally well, and about
# as well as the transcript does, Segue asks which was said ("mute" or "unmute"). The voice
# side accepts a candidate at most 2.0 below the transcript and 0.3 above the next; sentences
# that were no command scored 2.5 or more below their transcript.
TIE_BELOW = 1.5
TIE_MARGIN = 0.3
# Without audio scores, a sentence this close to the transcript by spelling or sound replaces
# it; otherwise the transcript stands (and is not understood: nothing happens).
TEXT_ACCEPT = 88.0

_NUMBER = re.compile(r"\b\d{2}\b")


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


def _closest(transcript: str, sentences: Sequence[str], limit: int) -> list[str]:
    return sorted(sentences, key=lambda s: -closeness(transcript, s))[:limit]


def candidates(transcript: str, names: Names | None = None) -> list[str]:
    """The sentences to check against the recording; empty when there is nothing to check.

    Args:
        transcript: What the recogniser wrote.
        names: The person's own names, to fill the grammar's name-bearing sentences.

    Returns:
        Candidate sentences (the transcript itself among them when the grammar understands it,
        so it can win).
    """
    if not transcript.strip():
        return []
    understood = grammar.understand(transcript)
    spoken = grammar.grammar().spoken_commands()
    if understood is not None and understood.quality >= 1.0:
        variants = [v for v in _number_variants(transcript) if fold(v) != fold(transcript)]
        return [transcript, *variants] if variants else []
    fixed = set(grammar.grammar().fixed_sentences())
    named = [s for s in grammar.sentences(names) if s not in fixed]
    return list(dict.fromkeys([*spoken, *_closest(transcript, named, NAMED_LIMIT)]))


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
) -> Heard:
    """Act on the recogniser's scores for :func:`candidates`' sentences.

    Args:
        transcript: What the recogniser wrote.
        scores: Each candidate's fit to the recording (mean log-probability per token).
        accepted: The candidate the recogniser's own rule accepts (it fits about as well as the
            transcript and clearly better than the rest), or None.
        transcript_score: The transcript's own fit on the same scale; None when unknown (no
            question about a near tie is asked then).
    """
    if transcript in scores:  # an understood command, checked against its number twins
        others = {text: score for text, score in scores.items() if text != transcript}
        if not others:
            return Heard(transcript)
        twin = max(others, key=others.__getitem__)
        if scores[transcript] - others[twin] >= NUMBER_CLEAR:
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
    return Heard(accepted or transcript)


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

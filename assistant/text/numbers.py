"""Numbers as people say and write them: "30", "thirty", "forty-five", "a hundred", "second".

The one place that reads number words: the fast path's grammar, the answers to Segue's
questions ("the second one", "number two") and name folding ("Deep Work two" = "Deep Work 2").
"""

from __future__ import annotations

__all__ = ["ORDINALS", "ROMAN", "number_value", "ordinal_value", "word_to_digits"]

UNITS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
TENS = {
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
UNIT_VALUES = {word: value for value, word in enumerate(UNITS)}

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
# Roman numerals as they end playlist and album names ("Deep Work II"); "i" and "v" are left
# out: they are words ("I Want You") or letters far more often than numbers.
ROMAN = {"ii": "2", "iii": "3", "iv": "4", "vi": "6", "vii": "7", "viii": "8"}


def number_value(text: str) -> int | None:
    """The value of a number in digits or words ("30", "thirty", "forty-five", "a hundred").

    Returns None when ``text`` is not a number from 0 to 999 (digits) or 0 to 100 (words).
    """
    words = text.lower().replace("-", " ").split()
    if not words:
        return None
    if len(words) == 1 and words[0].isdigit():
        return int(words[0]) if len(words[0]) <= 3 else None
    if words in (["hundred"], ["a", "hundred"], ["one", "hundred"]):
        return 100
    if len(words) == 1:
        if words[0] in UNIT_VALUES:
            return UNIT_VALUES[words[0]]
        return TENS.get(words[0])
    if len(words) == 2 and words[0] in TENS and words[1] in UNIT_VALUES:
        unit = UNIT_VALUES[words[1]]
        return TENS[words[0]] + unit if 1 <= unit <= 9 else None
    return None


def ordinal_value(text: str) -> int | None:
    """The value of an ordinal: "second" -> 2, "3rd" -> 3; None for anything else."""
    word = text.lower()
    if word in ORDINALS:
        return ORDINALS[word]
    if len(word) > 2 and word[:-2].isdigit() and word[-2:] in ("st", "nd", "rd", "th"):
        return int(word[:-2])
    return None


def word_to_digits(word: str) -> str:
    """A single number word as digits ("two" -> "2"); any other word as it is."""
    if word.isalpha():
        value = UNIT_VALUES.get(word)
        if value is None:
            value = TENS.get(word)
        if value is not None:
            return str(value)
    return word

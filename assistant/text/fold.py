"""Folding names for comparison: case, accents, punctuation and numbers set aside.

"Café  Lounge II!", "cafe lounge 2" and "Cafe Lounge two" fold to the same "cafe lounge 2", so a
spoken or typed name meets the name Spotify has. Used wherever two names are compared.
"""

from __future__ import annotations

import re
import unicodedata

from assistant.text.numbers import ROMAN, word_to_digits

__all__ = ["fold", "fold_words", "strip_accents"]

_NOT_WORD = re.compile(r"[^\w]+")


def strip_accents(text: str) -> str:
    """``text`` without combining accents ("Beyoncé" -> "Beyonce")."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def fold_words(text: str, *, drop: frozenset[str] = frozenset()) -> list[str]:
    """The folded words of ``text``: see :func:`fold`; words in ``drop`` are left out."""
    bare = strip_accents(text).casefold()
    bare = bare.replace("&", " and ").replace("'", "").replace("\u2019", "")
    words = [ROMAN.get(w) or word_to_digits(w) for w in _NOT_WORD.sub(" ", bare).split()]
    return [w for w in words if w not in drop]


def fold(text: str, *, drop: frozenset[str] = frozenset()) -> str:
    """Fold case, accents, punctuation and numbers: "Café  Lounge II!" -> "cafe lounge 2".

    Apostrophes vanish ("Don't" -> "dont"), "&" reads "and", other punctuation separates words,
    number words up to twenty and Roman numerals II-VIII become digits.

    Args:
        text: A name or a phrase.
        drop: Folded words to leave out (e.g. articles when matching an answer to options).
    """
    return " ".join(fold_words(text, drop=drop))

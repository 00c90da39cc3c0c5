"""Pinyin keys: what agents type when they do not switch the IME on, and what IME typos share.

A pinyin-IME typo (退宽 for 退款) keeps the toneless syllables; initials (thtk) and full pinyin
(tuikuan) are how agents type fast. Everything is cached per word: the vocabulary of a library is
small compared with its text, so pypinyin runs once per distinct word.
"""

from __future__ import annotations

import itertools
import threading
import unicodedata
from functools import lru_cache

_MAX_READINGS = 4  # cap on readings per word for polyphonic characters (还款: huankuan / haikuan)

_syllables: frozenset[str] | None = None
_syllables_lock = threading.Lock()


@lru_cache(maxsize=200_000)
def syllables_of(word: str) -> tuple[str, ...]:
    """Toneless syllables in context ("还款" → ("huan", "kuan") where pypinyin knows the phrase)."""
    from pypinyin import Style, lazy_pinyin

    return tuple(lazy_pinyin(word, style=Style.NORMAL, errors="ignore", v_to_u=False))


@lru_cache(maxsize=200_000)
def readings_of(word: str) -> tuple[tuple[str, ...], ...]:
    """Plausible readings of a word: the contextual one first, then heteronym combinations.

    Agents type the reading they have in mind, which is not always the one pypinyin picks.
    """
    from pypinyin import Style, pinyin

    first = syllables_of(word)
    if len(word) > 6:
        return (first,)
    options = pinyin(word, style=Style.NORMAL, heteronym=True, errors="ignore", v_to_u=False)
    readings = [first]
    for combo in itertools.product(*[opt[:2] for opt in options]):
        if len(readings) >= _MAX_READINGS:
            break
        if combo != first and len(combo) == len(first):
            readings.append(tuple(combo))
    return tuple(readings)


def full_keys(word: str) -> set[str]:
    """Full-pinyin keys of a word, one per reading ("退款" → {"tuikuan"})."""
    return {"".join(r) for r in readings_of(word) if r}


def initial_keys(word: str) -> set[str]:
    """Initials keys of a word, one per reading ("退货退款" → {"thtk"})."""
    return {"".join(s[0] for s in r) for r in readings_of(word) if r}


def _load_syllables() -> frozenset[str]:
    from pypinyin.constants import PINYIN_DICT

    found: set[str] = set()
    for readings in PINYIN_DICT.values():
        for reading in readings.split(","):
            plain = unicodedata.normalize("NFD", reading)
            plain = "".join(ch for ch in plain if not unicodedata.combining(ch))
            plain = plain.replace("ü", "v")
            if plain.isascii() and plain.isalpha():
                found.add(plain)
    return frozenset(found)


def syllable_set() -> frozenset[str]:
    global _syllables
    if _syllables is None:
        with _syllables_lock:
            if _syllables is None:
                _syllables = _load_syllables()
    return _syllables


@lru_cache(maxsize=20_000)
def split_pinyin(text: str) -> tuple[str, ...] | None:
    """Split a Latin string into pinyin syllables ("tuikuanduojiu" → tui kuan duo jiu), or None.

    Dynamic programming that prefers fewer (longer) syllables, so "xian" stays one syllable rather
    than "xi an". Strings shorter than two letters are never treated as pinyin.
    """
    if len(text) < 2 or not text.isascii() or not text.isalpha():
        return None
    valid = syllable_set()
    n = len(text)
    best: list[tuple[str, ...] | None] = [None] * (n + 1)
    best[0] = ()
    for end in range(1, n + 1):
        for start in range(max(0, end - 6), end):
            prev = best[start]
            piece = text[start:end]
            if prev is not None and piece in valid:
                cand = (*prev, piece)
                current = best[end]
                if current is None or len(cand) < len(current):
                    best[end] = cand
    return best[n]

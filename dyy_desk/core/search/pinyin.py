"""Pinyin keys: what agents type when they do not switch the IME on, and what IME typos share.

A pinyin-IME typo (退宽 for 退款) keeps the toneless syllables; initials (thtk) and full pinyin
(tuikuan) are how agents type fast. Everything is cached per word: the vocabulary of a library is
small compared with its text, so pypinyin runs once per distinct word.
"""

from __future__ import annotations

import itertools
import threading
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

_MAX_READINGS = 4  # cap on readings per word for polyphonic characters (还款: huankuan / haikuan)

_syllables: frozenset[str] | None = None
_syllables_lock = threading.Lock()
# Readings saved with an index snapshot, so the first queries after a start need not import pypinyin
# (≈0.4 s, most of it its phrase dictionary): word → its readings as "huan kuan|hai kuan", the
# contextual one first. A word not in the table is read character by character until pypinyin is in.
_table: dict[str, str] = {}
_table_syllables: frozenset[str] | None = None
_pypinyin_ready = False
_CJK_BASIC = range(0x4E00, 0x9FA6)


def warm_up() -> None:
    """Import pypinyin and its dictionaries now (≈0.4 s), not on the first keystroke."""
    global _pypinyin_ready
    _pypinyin_syllables("退款")
    syllable_set()
    _pypinyin_ready = True


def pinyin_table(words: Iterable[str]) -> tuple[dict[str, str], tuple[str, ...]]:
    """pypinyin's readings of `words` and of every basic CJK character, plus the syllable inventory,
    for `install_pinyin_table` (plain data; imports pypinyin)."""
    table: dict[str, str] = {}
    for word in itertools.chain(map(chr, _CJK_BASIC), words):
        if word not in table:
            readings = _pypinyin_readings(word)
            if readings and all(len(r) == len(word) for r in readings):
                table[word] = "|".join(" ".join(r) for r in readings)
    return table, tuple(sorted(syllable_set()))


def install_pinyin_table(table: dict[str, str], syllables: Iterable[str]) -> None:
    """Answer from saved readings while pypinyin is not imported (see `_table`)."""
    global _table, _table_syllables
    _table = table
    _table_syllables = frozenset(syllables)


def _from_table(word: str) -> tuple[tuple[str, ...], ...] | None:
    found = _table.get(word)
    if found is not None:
        return tuple(tuple(r.split(" ")) for r in found.split("|"))
    if _pypinyin_ready or not _table:
        return None
    chars = [_table.get(ch) for ch in word]
    if any(c is None for c in chars):
        return None
    return (tuple(c.split("|", 1)[0] for c in chars if c is not None),)


def syllables_of(word: str) -> tuple[str, ...]:
    """Toneless syllables in context ("还款" → ("huan", "kuan") where pypinyin knows the phrase)."""
    found = _from_table(word)
    return found[0] if found is not None else _pypinyin_syllables(word)


def readings_of(word: str) -> tuple[tuple[str, ...], ...]:
    """Plausible readings of a word: the contextual one first, then heteronym combinations.

    Agents type the reading they have in mind, which is not always the one pypinyin picks.
    """
    found = _from_table(word)
    return found if found is not None else _pypinyin_readings(word)


@lru_cache(maxsize=200_000)
def _pypinyin_syllables(word: str) -> tuple[str, ...]:
    """Toneless syllables in context ("还款" → ("huan", "kuan") where pypinyin knows the phrase)."""
    from pypinyin import Style, lazy_pinyin

    return tuple(lazy_pinyin(word, style=Style.NORMAL, errors="ignore", v_to_u=False))


@lru_cache(maxsize=200_000)
def _pypinyin_readings(word: str) -> tuple[tuple[str, ...], ...]:
    from pypinyin import Style, pinyin

    first = _pypinyin_syllables(word)
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
    if _syllables is None and _table_syllables is not None:
        return _table_syllables
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

"""Query analysis: what the agent typed, as weighted alternatives to look up in the index.

A query becomes *units*; each unit is one piece of meaning (a word, a character bigram, a Latin
token) with alternative index terms that can satisfy it, each with a credit: a bigram is satisfied
fully by the same characters and partly by the same syllables (a pinyin-IME typo); "thtk" by the
word 退货退款 through its initials. A unit's weight is its idf, so rare words decide the ranking and
a long, rambling buyer message is reduced to its informative words.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from dyy_desk.core.search.index import InvertedIndex
from dyy_desk.core.search.normalise import is_cjk_text, shortcut_code
from dyy_desk.core.search.pinyin import full_keys, split_pinyin, syllables_of
from dyy_desk.core.search.tokenize import Segmenter

PINYIN_CREDIT = 0.75  # same sound, different character: probably a typo, not proof
_MAX_RETRIEVAL_UNITS = 24
# A bigram inside one word carries its meaning; one across a word boundary ("款多" in 退款多久) weighs
# less, being partly an accident of adjacency, yet it still records the order of the words and holds
# where jieba cut a typo or a rare word differently on the two sides.
INSIDE_BIGRAM_BASE = 0.8
CROSS_BIGRAM_BASE = 0.5


@dataclass(frozen=True)
class Unit:
    alternatives: tuple[tuple[str, float], ...]  # (term, credit)
    weight: float  # base × idf; 0 for units dropped because nothing in the library has them
    kind: str  # "word", "bigram", "char", "latin", "shortcut"


@dataclass(frozen=True)
class QueryPlan:
    text: str  # canonical text for fuzzy matching
    pinyin: str
    units: tuple[Unit, ...]
    shortcut: str | None
    content_size: int  # number of bigram/Latin units: how long the query is, for coverage weighting

    @property
    def total_weight(self) -> float:
        return sum(u.weight for u in self.units)


def _latin_alternatives(tok: str) -> list[tuple[str, float]]:
    alts = [("w:" + tok, 1.0), ("sc:" + tok, 0.8), ("sp:" + tok, 0.5)]
    if tok.isascii() and tok.isalpha() and len(tok) >= 2:
        alts += [("in:" + tok, 0.9), ("ip:" + tok, 0.6)]
        if split_pinyin(tok) is not None:
            alts.append(("py:" + tok, 0.9))
    return alts


def plan_query(segmenter: Segmenter, index: InvertedIndex, query: str) -> QueryPlan:
    raw_units: list[tuple[tuple[tuple[str, float], ...], float, str, bool]] = []  # alts, base, kind, required
    code = shortcut_code(query)
    if code is not None:
        alts: tuple[tuple[str, float], ...] = (
            ("sc:" + code, 1.0),
            ("sp:" + code, 0.8),
            ("in:" + code, 0.6),
            ("w:" + code, 0.6),
        )
        raw_units.append((alts, 1.5, "shortcut", True))
        tokens: list[str] = []
    else:
        tokens = segmenter.cut_query(query)
    content_size = 0
    run_chars: list[str] = []
    run_sylls: list[str] = []
    run_word_ids: list[int] = []
    text_parts: list[str] = []
    py_parts: list[str] = []

    def flush_run() -> None:
        nonlocal content_size
        for i in range(len(run_chars) - 1):
            b = "b:" + run_chars[i] + run_chars[i + 1]
            p = f"p:{run_sylls[i]} {run_sylls[i + 1]}"
            inside = run_word_ids[i] == run_word_ids[i + 1]
            base = INSIDE_BIGRAM_BASE if inside else CROSS_BIGRAM_BASE
            raw_units.append((((b, 1.0), (p, PINYIN_CREDIT)), base, "bigram", inside))
            content_size += 1
        run_chars.clear()
        run_sylls.clear()
        run_word_ids.clear()

    for word_id, tok in enumerate(tokens):
        if is_cjk_text(tok):
            sylls = syllables_of(tok)
            if len(sylls) != len(tok):
                sylls = ("?",) * len(tok)
            run_chars.extend(tok)
            run_sylls.extend(sylls)
            run_word_ids.extend([word_id] * len(tok))
            text_parts.append(tok)
            py_parts.extend(sylls)
            if len(tok) == 1:
                raw_units.append(((("u:" + tok, 1.0),), 0.35, "char", False))
            else:
                alts = (("w:" + tok, 1.0), *(("py:" + k, PINYIN_CREDIT) for k in sorted(full_keys(tok))))
                raw_units.append((alts, 1.0, "word", False))
        else:
            flush_run()
            text_parts.append(f" {tok} ")
            py_parts.append(tok)
            raw_units.append((tuple(_latin_alternatives(tok)), 1.0, "latin", True))
            content_size += 1
            sylls_of_latin = split_pinyin(tok)
            if sylls_of_latin and len(sylls_of_latin) >= 2:
                for a, b in itertools.pairwise(sylls_of_latin):
                    raw_units.append(((("p:" + a + " " + b, PINYIN_CREDIT),), 0.6, "bigram", False))
    flush_run()
    if content_size == 0 and any(kind == "char" for _, _, kind, _ in raw_units):
        content_size = 1

    seen: set[str] = set()
    units: list[Unit] = []
    unknown = index.unknown_idf()
    for alts, base, kind, required in raw_units:
        if alts[0][0] in seen:
            continue
        seen.add(alts[0][0])
        known = [index.idf(term) for term, _ in alts if index.df(term) > 0]
        if known:
            units.append(Unit(alts, base * max(known), kind))
        elif required:
            units.append(Unit(alts, base * unknown, kind))
    return QueryPlan(
        text="".join(text_parts).strip(),
        pinyin=" ".join(py_parts),
        units=tuple(units),
        shortcut=code,
        content_size=content_size,
    )


def retrieval_terms(plan: QueryPlan, index: InvertedIndex) -> list[tuple[str, float]]:
    """(term, weight) pairs for candidate retrieval, from the most informative units only."""
    ranked = sorted((u for u in plan.units if u.weight > 0), key=lambda u: -u.weight)
    weighted: dict[str, float] = {}
    for unit in ranked[:_MAX_RETRIEVAL_UNITS]:
        for term, credit in unit.alternatives:
            if index.df(term) > 0:
                weighted[term] = weighted.get(term, 0.0) + unit.weight * credit
    return list(weighted.items())

"""Per-entry sets the ranker compares a query with, derived from an entry's analysis."""

from __future__ import annotations

from dataclasses import dataclass

from dyy_desk.core.search.analyse import AnalysedDoc, AnalysedText, char_set


@dataclass(frozen=True)
class DocFeatures:
    """Per phrasing: its index terms, its characters, its character bigrams with their syllable pairs;
    and the terms of tags + answer."""

    terms: tuple[frozenset[str], ...]
    chars: tuple[frozenset[str], ...]
    bigrams: tuple[tuple[tuple[str, str], ...], ...]  # distinct (bigram, its syllable pair) per phrasing
    extra: frozenset[str]

    @staticmethod
    def of(adoc: AnalysedDoc) -> DocFeatures:
        phrasings = adoc.phrasings
        return DocFeatures(
            tuple(frozenset(p.terms) for p in phrasings),
            tuple(char_set(p.text) for p in phrasings),
            tuple(_bigram_pairs(p) for p in phrasings),
            frozenset(adoc.tags.terms) | frozenset(adoc.body_terms),
        )


def _bigram_pairs(phr: AnalysedText) -> tuple[tuple[str, str], ...]:
    pairs = dict(zip(phr.content, phr.content_py, strict=True))
    return tuple((b, py) for b, py in pairs.items() if b[:2] == "b:")


def doc_chars(adoc: AnalysedDoc) -> set[str]:
    """Distinct characters (and Latin tokens) of an entry's phrasings, for character document frequency."""
    found: set[str] = set()
    for phr in adoc.phrasings:
        found.update(char_set(phr.text))
    return found

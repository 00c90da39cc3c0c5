"""Per-entry term weights stored in the postings: BM25F without the idf factor.

Each field contributes a saturated term frequency, tf / (tf + k), times the field's weight: what a
match in that field says about the entry being the answer. The index quantises the sum to 1/16.
"""

from __future__ import annotations

from collections import Counter

from dyy_desk.core.search.analyse import AnalysedDoc, AnalysedText

TITLE_WEIGHT = 3.0
ALTERNATE_WEIGHT = 2.6
TAG_WEIGHT = 1.5
BODY_WEIGHT = 0.5
SHORTCUT_WEIGHT = 12.0
_SHORT_K = 0.5  # tf saturation for short fields: a second occurrence adds little
_BODY_K = 1.2
_BODY_AVG_TERMS = 60.0

_SHORT_SAT = 1.0 / (1.0 + _SHORT_K)  # saturated weight of a term that occurs once
_sat_cache: dict[int, tuple[AnalysedText, dict[str, float]]] = {}
_SAT_CACHE = 100_000


def _short_field(text: AnalysedText) -> dict[str, float]:
    """Saturated term frequencies of a short field, tf / (tf + k). Phrasings and tag sets are shared
    between entries (the analysis caches hand out the same objects), so this is cached by identity;
    the entry is kept alongside so its id cannot be reused while cached."""
    found = _sat_cache.get(id(text))
    if found is not None and found[0] is text:
        return found[1]
    sat = {term: tf / (tf + _SHORT_K) for term, tf in Counter(text.terms).items()}
    if len(_sat_cache) >= _SAT_CACHE:
        _sat_cache.clear()
    _sat_cache[id(text)] = (text, sat)
    return sat


def clear_impact_cache() -> None:
    """Forget cached field weights (benchmarks use it, with `analyse.clear_caches`, for a cold build)."""
    _sat_cache.clear()


def entry_impacts(adoc: AnalysedDoc) -> dict[str, float]:
    """Field-weighted, saturated term weights of one entry (BM25F without the idf factor)."""
    impacts = {term: TITLE_WEIGHT * sat for term, sat in _short_field(adoc.title).items()}
    get = impacts.get
    alternates = adoc.alternates
    if len(alternates) == 1:
        once = ALTERNATE_WEIGHT * _SHORT_SAT
        for term in _short_field(alternates[0]):
            impacts[term] = get(term, 0.0) + once
    elif alternates:
        alt_counts: Counter[str] = Counter()
        for alt in alternates:
            alt_counts.update(_short_field(alt).keys())
        for term, tf in alt_counts.items():
            impacts[term] = get(term, 0.0) + ALTERNATE_WEIGHT * tf / (tf + _SHORT_K)
    for term, sat in _short_field(adoc.tags).items():
        impacts[term] = get(term, 0.0) + TAG_WEIGHT * sat
    k_body = _BODY_K * (0.3 + 0.7 * len(adoc.body_terms) / _BODY_AVG_TERMS)
    for term, tf in Counter(adoc.body_terms).items():
        impacts[term] = get(term, 0.0) + BODY_WEIGHT * tf / (tf + k_body)
    for term in adoc.shortcut_terms:
        impacts[term] = get(term, 0.0) + SHORTCUT_WEIGHT * (1.0 if term[:3] == "sc:" else 0.5)
    return impacts

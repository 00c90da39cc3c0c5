"""Re-ranking candidates into calibrated scores in [0, 1].

Each phrasing (the question and each similar question) is scored on its own and the best one decides,
so a long list of similar questions neither dilutes nor inflates an entry. Per phrasing, a fixed linear
combination of four views, each in [0, 1]:
- characters (CHAR_WEIGHT): idf-weighted overlap of the characters, idf counted over the library's
  phrasings. Blind to segmentation (提前还款 vs 提前/还清 still meet on 提前 and 还) and to which
  paraphrase jieba happened to cut; frequent domain characters (花, 呗, 退) weigh little by themselves.
- character bigrams (BIGRAM_WEIGHT): the same over adjacent pairs, which rewards word order and keeps
  a distractor that shares the characters in another arrangement below the real match. A pair with the
  same toneless syllables (退宽 for 退款, a pinyin-IME typo) counts PINYIN_CREDIT of a pair.
- coverage (COVERAGE_WEIGHT): how much of the query the phrasing explains and how much of the phrasing
  the query mentions, over words, pinyin, initials and shortcuts (the only view that sees "thtk").
- fuzzy (FUZZY_WEIGHT): rapidfuzz similarity of the canonical texts and of their toneless pinyin.
A phrasing that lacks a query word and names one of its rivals instead (花呗 for 借呗: words the
library's entries rarely have together) loses up to RIVAL_WEIGHT (`Scorer._rivalry`); that is the only
view that looks beyond the candidate, so the engine applies it to the head of the ranking only.
Overlaps are Tversky indices: Dice while query and phrasing are of similar size; for a query much
longer than the phrasing (a rambling buyer message) its unmatched part is penalised less.
Tags and answer text weigh EXTRA_FIELDS_WEIGHT in the order but only CONFIDENCE_EXTRA_WEIGHT in the
shown scale (`Scorer.confidence`). The scale is absolute (it does not depend on the other candidates),
so one threshold separates "answered" from "nothing fits"; only the top hit also gets a little credit
for its lead over the runner-up (`with_margin`), which never changes the order. The view weights were
set by reasoning; EXTRA_FIELDS_WEIGHT by 5-fold cross-validation over two differently built evaluation
sets (a single global weight, never fitted per query).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from rapidfuzz import fuzz

from dyy_desk.core.search.analyse import AnalysedDoc, AnalysedText, char_bigrams, char_units
from dyy_desk.core.search.doc_features import DocFeatures
from dyy_desk.core.search.index import InvertedIndex
from dyy_desk.core.search.pinyin import full_keys, initial_keys
from dyy_desk.core.search.query import PINYIN_CREDIT, QueryPlan

NO_MATCH_THRESHOLD = 0.42
# A phrasing that names an alternative to a query word (see `Scorer._rivalry`) loses up to RIVAL_WEIGHT;
# words are alternatives when entries have both less than RIVAL_RATIO times as often as chance predicts.
RIVAL_WEIGHT = 0.1
RIVAL_RATIO = 0.25
RIVAL_MIN_DF = 5
COVERAGE_WEIGHT = 0.2
FUZZY_WEIGHT = 0.1
CHAR_WEIGHT = 0.5
LONG_RATIO = 2.5
LONG_POWER = 0.5
BIGRAM_WEIGHT = 0.2
# Tags and answer text weigh EXTRA_FIELDS_WEIGHT in the order of the hits (a BM25F-style body field:
# an answer that covers the query is evidence for the entry), but only CONFIDENCE_EXTRA_WEIGHT in the
# top hit's shown score: whether *anything* answers the query is judged on the phrasings, so the
# no-match threshold does not move with how wordy a library's answers are. Both were chosen by 5-fold
# cross-validation over the two evaluation sets (the weight was stable across folds: 0.3–0.325).
EXTRA_FIELDS_WEIGHT = 0.3
CONFIDENCE_EXTRA_WEIGHT = 0.1
OWN_CLIENT_BOOST = 0.15
USAGE_BOOST = 0.03
# The top hit's score also says how clearly it stands out: a query that several entries match about
# equally well is more often one that none of them answers. Only the top hit gets it, so the order of
# the hits never changes; the margin is capped so a lone candidate in a tiny library is not inflated.
MARGIN_CONFIDENCE = 0.3
MARGIN_CAP = 0.2
_USAGE_SATURATION = math.log1p(50)


class Scorer:
    """Scores candidates for one query; caches idf lookups across the candidates."""

    def __init__(self, index: InvertedIndex, plan: QueryPlan) -> None:
        self._index = index
        self._plan = plan
        self._idf: dict[str, float] = {}
        self._total = plan.total_weight
        self._credit: dict[str, float] = {}
        for unit in plan.units:
            for term, credit in unit.alternatives:
                self._credit[term] = max(self._credit.get(term, 0.0), credit)
        self._char_idf: dict[str, float] = {}
        self._phrasing_values: dict[int, list[float]] = {}
        self._confidence: dict[int, float] = {}
        self._q_chars = {ch: self._cidf(ch) for ch in char_units(plan.text)}
        self._q_char_total = sum(self._q_chars.values())
        self._q_bigrams = {bg: self._idf_of(bg) for bg in char_bigrams(plan.text)}
        self._q_bigram_py: set[str] = set()
        for unit in plan.units:
            if unit.kind == "bigram":
                b = unit.alternatives[0][0]
                py = [t for t, _ in unit.alternatives if t[:2] == "p:"]
                if py and b in self._q_bigrams:
                    self._q_bigram_py.add(py[0])
        self._q_bigram_total = sum(self._q_bigrams.values())
        self._q_words = [u.alternatives[0][0] for u in plan.units if u.kind == "word"]
        self._q_word_set = frozenset(self._q_words)

    def _rivalry(self, terms: frozenset[str]) -> float:
        """How clearly the phrasing names an alternative to a query word it lacks, in [0, 1].

        Frequent words weigh little in the overlaps, yet 花呗 against 借呗 or 支付宝 against 银行卡 is
        the whole difference between two entries. Such words are alternatives: the library's entries
        rarely have both (far less often than chance would put them together). A phrasing that lacks a
        query word and has one of its alternatives is about something else; learnt from the library,
        so no list of rivals needs to be kept."""
        index = self._index
        missing = [a for a in self._q_words if a not in terms and index.df(a) >= RIVAL_MIN_DF]
        if not missing:
            return 0.0
        words = self._q_word_set
        best = 0.0
        for b in terms:
            if b[:2] != "w:" or b in words or index.df(b) < RIVAL_MIN_DF:
                continue
            for a in missing:
                ratio = index.association(a, b)
                if ratio is not None and ratio < RIVAL_RATIO:
                    best = max(best, 1.0 - ratio / RIVAL_RATIO)
        return best

    def _bigram_dice(self, bigrams: tuple[tuple[str, str], ...]) -> float:
        q = self._q_bigrams
        if not q:
            return 0.0
        q_py = self._q_bigram_py
        common = total = 0.0
        for bg, py in bigrams:
            w = self._idf_of(bg)
            total += w
            if bg in q:
                common += w
            elif py in q_py:
                common += w * PINYIN_CREDIT
        return _tversky(common, self._q_bigram_total, total)

    def _cidf(self, ch: str) -> float:
        value = self._char_idf.get(ch)
        if value is None:
            value = self._char_idf[ch] = self._index.char_idf(ch)
        return value

    def _char_dice(self, chars: frozenset[str]) -> float:
        """idf-weighted overlap of the characters: blind to segmentation, so two phrasings that
        jieba cuts differently still meet on the characters that carry their meaning."""
        q = self._q_chars
        if not q:
            return 0.0
        common = total = 0.0
        for ch in chars:
            w = self._cidf(ch)
            total += w
            if ch in q:
                common += w
        return _tversky(common, self._q_char_total, total)

    def _idf_of(self, term: str) -> float:
        value = self._idf.get(term)
        if value is None:
            value = self._idf[term] = self._index.idf(term)
        return value

    def _query_coverage(self, terms: frozenset[str]) -> float:
        if self._total <= 0:
            return 0.0
        got = 0.0
        for unit in self._plan.units:
            best = 0.0
            for term, credit in unit.alternatives:
                if credit > best and term in terms:
                    best = credit
            got += unit.weight * best
        return got / self._total

    def _phrase_coverage(self, phr: AnalysedText) -> float:
        credit = self._credit
        total = got = 0.0
        for key, py in zip(phr.content, phr.content_py, strict=True):
            w = self._idf_of(key)
            total += w
            if key in credit:
                got += w
            elif py and py in credit:
                got += w * PINYIN_CREDIT
        return got / total if total > 0 else 0.0

    def _fuzzy(self, phr: AnalysedText) -> float:
        q = self._plan.text
        if not q or not phr.text:
            return 0.0
        text = 0.5 * fuzz.ratio(q, phr.text) + 0.5 * fuzz.partial_ratio(q, phr.text)
        sound = fuzz.ratio(self._plan.pinyin, phr.pinyin) if self._plan.pinyin and phr.pinyin else 0.0
        return max(text, 0.9 * sound) / 100.0

    def score(self, slot: int) -> float:
        """An upper bound of `rescore(slot)` (everything but `_rivalry`), in [0, 1] before boosts.
        Cheap enough for every candidate; the engine rescores only those that can still reach the
        hits it shows."""
        adoc = self._index.doc(slot)
        assert adoc is not None
        n_q = max(self._plan.content_size, 1)
        feats = self._index.features(slot)
        values: list[float] = []
        for i, phr in enumerate(adoc.phrasings):
            n_p = max(len(phr.content), 1)
            lam = min(0.85, max(0.4, n_p / (n_p + n_q)))
            cov = self._query_coverage(feats.terms[i]) ** lam * self._phrase_coverage(phr) ** (1 - lam)
            values.append(
                COVERAGE_WEIGHT * cov
                + FUZZY_WEIGHT * self._fuzzy(phr)
                + CHAR_WEIGHT * self._char_dice(feats.chars[i])
                + BIGRAM_WEIGHT * self._bigram_dice(feats.bigrams[i])
            )
        self._phrasing_values[slot] = values
        return self._combine(adoc, feats, values)[0]

    def rescore(self, slot: int) -> tuple[float, int]:
        """(score in [0, 1] before boosts, index of the best phrasing)."""
        if slot not in self._phrasing_values:
            self.score(slot)
        adoc = self._index.doc(slot)
        assert adoc is not None
        feats = self._index.features(slot)
        values = [
            v - RIVAL_WEIGHT * self._rivalry(terms)
            for v, terms in zip(self._phrasing_values[slot], feats.terms, strict=True)
        ]
        value, best_i = self._combine(adoc, feats, values)
        self._confidence[slot] = self._combine(adoc, feats, values, CONFIDENCE_EXTRA_WEIGHT)[0]
        return value, best_i

    def confidence(self, slot: int) -> float:
        """How well the rescored entry answers the query on the calibrated scale the no-match threshold
        is set on (before boosts); `rescore(slot)` must have run."""
        return self._confidence[slot]

    def _combine(
        self, adoc: AnalysedDoc, feats: DocFeatures, values: list[float], extra: float | None = None
    ) -> tuple[float, int]:
        weight = EXTRA_FIELDS_WEIGHT if extra is None else extra
        best_i = max(range(len(values)), key=values.__getitem__)
        best = max(values[best_i], 0.0)
        value = (1 - weight) * best + weight * self._query_coverage(feats.extra)
        if self._plan.shortcut and adoc.shortcut_terms:
            if adoc.shortcut_terms[0] == "sc:" + self._plan.shortcut:
                value = max(value, 0.98)
            elif "sp:" + self._plan.shortcut in adoc.shortcut_terms:
                value = max(value, 0.8)
        return value, best_i

    def matched_terms(self, slot: int, phrasing: int) -> tuple[str, ...]:
        """Words of the entry to highlight: what the query matched, in the entry's own characters."""
        adoc = self._index.doc(slot)
        assert adoc is not None
        phr = adoc.phrasings[phrasing]
        credit = self._credit
        found: list[str] = []
        for key, py in zip(phr.content, phr.content_py, strict=True):
            if key in credit or (py and py in credit):
                found.append(key[2:])
        for term in phr.terms:
            kind, _, body = term.partition(":")
            if term not in credit:
                continue
            if kind in ("w", "u"):
                found.append(body)
            elif kind in ("py", "in", "ip"):
                found.extend(_words_with_key(phr, kind, body))
        if self._plan.shortcut and adoc.doc.shortcut and "sc:" + self._plan.shortcut in adoc.shortcut_terms:
            found.append(adoc.doc.shortcut)
        return _merge(found)


def _tversky(common: float, query_total: float, phrase_total: float) -> float:
    """Weighted overlap of query and phrasing: Dice while they are of similar size; when the query is
    much longer (a rambling buyer message), its unmatched part is penalised less, because most of it
    is context the phrasing cannot be expected to mention."""
    if common <= 0:
        return 0.0
    alpha = 0.5
    if query_total > LONG_RATIO * phrase_total > 0:
        alpha = 0.5 * (LONG_RATIO * phrase_total / query_total) ** LONG_POWER
    q_rest = max(query_total - common, 0.0)
    p_rest = max(phrase_total - common, 0.0)
    return common / (common + alpha * q_rest + 0.5 * p_rest)


def _words_with_key(phr: AnalysedText, kind: str, key: str) -> list[str]:
    words = [t[2:] for t in phr.terms if t.startswith("w:")]
    if kind == "py":
        return [w for w in words if key in full_keys(w)]
    if kind == "in":
        return [w for w in words if key in initial_keys(w)]
    return [w for w in words if any(k.startswith(key) for k in initial_keys(w))]


def _merge(found: list[str]) -> tuple[str, ...]:
    """Distinct terms, longest first, without those already inside a longer one."""
    out: list[str] = []
    for term in sorted(set(found), key=len, reverse=True):
        if not any(term in longer for longer in out):
            out.append(term)
    return tuple(out)


def with_margin(top: float, second: float | None, confidence: float | None = None) -> float:
    """The top hit's shown score: its confidence (by default its own score) plus credit for its lead
    over the runner-up."""
    lead = min(MARGIN_CAP, max(0.0, top - (second or 0.0)))
    return min(1.0, (top if confidence is None else confidence) + MARGIN_CONFIDENCE * lead)


def boost(score: float, adoc: AnalysedDoc, client_id: str | None, usage: Mapping[str, int] | None) -> float:
    """A client's own entry must beat the generic one for the same intent; heavy use nudges mildly."""
    if client_id is not None and adoc.doc.client_id == client_id:
        score += OWN_CLIENT_BOOST
    if usage:
        count = usage.get(adoc.doc.doc_id, 0)
        if count > 0:
            score += USAGE_BOOST * min(1.0, math.log1p(count) / _USAGE_SATURATION)
    return min(1.0, max(0.0, score))

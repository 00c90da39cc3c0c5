"""Turning library entries and queries into index terms, the same way on both sides.

Term families (the prefix keeps them apart in one postings map):
  w:  a canonical word from jieba (synonyms folded)     b:  a character bigram of the canonical text
  u:  a single CJK character (short queries only)       p:  a toneless syllable bigram ("tui kuan")
  py: a word's full pinyin ("tuikuan")                  in: a word's or word pair's initials ("thtk")
  ip: a prefix of initials (typing in progress)         sc: / sp: a shortcut code / its prefix
`AnalysedDoc` is plain data (`to_json`/`from_json`) so the service layer can cache it in the database
and rebuild postings at start without running jieba again.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from dyy_desk.core.search.model import SearchDoc
from dyy_desk.core.search.normalise import is_cjk_text, normalise, normalise_shortcut
from dyy_desk.core.search.pinyin import full_keys, initial_keys, syllables_of
from dyy_desk.core.search.tokenize import Segmenter

# Bump when the analysis below changes, so cached AnalysedDocs are rebuilt.
ANALYSIS_VERSION = "3"


@dataclass(frozen=True)
class AnalysedText:
    """One phrasing (title, a similar question, the tags): its canonical text for fuzzy matching,
    its toneless pinyin, its index terms (repeated for term frequency) and its content bigrams with
    their pinyin partners (used to measure how much of the phrasing a query covers)."""

    text: str
    pinyin: str
    terms: tuple[str, ...]
    content: tuple[str, ...]
    content_py: tuple[str, ...]


@dataclass(frozen=True)
class AnalysedDoc:
    doc: SearchDoc
    title: AnalysedText
    alternates: tuple[AnalysedText, ...]
    tags: AnalysedText
    body_terms: tuple[str, ...]
    shortcut_terms: tuple[str, ...]
    version: str

    @property
    def phrasings(self) -> tuple[AnalysedText, ...]:
        return (self.title, *self.alternates)

    def to_json(self) -> dict[str, Any]:
        def text(t: AnalysedText) -> list[Any]:
            return [t.text, t.pinyin, list(t.terms), list(t.content), list(t.content_py)]

        d = self.doc
        return {
            "doc": {
                "doc_id": d.doc_id,
                "kind": d.kind,
                "title": d.title,
                "alternates": list(d.alternates),
                "body": d.body,
                "tags": list(d.tags),
                "client_id": d.client_id,
                "shortcut": d.shortcut,
                "platforms": list(d.platforms),
            },
            "title": text(self.title),
            "alternates": [text(a) for a in self.alternates],
            "tags": text(self.tags),
            "body_terms": list(self.body_terms),
            "shortcut_terms": list(self.shortcut_terms),
            "version": self.version,
        }

    def to_compact(self) -> tuple[Any, ...]:
        """Nested tuples of str/None only (marshal-able, smaller and faster than `to_json`)."""
        d = self.doc
        doc = (d.doc_id, d.kind, d.title, d.alternates, d.body, d.tags, d.client_id, d.shortcut, d.platforms)
        texts = tuple((t.text, t.pinyin, t.terms, t.content, t.content_py) for t in (self.title, self.tags))
        alts = tuple((t.text, t.pinyin, t.terms, t.content, t.content_py) for t in self.alternates)
        return (doc, texts, alts, self.body_terms, self.shortcut_terms, self.version)

    @staticmethod
    def from_compact(data: tuple[Any, ...]) -> AnalysedDoc:
        (doc_id, kind, title, alternates, body, tags, client_id, shortcut, platforms), texts, alts = data[:3]
        doc = SearchDoc(
            doc_id, kind, title, tuple(alternates), body, tuple(tags), client_id, shortcut, tuple(platforms)
        )
        title_t, tags_t = (AnalysedText(*t) for t in texts)
        return AnalysedDoc(
            doc,
            title_t,
            tuple(AnalysedText(*t) for t in alts),
            tags_t,
            tuple(data[3]),
            tuple(data[4]),
            data[5],
        )

    @staticmethod
    def from_json(data: dict[str, Any]) -> AnalysedDoc:
        def text(v: list[Any]) -> AnalysedText:
            return AnalysedText(v[0], v[1], tuple(v[2]), tuple(v[3]), tuple(v[4]))

        d = data["doc"]
        doc = SearchDoc(
            doc_id=d["doc_id"],
            kind=d["kind"],
            title=d["title"],
            alternates=tuple(d["alternates"]),
            body=d["body"],
            tags=tuple(d["tags"]),
            client_id=d["client_id"],
            shortcut=d["shortcut"],
            platforms=tuple(d["platforms"]),
        )
        return AnalysedDoc(
            doc,
            text(data["title"]),
            tuple(text(a) for a in data["alternates"]),
            text(data["tags"]),
            tuple(data["body_terms"]),
            tuple(data["shortcut_terms"]),
            data["version"],
        )


@dataclass(frozen=True)
class _TokenInfo:
    cjk: bool
    terms: tuple[str, ...]  # the token's own terms (word / char, pinyin, initials and their prefixes)
    initial: str | None  # initials of its contextual reading, for word-pair initials
    syllables: tuple[str, ...]  # one per character, "?" where pypinyin has none


@lru_cache(maxsize=200_000)
def _token_info(tok: str) -> _TokenInfo:
    """Per-word work cached by word: a library repeats its vocabulary far more than its sentences."""
    if not is_cjk_text(tok):
        return _TokenInfo(False, ("w:" + tok,), None, ())
    terms = ["u:" + tok if len(tok) == 1 else "w:" + tok]
    initials = initial_keys(tok)
    terms.extend("py:" + k for k in sorted(full_keys(tok)))
    terms.extend("in:" + k for k in sorted(initials))
    for key in sorted(initials):
        terms.extend("ip:" + key[:i] for i in range(2, len(key)))
    sylls = syllables_of(tok)
    if len(sylls) != len(tok):
        sylls = ("?",) * len(tok)
    first = "".join(s[0] for s in sylls) if "?" not in sylls else None
    return _TokenInfo(True, tuple(dict.fromkeys(terms)), first, sylls)


def char_units(text: str) -> list[str]:
    """The characters of a canonical text, a Latin token counting as one unit."""
    out: list[str] = []
    for chunk in text.split():
        if is_cjk_text(chunk):
            out.extend(chunk)
        else:
            out.append(chunk)
    return out


@lru_cache(maxsize=100_000)
def char_set(text: str) -> frozenset[str]:
    """Distinct `char_units` of a text, cached: libraries repeat their phrasings."""
    return frozenset(char_units(text))


def char_bigrams(text: str) -> list[str]:
    """Adjacent character pairs inside each CJK run of a canonical text, as "b:" index terms."""
    out: list[str] = []
    for chunk in text.split():
        if is_cjk_text(chunk):
            out.extend("b:" + chunk[i : i + 2] for i in range(len(chunk) - 1))
    return out


def analyse_text(segmenter: Segmenter, raw: str) -> AnalysedText:
    tokens = segmenter.cut(raw)
    terms: list[str] = []
    content: list[str] = []
    content_py: list[str] = []
    syllable_text: list[str] = []
    text_parts: list[str] = []
    prev_initial: str | None = None
    run_chars: list[str] = []
    run_sylls: list[str] = []

    def flush() -> None:
        for i in range(len(run_chars) - 1):
            b = "b:" + run_chars[i] + run_chars[i + 1]
            p = "p:" + run_sylls[i] + " " + run_sylls[i + 1]
            terms.append(b)
            terms.append(p)
            content.append(b)
            content_py.append(p)
        if len(run_chars) == 1:
            content.append("u:" + run_chars[0])
            content_py.append("")
        run_chars.clear()
        run_sylls.clear()

    for tok in tokens:
        info = _token_info(tok)
        terms.extend(info.terms)
        if info.cjk:
            if prev_initial and info.initial:
                terms.append("in:" + prev_initial + info.initial)
            prev_initial = info.initial
            run_chars.extend(tok)
            run_sylls.extend(info.syllables)
            syllable_text.extend(info.syllables)
            text_parts.append(tok)
        else:
            flush()
            content.append("w:" + tok)
            content_py.append("")
            text_parts.append(f" {tok} ")
            prev_initial = None
    flush()
    text = "".join(text_parts).strip()
    return AnalysedText(text, " ".join(syllable_text), tuple(terms), tuple(content), tuple(content_py))


def _body_terms(body: str) -> tuple[str, ...]:
    """Answers are long and matter less: plain character bigrams, no jieba, to keep indexing fast."""
    norm = normalise(body[:400])[:400]
    terms: list[str] = []
    for chunk in norm.split(" "):
        if is_cjk_text(chunk):
            terms.extend("b:" + chunk[i : i + 2] for i in range(len(chunk) - 1))
        elif chunk.isascii() and chunk.isalnum():
            terms.append("w:" + chunk)
    return tuple(terms)


_tag_cache: dict[tuple[str, str], AnalysedText] = {}


def _tags_text(segmenter: Segmenter, tags: str) -> AnalysedText:
    """Tags come from a small vocabulary and repeat across most entries: analyse each combination once."""
    key = (segmenter.fingerprint, tags)
    found = _tag_cache.get(key)
    if found is None:
        if len(_tag_cache) > 20_000:
            _tag_cache.clear()
        found = _tag_cache[key] = analyse_text(segmenter, tags)
    return found


_text_cache: dict[tuple[str, str], AnalysedText] = {}
_TEXT_CACHE = 100_000


def _cached_text(segmenter: Segmenter, raw: str) -> AnalysedText:
    """Agencies copy entries between clients and products share phrasings: analyse each text once.
    AnalysedText is immutable, so entries can share it."""
    key = (segmenter.fingerprint, raw)
    found = _text_cache.get(key)
    if found is None:
        if len(_text_cache) >= _TEXT_CACHE:
            _text_cache.clear()
        found = _text_cache[key] = analyse_text(segmenter, raw)
    return found


def clear_caches() -> None:
    """Forget cached text analyses (benchmarks use it to time a cold build)."""
    _text_cache.clear()
    _tag_cache.clear()


def analyse(segmenter: Segmenter, doc: SearchDoc, fingerprint: str) -> AnalysedDoc:
    shortcut_terms: tuple[str, ...] = ()
    if doc.shortcut:
        code = normalise_shortcut(doc.shortcut)
        if code:
            shortcut_terms = ("sc:" + code, "w:" + code, *("sp:" + code[:i] for i in range(1, len(code))))
    return AnalysedDoc(
        doc=doc,
        title=_cached_text(segmenter, doc.title),
        alternates=tuple(_cached_text(segmenter, a) for a in doc.alternates if a.strip()),
        tags=_tags_text(segmenter, " ".join(doc.tags)),
        body_terms=_body_terms(doc.body),
        shortcut_terms=shortcut_terms,
        version=f"{ANALYSIS_VERSION}:{fingerprint}",
    )

"""In-memory inverted index over analysed library entries, with incremental add/update/remove.

Postings are compact: one `array('q')` per term whose items pack `slot << 8 | impact`, where impact is
the BM25-style, field-weighted term weight of that term in that entry, quantised to 1/16. Slots are
never reused: removing an entry marks its slot dead (queries skip it) and the postings are compacted
once dead slots outnumber a third of the live ones, so removal stays O(1) and queries stay correct.

Term weights come from `impacts`, the ranker's per-entry sets from `doc_features`, and the statistics of
which terms entries have together from `association`.

Not thread-safe on its own: `SearchEngine` serialises writers and readers.
"""

from __future__ import annotations

import heapq
import marshal
import math
import zlib
from array import array
from collections import defaultdict
from collections.abc import Iterable
from operator import itemgetter
from typing import Any

from dyy_desk.core.search.analyse import AnalysedDoc
from dyy_desk.core.search.association import TermAssociation
from dyy_desk.core.search.doc_features import DocFeatures, doc_chars
from dyy_desk.core.search.impacts import entry_impacts

_QUANT = 16.0
_IMPACTS = [i / _QUANT for i in range(256)]
_FEATURE_CACHE = 50_000
_FILTER_HEADROOM = 4  # candidates ranked before the client filter, as a multiple of those kept
_VALUE = itemgetter(1)
_SNAPSHOT_FORMAT = 1
_FLUSH_DOCS = 20_000  # bound the memory a bulk add holds before appending to the postings


class InvertedIndex:
    def __init__(self) -> None:
        self._postings: dict[str, array[int]] = {}
        # An entry restored from a snapshot stays a compressed blob until a query first needs it.
        self._docs: list[AnalysedDoc | bytes | None] = []
        self._clients: list[str | None] = []  # per slot, so the client filter never decodes a blob
        self._features: dict[int, DocFeatures] = {}
        self._association = TermAssociation()
        self._slot_of: dict[str, int] = {}
        self._char_df: dict[str, int] = {}
        self._dead = 0

    def __len__(self) -> int:
        return len(self._slot_of)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._slot_of

    def add(self, adoc: AnalysedDoc) -> None:
        """Add an entry, replacing any entry with the same doc_id."""
        self.add_many((adoc,))

    def add_many(self, adocs: Iterable[AnalysedDoc]) -> None:
        """Add entries in bulk (replacing same doc_ids): the postings of the batch are gathered per
        term first and appended once per term, instead of one array append per (entry, term)."""
        self._forget_statistics()
        char_df = self._char_df
        docs = self._docs
        pending: defaultdict[str, list[int]] = defaultdict(list)
        slot_count = 0
        for adoc in adocs:
            doc_id = adoc.doc.doc_id
            if doc_id in self._slot_of:
                if pending:
                    self._flush(pending)
                    pending = defaultdict(list)
                self.remove([doc_id])  # may compact: take the containers afresh
                char_df, docs = self._char_df, self._docs
            elif slot_count >= _FLUSH_DOCS:
                self._flush(pending)
                pending = defaultdict(list)
                slot_count = 0
            slot_count += 1
            slot = len(docs)
            docs.append(adoc)
            self._clients.append(adoc.doc.client_id)
            self._slot_of[doc_id] = slot
            for ch in doc_chars(adoc):
                char_df[ch] = char_df.get(ch, 0) + 1
            base = slot << 8
            for term, impact in entry_impacts(adoc).items():
                q = int(impact * _QUANT + 0.5)
                pending[term].append(base | (255 if q > 255 else q or 1))
        if pending:
            self._flush(pending)

    def _flush(self, pending: dict[str, list[int]]) -> None:
        postings = self._postings
        for term, packed in pending.items():
            plist = postings.get(term)
            if plist is None:
                postings[term] = array("q", packed)
            else:
                plist.extend(packed)

    def remove(self, doc_ids: Iterable[str]) -> int:
        self._forget_statistics()
        removed = 0
        for doc_id in doc_ids:
            slot = self._slot_of.pop(doc_id, None)
            if slot is not None:
                old = self.doc(slot)
                if old is not None:
                    for ch in doc_chars(old):
                        self._char_df[ch] -= 1
                self._docs[slot] = None
                self._clients[slot] = None
                self._features.pop(slot, None)
                self._dead += 1
                removed += 1
        if self._dead > 1000 and self._dead * 3 > len(self._slot_of):
            self._compact()
        return removed

    def _compact(self) -> None:
        live = [self.doc(slot) for slot in range(len(self._docs)) if self._docs[slot] is not None]
        self.__init__()  # type: ignore[misc]
        self.add_many(d for d in live if d is not None)

    def to_snapshot(self) -> bytes:
        """The whole index as bytes (see `snapshot_state`)."""
        return encode_snapshot(self.snapshot_state())

    def snapshot_state(self) -> tuple[Any, ...]:
        """Copies of the index's containers, cheap enough to take under the engine's lock; encode
        them with `encode_snapshot` outside it (compressing the entries is the slow part)."""
        terms = tuple(self._postings)
        lengths = array("q", (len(self._postings[t]) for t in terms))
        packed = b"".join(self._postings[t].tobytes() for t in terms)
        return (
            _SNAPSHOT_FORMAT,
            list(self._docs),
            tuple(self._clients),
            tuple(self._slot_of.items()),
            tuple(self._char_df.items()),
            self._dead,
            terms,
            lengths.tobytes(),
            packed,
        )

    @staticmethod
    def from_snapshot(data: bytes) -> InvertedIndex:
        """Inverse of `to_snapshot`; raises ValueError when the bytes are not a snapshot of this format."""
        try:
            state = marshal.loads(data)
            fmt, blobs, clients, slot_of, char_df, dead, terms, lengths_raw, packed = state
        except (EOFError, ValueError, TypeError) as exc:
            raise ValueError("not a search index snapshot") from exc
        if fmt != _SNAPSHOT_FORMAT:
            raise ValueError("search index snapshot of another format")
        index = InvertedIndex()
        index._docs = list(blobs)
        index._clients = list(clients)
        index._slot_of = dict(slot_of)
        index._char_df = dict(char_df)
        index._dead = dead
        lengths = array("q")
        lengths.frombytes(lengths_raw)
        view = memoryview(packed)
        postings = index._postings
        offset = 0
        for term, n in zip(terms, lengths, strict=True):
            plist = array("q")
            plist.frombytes(view[offset : offset + 8 * n])
            postings[term] = plist
            offset += 8 * n
        return index

    def df(self, term: str) -> int:
        plist = self._postings.get(term)
        return 0 if plist is None else len(plist)

    def idf(self, term: str) -> float:
        n = len(self._slot_of)
        df = min(self.df(term), n)
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def char_idf(self, ch: str) -> float:
        """idf of a character (or Latin token) over the entries' phrasings."""
        n = len(self._slot_of)
        df = min(self._char_df.get(ch, 0), n)
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def unknown_idf(self) -> float:
        """idf of a term no entry contains: the weight a query word nothing matches carries."""
        n = len(self._slot_of)
        return math.log(1.0 + (n + 0.5) / 0.5)

    def doc(self, slot: int) -> AnalysedDoc | None:
        item = self._docs[slot]
        if isinstance(item, bytes):
            item = self._docs[slot] = AnalysedDoc.from_compact(marshal.loads(zlib.decompress(item)))
        return item

    def words(self) -> set[str]:
        """The library's vocabulary: every word term ("w:") without its prefix."""
        return {term[2:] for term in self._postings if term[:2] == "w:"}

    def features(self, slot: int) -> DocFeatures:
        """Per-entry sets the ranker needs, built on first use and kept: an entry that was a candidate
        once tends to be one again on the next keystroke, and building them for every entry at index
        time would double the build."""
        found = self._features.get(slot)
        if found is None:
            adoc = self.doc(slot)
            assert adoc is not None
            if len(self._features) >= _FEATURE_CACHE:
                self._features.clear()
            found = self._features[slot] = DocFeatures.of(adoc)
        return found

    def association(self, a: str, b: str) -> float | None:
        """How often entries have both terms, relative to chance (see `TermAssociation.ratio`)."""
        return self._association.ratio(a, b, self._postings, self._docs)

    def _forget_statistics(self) -> None:
        self._association.forget()

    def slot_of(self, doc_id: str) -> int | None:
        return self._slot_of.get(doc_id)

    def doc_ids(self) -> list[str]:
        return list(self._slot_of)

    def retrieve(
        self, weighted: list[tuple[str, float]], k: int, common_df: int, client_id: str | None
    ) -> list[tuple[int, float]]:
        """Top-k live slots by Σ weight·impact, restricted to generic entries and `client_id`'s own when
        a client is given. Terms in more than `common_df` entries are skipped once rarer terms have
        produced k candidates: they barely reorder those and cost the most time."""
        acc: dict[int, float] = {}
        get = acc.get
        for term, weight in sorted(weighted, key=lambda tw: self.df(tw[0])):
            plist = self._postings.get(term)
            if plist is None:
                continue
            if len(plist) > common_df and len(acc) >= k:
                continue
            scaled = [weight * impact for impact in _IMPACTS]
            for packed in plist:
                slot = packed >> 8
                acc[slot] = get(slot, 0.0) + scaled[packed & 255]
        docs = self._docs
        clients = self._clients

        def allowed(slot: int) -> bool:
            return docs[slot] is not None and (client_id is None or clients[slot] in (None, client_id))

        # Rank first, filter the head only: the filter costs a Python call per slot, and the
        # accumulator can hold most of the library for a query made of common words.
        if client_id is None and self._dead == 0:
            return heapq.nlargest(k, acc.items(), key=_VALUE)
        head = heapq.nlargest(k * _FILTER_HEADROOM, acc.items(), key=_VALUE)
        live = [sv for sv in head if allowed(sv[0])]
        if len(live) >= k or len(head) < k * _FILTER_HEADROOM:
            return live[:k]
        return heapq.nlargest(k, (sv for sv in acc.items() if allowed(sv[0])), key=_VALUE)


def encode_snapshot(state: tuple[Any, ...]) -> bytes:
    """marshal of plain data; entries zlib-compressed one by one, so a restore creates one bytes
    object per entry and decodes only the entries queries touch."""
    blobs: list[bytes | None] = []
    for item in state[1]:
        if item is None or isinstance(item, bytes):
            blobs.append(item)
        else:
            blobs.append(zlib.compress(marshal.dumps(item.to_compact()), 1))
    return marshal.dumps((state[0], tuple(blobs), *state[2:]))

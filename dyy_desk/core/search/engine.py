"""The search engine facade the services use: library entries in, ranked hits out.

Threading contract: one lock serialises mutations and searches, so a library import running in a
worker can interleave with keystroke searches from the CPU pool without either seeing a half-built
index. Analysis (jieba, pypinyin) runs outside the lock.
"""

from __future__ import annotations

import heapq
import marshal
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from dyy_desk.core.search.analyse import ANALYSIS_VERSION, AnalysedDoc, analyse
from dyy_desk.core.search.index import InvertedIndex, encode_snapshot
from dyy_desk.core.search.model import SearchDoc, SearchHit
from dyy_desk.core.search.pinyin import install_pinyin_table, pinyin_table
from dyy_desk.core.search.pinyin import warm_up as warm_up_pinyin
from dyy_desk.core.search.query import plan_query, retrieval_terms
from dyy_desk.core.search.rank import NO_MATCH_THRESHOLD, Scorer, boost, with_margin
from dyy_desk.core.search.resources import SearchResources
from dyy_desk.core.search.semantic import (
    SEMANTIC_WEIGHT,
    PhraseEncoder,
    SemanticIndex,
    has_meaning,
    sentence_text,
)
from dyy_desk.core.search.tokenize import Segmenter

WARM_UP_DELAY = 1.5  # seconds `start_warm_up` waits for the first search before loading
_MIN_CANDIDATES = 60
_COMMON_FRACTION = 0.02  # a term in more than 2 % of entries (and 200) is "common" for retrieval
_EMBED_BATCH = 256


class SearchEngine:
    no_match_threshold: float = NO_MATCH_THRESHOLD

    def __init__(
        self,
        resources: SearchResources,
        *,
        jieba_cache_dir: str | None = None,
        encoder: PhraseEncoder | None = None,
    ) -> None:
        self._resources = resources
        self._segmenter = Segmenter(resources, cache_dir=jieba_cache_dir)
        self._index = InvertedIndex()
        self._encoder = encoder
        self._semantic = SemanticIndex()
        self._encoder_ready = threading.Event()  # set once the encoder has answered
        self._lock = threading.Lock()
        self._answered = threading.Event()  # set once a search has been answered

    @property
    def analysis_version(self) -> str:
        """Stamp of cached analyses that `add_analysed` accepts; anything else must be re-analysed."""
        return f"{ANALYSIS_VERSION}:{self._resources.fingerprint}"

    def warm_up(self) -> None:
        """Load pypinyin, jieba and the dictionaries (≈1.5 s). Call from a worker thread at start-up."""
        warm_up_pinyin()
        self._segmenter.warm_up()
        self._segmenter.cut("退货退款")

    def _warm_up_encoder(self) -> None:
        if self._encoder is not None and not self._encoder_ready.is_set():
            self._encoder.encode(["退货退款"])
            self._encoder_ready.set()

    def start_warm_up(self, idle_delay: float = WARM_UP_DELAY) -> threading.Thread:
        """`warm_up` in a background thread. Once a snapshot is restored queries need neither pypinyin nor
        jieba, so the thread first waits for the first search to be answered (at most `idle_delay`
        seconds): in one process the threads share the GIL and loading would only slow that search
        down. Without a snapshot whoever needs jieba first loads it; the lock makes that happen once."""

        def run() -> None:
            self._answered.wait(idle_delay)
            self.warm_up()

        # not a daemon: a daemon thread inside jieba or zlib when the interpreter shuts down can crash it
        thread = threading.Thread(target=run, name="search-warm-up", daemon=False)
        thread.start()
        return thread

    @property
    def ready(self) -> bool:
        """True once jieba is loaded: until then queries use the restored vocabulary, if any."""
        return self._segmenter.ready

    def _snapshot_key(self) -> str:
        return f"{self.analysis_version}:py{sys.version_info[0]}.{sys.version_info[1]}:m{marshal.version}"

    def snapshot(self, meta: Any = None) -> bytes:
        """The whole index, plus the library vocabulary for segmenting queries before jieba is loaded,
        as bytes for `restore`. `meta` (plain data: str, int, tuples, dicts…) is kept alongside, e.g.
        what the caller needs to tell which entries changed since. Loads jieba if it is not loaded."""
        with self._lock:
            words = self._index.words()
            state = self._index.snapshot_state()
        data = encode_snapshot(state)
        freq, total = self._segmenter.vocabulary(words)
        table, syllables = pinyin_table(w for w in words | self._segmenter.resource_words() if len(w) > 1)
        return marshal.dumps((self._snapshot_key(), meta, freq, total, table, syllables, data))

    def restore(self, data: bytes) -> tuple[bool, Any]:
        """Replace the index with a `snapshot`. (True, meta) when accepted; (False, None) when the bytes
        are damaged or were made by other code, resources or Python (the caller rebuilds)."""
        try:
            key, meta, freq, total, table, syllables, index_data = marshal.loads(data)
            if key != self._snapshot_key():
                return False, None
            index = InvertedIndex.from_snapshot(index_data)
        except (EOFError, ValueError, TypeError):
            return False, None
        self._segmenter.install_vocabulary(freq, total)
        install_pinyin_table(table, syllables)
        with self._lock:
            self._index = index
            self._semantic.clear_docs()
        return True, meta

    @property
    def semantic_ready(self) -> bool:
        """True when queries are re-ranked by meaning too: the encoder is loaded and every indexed
        entry has its vectors."""
        semantic = self._semantic
        return self._encoder_ready.is_set() and semantic.complete and len(semantic) == len(self._index)

    def embed_pending(
        self,
        *,
        cancel: Callable[[], bool] | None = None,
        progress: Callable[[int, int], None] | None = None,
        at_most: int | None = None,
    ) -> int:
        """Encode the phrasings of entries that have no vectors yet (entries restored from a snapshot
        are taken in first) and load the encoder; returns how many were encoded. Encoding runs outside
        the lock, in batches, so searches go on meanwhile; cancelling keeps the batches done. With more
        than `at_most` to encode nothing is encoded (the caller leaves them to a background load)."""
        if self._encoder is None:
            return 0
        with self._lock:
            index = self._index
            adopt = [doc_id for doc_id in index.doc_ids() if doc_id not in self._semantic]
        for start in range(0, len(adopt), _EMBED_BATCH):
            with self._lock:
                docs = []
                for doc_id in adopt[start : start + _EMBED_BATCH]:
                    slot = index.slot_of(doc_id)
                    adoc = index.doc(slot) if slot is not None else None
                    if adoc is not None:
                        docs.append(adoc.doc)
                self._semantic.set_docs(docs)
        with self._lock:
            todo = self._semantic.pending()
        if at_most is not None and len(todo) > at_most:
            return 0
        for start in range(0, len(todo), _EMBED_BATCH):
            if cancel is not None and cancel():
                return start
            if progress is not None:
                progress(start, len(todo))
            batch = todo[start : start + _EMBED_BATCH]
            vectors = self._encoder.encode(batch)
            with self._lock:
                self._semantic.put(batch, vectors)
        self._warm_up_encoder()
        return len(todo)

    def vectors_snapshot(self) -> bytes | None:
        """The entries' phrasings and vectors, for `restore_vectors` after a restart (None without an
        encoder)."""
        if self._encoder is None:
            return None
        with self._lock:
            self._semantic.forget_unused()
            return self._semantic.to_bytes(self._encoder.model_id)

    def restore_vectors(self, data: bytes) -> bool:
        """Install saved vectors for the indexed entries not re-indexed since the index was restored."""
        if self._encoder is None:
            return False
        with self._lock:
            keep = [doc_id for doc_id in self._index.doc_ids() if doc_id not in self._semantic]
            return self._semantic.from_bytes(data, self._encoder.model_id, keep)

    def analyse(self, doc: SearchDoc) -> AnalysedDoc:
        """Analyse without indexing, e.g. to store the result next to the entry in the database."""
        warm_up_pinyin()  # analyses are cached: they must use pypinyin itself, never the start-up table
        return analyse(self._segmenter, doc, self._resources.fingerprint)

    def add_or_update(self, docs: Iterable[SearchDoc]) -> list[AnalysedDoc]:
        """Index entries (replacing same doc_id); returns their analyses for the caller to cache."""
        analysed = [self.analyse(doc) for doc in docs]
        with self._lock:
            self._index.add_many(analysed)
            self._semantic.set_docs(a.doc for a in analysed)
        return analysed

    def add_analysed(self, analysed: Iterable[AnalysedDoc]) -> list[str]:
        """Index cached analyses. Those made with other resources or code are re-analysed; their
        doc_ids are returned so the caller can refresh its cache."""
        stale: list[str] = []
        fresh: list[AnalysedDoc] = []
        for adoc in analysed:
            if adoc.version != self.analysis_version:
                stale.append(adoc.doc.doc_id)
                fresh.append(self.analyse(adoc.doc))
            else:
                fresh.append(adoc)
        with self._lock:
            self._index.add_many(fresh)
            self._semantic.set_docs(a.doc for a in fresh)
        return stale

    def remove(self, doc_ids: Iterable[str]) -> int:
        ids = list(doc_ids)
        with self._lock:
            self._semantic.remove(ids)
            return self._index.remove(ids)

    def _query_vector(self, query: str) -> Any:
        """The query's sentence vector when the ranking can use it, else None. Computed before the
        lock is taken: it is the costliest step of a keystroke and needs nothing of the index."""
        if self._encoder is None or not has_meaning(query) or not self.semantic_ready:
            return None
        return self._encoder.encode([sentence_text(query)])[0]

    def _semantic_extra(self, meaning: Any, slots: list[int]) -> dict[int, float]:
        """slot → the meaning-level part of its ranking value (empty when not available)."""
        if meaning is None or not slots:
            return {}
        ids = [self._doc(slot).doc.doc_id for slot in slots]
        found = self._semantic.similarities(meaning, ids)
        if found is None:
            return {}
        return {slot: SEMANTIC_WEIGHT * sim for slot, sim in zip(slots, found, strict=True)}

    def _doc(self, slot: int) -> AnalysedDoc:
        adoc = self._index.doc(slot)
        assert adoc is not None
        return adoc

    def __len__(self) -> int:
        return len(self._index)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._index

    def search(
        self,
        query: str,
        *,
        client_id: str | None = None,
        usage: Mapping[str, int] | None = None,
        limit: int = 10,
    ) -> list[SearchHit]:
        """Best entries first. With `client_id`, only generic entries and that client's own are
        returned, the client's own ahead of a generic one for the same intent; without, all entries.
        `usage` maps doc_id → how often this agent used the entry."""
        if limit <= 0 or not query.strip():
            return []
        if not self._segmenter.ready and not self._segmenter.has_vocabulary:
            self._segmenter.warm_up()  # load jieba before taking the lock, not while holding it
        meaning = self._query_vector(query)
        with self._lock:
            index = self._index
            plan = plan_query(self._segmenter, index, query)
            if not plan.units:
                return []
            k = max(_MIN_CANDIDATES, limit * 4)
            common = max(200, int(len(index) * _COMMON_FRACTION))
            candidates = index.retrieve(retrieval_terms(plan, index), k, common, client_id)
            scorer = Scorer(index, plan)
            extra = self._semantic_extra(meaning, [slot for slot, _lex in candidates])
            # Stable sorts keep retrieval order (the lexical score) between equal scores.
            bounds = [
                (boost(scorer.score(slot), self._doc(slot), client_id, usage) + extra.get(slot, 0.0), slot)
                for slot, _lex in candidates
            ]
            bounds.sort(key=lambda t: -t[0])
            # `rescore` only lowers a score: once the bound of the next candidate cannot beat the
            # (limit + 1)-th rescored one (the runner-up counts for `with_margin`), no later one can.
            need = limit + 1
            scored: list[tuple[float, int, int]] = []
            kept: list[float] = []  # min-heap of the best `need` rescored values
            for bound, slot in bounds:
                if len(kept) >= need and bound <= kept[0]:
                    break
                value, phrasing = scorer.rescore(slot)
                value = boost(value, self._doc(slot), client_id, usage) + extra.get(slot, 0.0)
                scored.append((value, slot, phrasing))
                if len(kept) < need:
                    heapq.heappush(kept, value)
                elif value > kept[0]:
                    heapq.heapreplace(kept, value)
            scored.sort(key=lambda t: -t[0])
            if scored:
                # The order comes from the ranking values, the shown scale from the top hit's
                # confidence: every hit moves by the same amount, so the order stays as ranked.
                second = scored[1][0] if len(scored) > 1 else None
                top, top_slot, top_phrasing = scored[0]
                confidence = boost(scorer.confidence(top_slot), self._doc(top_slot), client_id, usage)
                shift = confidence - top
                scored = [(min(1.0, max(0.0, v + shift)), s, p) for v, s, p in scored]
                scored[0] = (with_margin(top, second, confidence), top_slot, top_phrasing)
            hits: list[SearchHit] = []
            for value, slot, phrasing in scored[:limit]:
                adoc = index.doc(slot)
                assert adoc is not None
                hits.append(
                    SearchHit(
                        adoc.doc.doc_id, adoc.doc.kind, round(value, 4), scorer.matched_terms(slot, phrasing)
                    )
                )
        self._answered.set()
        return hits

"""The in-memory library index: loaded once off the GUI thread, then kept in step with every edit.

Threading contract: `load()` and `refresh()` read and write the database and run on the database
worker (never two at once). `search()` may run on any thread, also while `load()` is still running
(it then sees part of the library); the SearchEngine's own lock keeps its index consistent, and the
display data here is replaced by whole-dict assignment, never mutated in place where a reader sees it.
The analysis cache makes a restart cheap: only entries added or changed since (or made with other
search resources) are analysed again.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, insert, select

from dyy_desk.core.search import AnalysedDoc, DocKind, SearchDoc, SearchEngine, load_search_resources
from dyy_desk.infra.paths import read_resource_text
from dyy_desk.services.library_store import (
    cache_t,
    client_names,
    faq_doc,
    faq_t,
    script_doc,
    script_t,
    usage_t,
)
from dyy_desk.services.library_views import Cancelled, LibraryHit, LoadStats, Progress

_BATCH = 200
_SNIPPET = 80
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class _Shown:
    external_id: str
    kind: DocKind
    title: str
    text: str
    client_id: str | None
    shortcut: str | None
    group: str


def default_search_engine(cache_dir: Path | None = None) -> SearchEngine:
    """A SearchEngine with the shipped dictionary and synonyms (jieba's cache kept in `cache_dir`)."""
    resources = load_search_resources(
        read_resource_text("search", "user_dict.txt"), read_resource_text("search", "synonyms.toml")
    )
    if cache_dir is not None:
        cache_dir.mkdir(parents=True, exist_ok=True)
    return SearchEngine(resources, jieba_cache_dir=str(cache_dir) if cache_dir else None)


class LibrarySearch:
    def __init__(
        self,
        *,
        engine: Engine,
        cache_dir: Path | None = None,
        make_engine: Callable[[], SearchEngine] | None = None,
    ) -> None:
        self._db = engine
        self._make_engine = make_engine or (lambda: default_search_engine(cache_dir))
        self._engine: SearchEngine | None = None
        self._engine_lock = threading.Lock()
        self._shown: dict[str, _Shown] = {}
        self._clients: dict[str, str] = {}
        self._usage: dict[str, dict[str, int]] = {}
        self._loaded = threading.Event()

    @property
    def loaded(self) -> bool:
        return self._loaded.is_set()

    @property
    def no_match_threshold(self) -> float:
        return SearchEngine.no_match_threshold

    def search_engine(self) -> SearchEngine:
        with self._engine_lock:
            if self._engine is None:
                self._engine = self._make_engine()
            return self._engine

    def load(self, *, progress: Progress | None = None, cancel: Cancelled | None = None) -> LoadStats:
        """Warm up, index every live entry from the cache, analyse (and cache) what is missing or stale.
        Cancelling stops between batches; what was analysed so far stays cached."""
        started = time.perf_counter()
        engine = self.search_engine()
        engine.warm_up()
        engine.search(
            "退款到账", limit=1
        )  # loads the query path's lazy imports (pinyin) now, not on a keystroke
        with self._db.connect() as conn:
            faq_rows = conn.execute(select(faq_t).where(faq_t.c.deleted.is_(False))).mappings().all()
            script_rows = conn.execute(select(script_t).where(script_t.c.deleted.is_(False))).mappings().all()
            cached = {r.doc_id: r for r in conn.execute(select(cache_t))}
            self._clients = client_names(conn)
        docs = [faq_doc(r) for r in faq_rows] + [script_doc(r) for r in script_rows]
        shown = {**_shown(faq_rows, "faq"), **_shown(script_rows, "script")}
        version = engine.analysis_version
        good: list[AnalysedDoc] = []
        missing: list[SearchDoc] = []
        for doc in docs:
            entry = cached.get(doc.doc_id)
            adoc = (
                AnalysedDoc.from_json(json.loads(entry.data))
                if entry and entry.analysis_version == version
                else None
            )
            if adoc is not None and adoc.doc == doc:
                good.append(adoc)
            else:
                missing.append(doc)
        live = {doc.doc_id for doc in docs}
        gone = [doc_id for doc_id in cached if doc_id not in live]
        engine.remove(doc_id for doc_id in list(self._shown) if doc_id not in live)
        good_ids = {a.doc.doc_id for a in good}
        self._shown = {k: v for k, v in shown.items() if k in good_ids}
        engine.add_analysed(good)
        total = len(missing)
        for start in range(0, total, _BATCH):
            if cancel is not None and cancel():
                break
            if progress is not None:
                progress(start, total, "正在建立知识库索引")
            batch = missing[start : start + _BATCH]
            self._store(engine.add_or_update(batch))
            self._shown = self._shown | {d.doc_id: shown[d.doc_id] for d in batch}
        if gone:
            with self._db.begin() as conn:
                conn.execute(delete(cache_t).where(cache_t.c.doc_id.in_(gone)))
        if progress is not None:
            progress(total, total, "知识库索引已就绪")
        self._loaded.set()
        return LoadStats(len(docs), len(good), total, time.perf_counter() - started)

    def refresh(self, doc_ids: Iterable[str]) -> None:
        """Bring these entries up to date after an edit or import (deleted ones leave the index).
        Before `load()` nothing is indexed: the entries are picked up by the load instead."""
        ids = list(dict.fromkeys(doc_ids))
        if not ids or not self.loaded:
            return
        engine = self.search_engine()
        with self._db.connect() as conn:
            faq_rows = (
                conn.execute(select(faq_t).where(faq_t.c.id.in_(ids), faq_t.c.deleted.is_(False)))
                .mappings()
                .all()
            )
            script_rows = (
                conn.execute(select(script_t).where(script_t.c.id.in_(ids), script_t.c.deleted.is_(False)))
                .mappings()
                .all()
            )
            self._clients = client_names(conn)
        docs = [faq_doc(r) for r in faq_rows] + [script_doc(r) for r in script_rows]
        live = {doc.doc_id for doc in docs}
        removed = [doc_id for doc_id in ids if doc_id not in live]
        engine.remove(removed)
        for start in range(0, len(docs), _BATCH):
            self._store(engine.add_or_update(docs[start : start + _BATCH]))
        shown = {**_shown(faq_rows, "faq"), **_shown(script_rows, "script")}
        self._shown = {k: v for k, v in self._shown.items() if k not in removed} | shown
        if removed:
            with self._db.begin() as conn:
                conn.execute(delete(cache_t).where(cache_t.c.doc_id.in_(removed)))

    def clear(self) -> None:
        """Drop everything from the index (closing a workspace while keeping the engine)."""
        self.search_engine().remove(list(self._shown))
        self._shown = {}
        self._loaded.clear()

    def search(
        self, query: str, *, client_id: str | None = None, user_id: str | None = None, limit: int = 10
    ) -> list[LibraryHit]:
        """Best first; with `client_id` only generic entries and that client's own (its own first)."""
        engine = self.search_engine()
        usage = self._usage_of(user_id) if user_id else None
        hits = engine.search(query, client_id=client_id, usage=usage, limit=limit)
        shown, clients = self._shown, self._clients
        out: list[LibraryHit] = []
        for hit in hits:
            info = shown.get(hit.doc_id)
            if info is None:  # removed between the engine's answer and now
                continue
            out.append(
                LibraryHit(
                    doc_id=hit.doc_id,
                    external_id=info.external_id,
                    kind=info.kind,
                    title=info.title,
                    text=info.text,
                    snippet=_snippet(info.text),
                    client_id=info.client_id,
                    client_name=clients.get(info.client_id) if info.client_id else None,
                    shortcut=info.shortcut,
                    group=info.group,
                    score=hit.score,
                    matched_terms=hit.matched_terms,
                    weak=hit.score < engine.no_match_threshold,
                )
            )
        return out

    def note_use(self, *, user_id: str, doc_id: str) -> None:
        """Count a copy in memory too (the service has written it to the database)."""
        counts = dict(self._usage_of(user_id))
        counts[doc_id] = counts.get(doc_id, 0) + 1
        self._usage = self._usage | {user_id: counts}

    def _usage_of(self, user_id: str) -> Mapping[str, int]:
        counts = self._usage.get(user_id)
        if counts is None:
            with self._db.connect() as conn:
                rows = conn.execute(
                    select(usage_t.c.doc_id, usage_t.c.count).where(usage_t.c.user_id == user_id)
                )
                counts = {doc_id: count for doc_id, count in rows}
            self._usage = self._usage | {user_id: counts}
        return counts

    def _store(self, analysed: list[AnalysedDoc]) -> None:
        if not analysed:
            return
        version = self.search_engine().analysis_version
        ids = [a.doc.doc_id for a in analysed]
        values = [
            {
                "doc_id": a.doc.doc_id,
                "analysis_version": version,
                "data": json.dumps(a.to_json(), ensure_ascii=False),
            }
            for a in analysed
        ]
        with self._db.begin() as conn:
            conn.execute(delete(cache_t).where(cache_t.c.doc_id.in_(ids)))
            conn.execute(insert(cache_t), values)


def _shown(rows: Iterable[Mapping[Any, Any]], kind: DocKind) -> dict[str, _Shown]:
    if kind == "faq":
        return {
            r["id"]: _Shown(r["external_id"], "faq", r["question"], r["answer"], r["client_id"], None, "")
            for r in rows
        }
    return {
        r["id"]: _Shown(
            r["external_id"], "script", r["title"], r["body"], r["client_id"], r["shortcut"], r["group_name"]
        )
        for r in rows
    }


def _snippet(text: str) -> str:
    flat = _SPACES.sub(" ", text).strip()
    return flat if len(flat) <= _SNIPPET else flat[: _SNIPPET - 1] + "…"

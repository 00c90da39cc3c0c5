"""The in-memory library index: loaded once off the GUI thread, then kept in step with every edit.

Threading contract: `load()` and `refresh()` read and write the database and run on the database
worker (never two at once). `search()` may run on any thread, also while `load()` is still running
(it then sees part of the library); the SearchEngine's own lock keeps its index consistent, and the
display data here is replaced by whole-dict assignment, never mutated in place where a reader sees it.
The analysis cache makes a restart cheap: only entries added or changed since (or made with other
search resources) are analysed again.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import astuple, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, String, cast, delete, insert, select

from dyy_desk.core.search import AnalysedDoc, DocKind, SearchDoc, SearchEngine, load_search_resources
from dyy_desk.infra.memory import release_memory
from dyy_desk.infra.paths import read_resource_text
from dyy_desk.infra.sentence_encoder import SentenceEncoder
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
_SNAPSHOT_FILE = "library_search.snapshot"
_VECTORS_FILE = "library_vectors.snapshot"
_EMBED_AT_ONCE = 2000  # phrasings `refresh` encodes on the spot (≈3 s)
_log = logging.getLogger(__name__)
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
    """A SearchEngine with the shipped dictionary and synonyms and the sentence encoder (jieba's and
    the encoder's caches kept in `cache_dir`)."""
    resources = load_search_resources(
        read_resource_text("search", "user_dict.txt"), read_resource_text("search", "synonyms.toml")
    )
    if cache_dir is not None:
        cache_dir.mkdir(parents=True, exist_ok=True)
    return SearchEngine(
        resources, jieba_cache_dir=str(cache_dir) if cache_dir else None, encoder=SentenceEncoder(cache_dir)
    )


class LibrarySearch:
    def __init__(
        self,
        *,
        engine: Engine,
        cache_dir: Path | None = None,
        make_engine: Callable[[], SearchEngine] | None = None,
    ) -> None:
        self._db = engine
        self._cache_dir = cache_dir
        self._make_engine = make_engine or (lambda: default_search_engine(cache_dir))
        self._engine: SearchEngine | None = None
        self._engine_lock = threading.Lock()
        self._shown: dict[str, _Shown] = {}
        self._clients: dict[str, str] = {}
        self._usage: dict[str, dict[str, int]] = {}
        self._loaded = threading.Event()
        self._semantic_lock = threading.Lock()
        self._semantic_started = False

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

    def load(
        self, *, progress: Progress | None = None, cancel: Cancelled | None = None, semantic: bool = True
    ) -> LoadStats:
        """Index every live entry: from the index snapshot in the cache folder when there is one (then
        only entries changed since it was taken are indexed again), else from the analysis cache;
        analyse (and cache) what is missing or stale. pypinyin and jieba load in a background thread
        meanwhile: queries do not need jieba once a snapshot has restored the library's vocabulary.
        Cancelling stops between batches; what was analysed so far stays cached. When the index
        differs from the snapshot a new one is written before `load` returns.

        Searches work as soon as the entries are indexed; then, with `semantic`, the entries' sentence
        vectors are restored or computed (see core.search.semantic) and from then on the ranking also
        weighs meaning. Without, that waits for `ensure_semantic`: the app calls it on the first
        search, so a session that never searches the library never loads the model (~80 MB)."""
        try:
            return self._load(progress, cancel, semantic)
        finally:
            # The snapshot's bytes, the rows and cached analyses are garbage now; and jieba, loading
            # next, can reuse what the sources of the modules imported so far held.
            release_memory()

    def _load(self, progress: Progress | None, cancel: Cancelled | None, semantic: bool) -> LoadStats:
        started = time.perf_counter()
        engine = self.search_engine()
        engine.start_warm_up()
        with self._db.connect() as conn:
            stamps = _stamps(conn)
            self._clients = client_names(conn)
        restored = self._restore(engine)
        if restored is not None:
            snap_stamps, snap_shown = restored
            # Unchanged entries are in the restored index already; drop the ones deleted since.
            engine.remove([doc_id for doc_id in snap_stamps if doc_id not in stamps])
            todo = [doc_id for doc_id, stamp in stamps.items() if snap_stamps.get(doc_id) != stamp]
            changed = set(todo)
            kept = {k: _Shown(*v) for k, v in snap_shown.items() if k in stamps and k not in changed}
        else:
            engine.remove(doc_id for doc_id in list(self._shown) if doc_id not in stamps)
            todo = list(stamps)
            kept = {}
        faq_rows, script_rows = self._rows(todo if restored is not None else None)
        docs = [faq_doc(r) for r in faq_rows] + [script_doc(r) for r in script_rows]
        shown = {**_shown(faq_rows, "faq"), **_shown(script_rows, "script")}
        cached = self._cached(todo if restored is not None else None)
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
        gone = [doc_id for doc_id in cached if doc_id not in stamps] if restored is None else []
        good_ids = {a.doc.doc_id for a in good}
        self._shown = kept | {k: v for k, v in shown.items() if k in good_ids}
        engine.add_analysed(good)
        total = len(missing)
        complete = True
        for start in range(0, total, _BATCH):
            if cancel is not None and cancel():
                complete = False
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
        if complete and (restored is None or todo or len(restored[0]) != len(stamps)):
            self._save_snapshot(engine, stamps)
        if complete and semantic:
            self.ensure_semantic(progress=progress, cancel=cancel)
        from_cache = len(stamps) - len(todo) + len(good)
        return LoadStats(len(stamps), from_cache, total, time.perf_counter() - started)

    def ensure_semantic(self, *, progress: Progress | None = None, cancel: Cancelled | None = None) -> None:
        """Bring meaning into the ranking: load the encoder, restore the saved vectors, encode what is
        missing and save them. Runs on a worker; once done, later calls return at once."""
        with self._semantic_lock:
            if not self.loaded or (self._semantic_started and self.search_engine().semantic_ready):
                return
            self._semantic_started = True
            self._load_vectors(self.search_engine(), progress, cancel)

    def _load_vectors(
        self, engine: SearchEngine, progress: Progress | None, cancel: Cancelled | None
    ) -> None:
        """Restore the saved vectors, encode what is missing, save them when anything changed."""
        path = self._cache_dir / _VECTORS_FILE if self._cache_dir is not None else None
        restored = False
        if path is not None:
            with contextlib.suppress(OSError):
                restored = engine.restore_vectors(path.read_bytes())

        def report(done: int, total: int) -> None:
            if progress is not None:
                progress(done, total, "正在建立语义索引")

        encoded = engine.embed_pending(cancel=cancel, progress=report)
        if progress is not None:
            progress(1, 1, "知识库索引已就绪")
        if path is None or (restored and not encoded):
            return
        data = engine.vectors_snapshot()
        if data is None:
            return
        try:
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(data)
            tmp.replace(path)
        except OSError:
            _log.warning("could not write the search vectors %s", path, exc_info=True)

    def _snapshot_path(self) -> Path | None:
        return self._cache_dir / _SNAPSHOT_FILE if self._cache_dir is not None else None

    def _restore(self, engine: SearchEngine) -> tuple[dict[str, str], dict[str, tuple[Any, ...]]] | None:
        """(stamps, display data) of the entries in the restored snapshot, or None."""
        path = self._snapshot_path()
        if path is None:
            return None
        try:
            data = path.read_bytes()
        except OSError:
            return None
        ok, meta = engine.restore(data)
        if not ok or not isinstance(meta, tuple) or len(meta) != 2:
            return None
        return meta[0], meta[1]

    def _save_snapshot(self, engine: SearchEngine, stamps: dict[str, str]) -> None:
        path = self._snapshot_path()
        if path is None:
            return

        shown = {k: astuple(v) for k, v in self._shown.items()}

        def save() -> None:
            try:
                data = engine.snapshot((stamps, shown))
                tmp = path.with_suffix(".tmp")
                tmp.write_bytes(data)
                tmp.replace(path)
            except OSError:
                _log.warning("could not write the search index snapshot %s", path, exc_info=True)

        # Written here, on the lane that loaded the index (the UI's background lane), not on a thread of
        # its own: a saver thread still loading jieba while the next window was being built crashed
        # the process once in CI, and one fewer thread is one fewer way to race the interpreter's exit.
        save()

    def _rows(self, doc_ids: list[str] | None) -> tuple[list[Any], list[Any]]:
        """Live FAQ and script rows: all of them (None) or those of `doc_ids`."""
        with self._db.connect() as conn:
            if doc_ids is None:
                faq = conn.execute(select(faq_t).where(faq_t.c.deleted.is_(False))).mappings().all()
                scripts = conn.execute(select(script_t).where(script_t.c.deleted.is_(False))).mappings().all()
                return list(faq), list(scripts)
            faq_rows: list[Any] = []
            script_rows: list[Any] = []
            for start in range(0, len(doc_ids), 500):
                part = doc_ids[start : start + 500]
                faq_rows += (
                    conn.execute(select(faq_t).where(faq_t.c.id.in_(part), faq_t.c.deleted.is_(False)))
                    .mappings()
                    .all()
                )
                script_rows += (
                    conn.execute(
                        select(script_t).where(script_t.c.id.in_(part), script_t.c.deleted.is_(False))
                    )
                    .mappings()
                    .all()
                )
            return faq_rows, script_rows

    def _cached(self, doc_ids: list[str] | None) -> dict[str, Any]:
        """Analysis cache rows by doc_id: all of them (None) or those of `doc_ids`."""
        with self._db.connect() as conn:
            if doc_ids is None:
                return {r.doc_id: r for r in conn.execute(select(cache_t))}
            found: dict[str, Any] = {}
            for start in range(0, len(doc_ids), 500):
                part = doc_ids[start : start + 500]
                found.update(
                    (r.doc_id, r) for r in conn.execute(select(cache_t).where(cache_t.c.doc_id.in_(part)))
                )
            return found

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
        # The edited entries' new phrasings (about 2 ms each; saved with the next load's vectors), once
        # meaning is in use. A big import leaves them to the next load, the ranking staying lexical.
        if self._semantic_started:
            engine.embed_pending(at_most=_EMBED_AT_ONCE)
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


def _stamps(conn: Connection) -> dict[str, str]:
    """doc_id → last change time (as stored) and a checksum of everything the index and the result
    list show, for every live entry: what tells a snapshot's entries current without building them."""
    found: dict[str, str] = {}
    for table, columns in (
        (faq_t, ("external_id", "client_id", "question", "similar_questions", "answer", "tags", "platforms")),
        (script_t, ("external_id", "client_id", "title", "body", "group_name", "shortcut", "platforms")),
    ):
        stamp = cast(table.c.updated_at, String)
        for row in conn.execute(
            select(table.c.id, stamp, *(table.c[c] for c in columns)).where(table.c.deleted.is_(False))
        ):
            text = "\x1f".join("\x00" if v is None else v for v in row[2:])
            found[row[0]] = f"{row[1]}:{zlib.crc32(text.encode('utf-8')):08x}"
    return found


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

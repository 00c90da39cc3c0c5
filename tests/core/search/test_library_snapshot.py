"""LibrarySearch start-up from the index snapshot in the cache folder: a restart indexes nothing again,
edits and deletions made since the snapshot are picked up, a damaged snapshot means a rebuild."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dyy_desk.core.types import Role
from dyy_desk.infra.sentence_encoder import SentenceEncoder
from dyy_desk.services.library_search import LibrarySearch, default_search_engine
from dyy_desk.services.library_service import LibraryService
from dyy_desk.services.library_views import FaqDraft


def _service(ws: Any, cache: Path) -> LibraryService:
    index = LibrarySearch(engine=ws.engine, make_engine=lambda: default_search_engine(cache), cache_dir=cache)
    return LibraryService(engine=ws.engine, clock=ws.clock, origin=ws.machine_id, index=index)


def test_restart_restores_snapshot_and_applies_changes_since(empty_workspace: Any, tmp_path: Path) -> None:
    ws = empty_workspace
    boss = ws.directory.create_user(name="赵敏", role=Role.SUPERVISOR)[0].id
    first = _service(ws, tmp_path)
    kept, _ = first.create_faq(user_id=boss, draft=FaqDraft(question="羽绒被钻绒怎么办", answer="拍照换新"))
    gone, _ = first.create_faq(user_id=boss, draft=FaqDraft(question="发票抬头写错了", answer="可以重开"))
    edited, _ = first.create_faq(user_id=boss, draft=FaqDraft(question="四件套起球", answer="包换"))
    first.index.load()
    assert (tmp_path / "library_search.snapshot").is_file()

    second = _service(ws, tmp_path)
    stats = second.index.load()
    assert (stats.entries, stats.from_cache, stats.analysed) == (3, 3, 0)
    assert not second.index.search_engine().ready  # answered from the snapshot, jieba not needed
    assert second.search("羽绒被钻绒")[0].doc_id == kept.id
    # Changes made while the snapshot was on disk: one deleted, one edited.
    second.delete_entry(user_id=boss, entry_id=gone.id)
    second.update_faq(
        user_id=boss, entry_id=edited.id, draft=FaqDraft(question="运费险怎么理赔", answer="自动")
    )

    third = _service(ws, tmp_path)
    stats = third.index.load()
    assert stats.entries == 2
    assert all(h.doc_id != gone.id for h in third.search("发票抬头写错了"))
    assert third.search("运费险理赔")[0].doc_id == edited.id
    assert all(h.doc_id != edited.id for h in third.search("四件套起球"))

    (tmp_path / "library_search.snapshot").write_bytes(b"damaged")
    fourth = _service(ws, tmp_path)
    stats = fourth.index.load()
    assert (stats.entries, stats.from_cache) == (2, 2)  # from the analysis cache instead
    assert fourth.search("运费险理赔")[0].doc_id == edited.id


def test_sentence_vectors_are_kept_beside_the_snapshot(
    empty_workspace: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    encoded: list[str] = []
    real_encode = SentenceEncoder.encode

    def counting(self: SentenceEncoder, texts: Sequence[str]) -> Any:
        encoded.extend(texts)
        return real_encode(self, texts)

    monkeypatch.setattr(SentenceEncoder, "encode", counting)
    ws = empty_workspace
    boss = ws.directory.create_user(name="赵敏", role=Role.SUPERVISOR)[0].id
    first = _service(ws, tmp_path)
    draft = FaqDraft(question="退款多久能到账", answer="1-3 天", similar_questions=("钱几天回来",))
    first.create_faq(user_id=boss, draft=draft)
    first.index.load()
    assert {"退款多久能到账", "钱几天回来"} <= set(encoded)
    assert (tmp_path / "library_vectors.snapshot").is_file()
    assert first.index.search_engine().semantic_ready
    # An edit is encoded on the spot; the ranking keeps using meaning.
    first.create_faq(user_id=boss, draft=FaqDraft(question="发票怎么开", answer="确认收货后"))
    assert "发票怎么开" in encoded
    assert first.index.search_engine().semantic_ready

    encoded.clear()
    second = _service(ws, tmp_path)
    second.index.load()
    assert second.index.search_engine().semantic_ready
    assert set(encoded) <= {"退货退款", "发票怎么开"}  # the warm-up text, and the entry added after the save
    assert second.search("钱几天回来")[0].title == "退款多久能到账"

"""Fast start: whole-index snapshots, queries before jieba is loaded, the chunked jieba dictionary,
saved pinyin readings, bulk adds and lazily decoded entries."""

from __future__ import annotations

from pathlib import Path

import pytest

from dyy_desk.core.search import SearchDoc, SearchEngine, SearchResources, load_search_resources
from dyy_desk.core.search.index import InvertedIndex
from dyy_desk.core.search.pinyin import install_pinyin_table, readings_of, syllables_of
from dyy_desk.core.search.tokenize import Segmenter, _light_cut

from .conftest import LIBRARY, RESOURCES

QUERIES = ("退款多久能到账", "thtk", "退宽几天到", "能发顺丰吗", "/thh", "发票抬头填错了", "地址写错了怎么办")


def _hits(engine: SearchEngine, query: str, **kwargs: object) -> list[tuple[str, float]]:
    return [(h.doc_id, h.score) for h in engine.search(query, **kwargs)]  # type: ignore[arg-type]


def test_restored_snapshot_answers_like_the_original_without_jieba(
    engine: SearchEngine, resources: SearchResources
) -> None:
    data = engine.snapshot({"stamp": "v1"})
    fresh = SearchEngine(resources)  # its own Segmenter: jieba not loaded for it
    ok, meta = fresh.restore(data)
    assert ok and meta == {"stamp": "v1"}
    for query in QUERIES:
        assert _hits(fresh, query) == _hits(engine, query), query
    assert _hits(fresh, "退款多久", client_id="nuanju") == _hits(engine, "退款多久", client_id="nuanju")
    assert not fresh.ready  # every answer above came without jieba
    assert len(fresh) == len(engine) and "invoice" in fresh


def test_restored_index_takes_incremental_changes(engine: SearchEngine, resources: SearchResources) -> None:
    fresh = SearchEngine(resources)
    assert fresh.restore(engine.snapshot())[0]
    fresh.remove(["invoice"])
    assert all(h.doc_id != "invoice" for h in fresh.search("怎么开发票"))
    fresh.add_or_update([SearchDoc("new", "faq", "羽绒被钻绒怎么办", (), "拍照联系客服", ())])
    assert fresh.search("羽绒被钻绒")[0].doc_id == "new"


def test_snapshot_of_other_resources_or_damaged_bytes_is_refused(
    engine: SearchEngine, resources: SearchResources
) -> None:
    other = load_search_resources(
        (RESOURCES / "user_dict.txt").read_text(encoding="utf-8") + "\n钻绒 100 n\n",
        (RESOURCES / "synonyms.toml").read_text(encoding="utf-8"),
    )
    assert SearchEngine(other).restore(engine.snapshot()) == (False, None)
    assert SearchEngine(resources).restore(b"not a snapshot") == (False, None)
    assert SearchEngine(resources).restore(engine.snapshot()[:-100]) == (False, None)


def test_light_cut_runs_jiebas_algorithm_on_a_small_dictionary(engine: SearchEngine) -> None:
    seg: Segmenter = engine._segmenter
    words = {"退款", "多久", "到账", "顺丰", "快递"}
    freq, total = seg.vocabulary(words)
    assert "退" in freq and freq["退款"] > 0  # prefixes are present, as jieba requires
    light = Segmenter(seg._resources)
    light.install_vocabulary(freq, total)
    for text in ("退款多久能到账", "可以指定顺丰快递吗", "iphone15 退款", "亲，在吗？"):
        assert light.cut_query(text) == seg.cut(text), text
    assert not light.ready
    # Without the vocabulary a run of unknown characters comes out one by one, as jieba does.
    assert list(_light_cut("退款", {}, 10.0)) == ["退", "款"]


def test_jieba_dictionary_is_cached_in_chunks(resources: SearchResources, tmp_path: Path) -> None:
    first = Segmenter(resources, cache_dir=str(tmp_path))
    first.warm_up()
    assert (tmp_path / "jieba_dict.chunks").is_file()
    second = Segmenter(resources, cache_dir=str(tmp_path))  # loads from the chunks
    text = "我买的四件套昨天到了但是有破损，退货退款怎么弄"
    assert second.cut(text) == first.cut(text)
    (tmp_path / "jieba_dict.chunks").write_bytes(b"damaged")
    third = Segmenter(resources, cache_dir=str(tmp_path))  # falls back to jieba and rewrites
    assert third.cut(text) == first.cut(text)


def test_saved_pinyin_readings_are_used_and_unknown_words_read_by_character() -> None:
    install_pinyin_table({"还款": "huan kuan|hai kuan", "银": "yin", "行": "xing|hang"}, ["huan", "kuan"])
    try:
        assert syllables_of("还款") == ("huan", "kuan")
        assert readings_of("还款")[1] == ("hai", "kuan")
    finally:
        install_pinyin_table({}, [])


def test_bulk_add_equals_one_by_one_and_replaces_same_id() -> None:
    engine_docs = LIBRARY
    from dyy_desk.core.search.analyse import AnalysedDoc

    seg_engine = SearchEngine(
        load_search_resources(
            (RESOURCES / "user_dict.txt").read_text(encoding="utf-8"),
            (RESOURCES / "synonyms.toml").read_text(encoding="utf-8"),
        )
    )
    analysed: list[AnalysedDoc] = [seg_engine.analyse(d) for d in engine_docs]
    one, bulk = InvertedIndex(), InvertedIndex()
    for adoc in analysed:
        one.add(adoc)
    bulk.add_many(analysed)
    assert one.snapshot_state()[2:] == bulk.snapshot_state()[2:]
    bulk.add_many([analysed[0], analysed[0]])  # same id twice: one live entry
    assert len(bulk) == len(analysed)


def test_restored_entries_are_decoded_only_when_needed(engine: SearchEngine) -> None:
    index = InvertedIndex.from_snapshot(engine._index.to_snapshot())
    assert all(isinstance(item, bytes) for item in index._docs if item is not None)
    slot = index.slot_of("invoice")
    assert slot is not None
    adoc = index.doc(slot)
    assert adoc is not None and adoc.doc.title == "怎么开发票"
    assert sum(not isinstance(item, bytes) for item in index._docs) == 1
    with pytest.raises(ValueError):
        InvertedIndex.from_snapshot(b"\x00")

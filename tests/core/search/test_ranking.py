"""The ranking mechanisms, each on a tiny hand-written library that fails without it."""

from __future__ import annotations

import pytest

from dyy_desk.core.search import SearchDoc, SearchEngine, SearchResources
from dyy_desk.core.search import rank as rank_module
from dyy_desk.core.search.analyse import clear_caches
from dyy_desk.core.search.rank import _tversky
from tests.core.search.conftest import top_ids


def _engine(resources: SearchResources, docs: list[SearchDoc]) -> SearchEngine:
    eng = SearchEngine(resources)
    eng.add_or_update(docs)
    return eng


# The query's 提前还款 is one dictionary word; the entry says 提前/还清. Word-level matching sees
# little in common, so without the character views the right entry scores as "no good match".
_SEGMENTATION = [
    SearchDoc("early", "faq", "订单能提前还清吗", (), "", ()),
    SearchDoc("date", "faq", "分期还款日是哪天", (), "", ()),
    SearchDoc("limit", "faq", "分期额度不够怎么办", (), "", ()),
    SearchDoc("fee", "faq", "分期手续费怎么算", (), "", ()),
]


def test_character_overlap_matches_across_segmentations(
    resources: SearchResources, monkeypatch: pytest.MonkeyPatch
) -> None:
    eng = _engine(resources, _SEGMENTATION)
    hit = eng.search("可以提前还款吗")[0]
    assert hit.doc_id == "early" and hit.score >= eng.no_match_threshold
    monkeypatch.setattr(rank_module, "CHAR_WEIGHT", 0.0)
    monkeypatch.setattr(rank_module, "BIGRAM_WEIGHT", 0.0)
    assert eng.search("可以提前还款吗")[0].score < eng.no_match_threshold


def test_character_idf_is_counted_over_the_library(resources: SearchResources) -> None:
    docs = [SearchDoc(f"d{i}", "faq", f"退款问题{i}", (), "", ()) for i in range(20)]
    docs.append(SearchDoc("rare", "faq", "漏发怎么办", (), "", ()))
    eng = _engine(resources, docs)
    index = eng._index
    assert index.char_idf("退") < 0.2 < 2.0 < index.char_idf("漏")
    eng.remove(["rare"])
    assert index.char_idf("漏") == index.unknown_idf()


def test_best_phrasing_decides_not_the_number_of_phrasings(resources: SearchResources) -> None:
    """Many loosely related similar questions must not beat one phrasing that says it exactly."""
    docs = [
        SearchDoc("exact", "faq", "发票抬头写错了能重开吗", (), "", ()),
        SearchDoc(
            "many",
            "faq",
            "发票怎么开",
            ("发票能开专票吗", "发票什么时候寄", "发票可以写公司吗", "发票开错了"),
            "",
            (),
        ),
    ]
    eng = _engine(resources, docs)
    assert top_ids(eng, "发票抬头写错了")[0] == "exact"


def test_tversky_forgives_the_unmatched_part_of_a_long_query() -> None:
    # Similar sizes: plain Dice.
    assert _tversky(4.0, 5.0, 5.0) == pytest.approx(2 * 4.0 / 10.0)
    # The phrasing fully inside a query four times its size scores well above Dice (2·4/20 = 0.4).
    assert _tversky(4.0, 16.0, 4.0) > 0.45
    assert _tversky(0.0, 16.0, 4.0) == 0.0


def test_long_message_finds_the_short_entry(engine: SearchEngine) -> None:
    query = "你好我上周在你们家买了东西，今天想起来问一下，我申请的退款到底多久能到账啊，等了好几天了"
    assert top_ids(engine, query)[0] == "refund-time"


def test_ambiguous_everyday_words_are_not_folded_into_domain_terms(engine: SearchEngine) -> None:
    seg = engine._segmenter
    assert "尺码" not in seg.cut("手机号码怎么改")
    assert "取消订单" not in seg.cut("能取消退款申请吗")
    assert "取消订单" in seg.cut("我想撤单")


def test_chunked_segmentation_equals_whole_sentence_segmentation(engine: SearchEngine) -> None:
    seg = engine._segmenter
    text = "亲，退货退款多久到账？运费险怎么理赔！free shipping 吗"
    first = seg.cut(text)
    assert seg.cut(text) == first  # second call comes from the chunk cache
    tok = seg._ensure()
    from dyy_desk.core.search.normalise import normalise

    whole = [t for t in tok.cut(normalise(text), HMM=False) if not t.isspace()]
    assert len(first) <= len(whole)
    assert "包邮" in first and "运费险" in first


def test_identical_texts_are_analysed_once(engine: SearchEngine) -> None:
    clear_caches()
    a = engine.analyse(SearchDoc("a", "faq", "退款多久能到账", ("钱什么时候退",), "", ()))
    b = engine.analyse(SearchDoc("b", "faq", "退款多久能到账", ("钱什么时候退",), "", (), client_id="x"))
    assert a.title is b.title and a.alternates[0] is b.alternates[0]


def test_cached_features_follow_updates(resources: SearchResources) -> None:
    eng = _engine(resources, [SearchDoc("x", "faq", "运费险怎么理赔", (), "", ())])
    assert top_ids(eng, "运费险理赔") == ["x"]
    eng.add_or_update([SearchDoc("x", "faq", "以旧换新怎么参加", (), "", ())])
    hits = eng.search("以旧换新")
    assert hits[0].doc_id == "x" and hits[0].score >= eng.no_match_threshold
    assert not eng.search("运费险理赔") or eng.search("运费险理赔")[0].score < eng.no_match_threshold

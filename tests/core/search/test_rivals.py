"""Rival words learnt from the library, the pinyin view of bigrams, and rescoring only what can win."""

from __future__ import annotations

import pytest

from dyy_desk.core.search import SearchDoc, SearchEngine, SearchResources
from dyy_desk.core.search import rank as rank_module
from dyy_desk.core.search.engine import _MIN_CANDIDATES
from dyy_desk.core.search.query import plan_query, retrieval_terms
from dyy_desk.core.search.rank import Scorer, boost

_TOPICS = ("绑定", "付款", "账单", "登录", "转账", "余额", "提现", "密码", "限额", "手续费")


def _rival_library() -> list[SearchDoc]:
    """支付宝 and 银行卡 are each in many entries and never in the same one: alternatives."""
    docs = [
        SearchDoc("alipay", "faq", "支付宝退款多久到账", (), "", ()),
        SearchDoc("card", "faq", "银行卡退款要等几天", (), "", ()),
    ]
    for i, topic in enumerate(_TOPICS):
        docs.append(SearchDoc(f"a{i}", "faq", f"支付宝{topic}怎么设置", (), "", ()))
        docs.append(SearchDoc(f"c{i}", "faq", f"银行卡{topic}在哪看", (), "", ()))
    return docs


def _engine(resources: SearchResources, docs: list[SearchDoc]) -> SearchEngine:
    eng = SearchEngine(resources)
    eng.add_or_update(docs)
    return eng


def test_entry_naming_a_rival_of_a_query_word_is_demoted(
    resources: SearchResources, monkeypatch: pytest.MonkeyPatch
) -> None:
    eng = _engine(resources, _rival_library())
    query = "银行卡退款到账"
    assert eng.search(query)[0].doc_id == "card"
    monkeypatch.setattr(rank_module, "RIVAL_WEIGHT", 0.0)
    assert eng.search(query)[0].doc_id == "alipay"


def test_association_is_observed_over_expected_cooccurrence(resources: SearchResources) -> None:
    eng = _engine(resources, _rival_library())
    index = eng._index
    assert index.association("w:支付宝", "w:银行卡") == 0.0
    assert index.association("w:银行卡", "w:支付宝") == 0.0
    # 设置 is in every 支付宝 entry but one: far more often together than chance.
    together = index.association("w:支付宝", "w:设置")
    assert together is not None and together > 1.5
    # Chance alone would put 到账 (one entry) with 银行卡 in less than two entries: no evidence.
    assert index.association("w:银行卡", "w:到账") is None
    eng.add_or_update([SearchDoc(f"both{i}", "faq", f"支付宝和银行卡{i}", (), "", ()) for i in range(8)])
    after = index.association("w:支付宝", "w:银行卡")
    assert after is not None and after > 0.5


def test_words_that_meet_as_often_as_chance_are_not_rivals(resources: SearchResources) -> None:
    """退款 and 发货 share entries as often as chance predicts: an entry about 发货 that lacks the
    query's 退款 is not about something else, and keeps its score."""
    docs = []
    for i, topic in enumerate(_TOPICS * 2):
        words = ("退款" if i < 10 else "") + ("发货" if 5 <= i < 15 else "")
        docs.append(SearchDoc(f"d{i}", "faq", f"{words}{topic}怎么办", (), "", ()))
    eng = _engine(resources, docs)
    index = eng._index
    assert index.association("w:退款", "w:发货") == pytest.approx(1.0)
    scorer = Scorer(index, plan_query(eng._segmenter, index, "退款账单"))
    slot = index.slot_of("d12")  # 发货账单怎么办
    assert slot is not None
    assert scorer.rescore(slot)[0] == pytest.approx(scorer.score(slot))


def test_pinyin_of_bigrams_matches_an_ime_typo(resources: SearchResources) -> None:
    eng = _engine(resources, [SearchDoc("x", "faq", "退款多久到账", (), "", ()), *_rival_library()[2:]])
    index = eng._index
    slot = index.slot_of("x")
    assert slot is not None
    bigrams = index.features(slot).bigrams[0]
    exact = Scorer(index, plan_query(eng._segmenter, index, "退款多久"))._bigram_dice(bigrams)
    typo = Scorer(index, plan_query(eng._segmenter, index, "退宽多久"))._bigram_dice(bigrams)
    assert 0.0 < typo < exact


@pytest.mark.parametrize("query", ["银行卡退款", "支付宝", "退款多久到账", "银行卡密码在哪", "怎么设置"])
@pytest.mark.parametrize("limit", [1, 3, 10])
def test_rescoring_only_the_head_gives_the_exact_ranking(
    resources: SearchResources, query: str, limit: int
) -> None:
    """The engine rescores candidates only while they can still reach the hits; the hits must be
    those that rescoring every candidate would give."""
    eng = _engine(resources, _rival_library())
    index = eng._index
    plan = plan_query(eng._segmenter, index, query)
    candidates = index.retrieve(retrieval_terms(plan, index), max(_MIN_CANDIDATES, limit * 4), 200, None)
    scorer = Scorer(index, plan)
    full = []
    for slot, _lex in candidates:
        scorer.score(slot)
        adoc = index.doc(slot)
        assert adoc is not None
        full.append((round(boost(scorer.rescore(slot)[0], adoc, None, None), 4), adoc.doc.doc_id))
    full.sort(key=lambda t: -t[0])
    hits = eng.search(query, limit=limit)
    # Shown scores are the ranking values moved onto the top hit's confidence scale, and the top hit
    # also gets credit for its lead: compare the rest by value, the top by identity.
    assert hits[0].doc_id in {d for v, d in full if v == full[0][0]}
    top_slot = index.slot_of(hits[0].doc_id)
    assert top_slot is not None
    top_doc = index.doc(top_slot)
    assert top_doc is not None
    shift = boost(scorer.confidence(top_slot), top_doc, None, None) - full[0][0]
    expected = [min(1.0, max(0.0, v + shift)) for v, _ in full[1:limit]]
    assert [h.score for h in hits[1:]] == pytest.approx(expected, abs=2e-4)


def test_rivals_hold_after_restoring_a_snapshot(resources: SearchResources) -> None:
    """A restored index keeps its entries as undecoded blobs: the statistics must not need them."""
    eng = _engine(resources, _rival_library())
    fresh = SearchEngine(resources)
    accepted, _ = fresh.restore(eng.snapshot())
    assert accepted
    assert fresh._index.association("w:支付宝", "w:银行卡") == 0.0
    assert [h.doc_id for h in fresh.search("银行卡退款到账")] == [
        h.doc_id for h in eng.search("银行卡退款到账")
    ]

"""Everyday near-synonyms and the top hit's margin confidence."""

from __future__ import annotations

import pytest

from dyy_desk.core.search import SearchDoc, SearchEngine, SearchResources
from dyy_desk.core.search import engine as engine_module
from dyy_desk.core.search import rank as rank_module
from dyy_desk.core.search.rank import MARGIN_CAP, MARGIN_CONFIDENCE, with_margin
from dyy_desk.core.search.tokenize import Segmenter


@pytest.mark.parametrize(
    ("typed", "written"),
    [
        ("怎么登陆花呗", "如何登录花呗"),
        ("地址怎么更改", "地址如何修改"),
        ("删掉收货地址", "删除收货地址"),
        ("借呗还钱", "借呗还款"),
        ("额度提升", "额度提高"),
        ("花呗关掉", "花呗关闭"),
        ("卖家不同意", "商家不同意"),
    ],
)
def test_everyday_near_synonyms_fold_to_one_form(
    resources: SearchResources, typed: str, written: str
) -> None:
    segmenter = Segmenter(resources)
    assert segmenter.cut(typed) == segmenter.cut(written)


def test_margin_credit_is_capped_and_never_lowers_a_score() -> None:
    assert with_margin(0.5, 0.4) == pytest.approx(0.5 + MARGIN_CONFIDENCE * 0.1)
    assert with_margin(0.5, None) == pytest.approx(0.5 + MARGIN_CONFIDENCE * MARGIN_CAP)
    assert with_margin(0.5, 0.5) == pytest.approx(0.5)
    assert with_margin(0.99, 0.0) == 1.0


def test_top_hit_that_stands_out_scores_higher_without_reordering(
    engine: SearchEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_lead = engine.search("发票抬头怎么填写")
    monkeypatch.setattr(
        engine_module,
        "with_margin",
        lambda top, second, confidence: top if confidence is None else confidence,
    )
    plain = engine.search("发票抬头怎么填写")
    assert [h.doc_id for h in with_lead] == [h.doc_id for h in plain]
    assert with_lead[0].doc_id == "invoice"
    lead = plain[0].score - plain[1].score
    assert lead > 0
    assert with_lead[0].score == pytest.approx(
        plain[0].score + MARGIN_CONFIDENCE * min(lead, MARGIN_CAP), abs=2e-4
    )
    assert [h.score for h in with_lead[1:]] == [h.score for h in plain[1:]]


def _answered_alike(resources: SearchResources) -> SearchEngine:
    """Two entries whose questions match the query equally; only one answer speaks about it."""
    eng = SearchEngine(resources)
    eng.add_or_update(
        [
            SearchDoc("covers", "faq", "包裹问题", (), "快递丢件请先联系物流核实，核实后给您补发", ()),
            SearchDoc("other", "faq", "包裹问题", (), "发票请在订单详情页申请", ()),
        ]
    )
    return eng


def test_answer_text_decides_between_entries_whose_questions_match_alike(resources: SearchResources) -> None:
    hits = _answered_alike(resources).search("包裹丢件补发")
    assert [h.doc_id for h in hits] == ["covers", "other"]
    assert hits[0].score > hits[1].score


def test_answer_weight_in_the_order_leaves_the_shown_confidence_alone(
    resources: SearchResources, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The no-match threshold is set on the confidence scale: weighing answers more in the order
    must not move the top hit's shown score, while the confidence weight does."""
    shown = _answered_alike(resources).search("包裹丢件补发")[0].score
    monkeypatch.setattr(rank_module, "EXTRA_FIELDS_WEIGHT", 0.6)
    assert _answered_alike(resources).search("包裹丢件补发")[0].score == pytest.approx(shown, abs=1e-4)
    monkeypatch.setattr(rank_module, "CONFIDENCE_EXTRA_WEIGHT", 0.6)
    assert _answered_alike(resources).search("包裹丢件补发")[0].score != pytest.approx(shown, abs=1e-3)

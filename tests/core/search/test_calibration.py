"""Everyday near-synonyms and the top hit's margin confidence."""

from __future__ import annotations

import pytest

from dyy_desk.core.search import SearchEngine, SearchResources
from dyy_desk.core.search import engine as engine_module
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
    monkeypatch.setattr(engine_module, "with_margin", lambda top, second: top)
    plain = engine.search("发票抬头怎么填写")
    assert [h.doc_id for h in with_lead] == [h.doc_id for h in plain]
    assert with_lead[0].doc_id == "invoice"
    lead = plain[0].score - plain[1].score
    assert lead > 0
    assert with_lead[0].score == pytest.approx(
        plain[0].score + MARGIN_CONFIDENCE * min(lead, MARGIN_CAP), abs=2e-4
    )
    assert [h.score for h in with_lead[1:]] == [h.score for h in plain[1:]]

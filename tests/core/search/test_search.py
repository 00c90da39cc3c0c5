from __future__ import annotations

import json

from dyy_desk.core.search import AnalysedDoc, SearchDoc, SearchEngine, SearchResources
from tests.core.search.conftest import LIBRARY, top_ids


def test_plain_query_finds_its_entry_first(engine: SearchEngine) -> None:
    assert top_ids(engine, "发票抬头怎么写")[0] == "invoice"


def test_traditional_query_matches_simplified_entry(engine: SearchEngine) -> None:
    assert top_ids(engine, "運費險怎麼理賠")[0] == "freight-ins"


def test_pinyin_initials_find_the_word(engine: SearchEngine) -> None:
    assert top_ids(engine, "thtk")[0] == "return-refund"
    assert top_ids(engine, "yfx")[0] == "freight-ins"
    assert top_ids(engine, "qtwly")[0] == "seven-day"


def test_full_pinyin_finds_the_word(engine: SearchEngine) -> None:
    assert top_ids(engine, "yunfeixian")[0] == "freight-ins"


def test_homophone_typo_matches_through_pinyin(engine: SearchEngine) -> None:
    assert top_ids(engine, "运废险怎么理陪")[0] == "freight-ins"
    assert top_ids(engine, "开发漂")[0] == "invoice"


def test_shortcut_code_finds_the_script(engine: SearchEngine) -> None:
    hits = engine.search("/thh")
    assert hits[0].doc_id == "script-thh"
    assert hits[0].kind == "script"
    assert hits[0].score >= engine.no_match_threshold
    assert top_ids(engine, "／ＨＹ")[0] == "script-hello"


def test_synonyms_fold_colloquial_words(engine: SearchEngine) -> None:
    assert top_ids(engine, "退钱啥时候能到", client_id="none")[0] == "refund-time"
    assert top_ids(engine, "能发sf吗")[0] == "sf-extra"


def test_client_entry_outranks_generic_and_other_clients_never_appear(engine: SearchEngine) -> None:
    ids = top_ids(engine, "退款多久到账", client_id="nuanju")
    assert ids[0] == "nj-refund-time"
    assert "refund-time" in ids
    assert "qh-refund-time" not in ids
    everyone = top_ids(engine, "退款多久到账")
    assert {"refund-time", "nj-refund-time", "qh-refund-time"} <= set(everyone)


def test_unrelated_query_scores_below_the_threshold(engine: SearchEngine) -> None:
    hits = engine.search("今天天气真好适合去爬山")
    assert not hits or hits[0].score < engine.no_match_threshold
    assert engine.search("运费险怎么理赔")[0].score >= engine.no_match_threshold


def test_scores_are_in_unit_range_and_sorted(engine: SearchEngine) -> None:
    hits = engine.search("退货退款运费谁出", usage={"freight-ins": 1000})
    scores = [h.score for h in hits]
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert scores == sorted(scores, reverse=True)


def test_matched_terms_are_words_of_the_entry(engine: SearchEngine) -> None:
    hit = engine.search("退宽多久到账")[0]
    assert hit.doc_id == "refund-time"
    assert "退款" in "".join(hit.matched_terms)


def test_incremental_update_and_remove(resources: SearchResources) -> None:
    eng = SearchEngine(resources)
    eng.add_or_update(LIBRARY[:3])
    assert len(eng) == 3
    eng.add_or_update([SearchDoc("freight-ins", "faq", "以旧换新怎么参加", (), "", ())])
    assert len(eng) == 3
    assert top_ids(eng, "以旧换新")[0] == "freight-ins"
    assert "freight-ins" not in top_ids(eng, "运费险理赔")
    assert eng.remove(["freight-ins", "missing"]) == 1
    assert "freight-ins" not in top_ids(eng, "以旧换新")
    assert len(eng) == 2


def test_analysed_docs_round_trip_through_json(engine: SearchEngine, resources: SearchResources) -> None:
    cached = [AnalysedDoc.from_json(json.loads(json.dumps(engine.analyse(d).to_json()))) for d in LIBRARY]
    eng = SearchEngine(resources)
    assert eng.add_analysed(cached) == []
    assert top_ids(eng, "thtk")[0] == "return-refund"
    stale = AnalysedDoc.from_json({**cached[0].to_json(), "version": "old"})
    assert eng.add_analysed([stale]) == [cached[0].doc.doc_id]


def test_usage_boost_is_mild(engine: SearchEngine) -> None:
    assert top_ids(engine, "发票抬头怎么写", usage={"address": 10_000})[0] == "invoice"

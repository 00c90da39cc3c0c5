"""The meaning-level part of the ranking, with a fake encoder whose "meanings" the test sets: vectors
re-rank lexical candidates only once every entry has them, never add candidates (so other clients'
entries stay out), and survive a restart through `to_bytes` / `from_bytes`."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from numpy.typing import NDArray

from dyy_desk.core.search import SearchDoc, SearchEngine, SearchResources
from dyy_desk.core.search.semantic import SemanticIndex, phrasings

DOCS = (
    SearchDoc("ship", "faq", "快递什么时候发货", ("几天能发出",), "48 小时内发货。"),
    SearchDoc("lost", "faq", "快递丢件怎么赔偿", (), "核实后补发或退款。"),
    SearchDoc("own", "faq", "快递丢件了找谁", (), "联系专属客服。", client_id="brand-b"),
)


class MeaningEncoder:
    """One-hot "meanings": texts listed in `meaning` get that dimension, all others the last one."""

    model_id = "fake-meaning-1"

    def __init__(self, meaning: dict[str, int]) -> None:
        self.meaning = meaning
        self.calls: list[list[str]] = []

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        self.calls.append(list(texts))
        out = np.zeros((len(texts), 8), dtype=np.float32)
        for row, text in enumerate(texts):
            out[row, self.meaning.get(text, 7)] = 1.0
        return out


def _engine(resources: SearchResources, encoder: MeaningEncoder) -> SearchEngine:
    engine = SearchEngine(resources, encoder=encoder)
    engine.add_or_update(DOCS)
    return engine


def test_meaning_reorders_lexical_candidates_once_every_entry_has_vectors(
    resources: SearchResources,
) -> None:
    to_ship = MeaningEncoder({"快递呢": 0, "快递什么时候发货": 0, "几天能发出": 0, "快递丢件怎么赔偿": 1})
    to_lost = MeaningEncoder({"快递呢": 1, "快递什么时候发货": 0, "几天能发出": 0, "快递丢件怎么赔偿": 1})
    ranked = {}
    for name, encoder in (("ship", to_ship), ("lost", to_lost)):
        engine = _engine(resources, encoder)
        assert not engine.semantic_ready  # nothing encoded yet: lexical only, no query vector
        before = [h.doc_id for h in engine.search("快递呢")]
        assert not any("快递呢" in call for call in encoder.calls)
        assert engine.embed_pending() == 4  # distinct phrasings
        assert engine.semantic_ready
        ranked[name] = [h.doc_id for h in engine.search("快递呢")]
        assert set(before) == set(ranked[name])
    assert ranked["ship"][0] == "ship"
    assert ranked["lost"][0] == "lost"


def test_meaning_never_brings_in_other_clients_entries(resources: SearchResources) -> None:
    encoder = MeaningEncoder({"快递呢": 1, "快递丢件怎么赔偿": 1, "快递丢件了找谁": 1})
    engine = _engine(resources, encoder)
    engine.embed_pending()
    assert "own" not in [h.doc_id for h in engine.search("快递呢", client_id="brand-a")]
    assert engine.search("快递丢件", client_id="brand-b")[0].doc_id == "own"


def test_an_entry_added_later_is_lexical_until_encoded(resources: SearchResources) -> None:
    encoder = MeaningEncoder({})
    engine = _engine(resources, encoder)
    engine.embed_pending()
    engine.add_or_update([SearchDoc("new", "faq", "发票怎么开", (), "确认收货后申请。")])
    assert not engine.semantic_ready
    assert engine.embed_pending(at_most=0) == 0  # too many for the caller's budget: left pending
    assert not engine.semantic_ready
    assert engine.embed_pending() == 1
    assert engine.semantic_ready
    engine.remove(["new"])
    assert engine.semantic_ready


def test_vectors_survive_a_restart_and_a_foreign_model_is_refused(resources: SearchResources) -> None:
    encoder = MeaningEncoder({"快递什么时候发货": 2})
    first = _engine(resources, encoder)
    first.embed_pending()
    saved = first.vectors_snapshot()
    assert saved is not None

    second_encoder = MeaningEncoder({"快递什么时候发货": 2})
    second = _engine(resources, second_encoder)
    assert second.restore_vectors(saved)
    assert second.embed_pending() == 0  # every phrasing came from disk
    assert len(second_encoder.calls) == 1  # the encoder was only warmed up
    assert second.semantic_ready

    other = MeaningEncoder({})
    other.model_id = "another-model"
    third = _engine(resources, other)
    assert not third.restore_vectors(saved)
    assert not third.restore_vectors(b"damaged")
    assert third.embed_pending() == 4


def test_semantic_index_keeps_vectors_by_text() -> None:
    index = SemanticIndex()
    twin = SearchDoc("b", "faq", "快递什么时候发货", ("  快递什么时候发货 ",))
    index.set_docs([DOCS[0], twin])
    assert phrasings(twin) == ("快递什么时候发货",)
    assert index.pending() == ["几天能发出", "快递什么时候发货"]
    index.put(["快递什么时候发货"], np.eye(1, 4, dtype=np.float32))
    assert index.similarities(np.eye(1, 4, dtype=np.float32)[0], ["b"]) == pytest.approx([1.0])
    assert index.similarities(np.eye(1, 4, dtype=np.float32)[0], ["ship"]) is None  # one phrasing missing
    index.remove(["ship"])
    assert index.complete or index.pending() == []


def test_codes_pinyin_and_single_characters_are_not_encoded(resources: SearchResources) -> None:
    encoder = MeaningEncoder({})
    engine = _engine(resources, encoder)
    engine.embed_pending()
    encoder.calls.clear()
    for query in ("thtk", "/thh", "快", "kd 快"):
        engine.search(query)
    assert encoder.calls == []
    engine.search("快递 kd")
    assert encoder.calls == [["快递 kd"]]

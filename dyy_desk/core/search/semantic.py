"""Meaning-level similarity for re-ranking: sentence vectors of each entry's phrasings.

Why: terms, characters and pinyin cannot tell that "钱什么时候能回来" asks what "退款多久到账" answers;
a multilingual sentence encoder can. Vectors are an enrichment, not a gate: an entry is found lexically
as soon as it is indexed, and the semantic part joins the ranking once every entry has its vectors.
They are computed in the background, keyed by text (a phrasing shared by many entries is encoded once)
and kept on disk by the caller through `to_bytes` / `from_bytes`.
"""

from __future__ import annotations

import marshal
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Protocol

from dyy_desk.core.search.model import SearchDoc

if TYPE_CHECKING:  # numpy loads with the first vector, not with the app (cold start)
    import numpy as np
    from numpy.typing import NDArray

SEMANTIC_WEIGHT = 0.4  # cosine similarity's weight beside the lexical ranking value (5-fold CV, see docs)
_FORMAT = 1
_CJK_CHAR = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


class PhraseEncoder(Protocol):
    """Turns texts into L2-normalised vectors, one row per text."""

    model_id: str

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]: ...


def sentence_text(text: str) -> str:
    """Text as the encoder reads it: whitespace collapsed, nothing else (it was trained on raw text,
    punctuation and traditional characters included)."""
    return " ".join(text.split())


def has_meaning(query: str) -> bool:
    """Whether a query is worth a sentence vector: two Chinese characters or more. Shortcut codes,
    pinyin ("thtk") and a first keystroke carry no sentence meaning; the lexical ranking handles
    them, and skipping the encoder keeps those keystrokes fast."""
    return len(_CJK_CHAR.findall(query)) >= 2


def phrasings(doc: SearchDoc) -> tuple[str, ...]:
    """The texts whose meaning an entry answers: its question or title and its similar questions."""
    return tuple(dict.fromkeys(p for p in map(sentence_text, (doc.title, *doc.alternates)) if p))


class SemanticIndex:
    """doc_id → phrasings, and phrasing → vector (float16: half the memory, same ranking)."""

    def __init__(self) -> None:
        self._docs: dict[str, tuple[str, ...]] = {}
        self._vectors: dict[str, NDArray[np.float16]] = {}
        self._missing: set[str] = set()  # phrasings of indexed entries that have no vector yet

    def __len__(self) -> int:
        return len(self._docs)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._docs

    @property
    def complete(self) -> bool:
        """True when every phrasing of every entry has its vector."""
        return not self._missing

    def set_docs(self, docs: Iterable[SearchDoc]) -> None:
        for doc in docs:
            texts = phrasings(doc)
            self._docs[doc.doc_id] = texts
            self._missing.update(t for t in texts if t not in self._vectors)

    def remove(self, doc_ids: Iterable[str]) -> None:
        for doc_id in doc_ids:
            self._docs.pop(doc_id, None)

    def clear_docs(self) -> None:
        """Forget the entries but keep the vectors: a restored index re-adds what is still there."""
        self._docs = {}
        self._missing = set()

    def pending(self) -> list[str]:
        """Phrasings still to encode (of entries still indexed), in a stable order."""
        if self._missing:
            used = {t for texts in self._docs.values() for t in texts}
            self._missing &= used
        return sorted(self._missing)

    def put(self, texts: Sequence[str], vectors: NDArray[np.float32]) -> None:
        import numpy as np

        for text, vector in zip(texts, vectors.astype(np.float16), strict=True):
            self._vectors[text] = vector
            self._missing.discard(text)

    def similarities(self, query: NDArray[np.float32], doc_ids: Sequence[str]) -> list[float] | None:
        """Per entry, the best cosine similarity of the query to one of its phrasings; None while any
        of these entries is unknown or lacks a vector (then the ranking stays lexical for all)."""
        import numpy as np

        rows: list[NDArray[np.float16]] = []
        starts: list[int] = []  # each entry's first row
        vectors = self._vectors
        for doc_id in doc_ids:
            texts = self._docs.get(doc_id)
            if texts is None:
                return None
            starts.append(len(rows))
            if not texts:  # nothing to compare (a blank title): neutral
                rows.append(np.zeros_like(query, dtype=np.float16))
            for text in texts:
                vector = vectors.get(text)
                if vector is None:
                    return None
                rows.append(vector)
        if not rows:
            return []
        sims = np.array(rows, dtype=np.float32) @ query
        return [float(x) for x in np.maximum.reduceat(sims, starts)]

    def to_bytes(self, model_id: str) -> bytes:
        """Entries and the vectors they use, for `from_bytes` after a restart."""
        import numpy as np

        texts = sorted({t for ts in self._docs.values() for t in ts if t in self._vectors})
        matrix = np.stack([self._vectors[t] for t in texts]) if texts else np.zeros((0, 0), np.float16)
        return marshal.dumps(
            (_FORMAT, model_id, self._docs, texts, matrix.shape[-1] if texts else 0, matrix.tobytes())
        )

    def from_bytes(self, data: bytes, model_id: str, keep: Iterable[str]) -> bool:
        """Install saved vectors, and the phrasings of the saved entries among `keep` (the indexed
        entries unchanged since). False, installing nothing, when the data is damaged or was made with
        another model."""
        import numpy as np

        try:
            fmt, saved_model, docs, texts, dim, raw = marshal.loads(data)
            if fmt != _FORMAT or saved_model != model_id:
                return False
            matrix = np.frombuffer(raw, dtype=np.float16).reshape(len(texts), dim) if texts else None
        except (EOFError, ValueError, TypeError):
            return False
        if matrix is not None:
            for text, vector in zip(texts, matrix, strict=True):
                self._vectors[text] = vector
            self._missing.difference_update(texts)
        for doc_id in keep:
            saved = docs.get(doc_id)
            if saved is not None and doc_id not in self._docs:
                self._docs[doc_id] = tuple(saved)
                self._missing.update(t for t in saved if t not in self._vectors)
        return True

    def forget_unused(self) -> None:
        """Drop vectors no entry uses any more (after big deletions)."""
        used = {t for ts in self._docs.values() for t in ts}
        self._vectors = {t: v for t, v in self._vectors.items() if t in used}

"""jieba segmentation with the shop-domain dictionary and synonym folding.

Threading contract: `Segmenter` builds its private `jieba.Tokenizer` lazily under a lock, so the first
`cut()` from any thread pays jieba's ~1 s start-up once; the app calls `warm_up()` from a worker thread
at start so the first keystroke does not. After initialisation `cut()` only reads shared state and is
safe to call from several threads. The global `jieba.dt` is never touched, so other code using jieba
keeps its own dictionary.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from dyy_desk.core.search.normalise import is_cjk_text, normalise
from dyy_desk.core.search.resources import SearchResources

# Frequency given to synonym variants and canonical terms missing from the user dictionary: high
# enough that jieba keeps them whole ("退钱" must not become "退" + "钱" or the mapping never fires).
_SYNONYM_FREQ = 30000
_CHUNK_CACHE = 200_000


class Segmenter:
    """Normalise → jieba (precise mode, no HMM) → fold synonyms → drop stopwords.

    The same instance is used at index and query time, which is what makes terms comparable.
    """

    def __init__(self, resources: SearchResources, *, cache_dir: str | None = None) -> None:
        self._resources = resources
        self._cache_dir = cache_dir
        self._lock = threading.Lock()
        self._tokenizer: Any = None
        self._chunks: dict[str, tuple[str, ...]] = {}

    @property
    def fingerprint(self) -> str:
        return self._resources.fingerprint

    def warm_up(self) -> None:
        """Load jieba's dictionary and ours now (≈1 s); call it from a worker thread at start."""
        self._ensure()

    def _ensure(self) -> Any:
        tokenizer = self._tokenizer
        if tokenizer is not None:
            return tokenizer
        with self._lock:
            if self._tokenizer is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                tok = jieba.Tokenizer()
                if self._cache_dir:
                    tok.tmp_dir = self._cache_dir
                tok.initialize()
                for entry in self._resources.words:
                    tok.add_word(entry.word, entry.freq, entry.tag)
                known = {entry.word for entry in self._resources.words}
                for variant, canonical in self._resources.synonyms.items():
                    for word in (variant, canonical):
                        if word not in known and " " not in word:
                            tok.add_word(word, _SYNONYM_FREQ)
                            known.add(word)
                self._tokenizer = tok
            return self._tokenizer

    def cut(self, text: str) -> list[str]:
        """Canonical content tokens of `text`, in order (stopwords removed, synonyms folded)."""
        norm = normalise(text)
        if not norm:
            return []
        tok = self._ensure()
        synonyms = self._resources.synonyms
        stopwords = self._resources.stopwords
        raw: list[str] = []
        chunks = self._chunks
        for chunk in norm.split(" "):
            # jieba splits at spaces anyway, so cutting chunk by chunk gives the same tokens; chunks
            # (clauses between punctuation) repeat across a library far more than whole sentences.
            found = chunks.get(chunk)
            if found is None:
                if len(chunks) >= _CHUNK_CACHE:
                    chunks.clear()
                found = chunks[chunk] = tuple(t for t in tok.cut(chunk, HMM=False) if not t.isspace())
            raw.extend(found)
        out: list[str] = []
        i = 0
        n = len(raw)
        while i < n:
            token = raw[i]
            # Multi-word variants containing a space ("free shipping", "trade in") come out of jieba
            # as separate Latin tokens; join a pair when the pair is a known variant.
            if i + 1 < n and not is_cjk_text(token):
                pair = f"{token} {raw[i + 1]}"
                if pair in synonyms:
                    out.append(synonyms[pair])
                    i += 2
                    continue
            canonical = synonyms.get(token, token)
            if canonical not in stopwords and token not in stopwords:
                out.append(canonical)
            i += 1
        return out

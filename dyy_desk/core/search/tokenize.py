"""jieba segmentation with the shop-domain dictionary and synonym folding.

Threading contract: `Segmenter` builds its private `jieba.Tokenizer` lazily under a lock, so the first
`cut()` from any thread pays jieba's ~1 s start-up once; the app calls `warm_up()` from a worker thread
at start so the first keystroke does not. After initialisation `cut()` only reads shared state and is
safe to call from several threads. The global `jieba.dt` is never touched, so other code using jieba
keeps its own dictionary.

Two things keep jieba off the path to the first answer:
- its dictionary (≈580k prefixes) is cached in `cache_dir` in chunks, so loading it in a background
  thread hands the GIL back every few milliseconds instead of holding it for a second;
- a *library vocabulary* (`vocabulary()` / `install_vocabulary()`): jieba's frequencies of the words the
  library contains (plus the resource words), saved with the index snapshot. Until jieba is loaded,
  `cut_query()` runs jieba's own algorithm (prefix DAG, most probable route, no HMM) over that small
  dictionary. A query word outside it is a word no entry contains, whose term would be dropped anyway,
  so the query's index terms match jieba's nearly always.
"""

from __future__ import annotations

import heapq
import logging
import marshal
import math
import re
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from dyy_desk.core.search.normalise import is_cjk_text, normalise
from dyy_desk.core.search.resources import SearchResources

# Frequency given to synonym variants and canonical terms missing from the user dictionary: high
# enough that jieba keeps them whole ("退钱" must not become "退" + "钱" or the mapping never fires).
_SYNONYM_FREQ = 30000
_CHUNK_CACHE = 200_000
_COMMON_WORDS = 60_000  # jieba's most frequent words kept in a library vocabulary
_DICT_CHUNK = 20_000  # dictionary entries per marshal chunk: ≈20 ms of holding the GIL
_DICT_CACHE_FORMAT = 1
# jieba's own block split and Latin run (jieba.re_han_default / re_skip_default / re_eng).
_RE_HAN = re.compile("([\u4e00-\u9fd5a-zA-Z0-9+#&\\._%\\-]+)")
_RE_SKIP = re.compile("(\r\n|\\s)")
_RE_ENG = re.compile("[a-zA-Z0-9]")


def _dag_cut(block: str, freq: dict[str, int], logtotal: float) -> Iterator[str]:
    """jieba's `__cut_DAG_NO_HMM` over `freq` (a word → frequency map that holds every prefix)."""
    n = len(block)
    dag: list[list[int]] = []
    for k in range(n):
        ends: list[int] = []
        i = k
        frag = block[k]
        while i < n and frag in freq:
            if freq[frag]:
                ends.append(i)
            i += 1
            frag = block[k : i + 1]
        dag.append(ends or [k])
    route: list[tuple[float, int]] = [(0.0, 0)] * (n + 1)
    log = math.log
    for idx in range(n - 1, -1, -1):
        route[idx] = max(
            (log(freq.get(block[idx : x + 1]) or 1) - logtotal + route[x + 1][0], x) for x in dag[idx]
        )
    x = 0
    buf = ""
    while x < n:
        y = route[x][1] + 1
        word = block[x:y]
        if len(word) == 1 and _RE_ENG.match(word):
            buf += word
        else:
            if buf:
                yield buf
                buf = ""
            yield word
        x = y
    if buf:
        yield buf


def _light_cut(sentence: str, freq: dict[str, int], logtotal: float) -> Iterator[str]:
    """jieba's `Tokenizer.cut(sentence, HMM=False)` with a small dictionary."""
    for blk in _RE_HAN.split(sentence):
        if not blk:
            continue
        if _RE_HAN.match(blk):
            yield from _dag_cut(blk, freq, logtotal)
        else:
            for x in _RE_SKIP.split(blk):
                if _RE_SKIP.match(x):
                    yield x
                else:
                    yield from x


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
        self._light: tuple[dict[str, int], float] | None = None
        self._light_chunks: dict[str, tuple[str, ...]] = {}

    @property
    def fingerprint(self) -> str:
        return self._resources.fingerprint

    @property
    def ready(self) -> bool:
        """True once jieba itself is loaded (before that only `cut_query` with a vocabulary is quick)."""
        return self._tokenizer is not None

    @property
    def has_vocabulary(self) -> bool:
        return self._light is not None

    def warm_up(self) -> None:
        """Load jieba's dictionary and ours now (≈1 s); call it from a worker thread at start."""
        self._ensure()

    def resource_words(self) -> set[str]:
        """Words the resources name: dictionary words, synonym variants and canonicals, stopwords."""
        res = self._resources
        words = {entry.word for entry in res.words} | set(res.synonyms) | set(res.synonyms.values())
        return {w for w in words | set(res.stopwords) if " " not in w}

    def vocabulary(self, words: Iterable[str]) -> tuple[dict[str, int], int]:
        """jieba's frequencies (and total) of `words` and the resource words, with every prefix, for
        `install_vocabulary`. Loads jieba."""
        tok = self._ensure()
        full: dict[str, int] = tok.FREQ
        freq: dict[str, int] = {}
        # The everyday words too: a query word the library lacks must still come out whole, or its
        # characters would count as unrelated neighbours instead of one word.
        common = heapq.nlargest(_COMMON_WORDS, ((f, w) for w, f in full.items() if f and len(w) > 1))
        for word in set(words) | self.resource_words() | {w for _, w in common}:
            if word in full:
                for i in range(1, len(word) + 1):
                    prefix = word[:i]
                    if prefix not in freq:
                        freq[prefix] = full.get(prefix, 0)
        return freq, int(tok.total)

    def install_vocabulary(self, freq: dict[str, int], total: int) -> None:
        """Let `cut_query` answer before jieba is loaded (see the module docstring)."""
        self._light_chunks = {}
        self._light = (dict(freq), math.log(max(total, 1)))

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
                    _load_dictionary(tok, Path(self._cache_dir), str(jieba.__version__))
                else:
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

    def cut_query(self, text: str) -> list[str]:
        """`cut` for a query: with an installed vocabulary it does not wait for jieba to load."""
        light = self._light
        if self._tokenizer is not None or light is None:
            return self.cut(text)
        freq, logtotal = light
        raw: list[str] = []
        chunks = self._light_chunks
        for chunk in normalise(text).split(" "):
            if not chunk:
                continue
            found = chunks.get(chunk)
            if found is None:
                if len(chunks) >= _CHUNK_CACHE:
                    chunks.clear()
                found = chunks[chunk] = tuple(t for t in _light_cut(chunk, freq, logtotal) if not t.isspace())
            raw.extend(found)
        return self._fold(raw)

    def cut(self, text: str) -> list[str]:
        """Canonical content tokens of `text`, in order (stopwords removed, synonyms folded)."""
        norm = normalise(text)
        if not norm:
            return []
        tok = self._ensure()
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
        return self._fold(raw)

    def _fold(self, raw: list[str]) -> list[str]:
        synonyms = self._resources.synonyms
        stopwords = self._resources.stopwords
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


def _load_dictionary(tok: Any, cache_dir: Path, version: str) -> None:
    """Fill `tok` with jieba's main dictionary from a chunked cache in `cache_dir`, written on first
    use. Loading chunk by chunk lets other threads run in between (one marshal.load of the whole
    dictionary holds the GIL for about a second). Any problem falls back to jieba's own loader."""
    path = cache_dir / "jieba_dict.chunks"
    stamp = (_DICT_CACHE_FORMAT, version, marshal.version)
    try:
        with path.open("rb") as handle:
            head = marshal.load(handle)
            if tuple(head[0]) != stamp:
                raise ValueError("stale dictionary cache")
            total, count = head[1], head[2]
            freq: dict[str, int] = {}
            for _ in range(count):
                freq.update(marshal.load(handle))
        tok.FREQ, tok.total, tok.initialized = freq, total, True
        return
    except (OSError, EOFError, ValueError, TypeError, IndexError):
        pass
    tok.initialize()
    items = list(tok.FREQ.items())
    parts = [dict(items[i : i + _DICT_CHUNK]) for i in range(0, len(items), _DICT_CHUNK)]
    tmp = path.with_suffix(".tmp")
    try:
        with tmp.open("wb") as handle:
            marshal.dump((stamp, tok.total, len(parts)), handle)
            for part in parts:
                marshal.dump(part, handle)
        tmp.replace(path)
    except OSError:
        logging.getLogger(__name__).warning("could not write the jieba dictionary cache %s", path)

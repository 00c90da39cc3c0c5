"""The data that crosses the search boundary: library entries in, ranked hits out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

DocKind = Literal["faq", "script"]


@dataclass(frozen=True)
class SearchDoc:
    """One library entry as the search engine sees it.

    `client_id` None means a generic entry shown for every client; `shortcut` is the quick code of a
    script (`/thh`); `alternates` are the similar questions (相似问法) of an FAQ entry.
    """

    doc_id: str
    kind: DocKind
    title: str
    alternates: tuple[str, ...] = ()
    body: str = ""
    tags: tuple[str, ...] = ()
    client_id: str | None = None
    shortcut: str | None = None
    platforms: tuple[str, ...] = ()


@dataclass(frozen=True)
class SearchHit:
    """A ranked result. `score` is calibrated to [0, 1]: below `SearchEngine.no_match_threshold` the UI
    says no entry answers the query. `matched_terms` are words to highlight in the entry's text."""

    doc_id: str
    kind: DocKind
    score: float
    matched_terms: tuple[str, ...]

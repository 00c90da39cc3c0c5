"""Library search: FAQ entries and reply scripts found the way agents and buyers actually type.

Pure Python (jieba, pypinyin, opencc, rapidfuzz); resources come in as text from the caller.
"""

from __future__ import annotations

from dyy_desk.core.search.analyse import ANALYSIS_VERSION, AnalysedDoc, AnalysedText
from dyy_desk.core.search.engine import SearchEngine
from dyy_desk.core.search.model import DocKind, SearchDoc, SearchHit
from dyy_desk.core.search.normalise import normalise
from dyy_desk.core.search.rank import NO_MATCH_THRESHOLD
from dyy_desk.core.search.resources import SearchResourceError, SearchResources, load_search_resources

__all__ = [
    "ANALYSIS_VERSION",
    "NO_MATCH_THRESHOLD",
    "AnalysedDoc",
    "AnalysedText",
    "DocKind",
    "SearchDoc",
    "SearchEngine",
    "SearchHit",
    "SearchResourceError",
    "SearchResources",
    "load_search_resources",
    "normalise",
]

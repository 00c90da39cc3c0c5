"""Library (知识库 / 话术) tables: FAQ entries, reply scripts, the search-analysis cache, usage counts.

`external_id` is the id teams keep in their spreadsheets: re-importing a row with the same id updates
that entry. Lists (similar questions, tags, platforms) are JSON text: they are read back whole and
searched through the in-memory index, never queried by element. The analysis cache and usage counts are
local to this machine (not synced): both can be rebuilt, the cache from the entries, usage from scratch.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from dyy_desk.db.models import SyncColumns
from dyy_desk.db.types import UTCDateTime


class LibraryFaq(SyncColumns, table=True):
    __tablename__ = "library_faq"

    id: str = Field(primary_key=True, max_length=36)
    external_id: str = Field(max_length=64, unique=True)
    client_id: str | None = Field(default=None, foreign_key="client.id", index=True, max_length=36)
    question: str = Field(max_length=500)
    similar_questions: str = Field(default="[]")  # JSON list of strings
    answer: str
    tags: str = Field(default="[]")  # JSON list
    platforms: str = Field(default="[]")  # JSON list of Platform values; empty = every platform
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    updated_by: str | None = Field(default=None, foreign_key="user.id", max_length=36)


class LibraryScript(SyncColumns, table=True):
    __tablename__ = "library_script"

    id: str = Field(primary_key=True, max_length=36)
    external_id: str = Field(max_length=64, unique=True)
    client_id: str | None = Field(default=None, foreign_key="client.id", index=True, max_length=36)
    title: str = Field(max_length=200)
    body: str
    group_name: str = Field(default="", max_length=32)
    shortcut: str | None = Field(default=None, max_length=32, index=True)
    platforms: str = Field(default="[]")
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    updated_by: str | None = Field(default=None, foreign_key="user.id", max_length=36)


class LibrarySearchCache(SQLModel, table=True):
    """One analysed entry (AnalysedDoc.to_json) per live library row, keyed by the row id."""

    __tablename__ = "library_search_cache"

    doc_id: str = Field(primary_key=True, max_length=36)
    analysis_version: str = Field(max_length=64)
    data: str


class LibraryUsage(SQLModel, table=True):
    """How often each user copied each entry: feeds the usage boost of that user's searches."""

    __tablename__ = "library_usage"

    user_id: str = Field(primary_key=True, foreign_key="user.id", max_length=36)
    doc_id: str = Field(primary_key=True, max_length=36)
    count: int = Field(default=0)
    last_used_at: datetime = Field(sa_type=UTCDateTime)

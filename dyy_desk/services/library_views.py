"""What the library service hands the UI and the command line: frozen rows, hits, import previews."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from dyy_desk.core.library_rows import LibraryKind, LibraryRow, RowIssue
from dyy_desk.core.search import DocKind

Progress = Callable[[int, int, str], None]  # (done, total, label); called from the worker thread
Cancelled = Callable[[], bool]  # polled between batches; True makes the operation roll back


@dataclass(frozen=True)
class FaqEntry:
    id: str
    external_id: str
    question: str
    answer: str
    similar_questions: tuple[str, ...]
    tags: tuple[str, ...]
    client_id: str | None
    client_name: str | None
    platforms: tuple[str, ...]
    updated_at: datetime
    updated_by: str | None  # the user's name


@dataclass(frozen=True)
class ScriptEntry:
    id: str
    external_id: str
    title: str
    body: str
    group: str
    shortcut: str | None
    client_id: str | None
    client_name: str | None
    platforms: tuple[str, ...]
    updated_at: datetime
    updated_by: str | None


@dataclass(frozen=True)
class FaqDraft:
    """A new or edited FAQ entry; `external_id` None on create means "make one up"."""

    question: str
    answer: str
    similar_questions: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    client_id: str | None = None
    platforms: tuple[str, ...] = ()
    external_id: str | None = None


@dataclass(frozen=True)
class ScriptDraft:
    title: str
    body: str
    group: str = ""
    shortcut: str | None = None
    client_id: str | None = None
    platforms: tuple[str, ...] = ()
    external_id: str | None = None


@dataclass(frozen=True)
class LibraryHit:
    """One search result. `text` is the FAQ answer or the script body; `weak` is True when the score is
    below the engine's no-match threshold (the UI says "没有找到合适的条目" above such hits)."""

    doc_id: str
    external_id: str
    kind: DocKind
    title: str
    text: str
    snippet: str
    client_id: str | None
    client_name: str | None
    shortcut: str | None
    group: str
    score: float
    matched_terms: tuple[str, ...]
    weak: bool


@dataclass(frozen=True)
class CopiedText:
    doc_id: str
    text: str
    filled: tuple[str, ...]
    unfilled: tuple[str, ...]  # placeholders the agent still has to fill in by hand


class RowStatus(StrEnum):
    NEW = "new"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class PlannedRow:
    line: int
    external_id: str
    title: str
    status: RowStatus


@dataclass(frozen=True)
class ImportPreview:
    """What applying the file would do. `rows` are the parsed rows `apply_import` writes."""

    source: str
    kind: LibraryKind
    rows: tuple[LibraryRow, ...]
    planned: tuple[PlannedRow, ...]
    issues: tuple[RowIssue, ...]
    clients_to_create: tuple[str, ...]
    notes: tuple[str, ...] = ()
    counts: dict[RowStatus, int] = field(default_factory=dict, compare=False)

    @property
    def ok(self) -> bool:
        return not self.issues

    def summary(self) -> str:
        label = "知识库" if self.kind is LibraryKind.FAQ else "话术"
        parts = [
            f"{self.source}（{label}）：新增 {self.counts.get(RowStatus.NEW, 0)} 条，"
            f"更新 {self.counts.get(RowStatus.UPDATED, 0)} 条，"
            f"未变 {self.counts.get(RowStatus.UNCHANGED, 0)} 条，错误 {len(self.issues)} 处"
        ]
        if self.clients_to_create:
            parts.append(f"将新建客户：{'、'.join(self.clients_to_create)}")
        parts.extend(self.notes)
        return "\n".join(parts)


@dataclass(frozen=True)
class ImportResult:
    kind: LibraryKind
    created: int
    updated: int
    unchanged: int
    clients_created: tuple[str, ...]


@dataclass(frozen=True)
class LoadStats:
    entries: int
    from_cache: int
    analysed: int
    seconds: float

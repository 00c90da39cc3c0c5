"""What an import found or did, as frozen data for the UI and as text for the command line."""

from __future__ import annotations

from dataclasses import dataclass

from dyy_desk.core.changes import Changes
from dyy_desk.core.sync.merge import Conflict
from dyy_desk.core.sync.records import canonical_json
from dyy_desk.services.sync_registry import spec_for

MAX_LISTED_CONFLICTS = 200


@dataclass(frozen=True)
class TableReport:
    table: str
    label: str
    new: int = 0
    changed: int = 0
    conflicting: int = 0
    unchanged: int = 0


@dataclass(frozen=True)
class ImportReport:
    applied: bool
    origin: str
    origin_name: str
    sequence: int
    scope: str
    masked: bool
    tables: tuple[TableReport, ...]
    conflicts: tuple[Conflict, ...]  # the first MAX_LISTED_CONFLICTS
    conflict_count: int
    gaps: tuple[str, ...]
    warnings: tuple[str, ...]
    changes: Changes

    @property
    def is_noop(self) -> bool:
        return all(t.new == t.changed == t.conflicting == 0 for t in self.tables)


def _label(table: str) -> str:
    spec = spec_for(table)
    return spec.label if spec and spec.label else table


def _short(value: object) -> str:
    text = value if isinstance(value, str) else canonical_json(value)
    return text if len(text) <= 40 else text[:39] + "…"


def describe(report: ImportReport, *, names: dict[str, str] | None = None) -> list[str]:
    """Plain Chinese lines: origin, per table counts, conflicts, gaps, warnings."""
    who = names or {}
    number = f"第 {report.sequence} 号数据包" if report.sequence else "数据包"
    lines = [f"来自 {report.origin_name} 的电脑的{number}（范围 {report.scope}）"]
    if report.masked:
        lines.append("此数据包中的买家手机号、地址已打码，不会覆盖本机的真实信息。")
    for t in report.tables:
        lines.append(f"  {t.label}：新增 {t.new}，修改 {t.changed}，冲突 {t.conflicting}，未变 {t.unchanged}")
    if report.conflict_count:
        lines.append(f"冲突 {report.conflict_count} 处（两台电脑同时修改了同一字段，已按最后修改保留）：")
        for c in report.conflicts:
            kept = who.get(c.kept_origin, c.kept_origin[:6])
            lost = who.get(c.discarded_origin, c.discarded_origin[:6])
            lines.append(
                f"  {_label(c.table)} {c.record_id[:8]} 字段 {c.field}：保留“{_short(c.kept)}”（{kept}），"
                f"舍弃“{_short(c.discarded)}”（{lost}）"
            )
    lines.extend(f"提示：{g}" for g in report.gaps)
    lines.extend(f"警告：{w}" for w in report.warnings)
    if report.applied:
        lines.append("没有需要导入的改动。" if report.is_noop else "已导入。")
    else:
        lines.append("以上为预览，尚未导入。")
    return lines

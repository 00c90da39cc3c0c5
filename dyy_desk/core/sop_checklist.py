"""A checklist run on one ticket: immutable state, transitions that return a new state, and timers.

The run keeps the template id and version it started from, so editing a template never changes a case
in progress. Deadlines are derived, not stored: each step's effective deadline is the platform-shown one,
else one entered by hand, else the template rule counted from its anchor event (if that has happened).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from dyy_desk.core.deadlines import as_utc
from dyy_desk.core.sop_template import ANCHOR_LABELS, AnchorEvent, SopTemplate


class StepStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    SKIPPED = "skipped"


STEP_STATUS_LABELS = {StepStatus.OPEN: "待处理", StepStatus.DONE: "已完成", StepStatus.SKIPPED: "已跳过"}


class DeadlineSource(StrEnum):
    PLATFORM = "platform"
    MANUAL = "manual"
    RULE = "rule"


DEADLINE_SOURCE_LABELS = {
    DeadlineSource.PLATFORM: "平台显示",
    DeadlineSource.MANUAL: "手动录入",
    DeadlineSource.RULE: "规则默认",
}


class ChecklistError(ValueError):
    """An action the checklist refuses; the message is shown to the agent as is."""


@dataclass(frozen=True)
class AnchorRecord:
    event: AnchorEvent
    at: datetime
    by: str


@dataclass(frozen=True)
class StepNote:
    text: str
    by: str
    at: datetime


@dataclass(frozen=True)
class ProofRef:
    """A screenshot file, tracking number or platform case link that backs a step."""

    ref: str
    label: str
    by: str
    at: datetime


@dataclass(frozen=True)
class EnteredDeadline:
    at: datetime
    by: str
    entered_at: datetime


@dataclass(frozen=True)
class StepRecord:
    step_id: str
    status: StepStatus = StepStatus.OPEN
    closed_by: str | None = None
    closed_at: datetime | None = None
    skip_reason: str = ""
    notes: tuple[StepNote, ...] = ()
    proofs: tuple[ProofRef, ...] = ()
    platform_deadline: EnteredDeadline | None = None
    manual_deadline: EnteredDeadline | None = None


@dataclass(frozen=True)
class Checklist:
    template_id: str
    template_version: int
    started_at: datetime
    started_by: str
    steps: tuple[StepRecord, ...]
    anchors: tuple[AnchorRecord, ...] = ()

    def anchor_time(self, event: AnchorEvent) -> datetime | None:
        return next((a.at for a in self.anchors if a.event == event), None)

    def record(self, step_id: str) -> StepRecord:
        for record in self.steps:
            if record.step_id == step_id:
                return record
        raise ChecklistError(f'清单中没有步骤 "{step_id}"')


def _who(by: str) -> str:
    if not by.strip():
        raise ChecklistError("必须记录操作人")
    return by.strip()


def _put(checklist: Checklist, record: StepRecord) -> Checklist:
    steps = tuple(record if r.step_id == record.step_id else r for r in checklist.steps)
    return replace(checklist, steps=steps)


def start_checklist(
    template: SopTemplate, *, by: str, now: datetime, anchors: Mapping[AnchorEvent, datetime] | None = None
) -> Checklist:
    checklist = Checklist(
        template_id=template.id,
        template_version=template.version,
        started_at=as_utc(now, "开始时间"),
        started_by=_who(by),
        steps=tuple(StepRecord(step.id) for step in template.steps),
    )
    for event, at in (anchors or {}).items():
        checklist = record_anchor(checklist, event, at, by=by, now=now)
    return checklist


def record_anchor(
    checklist: Checklist, event: AnchorEvent, at: datetime, *, by: str, now: datetime
) -> Checklist:
    """Record (or correct) when an anchor event really happened; it may lie in the past, not ahead."""
    at = as_utc(at, f"{ANCHOR_LABELS[event]}时间")
    if at > as_utc(now, "当前时间"):
        raise ChecklistError(f"{ANCHOR_LABELS[event]}时间不能晚于当前时间")
    others = tuple(a for a in checklist.anchors if a.event != event)
    return replace(checklist, anchors=(*others, AnchorRecord(event, at, _who(by))))


def _require_open(record: StepRecord, doing: str) -> None:
    if record.status is StepStatus.DONE:
        raise ChecklistError(f'步骤 "{record.step_id}" 已完成，不能再{doing}')
    if record.status is StepStatus.SKIPPED:
        raise ChecklistError(f'步骤 "{record.step_id}" 已跳过，不能再{doing}')


def tick_step(checklist: Checklist, step_id: str, *, by: str, at: datetime) -> Checklist:
    record = checklist.record(step_id)
    _require_open(record, "勾选")
    done = replace(record, status=StepStatus.DONE, closed_by=_who(by), closed_at=as_utc(at, "完成时间"))
    return _put(checklist, done)


def skip_step(checklist: Checklist, step_id: str, *, by: str, at: datetime, reason: str) -> Checklist:
    record = checklist.record(step_id)
    _require_open(record, "跳过")
    if not reason.strip():
        raise ChecklistError("跳过步骤必须填写原因")
    skipped = replace(
        record,
        status=StepStatus.SKIPPED,
        closed_by=_who(by),
        closed_at=as_utc(at, "跳过时间"),
        skip_reason=reason.strip(),
    )
    return _put(checklist, skipped)


def add_note(checklist: Checklist, step_id: str, *, text: str, by: str, at: datetime) -> Checklist:
    if not text.strip():
        raise ChecklistError("备注不能为空")
    record = checklist.record(step_id)
    note = StepNote(text.strip(), _who(by), as_utc(at, "备注时间"))
    return _put(checklist, replace(record, notes=(*record.notes, note)))


def add_proof(
    checklist: Checklist, step_id: str, *, ref: str, by: str, at: datetime, label: str = ""
) -> Checklist:
    if not ref.strip():
        raise ChecklistError("凭证引用不能为空（截图文件、物流单号或平台链接）")
    record = checklist.record(step_id)
    proof = ProofRef(ref.strip(), label.strip(), _who(by), as_utc(at, "凭证时间"))
    return _put(checklist, replace(record, proofs=(*record.proofs, proof)))


def set_deadline(
    checklist: Checklist,
    step_id: str,
    source: DeadlineSource,
    deadline: datetime | None,
    *,
    by: str,
    at: datetime,
) -> Checklist:
    """Enter (or clear, with None) the deadline the platform shows for a step, or a manual one."""
    if source is DeadlineSource.RULE:
        raise ChecklistError("规则默认截止时间由模板计算，不能手动设置")
    record = checklist.record(step_id)
    entry = None
    if deadline is not None:
        entry = EnteredDeadline(as_utc(deadline, "截止时间"), _who(by), as_utc(at, "录入时间"))
    if source is DeadlineSource.PLATFORM:
        return _put(checklist, replace(record, platform_deadline=entry))
    return _put(checklist, replace(record, manual_deadline=entry))

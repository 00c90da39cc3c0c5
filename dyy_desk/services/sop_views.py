"""What the UI is handed about checklists: frozen rows with names resolved and deadlines derived.

A step's deadline is handed over as an instant plus the start of its due-soon window, so the panel
recomputes colour and time left on every clock tick without asking the database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from dyy_desk.core.business_hours import BusinessSchedule
from dyy_desk.core.deadlines import DeadlineState
from dyy_desk.core.sop_checklist import DEADLINE_SOURCE_LABELS, DeadlineSource, StepStatus
from dyy_desk.core.sop_template import (
    AFTER_SALES_TYPE_LABELS,
    ANCHOR_LABELS,
    AfterSalesType,
    AnchorEvent,
    SopTemplate,
)
from dyy_desk.core.sop_timers import effective_deadline, is_complete
from dyy_desk.services.sop_store import StoredChecklist


def format_amount(amount: Decimal | None) -> str | None:
    return f"¥{amount:,.2f}" if amount is not None else None


@dataclass(frozen=True)
class StepEntry:
    """A note or a proof on a step."""

    text: str
    label: str
    by: str
    at: datetime


@dataclass(frozen=True)
class StepItem:
    step_id: str
    title: str
    instructions: str
    required: bool
    status: StepStatus
    closed_by: str | None
    closed_at: datetime | None
    skip_reason: str
    notes: tuple[StepEntry, ...]
    proofs: tuple[StepEntry, ...]
    deadline_at: datetime | None
    window_start: datetime | None
    deadline_source: DeadlineSource | None
    unverified: bool
    basis: str
    consequence: str  # "逾期将自动退款 ¥129.00", with the case's amount filled in
    waiting_for: str  # "申请提交后 48 小时" while the anchor event has not been recorded

    @property
    def is_open(self) -> bool:
        return self.status is StepStatus.OPEN

    @property
    def source_label(self) -> str:
        return DEADLINE_SOURCE_LABELS[self.deadline_source] if self.deadline_source else ""


@dataclass(frozen=True)
class AnchorItem:
    event: AnchorEvent
    label: str
    at: datetime
    by: str


@dataclass(frozen=True)
class ChecklistView:
    checklist_id: str
    ticket_id: str
    template_id: str
    template_name: str
    template_version: int
    after_sales_type: AfterSalesType
    started_at: datetime
    started_by: str
    amount: Decimal | None
    steps: tuple[StepItem, ...]
    anchors: tuple[AnchorItem, ...]
    anchor_events: tuple[AnchorEvent, ...]  # the events this template's deadlines count from
    complete: bool

    def step(self, step_id: str) -> StepItem:
        return next(s for s in self.steps if s.step_id == step_id)


@dataclass(frozen=True)
class StartOption:
    after_sales_type: AfterSalesType
    label: str
    template_id: str
    template_name: str
    template_version: int


@dataclass(frozen=True)
class StartOptions:
    """Templates that fit a ticket; `suggested` are the types its category points to, best first."""

    ticket_id: str
    options: tuple[StartOption, ...]
    suggested: tuple[AfterSalesType, ...]

    @property
    def ambiguous(self) -> bool:
        return len(self.suggested) != 1


@dataclass(frozen=True)
class DeadlineItem:
    """One open step's deadline on an open ticket: a notice, a handover line, an escalation fact."""

    ticket_id: str
    ticket_number: str
    subject: str
    assignee_name: str | None
    step_id: str
    step_title: str
    deadline: datetime
    source: DeadlineSource
    unverified: bool
    state: DeadlineState
    consequence: str

    @property
    def source_label(self) -> str:
        return DEADLINE_SOURCE_LABELS[self.source]


def build_view(
    stored: StoredChecklist, template: SopTemplate, schedule: BusinessSchedule, names: Mapping[str, str]
) -> ChecklistView:
    checklist = stored.checklist
    amount = format_amount(stored.amount)

    def who(user: str | None) -> str | None:
        return names.get(user, user) if user else None

    items = []
    for step in template.steps:
        record = checklist.record(step.id)
        deadline = effective_deadline(checklist, step, schedule)
        rule = step.deadline
        waiting = ""
        if deadline is None and rule is not None:
            waiting = f"{ANCHOR_LABELS[rule.anchor]}后 {rule.hours:g} 小时"
        items.append(
            StepItem(
                step_id=step.id,
                title=step.title,
                instructions=step.instructions,
                required=step.required,
                status=record.status,
                closed_by=who(record.closed_by),
                closed_at=record.closed_at,
                skip_reason=record.skip_reason,
                notes=tuple(StepEntry(n.text, "", who(n.by) or "", n.at) for n in record.notes),
                proofs=tuple(StepEntry(p.ref, p.label, who(p.by) or "", p.at) for p in record.proofs),
                deadline_at=deadline.at if deadline else None,
                window_start=deadline.window_start if deadline else None,
                deadline_source=deadline.source if deadline else None,
                unverified=deadline.unverified if deadline else False,
                basis=rule.basis if rule else "",
                consequence=rule.consequence_text(amount) if rule and rule.consequence else "",
                waiting_for=waiting,
            )
        )
    events = tuple(dict.fromkeys(s.deadline.anchor for s in template.steps if s.deadline))
    return ChecklistView(
        checklist_id=stored.id,
        ticket_id=stored.ticket_id,
        template_id=template.id,
        template_name=template.name,
        template_version=template.version,
        after_sales_type=template.after_sales_type,
        started_at=checklist.started_at,
        started_by=who(checklist.started_by) or "",
        amount=stored.amount,
        steps=tuple(items),
        anchors=tuple(
            AnchorItem(a.event, ANCHOR_LABELS[a.event], a.at, who(a.by) or "")
            for a in sorted(checklist.anchors, key=lambda a: a.at)
        ),
        anchor_events=events,
        complete=is_complete(checklist, template),
    )


def type_label(t: AfterSalesType) -> str:
    return AFTER_SALES_TYPE_LABELS[t]

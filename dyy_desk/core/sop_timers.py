"""Deadlines of a checklist at `now`: effective deadline per step, states, soonest loss, notifications.

Priority of sources: platform-shown (the platform computes one per case and it is what counts) over
a manual entry over the template rule. Nothing here is stored; the UI recomputes it on its clock tick.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass
from datetime import datetime, timedelta

from dyy_desk.core.business_hours import BusinessSchedule
from dyy_desk.core.deadlines import (
    DEFAULT_POLICY,
    DeadlineState,
    DueSoonPolicy,
    add_business_hours,
    add_calendar_hours,
    deadline_state,
    remaining,
)
from dyy_desk.core.sop_checklist import (
    Checklist,
    ChecklistError,
    DeadlineSource,
    EnteredDeadline,
    StepRecord,
    StepStatus,
)
from dyy_desk.core.sop_template import DeadlineCounting, DeadlineRule, SopStep, SopTemplate


@dataclass(frozen=True)
class EffectiveDeadline:
    at: datetime
    source: DeadlineSource
    window_start: datetime  # start of the due-soon window: the anchor event, else when it was entered
    rule: DeadlineRule | None

    @property
    def unverified(self) -> bool:
        """A rule default whose number nobody has confirmed; the UI marks it (未核实)."""
        return self.source is DeadlineSource.RULE and self.rule is not None and not self.rule.verified


@dataclass(frozen=True)
class StepView:
    step: SopStep
    record: StepRecord
    deadline: EffectiveDeadline | None
    state: DeadlineState | None  # None when the step is closed or has no deadline (yet)
    remaining: timedelta | None

    @property
    def is_open(self) -> bool:
        return self.record.status is StepStatus.OPEN


@dataclass(frozen=True)
class DeadlineNotice:
    step_id: str
    state: DeadlineState
    deadline: EffectiveDeadline

    @property
    def key(self) -> tuple[str, DeadlineState]:
        return self.step_id, self.state


def _check_template(checklist: Checklist, template: SopTemplate) -> None:
    if (checklist.template_id, checklist.template_version) != (template.id, template.version):
        raise ChecklistError(
            f"清单来自模板 {checklist.template_id} 第 {checklist.template_version} 版，"
            f"不能用 {template.id} 第 {template.version} 版计算"
        )


def _rule_deadline(rule: DeadlineRule, anchor_at: datetime, schedule: BusinessSchedule) -> datetime:
    if rule.counting is DeadlineCounting.BUSINESS:
        return add_business_hours(anchor_at, rule.hours, schedule)
    return add_calendar_hours(anchor_at, rule.hours)


def effective_deadline(
    checklist: Checklist, step: SopStep, schedule: BusinessSchedule
) -> EffectiveDeadline | None:
    """None while nothing was entered and the rule's anchor event has not happened yet."""
    record = checklist.record(step.id)
    rule = step.deadline
    anchor_at = checklist.anchor_time(rule.anchor) if rule is not None else None
    entered: list[tuple[DeadlineSource, EnteredDeadline | None]] = [
        (DeadlineSource.PLATFORM, record.platform_deadline),
        (DeadlineSource.MANUAL, record.manual_deadline),
    ]
    for source, entry in entered:
        if entry is not None:
            return EffectiveDeadline(entry.at, source, anchor_at or entry.entered_at, rule)
    if rule is None or anchor_at is None:
        return None
    return EffectiveDeadline(_rule_deadline(rule, anchor_at, schedule), DeadlineSource.RULE, anchor_at, rule)


def step_views(
    checklist: Checklist,
    template: SopTemplate,
    *,
    now: datetime,
    schedule: BusinessSchedule,
    policy: DueSoonPolicy = DEFAULT_POLICY,
) -> tuple[StepView, ...]:
    _check_template(checklist, template)
    views = []
    for step in template.steps:
        record = checklist.record(step.id)
        deadline = effective_deadline(checklist, step, schedule)
        state = left = None
        if deadline is not None and record.status is StepStatus.OPEN:
            state = deadline_state(deadline.at, now, window_start=deadline.window_start, policy=policy)
            left = remaining(deadline.at, now)
        views.append(StepView(step, record, deadline, state, left))
    return tuple(views)


def nearest_open_deadline(
    checklist: Checklist,
    template: SopTemplate,
    *,
    now: datetime,
    schedule: BusinessSchedule,
    policy: DueSoonPolicy = DEFAULT_POLICY,
) -> StepView | None:
    """The open step whose deadline comes first (soonest loss first); ties favour required steps."""
    views = step_views(checklist, template, now=now, schedule=schedule, policy=policy)
    timed = [
        (v.deadline.at, not v.step.required, n, v)
        for n, v in enumerate(views)
        if v.is_open and v.deadline is not None
    ]
    return min(timed)[3] if timed else None


def is_complete(checklist: Checklist, template: SopTemplate) -> bool:
    """Every required step is done or skipped (with its reason)."""
    _check_template(checklist, template)
    return all(checklist.record(s.id).status is not StepStatus.OPEN for s in template.steps if s.required)


def pending_notices(
    checklist: Checklist,
    template: SopTemplate,
    *,
    now: datetime,
    schedule: BusinessSchedule,
    notified: Set[tuple[str, DeadlineState]],
    policy: DueSoonPolicy = DEFAULT_POLICY,
) -> tuple[DeadlineNotice, ...]:
    """Open steps newly due soon or overdue, once per (step, state); add each `key` to `notified`.

    A step that went from normal straight to overdue (the app was closed) yields only the overdue notice:
    a late "即将超时" would be noise.
    """
    out = []
    for view in step_views(checklist, template, now=now, schedule=schedule, policy=policy):
        if view.deadline is None or view.state is None or view.state is DeadlineState.NORMAL:
            continue
        notice = DeadlineNotice(view.step.id, view.state, view.deadline)
        if notice.key not in notified:
            out.append(notice)
    return tuple(out)

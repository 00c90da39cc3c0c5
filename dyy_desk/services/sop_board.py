"""The SOP area's reads: every running checklist at a glance, and the templates and working hours in force.

One row per running checklist (not per step): a ticket appears once, at the position of the step that
will cost the shop first, so the board reads as "which case loses money next". The row carries the
deadline instant and the start of its due-soon window, so the panel recomputes colour, time left and
its 即将超时/已超时 filters on every clock tick without asking the database again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import NamedTuple

from sqlalchemy import Connection, select

from dyy_desk.core.business_hours import BusinessSchedule
from dyy_desk.core.deadlines import DeadlineState, deadline_state
from dyy_desk.core.sop_checklist import DEADLINE_SOURCE_LABELS, DeadlineSource
from dyy_desk.core.sop_registry import SopRegistry
from dyy_desk.core.sop_template import AFTER_SALES_TYPE_LABELS, ANCHOR_LABELS, AfterSalesType, SopTemplate
from dyy_desk.core.sop_timers import step_views
from dyy_desk.core.ticket_states import OPEN_STATUSES
from dyy_desk.core.types import Platform
from dyy_desk.db.repos.tables import clients, shops, tickets, users
from dyy_desk.services import sop_store as store
from dyy_desk.services.sop_monitor import SopMonitor
from dyy_desk.services.sop_views import format_amount

_OPEN = [s.value for s in OPEN_STATUSES]
WEEKDAY_LABELS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


@dataclass(frozen=True)
class BoardRow:
    """A running checklist, shown by its current step: the open step whose deadline comes first, or
    (while no open step has a deadline yet) the first open step, with what its clock waits for."""

    checklist_id: str
    ticket_id: str
    ticket_number: str
    subject: str
    client_name: str
    shop_name: str
    platform: Platform
    after_sales_type: AfterSalesType
    template_name: str
    step_id: str
    step_title: str
    done_steps: int
    total_steps: int
    deadline: datetime | None
    window_start: datetime | None
    source: DeadlineSource | None
    unverified: bool
    waiting_for: str  # "申请提交后 4 小时" while the anchor event has not been recorded
    consequence: str  # "逾期将自动退款 ¥129.00"
    assignee_id: str | None
    assignee_name: str | None

    @property
    def type_label(self) -> str:
        return AFTER_SALES_TYPE_LABELS[self.after_sales_type]

    @property
    def source_label(self) -> str:
        return DEADLINE_SOURCE_LABELS[self.source] if self.source else ""

    def state(self, now: datetime) -> DeadlineState | None:
        """None while the current step has no deadline yet."""
        if self.deadline is None:
            return None
        return deadline_state(self.deadline, now, window_start=self.window_start)


class TemplateState(StrEnum):
    IN_FORCE = "in_force"  # new checklists on some platform start from this version today
    SUPERSEDED = "superseded"  # a later version or a platform-specific template is picked instead
    UPCOMING = "upcoming"  # effective date still ahead


TEMPLATE_STATE_LABELS: dict[TemplateState, str] = {
    TemplateState.IN_FORCE: "生效中",
    TemplateState.SUPERSEDED: "已被取代",
    TemplateState.UPCOMING: "待生效",
}


@dataclass(frozen=True)
class TemplateRow:
    template_id: str
    name: str
    after_sales_type: AfterSalesType
    platforms: tuple[Platform, ...]  # empty: the default for every platform without its own
    version: int
    effective_date: date
    steps: int
    timed_steps: int
    unverified_steps: int  # steps whose deadline number nobody has confirmed yet
    state: TemplateState
    source: str

    @property
    def type_label(self) -> str:
        return AFTER_SALES_TYPE_LABELS[self.after_sales_type]


@dataclass(frozen=True)
class ScheduleDay:
    label: str  # 周一
    shifts: tuple[str, ...]  # "09:00-12:00", "22:00-次日06:00"


@dataclass(frozen=True)
class ScheduleView:
    timezone: str
    weekly: tuple[ScheduleDay, ...]
    holidays: tuple[date, ...]  # from today on
    makeup_workdays: tuple[date, ...]  # from today on
    makeup_uses: str  # 周一: whose shifts a make-up working day follows


class SopBoard(SopMonitor):
    """Shares the SOP service's catalog, so templates and schedule are parsed once per workspace."""

    @classmethod
    def of(cls, sop: SopMonitor) -> SopBoard:
        return cls(engine=sop._engine, catalog=sop.catalog)

    def board(self, *, now: datetime) -> list[BoardRow]:
        """Checklists with an open step on open tickets, soonest loss first; those still waiting for
        their first deadline come last, oldest first."""
        with self._engine.connect() as conn:
            heads = _ticket_heads(conn)
            stored = store.load_checklists(conn, ticket_ids=list(heads))
        schedule = self.catalog.schedule()
        timed: list[tuple[tuple[datetime, bool, str], BoardRow]] = []
        waiting: list[tuple[tuple[datetime, str], BoardRow]] = []
        for ticket_id, checklist in stored.items():
            template = self.catalog.template(
                checklist.checklist.template_id, checklist.checklist.template_version
            )
            row = _row(heads[ticket_id], checklist, template, now=now, schedule=schedule)
            if row is None:
                continue
            if row.deadline is not None:
                required = template.step(row.step_id).required
                timed.append(((row.deadline, not required, row.ticket_number), row))
            else:
                waiting.append(((checklist.checklist.started_at, row.ticket_number), row))
        timed.sort(key=lambda pair: pair[0])
        waiting.sort(key=lambda pair: pair[0])
        return [row for _key, row in timed] + [row for _key, row in waiting]

    def templates(self, *, now: datetime) -> list[TemplateRow]:
        """Every template version the workspace knows, those in force first, by after-sales type."""
        today = now.astimezone(self.catalog.schedule().zone).date()
        registry = self.catalog.registry()
        picked = _in_force(registry, today)
        rows = [_template_row(t, picked, today) for t in registry.templates]
        order = list(TemplateState)
        return sorted(
            rows,
            key=lambda r: (
                order.index(r.state),
                list(AfterSalesType).index(r.after_sales_type),
                r.name,
                -r.version,
            ),
        )

    def schedule_view(self, *, now: datetime) -> ScheduleView:
        schedule = self.catalog.schedule()
        return _schedule_view(schedule, now.astimezone(schedule.zone).date())


class _Head(NamedTuple):
    number: str
    subject: str
    platform: Platform
    client: str
    shop: str
    assignee_id: str | None
    assignee_name: str | None


def _ticket_heads(conn: Connection) -> dict[str, _Head]:
    """Open tickets that have a live checklist, with the names the board shows."""
    live = select(store.checklists_t.c.ticket_id).where(store.checklists_t.c.deleted.is_(False))
    query = (
        select(
            tickets.c.id,
            tickets.c.number,
            tickets.c.subject,
            tickets.c.platform,
            tickets.c.assignee_id,
            clients.c.name.label("client"),
            shops.c.name.label("shop"),
            users.c.name.label("assignee"),
        )
        .select_from(
            tickets.outerjoin(clients, clients.c.id == tickets.c.client_id)
            .outerjoin(shops, shops.c.id == tickets.c.shop_id)
            .outerjoin(users, users.c.id == tickets.c.assignee_id)
        )
        .where(tickets.c.status.in_(_OPEN), tickets.c.deleted.is_(False), tickets.c.id.in_(live))
    )
    return {
        r.id: _Head(
            r.number, r.subject, Platform(r.platform), r.client or "", r.shop or "", r.assignee_id, r.assignee
        )
        for r in conn.execute(query)
    }


def _row(
    head: _Head,
    stored: store.StoredChecklist,
    template: SopTemplate,
    *,
    now: datetime,
    schedule: BusinessSchedule,
) -> BoardRow | None:
    views = step_views(stored.checklist, template, now=now, schedule=schedule)
    open_views = [v for v in views if v.is_open]
    if not open_views:
        return None
    # as core nearest_open_deadline: the first deadline, ties to required steps, then template order
    timed = [
        (v.deadline.at, not v.step.required, n) for n, v in enumerate(open_views) if v.deadline is not None
    ]
    current = open_views[min(timed)[2]] if timed else open_views[0]
    rule = current.step.deadline
    deadline = current.deadline
    waiting = f"{ANCHOR_LABELS[rule.anchor]}后 {rule.hours:g} 小时" if rule and deadline is None else ""
    amount = format_amount(stored.amount)
    return BoardRow(
        checklist_id=stored.id,
        ticket_id=stored.ticket_id,
        ticket_number=head.number,
        subject=head.subject,
        client_name=head.client,
        shop_name=head.shop,
        platform=head.platform,
        after_sales_type=template.after_sales_type,
        template_name=template.name,
        step_id=current.step.id,
        step_title=current.step.title,
        done_steps=len(views) - len(open_views),
        total_steps=len(views),
        deadline=deadline.at if deadline else None,
        window_start=deadline.window_start if deadline else None,
        source=deadline.source if deadline else None,
        unverified=deadline.unverified if deadline else False,
        waiting_for=waiting,
        consequence=rule.consequence_text(amount) if rule and rule.consequence else "",
        assignee_id=head.assignee_id,
        assignee_name=head.assignee_name,
    )


def _in_force(registry: SopRegistry, today: date) -> set[tuple[str, int]]:
    """(id, version) of every template a new checklist would start from today on some platform."""
    picked: set[tuple[str, int]] = set()
    for after_sales_type in AfterSalesType:
        for platform in Platform:
            template = registry.pick(after_sales_type, platform, today)
            if template is not None:
                picked.add((template.id, template.version))
    return picked


def _template_row(template: SopTemplate, picked: set[tuple[str, int]], today: date) -> TemplateRow:
    if (template.id, template.version) in picked:
        state = TemplateState.IN_FORCE
    elif template.effective_date > today:
        state = TemplateState.UPCOMING
    else:
        state = TemplateState.SUPERSEDED
    rules = [s.deadline for s in template.steps if s.deadline is not None]
    return TemplateRow(
        template_id=template.id,
        name=template.name,
        after_sales_type=template.after_sales_type,
        platforms=tuple(p for p in Platform if p in template.platforms),
        version=template.version,
        effective_date=template.effective_date,
        steps=len(template.steps),
        timed_steps=len(rules),
        unverified_steps=sum(1 for r in rules if not r.verified),
        state=state,
        source=template.source,
    )


def _schedule_view(schedule: BusinessSchedule, today: date) -> ScheduleView:
    return ScheduleView(
        timezone=schedule.timezone,
        weekly=tuple(
            ScheduleDay(
                WEEKDAY_LABELS[n], tuple(s.label() for s in sorted(day, key=lambda s: s.start_minute))
            )
            for n, day in enumerate(schedule.weekly)
        ),
        holidays=tuple(sorted(d for d in schedule.holidays if d >= today)),
        makeup_workdays=tuple(sorted(d for d in schedule.makeup_workdays if d >= today)),
        makeup_uses=WEEKDAY_LABELS[schedule.makeup_uses],
    )

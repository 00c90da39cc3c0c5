"""Deadlines across every open checklist: escalation facts, once-only notices, the shift handover list.

Notices are remembered per (checklist, step, state) in `sop_notified`, so each shows once per machine,
and a deadline that passed while the app was closed comes back (as 已超时 only) at the first call after
start. Steps of tickets that are resolved or closed are left out.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import Connection, Engine, select

from dyy_desk.core.deadlines import DeadlineState
from dyy_desk.core.escalation_model import SopStepFact
from dyy_desk.core.sop_template import SopStep
from dyy_desk.core.sop_timers import EffectiveDeadline, pending_notices, step_views
from dyy_desk.core.ticket_states import OPEN_STATUSES
from dyy_desk.db.repos.tables import tickets, users
from dyy_desk.services import sop_store as store
from dyy_desk.services.sop_catalog import SopCatalog
from dyy_desk.services.sop_views import DeadlineItem, format_amount

_OPEN = [s.value for s in OPEN_STATUSES]


class _Head(NamedTuple):
    number: str
    subject: str
    assignee: str | None


class SopMonitor:
    def __init__(self, *, engine: Engine, catalog: SopCatalog) -> None:
        self._engine = engine
        self.catalog = catalog

    def step_facts(self, *, now: datetime) -> list[SopStepFact]:
        """Every open step with a deadline on an open ticket (the escalation engine's input)."""
        with self._engine.connect() as conn:
            return [
                SopStepFact(i.ticket_id, i.step_id, i.state, i.deadline, i.step_title)
                for i in self._deadlines(conn, now=now)
            ]

    def due_notices(self, *, now: datetime) -> list[DeadlineItem]:
        """Steps newly due soon or overdue since the last call, each (step, state) once; recorded."""
        with self._engine.begin() as conn:
            seen = store.notified_keys(conn)
            heads = _open_tickets(conn)
            schedule = self.catalog.schedule()
            fresh: list[DeadlineItem] = []
            keys: list[tuple[str, str, str]] = []
            for stored in store.load_checklists(conn, ticket_ids=list(heads)).values():
                template = self.catalog.template(
                    stored.checklist.template_id, stored.checklist.template_version
                )
                mine = {(s, DeadlineState(st)) for c, s, st in seen if c == stored.id}
                for notice in pending_notices(
                    stored.checklist, template, now=now, schedule=schedule, notified=mine
                ):
                    step = template.step(notice.step_id)
                    fresh.append(_item(heads[stored.ticket_id], stored, step, notice.deadline, notice.state))
                    keys.append((stored.id, step.id, notice.state.value))
            store.mark_notified(conn, keys, now=now)
        return sorted(fresh, key=lambda i: i.deadline)

    def handover(self, *, now: datetime, hours: float) -> list[DeadlineItem]:
        """Open deadlines already overdue or falling due within the next `hours` (shift handover)."""
        until = now + timedelta(hours=hours)
        with self._engine.connect() as conn:
            items = [i for i in self._deadlines(conn, now=now) if i.deadline <= until]
        return sorted(items, key=lambda i: i.deadline)

    def _deadlines(self, conn: Connection, *, now: datetime) -> Iterator[DeadlineItem]:
        heads = _open_tickets(conn)
        schedule = self.catalog.schedule()
        for stored in store.load_checklists(conn, ticket_ids=list(heads)).values():
            template = self.catalog.template(stored.checklist.template_id, stored.checklist.template_version)
            for view in step_views(stored.checklist, template, now=now, schedule=schedule):
                if view.is_open and view.deadline is not None and view.state is not None:
                    yield _item(heads[stored.ticket_id], stored, view.step, view.deadline, view.state)


def _item(
    head: _Head,
    stored: store.StoredChecklist,
    step: SopStep,
    deadline: EffectiveDeadline,
    state: DeadlineState,
) -> DeadlineItem:
    rule = step.deadline
    amount = format_amount(stored.amount)
    return DeadlineItem(
        ticket_id=stored.ticket_id,
        ticket_number=head.number,
        subject=head.subject,
        assignee_name=head.assignee,
        step_id=step.id,
        step_title=step.title,
        deadline=deadline.at,
        source=deadline.source,
        unverified=deadline.unverified,
        state=state,
        consequence=rule.consequence_text(amount) if rule and rule.consequence else "",
    )


def _open_tickets(conn: Connection) -> dict[str, _Head]:
    """Open tickets that have a checklist: number, subject and assignee name."""
    live = select(store.checklists_t.c.ticket_id).where(store.checklists_t.c.deleted.is_(False))
    query = (
        select(tickets.c.id, tickets.c.number, tickets.c.subject, users.c.name)
        .select_from(tickets.outerjoin(users, users.c.id == tickets.c.assignee_id))
        .where(tickets.c.status.in_(_OPEN), tickets.c.deleted.is_(False), tickets.c.id.in_(live))
    )
    return {r[0]: _Head(r[1], r[2], r[3]) for r in conn.execute(query)}

"""SOP steps an agent let run past their deadline in a report period, counted per ticket assignee.

A step counts when its effective deadline (platform-shown, manual, or the template rule) fell inside the
period and had passed by the time of the report while the step was still open: it is still open, or was
done or skipped only after the deadline. Only what the rule needs is read (step status and entered
deadlines, anchor events); notes and proofs, which are most of a checklist's rows, stay in the database.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, func, or_, select

from dyy_desk.core.sop_checklist import AnchorRecord, Checklist, EnteredDeadline, StepRecord, StepStatus
from dyy_desk.core.sop_template import AnchorEvent
from dyy_desk.core.sop_timers import effective_deadline
from dyy_desk.core.ticket_states import OPEN_STATUSES
from dyy_desk.db.repos.tables import tickets
from dyy_desk.services.sop_catalog import SopCatalog
from dyy_desk.services.sop_store import anchors_t, checklists_t, steps_t

_OPEN = [s.value for s in OPEN_STATUSES]


def overdue_steps(
    conn: Connection,
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    scope: Sequence[ColumnElement[bool]],
) -> Counter[str | None]:
    """Missed steps per assignee id (None: unassigned) on the tickets `scope` selects."""
    until = min(end, now)
    if until <= start:
        return Counter()
    joined = checklists_t.join(tickets, tickets.c.id == checklists_t.c.ticket_id)
    conditions = [
        checklists_t.c.deleted.is_(False),
        checklists_t.c.started_at < until,
        # a ticket finished before the period cannot have missed anything in it
        tickets.c.status.in_(_OPEN) | (func.coalesce(tickets.c.resolved_at, tickets.c.closed_at) >= start),
        *scope,
    ]
    heads = conn.execute(
        select(
            checklists_t.c.id,
            checklists_t.c.template_id,
            checklists_t.c.template_version,
            checklists_t.c.started_at,
            tickets.c.assignee_id,
        )
        .select_from(joined)
        .where(*conditions)
    ).all()
    if not heads:
        return Counter()
    # sub-selects, not id lists: thousands of open checklists would overflow SQLite's parameter limit
    ids = select(checklists_t.c.id).select_from(joined).where(*conditions)
    steps: dict[str, list[StepRecord]] = defaultdict(list)
    candidates = select(
        steps_t.c.checklist_id,
        steps_t.c.step_id,
        steps_t.c.status,
        steps_t.c.closed_at,
        steps_t.c.platform_deadline,
        steps_t.c.platform_deadline_entered_at,
        steps_t.c.manual_deadline,
        steps_t.c.manual_deadline_entered_at,
    ).where(
        steps_t.c.checklist_id.in_(ids),
        steps_t.c.deleted.is_(False),
        or_(steps_t.c.status == StepStatus.OPEN.value, steps_t.c.closed_at >= start),
    )
    for s in conn.execute(candidates):
        steps[s.checklist_id].append(
            StepRecord(
                step_id=s.step_id,
                status=StepStatus(s.status),
                closed_at=s.closed_at,
                platform_deadline=_entered(s.platform_deadline, s.platform_deadline_entered_at),
                manual_deadline=_entered(s.manual_deadline, s.manual_deadline_entered_at),
            )
        )
    anchors: dict[str, list[AnchorRecord]] = defaultdict(list)
    for a in conn.execute(
        select(anchors_t.c.checklist_id, anchors_t.c.event, anchors_t.c.at).where(
            anchors_t.c.checklist_id.in_(ids), anchors_t.c.deleted.is_(False)
        )
    ):
        anchors[a.checklist_id].append(AnchorRecord(AnchorEvent(a.event), a.at, ""))

    catalog = SopCatalog(engine=conn.engine, origin="")  # read-only: templates and hours as saved now
    schedule = catalog.schedule()
    missed: Counter[str | None] = Counter()
    for head in heads:
        records = steps.get(head.id)
        if not records:
            continue
        template = catalog.template(head.template_id, head.template_version)
        checklist = Checklist(
            head.template_id,
            head.template_version,
            head.started_at,
            "",
            tuple(records),
            tuple(anchors[head.id]),
        )
        for record in records:
            deadline = effective_deadline(checklist, template.step(record.step_id), schedule)
            if deadline is None or not start <= deadline.at < until:
                continue
            if record.status is StepStatus.OPEN or (
                record.closed_at is not None and record.closed_at > deadline.at
            ):
                missed[head.assignee_id] += 1
    return missed


def _entered(at: datetime | None, entered_at: datetime | None) -> EnteredDeadline | None:
    return EnteredDeadline(at, "", entered_at or at) if at is not None else None

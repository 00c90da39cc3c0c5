"""Sampling candidates from the ticket table: the closed tickets of a window, with their risk flags.

The flags decide which tickets a draw must always include. `escalated` is read from the ticket's
`platform_intervention` for now; when the escalation area stores its own records, `_escalated_ids`
is the one place to extend.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Connection, select

from dyy_desk.core.qa_sampling import SampleCandidate, SamplingWindow
from dyy_desk.core.types import Platform, TicketCategory, TicketStatus
from dyy_desk.db.repos.tables import tickets
from dyy_desk.services.qa_store import items_t

COMPLAINT_CATEGORIES = frozenset({TicketCategory.QUALITY_COMPLAINT, TicketCategory.NEGATIVE_REVIEW})


def closed_candidates(conn: Connection, window: SamplingWindow) -> list[SampleCandidate]:
    t = tickets.c
    rows = conn.execute(
        select(
            t.id,
            t.assignee_id,
            t.client_id,
            t.platform,
            t.category,
            t.closed_at,
            t.resolved_at,
            t.due_at,
        ).where(
            t.deleted.is_(False),
            t.status == TicketStatus.CLOSED.value,
            t.assignee_id.is_not(None),
            t.closed_at >= window.start,
            t.closed_at < window.end,
        )
    ).all()
    escalated = _escalated_ids(conn, [r.id for r in rows])
    result = []
    for r in rows:
        finished = r.resolved_at or r.closed_at
        category = TicketCategory(r.category)
        result.append(
            SampleCandidate(
                ticket_id=r.id,
                agent_id=r.assignee_id,
                client_id=r.client_id,
                platform=Platform(r.platform),
                category=category,
                closed_at=r.closed_at,
                escalated=r.id in escalated,
                complained=category in COMPLAINT_CATEGORIES,
                missed_deadline=r.due_at is not None and finished > r.due_at,
            )
        )
    return result


def _escalated_ids(conn: Connection, ticket_ids: Collection[str]) -> set[str]:
    """Tickets that were escalated. Today: the platform stepped in (平台介入)."""
    if not ticket_ids:
        return set()
    found = conn.execute(
        select(tickets.c.id).where(
            tickets.c.id.in_(list(ticket_ids)), tickets.c.platform_intervention.is_(True)
        )
    )
    return {r.id for r in found}


def already_sampled(conn: Connection, ticket_ids: Collection[str]) -> set[str]:
    if not ticket_ids:
        return set()
    found = conn.execute(select(items_t.c.ticket_id).where(items_t.c.ticket_id.in_(list(ticket_ids))))
    return {r.ticket_id for r in found}

"""Escalation queries (no commit here): table handles, what the queue needs, and ticket facts.

Written for both SQLite and PostgreSQL: plain SELECTs, no engine-specific functions.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, func, or_, select
from sqlmodel import SQLModel

from dyy_desk.core.escalation_model import EscalationStatus
from dyy_desk.db import models_escalation  # noqa: F401 - registers the escalation tables
from dyy_desk.db.repos.tables import tickets

_tables = SQLModel.metadata.tables
escalations = _tables["escalation"]
evidence = _tables["escalation_evidence"]
history = _tables["escalation_history"]
closed = _tables["escalation_closed"]
rule_sets = _tables["escalation_rule_set"]

_CHUNK = 500  # stays under SQLite's bound-parameter limit
_TICKET_FACT_COLUMNS = (
    tickets.c.id,
    tickets.c.client_id,
    tickets.c.shop_id,
    tickets.c.platform,
    tickets.c.category,
    tickets.c.status,
    tickets.c.created_at,
    tickets.c.platform_intervention,
    tickets.c.product,
    tickets.c.tags,
)


def open_escalation_tickets() -> Select[tuple[str]]:
    """Ids of tickets that are evidence of an escalation not yet closed (a subquery for the queue)."""
    return (
        select(evidence.c.ticket_id)
        .join(escalations, escalations.c.id == evidence.c.escalation_id)
        .where(
            escalations.c.status != EscalationStatus.CLOSED.value,
            escalations.c.deleted.is_(False),
            evidence.c.deleted.is_(False),
        )
    )


def escalated_ticket_levels(conn: Connection, ids: Collection[str] | None = None) -> dict[str, int]:
    """Tickets that are evidence of an escalation not yet closed → the highest such level (1..3).

    For the queue's 已升级 view and its L1/L2/L3 badges; `ids` limits it to a page of tickets.
    """
    query = (
        select(evidence.c.ticket_id, func.max(escalations.c.level))
        .join(escalations, escalations.c.id == evidence.c.escalation_id)
        .where(
            escalations.c.status != EscalationStatus.CLOSED.value,
            escalations.c.deleted.is_(False),
            evidence.c.deleted.is_(False),
        )
        .group_by(evidence.c.ticket_id)
    )
    if ids is not None:
        query = query.where(evidence.c.ticket_id.in_(list(ids)))
    return {ticket_id: int(level) for ticket_id, level in conn.execute(query)}


def ticket_fact_rows(conn: Connection, ids: Collection[str]) -> Iterator[Any]:
    """The columns the rules read, for these tickets (deleted ones included, so the caller can drop them)."""
    ordered = sorted(ids)
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start : start + _CHUNK]
        yield from conn.execute(
            select(*_TICKET_FACT_COLUMNS, tickets.c.deleted).where(tickets.c.id.in_(chunk))
        )


def live_ticket_fact_rows(
    conn: Connection, *, created_since: datetime, open_statuses: Collection[str]
) -> Iterator[Any]:
    """Tickets a rule can still fire on: created within the longest window, or still open.

    An older ticket that is resolved or closed can fire nothing (windows only ever lose tickets as
    time passes), so a 100k-ticket history loads only its live part.
    """
    yield from conn.execute(
        select(*_TICKET_FACT_COLUMNS).where(
            tickets.c.deleted.is_(False),
            or_(tickets.c.created_at >= created_since, tickets.c.status.in_(sorted(open_statuses))),
        )
    )

"""Queue queries: ids for a TicketQuery (fast, indexed) and rows for a page of ids.

Written in SQLAlchemy Core so the same statements run on SQLite and, later, PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, case, false, func, or_, select

from dyy_desk.core.ticket_query import QueueView, SortKey, TicketQuery
from dyy_desk.core.ticket_states import OPEN_STATUSES
from dyy_desk.core.types import Platform, Priority, TicketCategory, TicketRow, TicketStatus
from dyy_desk.db.repos.tables import clients, customers, shops, tickets, users

_OPEN = [s.value for s in OPEN_STATUSES]
_PRIORITY_RANK = case(
    {Priority.URGENT.value: 0, Priority.HIGH.value: 1, Priority.NORMAL.value: 2, Priority.LOW.value: 3},
    value=tickets.c.priority,
    else_=4,
)
_STATUS_RANK = case({s.value: i for i, s in enumerate(TicketStatus)}, value=tickets.c.status, else_=9)


def _conditions(query: TicketQuery, now: datetime) -> list[ColumnElement[bool]]:
    t = tickets.c
    cond: list[ColumnElement[bool]] = [t.deleted == false()]
    view = query.view
    if view is QueueView.MINE:
        cond += [t.assignee_id == query.user_id, t.status.in_(_OPEN)]
    elif view is QueueView.UNASSIGNED:
        cond += [t.assignee_id.is_(None), t.status.in_(_OPEN)]
    elif view is QueueView.DUE_SOON:
        soon = now + timedelta(hours=query.due_soon_hours)
        cond += [t.status.in_(_OPEN), t.due_at >= now, t.due_at < soon]
    elif view is QueueView.OVERDUE:
        cond += [t.status.in_(_OPEN), t.due_at < now]
    elif view is QueueView.ESCALATED:
        cond += [t.status.in_(_OPEN), t.platform_intervention.is_(True)]
    if query.client_id:
        cond.append(t.client_id == query.client_id)
    if query.shop_id:
        cond.append(t.shop_id == query.shop_id)
    if query.platform:
        cond.append(t.platform == query.platform.value)
    if query.status:
        cond.append(t.status == query.status.value)
    if query.category:
        cond.append(t.category == query.category.value)
    text = query.text.strip()
    if text:
        like = f"%{text}%"
        nick_match = select(customers.c.id).where(customers.c.nick.like(like))
        cond.append(
            or_(
                t.number.like(like),
                t.subject.like(like),
                t.order_no.like(like),
                t.tags.like(like),
                t.product.like(like),
                t.customer_id.in_(nick_match),
            )
        )
    return cond


def _order(query: TicketQuery) -> list[ColumnElement[Any]]:
    t = tickets.c
    keys: dict[SortKey, list[ColumnElement[Any]]] = {
        SortKey.DUE: [t.due_at.is_(None), t.due_at],  # no deadline sorts last
        SortKey.NUMBER: [t.number],
        SortKey.CREATED: [t.created_at],
        SortKey.UPDATED: [t.updated_at],
        SortKey.PRIORITY: [_PRIORITY_RANK, t.due_at.is_(None), t.due_at],
        SortKey.STATUS: [_STATUS_RANK],
        SortKey.CLIENT: [select(clients.c.name).where(clients.c.id == t.client_id).scalar_subquery()],
        SortKey.CATEGORY: [t.category],
    }
    columns = keys[query.sort]
    if query.descending:
        columns = [c.desc() for c in columns]
    return [*columns, t.created_at.desc()]


def query_ticket_ids(conn: Connection, query: TicketQuery, *, now: datetime) -> list[str]:
    stmt = select(tickets.c.id).where(and_(*_conditions(query, now))).order_by(*_order(query))
    return list(conn.execute(stmt).scalars())


def fetch_ticket_rows(conn: Connection, ids: Sequence[str]) -> dict[str, TicketRow]:
    t = tickets.c
    stmt = (
        select(
            t.id,
            t.number,
            clients.c.name,
            shops.c.name,
            t.platform,
            t.category,
            t.status,
            t.priority,
            t.subject,
            customers.c.nick,
            users.c.name,
            t.created_at,
            t.updated_at,
            t.due_at,
            t.platform_intervention,
            t.tags,
        )
        .select_from(
            tickets.join(clients, clients.c.id == t.client_id)
            .join(shops, shops.c.id == t.shop_id)
            .outerjoin(customers, customers.c.id == t.customer_id)
            .outerjoin(users, users.c.id == t.assignee_id)
        )
        .where(t.id.in_(list(ids)))
    )
    rows: dict[str, TicketRow] = {}
    for r in conn.execute(stmt):
        rows[r[0]] = TicketRow(
            id=r[0],
            number=r[1],
            client_name=r[2],
            shop_name=r[3],
            platform=Platform(r[4]),
            category=TicketCategory(r[5]),
            status=TicketStatus(r[6]),
            priority=Priority(r[7]),
            subject=r[8],
            customer_nick=r[9] or "",
            assignee_name=r[10],
            created_at=r[11],
            updated_at=r[12],
            due_at=r[13],
            platform_intervention=bool(r[14]),
            tags=tuple(x for x in (r[15] or "").split("|") if x),
        )
    return rows


def count_due(conn: Connection, *, now: datetime, due_soon_hours: float) -> tuple[int, int]:
    """(due soon, overdue) among open tickets, for the header badge."""
    t = tickets.c
    soon = now + timedelta(hours=due_soon_hours)
    base = (
        select(func.count())
        .select_from(tickets)
        .where(t.deleted == false(), t.status.in_(_OPEN), t.due_at.is_not(None))
    )
    due_soon = conn.execute(base.where(t.due_at >= now, t.due_at < soon)).scalar_one()
    overdue = conn.execute(base.where(t.due_at < now)).scalar_one()
    return int(due_soon), int(overdue)

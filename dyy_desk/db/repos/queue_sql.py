"""The queue's first page straight from SQL, for the moment before the in-memory index is loaded.

Same semantics as core/queue_index.py (a property test holds them together): the window shows the
first rows of any view at once, and the index's full answer replaces them a moment later.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, case, false, func, or_, select

from dyy_desk.core.queue_index import _OPEN, _PRIORITY_RANK, _STATUS_RANK
from dyy_desk.core.ticket_query import QueueView, SortKey, TicketQuery
from dyy_desk.db.repos.escalation_queries import open_escalation_tickets
from dyy_desk.db.repos.tables import clients, customers, tickets

_t = tickets.c


def _like(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _conditions(query: TicketQuery, now: datetime) -> list[ColumnElement[bool]]:
    cond: list[ColumnElement[bool]] = [_t.deleted == false()]
    is_open = _t.status.in_(sorted(_OPEN))
    view = query.view
    if view is QueueView.MINE:
        cond += [_t.assignee_id == query.user_id, is_open]
    elif view is QueueView.UNASSIGNED:
        cond += [_t.assignee_id.is_(None), is_open]
    elif view is QueueView.DUE_SOON:
        default_soon = and_(_t.due_soon_at.is_(None), _t.due_at < now + timedelta(hours=query.due_soon_hours))
        cond += [is_open, _t.due_at >= now, or_(default_soon, _t.due_soon_at <= now)]
    elif view is QueueView.OVERDUE:
        cond += [is_open, _t.due_at < now]
    elif view is QueueView.ESCALATED:
        cond += [is_open, _t.id.in_(open_escalation_tickets())]
    for column, wanted in (
        (_t.client_id, query.client_id),
        (_t.shop_id, query.shop_id),
        (_t.platform, query.platform.value if query.platform else None),
        (_t.status, query.status.value if query.status else None),
        (_t.category, query.category.value if query.category else None),
    ):
        if wanted:
            cond.append(column == wanted)
    for word in query.text.lower().split():
        pattern = _like(word)
        nick = select(customers.c.id).where(customers.c.nick.like(pattern, escape="\\"))
        cond.append(
            or_(
                *(
                    col.like(pattern, escape="\\")
                    for col in (_t.number, _t.subject, _t.order_no, _t.tags, _t.product)
                ),
                _t.customer_id.in_(nick),
            )
        )
    return cond


def _order(query: TicketQuery) -> list[ColumnElement[Any]]:
    keys: dict[SortKey, list[ColumnElement[Any]]] = {
        SortKey.DUE: [_t.due_at.is_(None), _t.due_at],
        SortKey.NUMBER: [_t.number],
        SortKey.CREATED: [_t.created_at],
        SortKey.UPDATED: [_t.updated_at],
        SortKey.PRIORITY: [case(_PRIORITY_RANK, value=_t.priority, else_=9), _t.due_at.is_(None), _t.due_at],
        SortKey.STATUS: [case(_STATUS_RANK, value=_t.status, else_=99)],
        SortKey.CLIENT: [select(clients.c.name).where(clients.c.id == _t.client_id).scalar_subquery()],
        SortKey.CATEGORY: [_t.category],
    }
    # (column, ascending) pairs: ties go newest first; a descending query reverses every one of them,
    # exactly as the index reverses its whole ordered list.
    pairs = [(c, True) for c in keys[query.sort]] + [(_t.created_at, False), (_t.id, False)]
    return [c.asc() if up != query.descending else c.desc() for c, up in pairs]


def first_page(conn: Connection, query: TicketQuery, *, now: datetime, limit: int) -> tuple[list[str], int]:
    """(ids of the first `limit` rows, number of rows the whole query has).

    The deadline order reads tickets with a deadline and those without as two runs: each run follows
    an index (the due_at index, then creation time), where one ORDER BY starting with `due_at IS NULL`
    sorts the whole table to return 200 rows.
    """
    where = and_(*_conditions(query, now))
    total = conn.execute(select(func.count()).select_from(tickets).where(where)).scalar_one()
    order = _order(query)
    if query.sort is not SortKey.DUE:
        ids = conn.execute(select(_t.id).where(where).order_by(*order).limit(limit)).scalars().all()
        return list(ids), int(total)
    runs = [_t.due_at.is_not(None), _t.due_at.is_(None)]
    found: list[str] = []
    for run in reversed(runs) if query.descending else runs:
        if len(found) >= limit:
            break
        stmt = select(_t.id).where(where, run).order_by(*order[1:]).limit(limit - len(found))
        found += conn.execute(stmt).scalars()
    return found, int(total)

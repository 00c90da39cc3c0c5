"""Queue reads: entries for the in-memory queue index, and display rows for a page of ids.

Plain SQL that SQLite and PostgreSQL both run.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, select

from dyy_desk.core.queue_index import NO_DEADLINE, QueueEntry
from dyy_desk.core.types import Platform, Priority, TicketCategory, TicketRow, TicketStatus
from dyy_desk.db.repos.escalation_queries import escalated_ticket_levels
from dyy_desk.db.repos.tables import clients, customers, shops, tickets, users

_ENTRY_SQL = """
SELECT id, number, status, client_id, shop_id, platform, category, priority,
       assignee_id, due_at, created_at, updated_at, due_soon_at
FROM ticket WHERE NOT deleted"""
_TEXT_SQL = "SELECT id, number, subject, order_no, tags, product, customer_id FROM ticket WHERE NOT deleted"


def _select(conn: Connection, sql: str, ids: Sequence[str] | None) -> Iterable[Any]:
    """Raw driver SQL on purpose: at 100k rows the Core result machinery costs more than SQLite.
    A full load streams the cursor so raw rows and built entries never all sit in memory at once."""
    if ids is None:
        return conn.exec_driver_sql(sql)
    rows: list[Any] = []
    for start in range(0, len(ids), 500):
        chunk = tuple(ids[start : start + 500])
        rows += conn.exec_driver_sql(f"{sql} AND id IN ({','.join('?' * len(chunk))})", chunk).fetchall()
    return rows


def load_queue_entries(conn: Connection, ids: Sequence[str] | None = None) -> Iterator[QueueEntry]:
    """Entries for the in-memory queue index: every live ticket, or just `ids` after a write.

    A generator: the index copies each entry into its columns, so no list of 100k tuples is ever built.
    """
    names: dict[str, str] = {r[0]: r[1] for r in conn.exec_driver_sql("SELECT id, name FROM client")}
    levels = escalated_ticket_levels(conn, ids if ids is not None and len(ids) <= 500 else None)
    for r in _select(conn, _ENTRY_SQL, ids):
        yield QueueEntry(
            r[0],
            r[1],
            r[2],
            r[3],
            names.get(r[3], ""),
            r[4],
            r[5],
            r[6],
            r[7],
            r[8] or None,
            r[9] or NO_DEADLINE,
            r[10],
            r[11],
            levels.get(r[0], 0),
            r[12],
        )


def load_queue_texts(conn: Connection, ids: Sequence[str] | None = None) -> Iterator[tuple[str, str]]:
    """(id, search text) per ticket; the buyer's nick comes from a dict (a join costs 2×).
    The index lower-cases them; a generator so the texts are built once, straight into the index."""
    nicks: dict[str, str] = {r[0]: r[1] for r in conn.exec_driver_sql("SELECT id, nick FROM customer")}
    for r in _select(conn, _TEXT_SQL, ids):
        yield r[0], f"{r[1]} {r[2]} {r[3] or ''} {nicks.get(r[6], '')} {r[4]} {r[5] or ''}"


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
            t.due_soon_at,
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
    levels = escalated_ticket_levels(conn, ids)
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
            escalation_level=levels.get(r[0], 0),
            platform_intervention=bool(r[14]),
            tags=tuple(x for x in (r[15] or "").split("|") if x),
            due_soon_at=r[16],
        )
    return rows

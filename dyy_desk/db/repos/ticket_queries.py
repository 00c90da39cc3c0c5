"""Queue reads: entries for the in-memory queue index, and display rows for a page of ids.

Plain SQL that SQLite and PostgreSQL both run.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, select

from dyy_desk.core.queue_index import NO_DEADLINE, QueueEntry
from dyy_desk.core.types import Platform, Priority, TicketCategory, TicketRow, TicketStatus
from dyy_desk.db.repos.tables import clients, customers, shops, tickets, users

_ENTRY_SQL = """
SELECT t.id, t.number, t.status, t.client_id, t.shop_id, t.platform, t.category, t.priority,
       t.assignee_id, t.due_at, t.created_at, t.updated_at, t.platform_intervention,
       t.subject, t.order_no, t.tags, t.product, c.nick
FROM ticket AS t LEFT JOIN customer AS c ON c.id = t.customer_id
WHERE NOT t.deleted
"""


def load_queue_entries(conn: Connection, ids: Sequence[str] | None = None) -> list[QueueEntry]:
    """Entries for the in-memory queue index: every live ticket, or just `ids` after a write.

    Raw driver SQL on purpose: at 100k rows the Core result machinery costs more than SQLite itself.
    """
    names = {row[0]: row[1] for row in conn.exec_driver_sql("SELECT id, name FROM client")}
    if ids is None:
        rows = conn.exec_driver_sql(_ENTRY_SQL).fetchall()
    else:
        rows = []
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            marks = ",".join("?" * len(chunk))
            rows += conn.exec_driver_sql(f"{_ENTRY_SQL} AND t.id IN ({marks})", tuple(chunk)).fetchall()
    return [
        QueueEntry(
            id=r[0],
            number=r[1],
            status=r[2],
            client_id=r[3],
            client_name=names.get(r[3], ""),
            shop_id=r[4],
            platform=r[5],
            category=r[6],
            priority=r[7],
            assignee_id=r[8],
            due=r[9] or NO_DEADLINE,
            created=r[10],
            updated=r[11],
            escalated=bool(r[12]),
            text=f"{r[1]} {r[13]} {r[14] or ''} {r[17] or ''} {r[15]} {r[16] or ''}".lower(),
        )
        for r in rows
    ]


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

"""Ticket writes inside the caller's transaction (no commit here)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from dyy_desk.core.ids import new_id
from dyy_desk.core.ticket_numbers import format_ticket_number
from dyy_desk.core.types import EventKind
from dyy_desk.db.repos.tables import ticket_counters, ticket_events, tickets


def next_ticket_number(conn: Connection, *, now: datetime) -> str:
    local_day = now.astimezone().date()
    key = f"{local_day:%Y%m%d}"
    last = conn.execute(select(ticket_counters.c.last).where(ticket_counters.c.day == key)).scalar()
    if last is None:
        conn.execute(insert(ticket_counters).values(day=key, last=1))
        return format_ticket_number(local_day, 1)
    conn.execute(update(ticket_counters).where(ticket_counters.c.day == key).values(last=last + 1))
    return format_ticket_number(local_day, last + 1)


def insert_ticket(conn: Connection, values: dict[str, Any]) -> None:
    conn.execute(insert(tickets).values(**values))


def update_ticket(conn: Connection, ticket_id: str, values: dict[str, Any]) -> None:
    conn.execute(update(tickets).where(tickets.c.id == ticket_id).values(**values))


def append_event(
    conn: Connection,
    *,
    ticket_id: str,
    kind: EventKind,
    at: datetime,
    actor_id: str | None,
    text: str = "",
    data: dict[str, Any] | None = None,
    origin: str = "",
) -> str:
    event_id = new_id()
    conn.execute(
        insert(ticket_events).values(
            id=event_id,
            ticket_id=ticket_id,
            kind=kind.value,
            at=at,
            actor_id=actor_id,
            text=text,
            data=json.dumps(data, ensure_ascii=False) if data else "",
            origin=origin,
        )
    )
    return event_id

"""Write the generated demo workspace with Core bulk inserts (one transaction)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert

from dyy_desk.core.demo_generate import generate_demo
from dyy_desk.db.repos.tables import clients, customers, shops, ticket_counters, ticket_events, tickets, users


def seed_demo(conn: Connection, *, spec_text: str, now: datetime, origin: str) -> int:
    demo = generate_demo(spec_text, now=now)
    sync = {"origin": origin, "version": "", "deleted": False}
    conn.execute(insert(users), [u | sync for u in demo.users])
    conn.execute(insert(clients), [c | sync for c in demo.clients])
    conn.execute(insert(shops), [s | sync for s in demo.shops])
    conn.execute(insert(customers), [c | sync for c in demo.customers])
    conn.execute(insert(tickets), [t | sync for t in demo.tickets])
    conn.execute(insert(ticket_events), [e | {"origin": origin} for e in demo.events])
    conn.execute(insert(ticket_counters), [{"day": d, "last": n} for d, n in demo.counters.items()])
    return len(demo.tickets)

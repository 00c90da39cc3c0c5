"""Write the generated demo workspace with Core bulk inserts (one transaction)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import Connection, Engine, insert, select

from dyy_desk.core.demo_generate import generate_demo
from dyy_desk.core.sop_template import AfterSalesType, AnchorEvent
from dyy_desk.core.ticket_states import OPEN_STATUSES
from dyy_desk.core.types import TicketCategory
from dyy_desk.db.repos.tables import clients, customers, shops, ticket_counters, ticket_events, tickets, users
from dyy_desk.services.errors import ServiceError
from dyy_desk.services.sop_service import SopService


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


_CHECKLIST_CATEGORIES = {
    TicketCategory.RETURN_REFUND: (AfterSalesType.RETURN_REFUND,),
    TicketCategory.EXCHANGE: (AfterSalesType.EXCHANGE,),
    TicketCategory.REFUND_ONLY: (AfterSalesType.REFUND_ONLY_NOT_SHIPPED, AfterSalesType.REFUND_ONLY_SHIPPED),
}
_OPEN = [s.value for s in OPEN_STATUSES]


def seed_demo_checklists(sop: SopService, *, engine: Engine, now: datetime, seed: int = 20261123) -> int:
    """Running checklists on the demo's open after-sales tickets, started the way an agent would:
    the buyer's request recorded at the ticket's creation, some already agreed or shipped back."""
    rng = random.Random(seed)
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                tickets.c.id,
                tickets.c.category,
                tickets.c.created_at,
                tickets.c.assignee_id,
                tickets.c.created_by,
            )
            .where(
                tickets.c.status.in_(_OPEN), tickets.c.category.in_([c.value for c in _CHECKLIST_CATEGORIES])
            )
            .order_by(tickets.c.created_at)
        ).all()
    started = 0
    for ticket_id, category, created_at, assignee_id, created_by in rows:
        kind = rng.choice(_CHECKLIST_CATEGORIES[TicketCategory(category)])
        anchors = {AnchorEvent.APPLICATION_SUBMITTED: created_at}
        if kind is AfterSalesType.RETURN_REFUND and rng.random() < 0.5:
            anchors[AnchorEvent.MERCHANT_AGREED] = created_at + timedelta(minutes=rng.randint(20, 180))
        actor = assignee_id or created_by
        try:
            view, _ = sop.start(
                ticket_id=ticket_id,
                actor_id=actor,
                after_sales_type=kind,
                amount=Decimal(rng.choice(["59.00", "89.00", "129.00", "199.00", "299.00", "459.00"])),
                anchors=anchors,
            )
        except ServiceError:
            continue  # no template for this platform and type: the agent would not start one either
        started += 1
        # Agents mostly keep up: most steps whose time has run out were done in time; a few slipped.
        for step in view.steps:
            if (
                step.is_open
                and step.deadline_at is not None
                and step.deadline_at < now
                and rng.random() < 0.85
            ):
                sop.tick(ticket_id=ticket_id, step_id=step.step_id, actor_id=actor)
    return started

"""Revealing a buyer's phone and address: an explicit act, written to the audit log first.

The ticket detail only ever carries masked values (see TicketService.detail); this is the one place
the full values leave the database for the UI, and each time it does the audit log records who, when,
which ticket and why. The audit entry never contains the values themselves.
"""

from __future__ import annotations

from sqlalchemy import Engine, select

from dyy_desk.core.clock import Clock
from dyy_desk.core.types import Role
from dyy_desk.db.repos.tables import customers, tickets
from dyy_desk.services.audit import append_audit
from dyy_desk.services.auth_service import require_role
from dyy_desk.services.errors import NotFound, ServiceError


class PersonalDataService:
    def __init__(self, *, engine: Engine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock

    def reveal_contact(
        self, *, ticket_id: str, actor_id: str | None, reason: str = ""
    ) -> tuple[str | None, str | None]:
        """(phone, address) of the ticket's buyer, unmasked; any signed-in user may ask, never silently."""
        now = self._clock.now()
        with self._engine.begin() as conn:
            actor = require_role(conn, actor_id, Role)
            ticket = conn.execute(
                select(tickets.c.number, tickets.c.customer_id, tickets.c.deleted).where(
                    tickets.c.id == ticket_id
                )
            ).first()
            if ticket is None or ticket.deleted:
                raise NotFound("工单不存在或已被删除")
            if ticket.customer_id is None:
                raise ServiceError(f"工单 {ticket.number} 没有买家联系方式")
            customer = conn.execute(
                select(customers.c.phone, customers.c.address).where(customers.c.id == ticket.customer_id)
            ).first()
            if customer is None or not (customer.phone or customer.address):
                raise ServiceError(f"工单 {ticket.number} 没有买家联系方式")
            shown = [name for name in ("phone", "address") if getattr(customer, name)]
            append_audit(
                conn,
                at=now,
                actor_id=actor.id,
                action="reveal_contact",
                target=f"ticket:{ticket_id}",
                details={
                    "ticket": ticket.number,
                    "customer_id": ticket.customer_id,
                    "fields": shown,
                    "reason": reason.strip(),
                },
            )
        return customer.phone, customer.address

"""Revealing a buyer's contact is the one unmasked path, and it always leaves an audit entry."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from dyy_desk.core.clock import FakeClock
from dyy_desk.core.masking import is_masked
from dyy_desk.db.repos.tables import customers, tickets
from dyy_desk.services.audit import last_entries, verify_audit
from dyy_desk.services.errors import NotFound
from dyy_desk.services.personal_data import PersonalDataService


def test_reveal_is_audited_and_detail_stays_masked(demo_workspace: Any, clock: FakeClock) -> None:
    ws = demo_workspace
    with ws.engine.connect() as conn:
        ticket_id, number, phone, address = conn.execute(
            select(tickets.c.id, tickets.c.number, customers.c.phone, customers.c.address)
            .join(customers, customers.c.id == tickets.c.customer_id)
            .where(customers.c.phone.is_not(None))
            .limit(1)
        ).one()
    detail = ws.tickets.detail(ticket_id=ticket_id)
    assert is_masked(detail.customer_phone_masked) and phone not in (detail.customer_phone_masked or "")

    agent = next(u for u in ws.directory.users() if u.name == "李娜")
    service = PersonalDataService(engine=ws.engine, clock=clock)
    assert service.reveal_contact(ticket_id=ticket_id, actor_id=agent.id, reason=" 回电 ") == (phone, address)
    with ws.engine.connect() as conn:
        entry = last_entries(conn)[-1]
        assert verify_audit(conn).ok
    assert entry.action == "reveal_contact" and entry.actor_id == agent.id and entry.at == clock.now()
    assert entry.target == f"ticket:{ticket_id}" and f'"ticket":"{number}"' in entry.details
    assert '"reason":"回电"' in entry.details and phone not in entry.details


def test_refusals_leave_no_entry(demo_workspace: Any, clock: FakeClock) -> None:
    service = PersonalDataService(engine=demo_workspace.engine, clock=clock)
    agent = demo_workspace.directory.users()[0]
    with pytest.raises(NotFound):
        service.reveal_contact(ticket_id="missing", actor_id=agent.id)
    with pytest.raises(NotFound):
        service.reveal_contact(ticket_id="missing", actor_id=None)
    with demo_workspace.engine.connect() as conn:
        assert last_entries(conn) == []

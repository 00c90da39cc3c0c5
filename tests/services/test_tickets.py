from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from dyy_desk.core.clock import FakeClock
from dyy_desk.core.ticket_input import NewTicket, TicketInputError
from dyy_desk.core.ticket_query import QueueView, SortKey, TicketQuery
from dyy_desk.core.ticket_states import IllegalTransition
from dyy_desk.core.types import EventKind, Platform, Role, TicketCategory, TicketStatus


def _new(ws: Any, **overrides: Any) -> NewTicket:
    client = ws.directory.clients()[0]
    shop = ws.directory.shops(client_id=client.id)[0]
    values: dict[str, Any] = dict(
        client_id=client.id,
        shop_id=shop.id,
        category=TicketCategory.EXCHANGE,
        subject="四件套颜色发错了要换",
        customer_nick="测试买家",
        customer_phone="13812345678",
    )
    values.update(overrides)
    return NewTicket(**values)


def test_create_ticket_numbers_and_timeline(demo_workspace: Any, clock: FakeClock) -> None:
    ws = demo_workspace
    agent = next(u for u in ws.directory.users() if u.role is Role.AGENT)
    row, changes = ws.tickets.create(ticket=_new(ws, note="买家发来照片"), actor_id=agent.id)
    assert changes.tickets and row.id in changes.ticket_ids
    local_day = clock.now().astimezone().strftime("%Y%m%d")
    assert row.number.startswith(f"T{local_day}-")
    second, _ = ws.tickets.create(ticket=_new(ws), actor_id=agent.id)
    assert int(second.number[-4:]) == int(row.number[-4:]) + 1
    detail = ws.tickets.detail(ticket_id=row.id)
    assert detail.customer_phone_masked == "138****5678"
    assert [e.kind for e in detail.events] == [EventKind.CREATED]
    assert detail.events[0].text == "买家发来照片"


def test_invalid_ticket_writes_nothing(demo_workspace: Any) -> None:
    ws = demo_workspace
    before = len(ws.tickets.query_ids(query=TicketQuery()))
    with pytest.raises(TicketInputError) as info:
        ws.tickets.create(ticket=_new(ws, subject=""), actor_id=None)
    assert "subject" in info.value.errors
    other_client = ws.directory.clients()[1]
    with pytest.raises(TicketInputError, match="不属于"):
        ws.tickets.create(ticket=_new(ws, client_id=other_client.id), actor_id=None)
    assert len(ws.tickets.query_ids(query=TicketQuery())) == before


def test_status_machine_and_refusal(demo_workspace: Any, clock: FakeClock) -> None:
    ws = demo_workspace
    row, _ = ws.tickets.create(ticket=_new(ws), actor_id=None)
    with pytest.raises(IllegalTransition, match="处理中"):
        ws.tickets.change_status(ticket_id=row.id, status=TicketStatus.CLOSED, actor_id=None)
    clock.advance(minutes=5)
    ws.tickets.change_status(ticket_id=row.id, status=TicketStatus.IN_PROGRESS, actor_id=None)
    ws.tickets.change_status(ticket_id=row.id, status=TicketStatus.RESOLVED, actor_id=None)
    ws.tickets.change_status(ticket_id=row.id, status=TicketStatus.CLOSED, actor_id=None)
    ws.tickets.change_status(
        ticket_id=row.id, status=TicketStatus.IN_PROGRESS, actor_id=None, note="买家反馈未收到"
    )
    detail = ws.tickets.detail(ticket_id=row.id)
    assert detail.row.status is TicketStatus.IN_PROGRESS
    assert detail.resolved_at is None
    assert detail.first_response_at == clock.now()
    texts = [e.text for e in detail.events if e.kind is EventKind.STATUS]
    assert texts[-1].startswith("重新打开") and "买家反馈未收到" in texts[-1]


def test_assign_and_views(demo_workspace: Any) -> None:
    ws = demo_workspace
    agent = next(u for u in ws.directory.users() if u.role is Role.AGENT)
    row, _ = ws.tickets.create(ticket=_new(ws), actor_id=None)
    assert row.id in ws.tickets.query_ids(query=TicketQuery(view=QueueView.UNASSIGNED))
    ws.tickets.assign(ticket_id=row.id, assignee_id=agent.id, actor_id=agent.id)
    mine = ws.tickets.query_ids(query=TicketQuery(view=QueueView.MINE, user_id=agent.id))
    assert row.id in mine
    assert row.id not in ws.tickets.query_ids(query=TicketQuery(view=QueueView.UNASSIGNED))
    assert ws.tickets.assign(ticket_id=row.id, assignee_id=agent.id, actor_id=None).tickets is False


def test_filters_and_text_search(demo_workspace: Any) -> None:
    ws = demo_workspace
    all_ids = ws.tickets.query_ids(query=TicketQuery())
    rows = ws.tickets.rows(ids=all_ids)
    jd = ws.tickets.query_ids(query=TicketQuery(platform=Platform.JD))
    assert jd and all(rows[i].platform is Platform.JD for i in jd)
    refunds = ws.tickets.query_ids(query=TicketQuery(category=TicketCategory.REFUND_ONLY))
    assert refunds and all(rows[i].category is TicketCategory.REFUND_ONLY for i in refunds)
    sample = rows[all_ids[5]]
    assert ws.tickets.query_ids(query=TicketQuery(text=sample.number)) == [sample.id]
    by_nick = ws.tickets.query_ids(query=TicketQuery(text=sample.customer_nick))
    assert sample.id in by_nick and all(rows[i].customer_nick == sample.customer_nick for i in by_nick)


def test_due_views_and_sort(demo_workspace: Any, clock: FakeClock) -> None:
    ws = demo_workspace
    row, _ = ws.tickets.create(ticket=_new(ws, due_at=clock.now() + timedelta(minutes=90)), actor_id=None)
    due_soon = ws.tickets.query_ids(query=TicketQuery(view=QueueView.DUE_SOON, due_soon_hours=2))
    assert row.id in due_soon
    clock.advance(hours=2)
    assert row.id in ws.tickets.query_ids(query=TicketQuery(view=QueueView.OVERDUE))
    assert row.id not in ws.tickets.query_ids(query=TicketQuery(view=QueueView.DUE_SOON))
    _soon, overdue = ws.tickets.due_counts(due_soon_hours=2)
    assert overdue >= 1
    ordered = ws.tickets.query_ids(query=TicketQuery(sort=SortKey.DUE))
    dues = [r.due_at for r in map(ws.tickets.rows(ids=ordered).get, ordered) if r and r.due_at]
    assert dues == sorted(dues)
    ws.tickets.change_status(ticket_id=row.id, status=TicketStatus.RESOLVED, actor_id=None)
    assert row.id not in ws.tickets.query_ids(query=TicketQuery(view=QueueView.OVERDUE))


def test_notes_and_first_response(demo_workspace: Any) -> None:
    ws = demo_workspace
    row, _ = ws.tickets.create(ticket=_new(ws), actor_id=None)
    with pytest.raises(Exception, match="不能为空"):
        ws.tickets.add_note(ticket_id=row.id, text="  ", actor_id=None)
    ws.tickets.add_note(ticket_id=row.id, text="亲，已为您登记", actor_id=None, reply=True)
    detail = ws.tickets.detail(ticket_id=row.id)
    assert detail.first_response_at is not None
    assert detail.events[-1].kind is EventKind.REPLY


def test_numbers_may_repeat_across_machines(demo_workspace: Any) -> None:
    """Two agents offline on the same day both number their first ticket T…-0001; both must fit."""
    from sqlalchemy import insert, select

    from dyy_desk.db.repos.tables import tickets

    ws = demo_workspace
    row, _ = ws.tickets.create(ticket=_new(ws), actor_id=None)
    with ws.engine.connect() as conn:
        mine = dict(conn.execute(select(tickets).where(tickets.c.id == row.id)).mappings().one())
    with ws.engine.begin() as conn:
        conn.execute(insert(tickets).values({**mine, "id": "other-machine-ticket", "origin": "machine-b"}))
    ws.tickets.invalidate_queue()
    found = ws.tickets.query_ids(query=TicketQuery(text=row.number))
    assert set(found) == {row.id, "other-machine-ticket"}  # searching the number finds both
    second, _ = ws.tickets.create(ticket=_new(ws), actor_id=None)
    assert second.number != row.number  # this machine's own counter never repeats

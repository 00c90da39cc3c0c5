"""SOP checklists through the service: deadlines, their sources, the ticket's due_at, notices, imports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from dyy_desk.core.business_hours import parse_business_hours
from dyy_desk.core.clock import FakeClock
from dyy_desk.core.deadlines import DeadlineState, add_business_hours
from dyy_desk.core.escalation_model import SopStepFact
from dyy_desk.core.sop_checklist import DeadlineSource, StepStatus
from dyy_desk.core.sop_template import AfterSalesType, AnchorEvent
from dyy_desk.core.ticket_input import NewTicket
from dyy_desk.core.ticket_query import QueueView, TicketQuery
from dyy_desk.core.types import Platform, Role, TicketCategory
from dyy_desk.infra.paths import read_resource_text
from dyy_desk.services.auth_service import AccessDenied
from dyy_desk.services.errors import ServiceError
from dyy_desk.services.sop_catalog import DataFileRejected
from dyy_desk.services.sop_deadline_text import parse_deadline_text
from dyy_desk.services.sop_service import SopService

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _sop(ws: Any, clock: FakeClock) -> SopService:
    return SopService(
        engine=ws.engine, clock=clock, origin=ws.machine_id, tickets=ws.tickets, local_zone=SHANGHAI
    )


def _agent(ws: Any) -> str:
    return str(next(u for u in ws.directory.users() if u.role is Role.AGENT).id)


def _supervisor(ws: Any) -> str:
    return str(next(u for u in ws.directory.users() if u.role is Role.SUPERVISOR).id)


def _ticket(ws: Any, category: TicketCategory, platform: Platform = Platform.JD) -> str:
    shop = next(s for s in ws.directory.shops() if s.platform is platform)
    row, _ = ws.tickets.create(
        ticket=NewTicket(
            client_id=shop.client_id,
            shop_id=shop.id,
            category=category,
            subject="测试售后",
            customer_nick="买家甲",
            assignee_id=_agent(ws),
        ),
        actor_id=_agent(ws),
    )
    return str(row.id)


def _due_at(ws: Any, ticket_id: str) -> datetime | None:
    return ws.tickets.rows(ids=[ticket_id])[ticket_id].due_at  # type: ignore[no-any-return]


def _in_view(ws: Any, view: QueueView, ticket_id: str) -> bool:
    return ticket_id in ws.tickets.query_ids(query=TicketQuery(view=view))


def test_deadlines_from_rule_platform_and_manual_with_sources(demo_workspace: Any, clock: FakeClock) -> None:
    ws, sop, agent = demo_workspace, _sop(demo_workspace, clock), _agent(demo_workspace)
    ticket_id = _ticket(ws, TicketCategory.RETURN_REFUND)
    view, changes = sop.start(ticket_id=ticket_id, actor_id=agent, amount=Decimal("129"))
    assert (view.template_id, view.template_version) == ("return_refund.default", 1)
    assert changes.sop and changes.tickets and changes.ticket_ids == (ticket_id,)
    assert view.step("review").deadline_at is None and "申请提交后 4 小时" in view.step("review").waiting_for
    assert "¥129.00" in view.step("refund").consequence

    submitted = clock.now() - timedelta(hours=3)  # the buyer applied three hours ago
    view, _ = sop.record_anchor(
        ticket_id=ticket_id, event=AnchorEvent.APPLICATION_SUBMITTED, at=submitted, actor_id=agent
    )
    schedule = parse_business_hours(read_resource_text("business_hours.toml"), "x")
    review, agree = view.step("review"), view.step("agree")
    assert review.deadline_at == add_business_hours(submitted, 4, schedule)
    assert agree.deadline_at == submitted + timedelta(hours=48)
    assert (agree.deadline_source, agree.source_label, agree.unverified) == (
        DeadlineSource.RULE,
        "规则默认",
        True,
    )
    assert _due_at(ws, ticket_id) == review.deadline_at

    view, _ = sop.set_deadline(
        ticket_id=ticket_id,
        step_id="agree",
        source=DeadlineSource.PLATFORM,
        text="剩余1天3小时",
        actor_id=agent,
    )
    agree = view.step("agree")
    assert agree.deadline_at == clock.now() + timedelta(hours=27)
    assert (agree.source_label, agree.unverified) == ("平台显示", False)
    view, _ = sop.set_deadline(
        ticket_id=ticket_id,
        step_id="agree",
        source=DeadlineSource.MANUAL,
        text="2026-11-30 10:00",
        actor_id=agent,
    )
    assert view.step("agree").deadline_source is DeadlineSource.PLATFORM  # platform-shown still wins
    view, _ = sop.set_deadline(
        ticket_id=ticket_id,
        step_id="review",
        source=DeadlineSource.MANUAL,
        text="2026-11-23 20:00",
        actor_id=agent,
    )
    assert view.step("review").source_label == "手动录入"
    assert view.step("review").deadline_at == datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    assert _due_at(ws, ticket_id) == datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

    view, _ = sop.tick(ticket_id=ticket_id, step_id="review", actor_id=agent)
    assert view.step("review").status is StepStatus.DONE
    assert _due_at(ws, ticket_id) == clock.now() + timedelta(hours=27)  # next nearest: the platform one
    events = ws.tickets.detail(ticket_id=ticket_id).events
    assert any("审核退货申请" in e.text and "完成" in e.text for e in events)


def test_ticket_due_at_drives_the_queue_views(demo_workspace: Any, clock: FakeClock) -> None:
    ws, sop, agent = demo_workspace, _sop(demo_workspace, clock), _agent(demo_workspace)
    ticket_id = _ticket(ws, TicketCategory.EXCHANGE)
    ws.tickets.query_ids(query=TicketQuery())  # the queue index is loaded, so it must be patched
    sop.start(ticket_id=ticket_id, actor_id=agent)
    assert not _in_view(ws, QueueView.DUE_SOON, ticket_id)
    sop.set_deadline(
        ticket_id=ticket_id,
        step_id="review",
        source=DeadlineSource.PLATFORM,
        text="剩余1小时",
        actor_id=agent,
    )
    assert _in_view(ws, QueueView.DUE_SOON, ticket_id) and not _in_view(ws, QueueView.OVERDUE, ticket_id)
    clock.advance(hours=2)
    assert _in_view(ws, QueueView.OVERDUE, ticket_id)
    sop.tick(ticket_id=ticket_id, step_id="review", actor_id=agent)
    assert not _in_view(ws, QueueView.OVERDUE, ticket_id)
    assert ws.tickets.query_ids(query=TicketQuery(view=QueueView.ALL))  # sorted by due, still answers


def test_skip_needs_a_reason_and_closed_steps_refuse_changes(demo_workspace: Any, clock: FakeClock) -> None:
    ws, sop, agent = demo_workspace, _sop(demo_workspace, clock), _agent(demo_workspace)
    ticket_id = _ticket(ws, TicketCategory.EXCHANGE)
    sop.start(ticket_id=ticket_id, actor_id=agent)
    with pytest.raises(ServiceError, match="原因"):
        sop.skip(ticket_id=ticket_id, step_id="check_stock", reason="  ", actor_id=agent)
    assert sop.view(ticket_id=ticket_id).step("check_stock").status is StepStatus.OPEN  # type: ignore[union-attr]
    view, _ = sop.skip(ticket_id=ticket_id, step_id="check_stock", reason="买家改为退货", actor_id=agent)
    assert view.step("check_stock").skip_reason == "买家改为退货"
    with pytest.raises(ServiceError, match="已跳过"):
        sop.tick(ticket_id=ticket_id, step_id="check_stock", actor_id=agent)
    view, _ = sop.add_note(ticket_id=ticket_id, step_id="review", text="买家同意换 L 码", actor_id=agent)
    view, _ = sop.add_proof(
        ticket_id=ticket_id, step_id="review", ref="SF1234567", label="退货单号", actor_id=agent
    )
    assert view.step("review").notes[0].text == "买家同意换 L 码"
    assert view.step("review").notes[0].by == "李娜"
    assert view.step("review").proofs[0].label == "退货单号"
    with pytest.raises(ServiceError, match="不能晚于当前时间"):
        sop.record_anchor(
            ticket_id=ticket_id,
            event=AnchorEvent.BUYER_SHIPPED,
            at=clock.now() + timedelta(hours=1),
            actor_id=agent,
        )


def test_ambiguous_category_needs_a_chosen_type(demo_workspace: Any, clock: FakeClock) -> None:
    ws, sop, agent = demo_workspace, _sop(demo_workspace, clock), _agent(demo_workspace)
    ticket_id = _ticket(ws, TicketCategory.REFUND_ONLY, Platform.TAOBAO)
    options = sop.start_options(ticket_id=ticket_id)
    assert options.ambiguous
    assert options.suggested == (AfterSalesType.REFUND_ONLY_NOT_SHIPPED, AfterSalesType.REFUND_ONLY_SHIPPED)
    with pytest.raises(ServiceError, match="选择售后类型"):
        sop.start(ticket_id=ticket_id, actor_id=agent)
    view, _ = sop.start(
        ticket_id=ticket_id, actor_id=agent, after_sales_type=AfterSalesType.REFUND_ONLY_NOT_SHIPPED
    )
    assert view.template_id == "refund_only_not_shipped.taobao"
    with pytest.raises(ServiceError, match="已经有处理清单"):
        sop.start(ticket_id=ticket_id, actor_id=agent, after_sales_type=AfterSalesType.REFUND_ONLY_SHIPPED)


def test_notices_once_per_state_and_after_a_restart(demo_workspace: Any, clock: FakeClock) -> None:
    ws, sop, agent = demo_workspace, _sop(demo_workspace, clock), _agent(demo_workspace)
    ticket_id = _ticket(ws, TicketCategory.EXCHANGE)
    sop.start(ticket_id=ticket_id, actor_id=agent)

    def notices_for_mine(service: Any) -> list[Any]:  # the demo's own checklists notify too
        return [n for n in service.due_notices(now=clock.now()) if n.ticket_id == ticket_id]

    sop.set_deadline(
        ticket_id=ticket_id,
        step_id="review",
        source=DeadlineSource.PLATFORM,
        text="剩余10小时",
        actor_id=agent,
    )
    assert notices_for_mine(sop) == []
    clock.advance(hours=9)
    notices = notices_for_mine(sop)
    assert [(n.step_id, n.state) for n in notices] == [("review", DeadlineState.DUE_SOON)]
    assert notices[0].ticket_id == ticket_id and notices[0].source_label == "平台显示"
    assert notices_for_mine(sop) == []  # once per state
    clock.advance(hours=2)
    assert [n.state for n in notices_for_mine(sop)] == [DeadlineState.OVERDUE]
    assert notices_for_mine(sop) == []

    # a second deadline passes while the app is closed: the next start reports it once, as overdue
    sop.set_deadline(
        ticket_id=ticket_id,
        step_id="check_stock",
        source=DeadlineSource.MANUAL,
        text="剩余3小时",
        actor_id=agent,
    )
    clock.advance(hours=30)
    restarted = _sop(ws, clock)
    notices = notices_for_mine(restarted)
    assert [(n.step_id, n.state) for n in notices] == [("check_stock", DeadlineState.OVERDUE)]
    assert notices_for_mine(restarted) == []


def test_handover_and_step_facts(demo_workspace: Any, clock: FakeClock) -> None:
    ws, sop, agent = demo_workspace, _sop(demo_workspace, clock), _agent(demo_workspace)
    soon, later = _ticket(ws, TicketCategory.EXCHANGE), _ticket(ws, TicketCategory.EXCHANGE)
    for ticket_id, left in ((soon, "剩余3小时"), (later, "剩余30小时")):
        sop.start(ticket_id=ticket_id, actor_id=agent)
        sop.set_deadline(
            ticket_id=ticket_id, step_id="review", source=DeadlineSource.PLATFORM, text=left, actor_id=agent
        )
    mine = {soon, later}  # the demo workspace has running checklists of its own
    items = [i for i in sop.handover(now=clock.now(), hours=4) if i.ticket_id in mine]
    assert [(i.ticket_id, i.step_id) for i in items] == [(soon, "review")]
    assert items[0].ticket_number.startswith("T") and items[0].assignee_name == "李娜"
    assert {i.ticket_id for i in sop.handover(now=clock.now(), hours=48)} >= mine
    facts = [f for f in sop.step_facts(now=clock.now()) if f.ticket_id in mine]
    assert all(isinstance(f, SopStepFact) for f in facts)
    assert {(f.ticket_id, f.step_id) for f in facts} == {(soon, "review"), (later, "review")}
    sop.tick(ticket_id=soon, step_id="review", actor_id=agent)
    assert {f.ticket_id for f in sop.step_facts(now=clock.now()) if f.ticket_id in mine} == {later}


_V2 = (
    read_resource_text("sop", "exchange.toml")
    .replace("version = 1", "version = 2")
    .replace('title = "确认换货库存"', 'title = "确认换货库存（新版）"')
)


def test_template_import_keeps_running_checklists_on_their_version(
    demo_workspace: Any, clock: FakeClock
) -> None:
    ws, sop, agent = demo_workspace, _sop(demo_workspace, clock), _agent(demo_workspace)
    old = _ticket(ws, TicketCategory.EXCHANGE)
    sop.start(ticket_id=old, actor_id=agent)
    with pytest.raises(AccessDenied):
        sop.catalog.import_template(text=_V2, source="exchange_v2.toml", actor_id=agent, now=clock.now())
    imported = sop.catalog.import_template(
        text=_V2, source="exchange_v2.toml", actor_id=_supervisor(ws), now=clock.now()
    )
    assert (imported.template_id, imported.version) == ("exchange.default", 2)
    new = _ticket(ws, TicketCategory.EXCHANGE)
    view, _ = sop.start(ticket_id=new, actor_id=agent)
    assert view.template_version == 2 and view.step("check_stock").title == "确认换货库存（新版）"
    kept = sop.view(ticket_id=old)
    assert (
        kept is not None and kept.template_version == 1 and kept.step("check_stock").title == "确认换货库存"
    )
    assert _sop(ws, clock).view(ticket_id=new).template_version == 2  # type: ignore[union-attr]


def _line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


_TOO_LONG = _V2.replace("hours = 48", "hours = 4800", 1)
_BAD_ANCHOR = _V2.replace('anchor = "merchant_agreed"', 'anchor = "shipped_maybe"')
_SAME_VERSION = read_resource_text("sop", "exchange.toml")


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        (_TOO_LONG, _line_of(_TOO_LONG, "4800"), "不超过 720 小时"),
        (_BAD_ANCHOR, _line_of(_BAD_ANCHOR, "shipped_maybe"), "未知锚点事件"),
        (_SAME_VERSION, _line_of(_SAME_VERSION, "id = "), "已在"),  # same id and version as the built-in
    ],
)
def test_bad_template_is_rejected_with_file_line_reason(
    demo_workspace: Any, clock: FakeClock, text: str, line: int, reason: str
) -> None:
    sop = _sop(demo_workspace, clock)
    before = sop.catalog.registry()
    with pytest.raises(DataFileRejected) as info:
        sop.catalog.import_template(
            text=text, source="bad.toml", actor_id=_supervisor(demo_workspace), now=clock.now()
        )
    assert info.value.source == "bad.toml" and info.value.line == line and reason in info.value.reason
    assert "bad.toml" in str(info.value) and f"第 {line} 行" in str(info.value)
    assert _sop(demo_workspace, clock).catalog.registry() == before  # nothing stored


def test_business_hours_without_working_time_is_refused(demo_workspace: Any, clock: FakeClock) -> None:
    sop, boss = _sop(demo_workspace, clock), _supervisor(demo_workspace)
    original = sop.catalog.business_hours_text()
    empty = "[weekly]\nmon = []\ntue = []\n"
    with pytest.raises(DataFileRejected, match="没有任何工作时段"):
        sop.catalog.save_business_hours(text=empty, actor_id=boss, now=clock.now())
    assert _sop(demo_workspace, clock).catalog.business_hours_text() == original
    night = '[weekly]\nmon = ["22:00-06:00"]\n'
    with pytest.raises(AccessDenied):
        sop.catalog.save_business_hours(text=night, actor_id=_agent(demo_workspace), now=clock.now())
    assert _sop(demo_workspace, clock).catalog.business_hours_text() == original
    sop.catalog.save_business_hours(text=night, actor_id=boss, now=clock.now())
    fresh = _sop(demo_workspace, clock).catalog
    assert fresh.business_hours_text() == night and fresh.schedule().weekly[0][0].label() == "22:00-次日06:00"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-24 18:30", datetime(2026, 11, 24, 10, 30, tzinfo=UTC)),
        ("2026/11/24 18:30:15", datetime(2026, 11, 24, 10, 30, 15, tzinfo=UTC)),
        ("11月24日 18:30", datetime(2026, 11, 24, 10, 30, tzinfo=UTC)),
        ("剩余1天3小时", datetime(2026, 11, 24, 12, 0, tzinfo=UTC)),
        ("还剩 2小时30分", datetime(2026, 11, 23, 11, 30, tzinfo=UTC)),
        ("02:15:30", datetime(2026, 11, 23, 11, 15, 30, tzinfo=UTC)),
    ],
)
def test_pasted_platform_deadlines(text: str, expected: datetime, clock: FakeClock) -> None:
    assert parse_deadline_text(text, now=clock.now(), zone=SHANGHAI) == expected


@pytest.mark.parametrize("text", ["", "明天下午", "2026-13-40 18:30", "剩余0小时"])
def test_unreadable_deadline_text_is_refused(text: str, clock: FakeClock) -> None:
    with pytest.raises(ServiceError):
        parse_deadline_text(text, now=clock.now(), zone=SHANGHAI)

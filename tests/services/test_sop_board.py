"""The SOP board's reads: one row per running checklist at its soonest-loss step, the templates in force,
and the working-hours schedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from dyy_desk.core.clock import FakeClock
from dyy_desk.core.deadlines import DeadlineState
from dyy_desk.core.sop_checklist import DeadlineSource
from dyy_desk.core.sop_template import AfterSalesType, AnchorEvent
from dyy_desk.core.types import Platform, Role, TicketCategory, TicketStatus
from dyy_desk.infra.paths import read_resource_text
from dyy_desk.services.sop_board import SopBoard, TemplateState
from tests.services.test_sop_service import _agent, _sop, _ticket


def test_board_lists_each_running_checklist_once_soonest_loss_first(
    tickets_only_workspace: Any, clock: FakeClock
) -> None:
    ws = tickets_only_workspace
    sop, agent = _sop(ws, clock), _agent(ws)
    board = SopBoard.of(sop)
    refund = _ticket(ws, TicketCategory.RETURN_REFUND)
    sop.start(ticket_id=refund, actor_id=agent, amount=Decimal("129"))
    sop.set_deadline(
        ticket_id=refund, step_id="refund", source=DeadlineSource.PLATFORM, text="剩余2小时", actor_id=agent
    )
    stock = _ticket(ws, TicketCategory.EXCHANGE)
    sop.start(ticket_id=stock, actor_id=agent)
    # Monday 17:00 in Shanghai: applied at 14:00, 4 working hours end at 18:00 (10:00 UTC), 1 h from now
    sop.record_anchor(
        ticket_id=stock,
        event=AnchorEvent.APPLICATION_SUBMITTED,
        at=clock.now() - timedelta(hours=3),
        actor_id=agent,
    )
    waiting = _ticket(ws, TicketCategory.EXCHANGE)
    sop.start(ticket_id=waiting, actor_id=agent)
    resolved = _ticket(ws, TicketCategory.EXCHANGE)
    sop.start(ticket_id=resolved, actor_id=agent)
    ws.tickets.change_status(ticket_id=resolved, status=TicketStatus.RESOLVED, actor_id=agent)

    rows = board.board(now=clock.now())
    assert [r.ticket_id for r in rows] == [stock, refund, waiting]
    first, second, last = rows
    assert first.step_id == "check_stock" and first.deadline == datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    assert first.source is DeadlineSource.RULE and first.unverified and first.source_label == "规则默认"
    assert second.step_id == "refund" and second.consequence == "逾期未确认收货，平台将自动退款 ¥129.00"
    assert second.source_label == "平台显示" and not second.unverified
    assert (second.done_steps, second.total_steps) == (0, 6) and second.type_label == "退货退款"
    shop = next(s for s in ws.directory.shops() if s.platform is Platform.JD)
    client = next(c for c in ws.directory.clients() if c.id == shop.client_id)
    assert (second.client_name, second.shop_name, second.platform) == (client.name, shop.name, Platform.JD)
    me = next(u for u in ws.directory.users() if u.id == agent)
    assert (second.assignee_id, second.assignee_name) == (agent, me.name)
    assert (
        last.deadline is None and last.waiting_for == "申请提交后 4 小时" and last.state(clock.now()) is None
    )

    assert [r.state(clock.now()) for r in rows[:2]] == [DeadlineState.DUE_SOON, DeadlineState.DUE_SOON]
    later = clock.now() + timedelta(minutes=90)
    assert [r.state(later) for r in rows[:2]] == [DeadlineState.OVERDUE, DeadlineState.DUE_SOON]

    # Ticking the current step moves the checklist to its next deadline (48 h after the application).
    sop.tick(ticket_id=stock, step_id="check_stock", actor_id=agent)
    rows = board.board(now=clock.now())
    assert [r.ticket_id for r in rows] == [refund, stock, waiting]
    assert rows[1].step_id == "review" and rows[1].done_steps == 1
    assert rows[1].consequence == "逾期未处理，平台可能自动同意或判责"


def test_templates_in_force_superseded_and_upcoming(tickets_only_workspace: Any, clock: FakeClock) -> None:
    ws = tickets_only_workspace
    sop = _sop(ws, clock)
    board = SopBoard.of(sop)
    v2 = (
        read_resource_text("sop", "exchange.toml")
        .replace("version = 1", "version = 2")
        .replace("effective_date = 2026-01-01", "effective_date = 2026-12-01")
    )
    assert "2026-12-01" in v2
    boss = next(u for u in ws.directory.users() if u.role is Role.SUPERVISOR).id
    sop.catalog.import_template(text=v2, source="exchange_v2.toml", actor_id=boss, now=clock.now())

    def states(now: datetime) -> dict[tuple[str, int], TemplateState]:
        return {(t.template_id, t.version): t.state for t in board.templates(now=now)}

    before = states(clock.now())
    assert before[("exchange.default", 1)] is TemplateState.IN_FORCE
    assert before[("exchange.default", 2)] is TemplateState.UPCOMING
    after = states(datetime(2026, 12, 2, 2, 0, tzinfo=UTC))
    assert after[("exchange.default", 1)] is TemplateState.SUPERSEDED
    assert after[("exchange.default", 2)] is TemplateState.IN_FORCE
    assert after[("exchange.pdd_douyin", 1)] is TemplateState.IN_FORCE  # its platforms keep their own

    rows = board.templates(now=clock.now())
    assert rows[-1].state is TemplateState.UPCOMING  # in force first
    exchange = next(t for t in rows if (t.template_id, t.version) == ("exchange.default", 1))
    assert (exchange.steps, exchange.timed_steps, exchange.unverified_steps) == (6, 6, 6)
    assert exchange.platforms == () and exchange.after_sales_type is AfterSalesType.EXCHANGE
    pdd = next(t for t in rows if t.template_id == "exchange.pdd_douyin")
    assert pdd.platforms == (Platform.PDD, Platform.DOUYIN) and pdd.type_label == "换货"


def test_schedule_shows_shifts_and_the_coming_holidays(tickets_only_workspace: Any, clock: FakeClock) -> None:
    board = SopBoard.of(_sop(tickets_only_workspace, clock))
    view = board.schedule_view(now=datetime(2026, 9, 30, 12, 0, tzinfo=UTC))
    assert view.timezone == "Asia/Shanghai"
    assert [d.label for d in view.weekly][:2] == ["周一", "周二"]
    assert view.weekly[0].shifts == ("09:00-12:00", "13:30-18:30") and view.weekly[6].shifts == ()
    assert view.holidays[0].isoformat() == "2026-10-01" and len(view.holidays) == 7
    assert [d.isoformat() for d in view.makeup_workdays] == ["2026-10-10"] and view.makeup_uses == "周一"

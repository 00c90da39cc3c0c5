"""Deadline reminders reach the agent once per state, in the banner (and the tray where there is one)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from dyy_desk.core.clock import FakeClock
from dyy_desk.core.deadlines import DeadlineState
from dyy_desk.core.sop_checklist import DeadlineSource
from dyy_desk.core.ticket_input import NewTicket
from dyy_desk.core.types import Platform, Role, TicketCategory
from dyy_desk.services.sop_service import SopService
from dyy_desk.ui.notifications import DeadlineBanner, DeadlineNotifier
from dyy_desk.ui.tasks import TaskRunner


def test_notifier_emits_each_state_once_and_banner_shows_it(
    qtbot: Any, tickets_only_workspace: Any, clock: FakeClock
) -> None:
    ws = tickets_only_workspace
    agent = next(u for u in ws.directory.users() if u.role is Role.AGENT).id
    sop = SopService(
        engine=ws.engine,
        clock=clock,
        origin=ws.machine_id,
        tickets=ws.tickets,
        local_zone=ZoneInfo("Asia/Shanghai"),
    )
    shop = next(s for s in ws.directory.shops() if s.platform is Platform.JD)
    row, _ = ws.tickets.create(
        ticket=NewTicket(
            client_id=shop.client_id,
            shop_id=shop.id,
            category=TicketCategory.EXCHANGE,
            subject="提醒测试",
            customer_nick="买家丙",
        ),
        actor_id=agent,
    )
    sop.start(ticket_id=row.id, actor_id=agent)
    sop.set_deadline(
        ticket_id=row.id, step_id="review", source=DeadlineSource.PLATFORM, text="剩余1小时", actor_id=agent
    )
    runner = TaskRunner()
    notifier = DeadlineNotifier(sop=sop, runner=runner, clock_now=clock.now)
    banner = DeadlineBanner(clock.now)
    qtbot.addWidget(banner)
    notifier.notices_ready.connect(banner.show_notices)
    received: list[list[Any]] = []
    notifier.notices_ready.connect(received.append)

    with qtbot.waitSignal(notifier.notices_ready, timeout=5000):
        notifier.start()  # checks at once, then every 30 s
    assert notifier.timer.isActive() and notifier.timer.interval() == 30_000
    assert [(n.step_id, n.state) for n in received[0]] == [("review", DeadlineState.DUE_SOON)]
    assert not banner.isHidden()
    assert row.number in banner.label.text() and "即将超时" in banner.label.text()

    notifier.check_now()
    runner.wait_idle()
    qtbot.wait(50)
    assert len(received) == 1  # the same state is not announced again

    clock.advance(hours=2)
    with qtbot.waitSignal(notifier.notices_ready, timeout=5000):
        notifier.check_now()
    assert [n.state for n in received[1]] == [DeadlineState.OVERDUE] and "已超时" in banner.label.text()
    with qtbot.waitSignal(banner.open_ticket, timeout=1000) as opened:
        banner.open_button.click()
    assert opened.args == [row.id] and banner.isHidden()
    notifier.stop()
    runner.wait_idle()

"""The shift-handover list shows what falls due in the next hours and copies as text."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from dyy_desk.core.clock import FakeClock
from dyy_desk.core.sop_checklist import DeadlineSource
from dyy_desk.core.ticket_input import NewTicket
from dyy_desk.core.types import Platform, Role, TicketCategory
from dyy_desk.services.sop_service import SopService
from dyy_desk.ui.dialogs.handover_dialog import HandoverDialog
from dyy_desk.ui.signals import AppSignals
from dyy_desk.ui.tasks import TaskRunner


def test_handover_dialog_lists_next_hours(qtbot: Any, demo_workspace: Any, clock: FakeClock) -> None:
    ws = demo_workspace
    agent = next(u for u in ws.directory.users() if u.role is Role.AGENT).id
    sop = SopService(
        engine=ws.engine,
        clock=clock,
        origin=ws.machine_id,
        tickets=ws.tickets,
        local_zone=ZoneInfo("Asia/Shanghai"),
    )
    shop = next(s for s in ws.directory.shops() if s.platform is Platform.JD)
    numbers = []
    for left in ("剩余2小时", "剩余10小时"):
        row, _ = ws.tickets.create(
            ticket=NewTicket(
                client_id=shop.client_id,
                shop_id=shop.id,
                category=TicketCategory.EXCHANGE,
                subject="交接测试",
                customer_nick="买家丁",
            ),
            actor_id=agent,
        )
        numbers.append(row.number)
        sop.start(ticket_id=row.id, actor_id=agent)
        sop.set_deadline(
            ticket_id=row.id, step_id="review", source=DeadlineSource.PLATFORM, text=left, actor_id=agent
        )
    runner, signals = TaskRunner(), AppSignals()
    dialog = HandoverDialog(sop=sop, runner=runner, signals=signals, clock_now=clock.now)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: numbers[0] in dialog.text(), timeout=5000)  # among the demo's own deadlines
    assert dialog.hours_spin.value() == 4
    row = next(r for r in range(dialog.model.rowCount()) if dialog.model.index(r, 1).data() == numbers[0])
    assert "2:00" in dialog.model.index(row, 0).data() and "平台显示" in dialog.model.index(row, 0).data()
    assert numbers[1] not in dialog.text()
    with qtbot.waitSignal(dialog.loaded, timeout=5000):
        dialog.hours_spin.setValue(12)
    assert numbers[0] in dialog.text() and numbers[1] in dialog.text()
    runner.wait_idle()

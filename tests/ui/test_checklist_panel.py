"""The checklist panel as an agent uses it, with a fake clock: countdowns repaint from the tick alone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event

from dyy_desk.core.clock import FakeClock
from dyy_desk.core.due_chip import ChipState
from dyy_desk.core.sop_checklist import DeadlineSource, StepStatus
from dyy_desk.core.ticket_input import NewTicket
from dyy_desk.core.types import Platform, Role, TicketCategory
from dyy_desk.services.sop_service import SopService
from dyy_desk.ui.dialogs.sop_dialogs import FormDialog
from dyy_desk.ui.panels.checklist_panel import ChecklistPanel
from dyy_desk.ui.signals import AppSignals
from dyy_desk.ui.tasks import TaskRunner


@pytest.fixture
def setup(
    qtbot: Any, demo_workspace: Any, clock: FakeClock
) -> Iterator[tuple[Any, ChecklistPanel, AppSignals]]:
    ws = demo_workspace
    sop = SopService(
        engine=ws.engine,
        clock=clock,
        origin=ws.machine_id,
        tickets=ws.tickets,
        local_zone=ZoneInfo("Asia/Shanghai"),
    )
    signals, runner = AppSignals(), TaskRunner()
    panel = ChecklistPanel(sop=sop, runner=runner, signals=signals, clock_now=clock.now)
    qtbot.addWidget(panel)
    panel.resize(520, 600)
    panel.show()
    panel.set_user(next(u for u in ws.directory.users() if u.role is Role.AGENT))
    yield ws, panel, signals
    runner.wait_idle()


def _ticket(ws: Any, category: TicketCategory) -> str:
    shop = next(s for s in ws.directory.shops() if s.platform is Platform.JD)
    row, _ = ws.tickets.create(
        ticket=NewTicket(
            client_id=shop.client_id,
            shop_id=shop.id,
            category=category,
            subject="界面售后",
            customer_nick="买家乙",
        ),
        actor_id=None,
    )
    return str(row.id)


def _open(qtbot: Any, panel: ChecklistPanel, ticket_id: str) -> None:
    with qtbot.waitSignal(panel.loaded, timeout=5000):
        panel.show_ticket(ticket_id)


def _start(qtbot: Any, panel: ChecklistPanel) -> FormDialog:
    panel.dialog = None
    panel.request_start()
    qtbot.waitUntil(lambda: isinstance(panel.dialog, FormDialog) and panel.dialog.isVisible(), timeout=5000)
    assert isinstance(panel.dialog, FormDialog)
    return panel.dialog


def _row(panel: ChecklistPanel, step_id: str) -> Any:
    return next(r for r in panel.rows if r.item.step_id == step_id)


def test_start_tick_skip_and_platform_deadline(qtbot: Any, setup: Any, clock: FakeClock) -> None:
    ws, panel, _signals = setup
    ticket_id = _ticket(ws, TicketCategory.EXCHANGE)
    _open(qtbot, panel, ticket_id)
    assert panel.view is None and panel.start_button.isVisible()

    dialog = _start(qtbot, panel)
    assert dialog.fields["type"].currentData() is not None  # 换货 is unambiguous: preselected
    dialog.fields["amount"].setText("129")
    with qtbot.waitSignal(panel.loaded, timeout=5000) as blocker:
        dialog.submit()
    view = blocker.args[0]
    assert view.template_id == "exchange.default" and "第 1 版" in panel.title_label.text()
    assert "¥129.00" in panel.title_label.text()
    assert not panel.start_button.isVisible() and panel.event_button.isVisible()

    with qtbot.waitSignal(panel.loaded, timeout=5000):
        _row(panel, "check_stock").check.click()
    assert panel.view.step("check_stock").status is StepStatus.DONE
    assert not _row(panel, "check_stock").check.isEnabled()

    skip = panel.request_skip("track_return")
    skip.submit()  # no reason: refused, the dialog stays open and says why
    assert skip.isVisible() and "原因" in skip.error_label.text()
    skip.fields["reason"].setText("买家已到店换货")
    with qtbot.waitSignal(panel.loaded, timeout=5000):
        skip.submit()
    assert panel.view.step("track_return").status is StepStatus.SKIPPED
    assert "买家已到店换货" in _row(panel, "track_return").chip.text()

    entry = panel.request_deadline("review", DeadlineSource.PLATFORM)
    entry.fields["text"].setText("剩余3小时")
    with qtbot.waitSignal(panel.loaded, timeout=5000):
        entry.submit()
    chip = _row(panel, "review").chip
    assert "3:00" in chip.text() and "平台显示" in chip.text()
    assert _row(panel, "review").chip_state is ChipState.ON_TRACK
    assert ws.tickets.rows(ids=[ticket_id])[ticket_id].due_at == clock.now() + timedelta(hours=3)


def test_countdown_repaints_from_the_tick_without_queries(qtbot: Any, setup: Any, clock: FakeClock) -> None:
    ws, panel, signals = setup
    ticket_id = _ticket(ws, TicketCategory.EXCHANGE)
    _open(qtbot, panel, ticket_id)
    with qtbot.waitSignal(panel.loaded, timeout=5000):
        _start(qtbot, panel).submit()
    entry = panel.request_deadline("review", DeadlineSource.PLATFORM)
    entry.fields["text"].setText("剩余3小时")
    with qtbot.waitSignal(panel.loaded, timeout=5000):
        entry.submit()
    row = _row(panel, "review")

    queries: list[str] = []
    listener = lambda *args: queries.append(args[2])  # noqa: E731
    event.listen(ws.engine, "before_cursor_execute", listener)
    try:
        clock.advance(hours=2, minutes=30)
        signals.tick.emit()
        assert row.chip_state is ChipState.DUE_SOON and "0:30" in row.chip.text() and "⚠" in row.chip.text()
        assert "即将超时" in row.chip.toolTip()
        clock.advance(hours=1)
        signals.tick.emit()
        assert row.chip_state is ChipState.OVERDUE and "超时 0:30" in row.chip.text()
        assert "已超时" in row.chip.toolTip()
    finally:
        event.remove(ws.engine, "before_cursor_execute", listener)
    assert queries == []


def test_ambiguous_type_must_be_chosen_and_rule_deadline_is_marked_unverified(
    qtbot: Any, setup: Any, clock: FakeClock
) -> None:
    ws, panel, _signals = setup
    _open(qtbot, panel, _ticket(ws, TicketCategory.REFUND_ONLY))
    dialog = _start(qtbot, panel)
    dialog.submit()
    assert dialog.isVisible() and "售后类型" in dialog.error_label.text()
    combo = dialog.fields["type"]
    combo.setCurrentIndex(1)  # the first suggestion
    with qtbot.waitSignal(panel.loaded, timeout=5000):
        dialog.submit()
    assert panel.view.after_sales_type.value.startswith("refund_only")
    record = panel.request_event()
    record.fields["event"].setCurrentIndex(record.fields["event"].findText("申请提交"))
    record.fields["at"].setDateTime(record.fields["at"].dateTime().addSecs(-3600))  # an hour ago
    with qtbot.waitSignal(panel.loaded, timeout=5000):
        record.submit()
    timed = [r for r in panel.rows if r.chip_state is not ChipState.NONE]
    assert timed and all("规则默认(未核实)" in r.chip.text() for r in timed)

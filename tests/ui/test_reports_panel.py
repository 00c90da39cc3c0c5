"""The 报表 area offscreen: what a supervisor and an agent see, periods and custom dates, reloading on
changes only while shown, and the export."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QDate, Qt

from dyy_desk.core.changes import Changes
from dyy_desk.core.report_metrics import PeriodKind
from dyy_desk.core.types import Role, UserRow


def _user(ws: Any, role: Role) -> UserRow:
    return next(u for u in ws.directory.users() if u.role is role)  # type: ignore[no-any-return]


@pytest.fixture
def make_panel(qtbot: Any, tickets_only_workspace: Any) -> Iterator[Any]:
    from dyy_desk.services.report_service import ReportService
    from dyy_desk.ui.panels.reports_panel import ReportsPanel
    from dyy_desk.ui.signals import AppSignals
    from dyy_desk.ui.tasks import TaskRunner

    ws = tickets_only_workspace
    runner = TaskRunner()
    signals = AppSignals()

    def make(user: UserRow | None) -> Any:
        signals.user_changed.emit(user)  # the area is built after the user was chosen
        panel = ReportsPanel(
            reports=ReportService(engine=ws.engine, clock=ws.clock),
            runner=runner,
            signals=signals,
            clock_now=ws.clock.now,
        )
        qtbot.addWidget(panel)
        panel.resize(1200, 700)
        with qtbot.waitSignal(panel.loaded, timeout=5000):
            panel.show()
        return panel

    yield make
    runner.wait_idle()


def _names(panel: Any) -> list[str]:
    model = panel.agent_model
    return [model.index(r, 0).data() for r in range(model.rowCount())]


def test_a_supervisor_sees_the_team_and_the_clients(make_panel: Any, tickets_only_workspace: Any) -> None:
    panel = make_panel(_user(tickets_only_workspace, Role.SUPERVISOR))
    agents = [u.name for u in tickets_only_workspace.directory.users() if u.role is Role.AGENT]
    names = _names(panel)
    assert set(agents) <= set(names) and names[-1] == "全部"
    model = panel.agent_model
    last = model.rowCount() - 1
    assert model.index(last, 0).data(Qt.ItemDataRole.FontRole).bold()
    assert int(model.index(last, 1).data()) == sum(int(model.index(r, 1).data()) for r in range(last))
    assert panel.client_box.isVisibleTo(panel) and panel.client_model.rowCount() == 3
    assert panel.status_label.text().startswith(panel.report.period.label)
    assert panel.period_kind() is PeriodKind.LAST_7_DAYS and not panel.first_edit.isEnabled()


def test_an_agent_sees_only_their_own_line(make_panel: Any, tickets_only_workspace: Any) -> None:
    agent = _user(tickets_only_workspace, Role.AGENT)
    panel = make_panel(agent)
    assert _names(panel) == [agent.name]
    assert not panel.client_box.isVisibleTo(panel) and panel.client_model.rowCount() == 0
    assert "只能看到自己" in panel.status_label.text()


def test_periods_and_custom_dates(make_panel: Any, tickets_only_workspace: Any, qtbot: Any) -> None:
    panel = make_panel(_user(tickets_only_workspace, Role.SUPERVISOR))
    week_handled = panel.report.total.handled
    with qtbot.waitSignal(panel.loaded, timeout=5000):
        panel.period_combo.setCurrentIndex(panel.period_combo.findData(PeriodKind.TODAY))
    assert panel.report.period.first_day == panel.report.period.last_day
    assert panel.report.total.handled < week_handled  # the demo resolved tickets all week

    with qtbot.waitSignal(panel.loaded, timeout=5000):
        panel.period_combo.setCurrentIndex(panel.period_combo.findData(PeriodKind.CUSTOM))
    assert panel.first_edit.isEnabled() and panel.last_edit.isEnabled()
    last = panel.last_edit.date()
    panel.first_edit.setDate(last.addDays(3))  # after the end: refused with the reason
    panel._runner.wait_idle()
    qtbot.waitUntil(lambda: "结束日期不能早于开始日期" in panel.status_label.text(), timeout=5000)
    with qtbot.waitSignal(panel.loaded, timeout=5000):
        panel.first_edit.setDate(QDate(last.year(), last.month(), 1))
    assert panel.report.period.first_day.day == 1


def test_reloads_on_changes_only_while_shown(
    make_panel: Any, tickets_only_workspace: Any, qtbot: Any
) -> None:
    panel = make_panel(_user(tickets_only_workspace, Role.SUPERVISOR))
    calls: list[str] = []
    real = panel._reports.report
    panel._reports.report = lambda **kw: calls.append("report") or real(**kw)
    with qtbot.waitSignal(panel.loaded, timeout=5000):
        panel._signals.operation_did_execute.emit(Changes(tickets=True), None)
    assert calls == ["report"]
    panel.hide()
    panel._signals.operation_did_execute.emit(Changes(qa=True), None)
    panel._signals.operation_did_execute.emit(Changes(library=True), None)
    panel._runner.wait_idle()
    assert calls == ["report"]
    with qtbot.waitSignal(panel.loaded, timeout=5000):
        panel.show()
    assert calls == ["report", "report"]


def test_a_long_report_shows_progress_and_can_be_cancelled(
    make_panel: Any, tickets_only_workspace: Any, qtbot: Any
) -> None:
    panel = make_panel(_user(tickets_only_workspace, Role.SUPERVISOR))
    shown = panel.report
    go = threading.Event()

    def slow(**kw: Any) -> Any:
        kw["progress"](1, 5, "已处理工单与解决时长")
        go.wait(5)
        kw["progress"](2, 5, "未结工单")  # raises once 取消 was pressed
        raise AssertionError("the report went on after 取消")

    panel._reports.report = slow
    panel.reload()
    qtbot.waitUntil(lambda: "已处理工单" in panel.status_label.text(), timeout=5000)
    assert panel.progress_bar.isVisibleTo(panel) and panel.progress_bar.value() == 1
    assert not panel.refresh_button.isEnabled()
    qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    go.set()
    qtbot.waitUntil(lambda: "已取消统计" in panel.status_label.text(), timeout=5000)
    assert panel.report is shown and not panel.progress_bar.isVisibleTo(panel)
    assert panel.refresh_button.isEnabled() and panel.agent_model.rowCount() > 0


def test_export_writes_the_shown_report(
    make_panel: Any, tickets_only_workspace: Any, qtbot: Any, tmp_path: Path
) -> None:
    panel = make_panel(_user(tickets_only_workspace, Role.SUPERVISOR))
    assert panel.export_button.isEnabled()
    target = tmp_path / "周报.csv"
    with qtbot.waitSignal(panel.exported, timeout=5000) as done:
        panel.export_to(target)
    assert done.args == [str(target)] and "已导出" in panel.status_label.text()
    assert target.read_text(encoding="utf-8-sig").splitlines()[1].startswith("客服,已处理")
    panel.export_to(tmp_path / "missing" / "周报.xlsx")
    qtbot.waitUntil(lambda: "未导出" in panel.status_label.text(), timeout=5000)

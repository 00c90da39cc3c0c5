"""The SOP area offscreen: the board of running checklists with its filters and live countdowns, opening
a ticket from it, reloading on changes, and the read-only templates tab."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt

from dyy_desk.core.changes import Changes
from dyy_desk.core.clock import FakeClock
from dyy_desk.core.sop_checklist import DeadlineSource
from dyy_desk.core.types import Role, TicketCategory, UserRow
from tests.services.test_sop_service import _ticket


def _user(ws: Any, role: Role, n: int = 0) -> UserRow:
    return [u for u in ws.directory.users() if u.role is role][n]  # type: ignore[no-any-return]


@pytest.fixture
def board_ws(tickets_only_workspace: Any) -> Any:
    """Two checklists of the first agent (platform deadlines 3 h and 30 h away), one of the second."""
    ws = tickets_only_workspace
    first, second = _user(ws, Role.AGENT, 0), _user(ws, Role.AGENT, 1)
    for left, agent in (("剩余3小时", first), ("剩余30小时", first), ("剩余20小时", second)):
        ticket_id = _ticket(ws, TicketCategory.EXCHANGE)
        ws.tickets.assign(ticket_id=ticket_id, assignee_id=agent.id, actor_id=agent.id)
        ws.sop.start(ticket_id=ticket_id, actor_id=agent.id)
        ws.sop.set_deadline(
            ticket_id=ticket_id,
            step_id="check_stock",
            source=DeadlineSource.PLATFORM,
            text=left,
            actor_id=agent.id,
        )
    return ws


@pytest.fixture
def make_panel(qtbot: Any, board_ws: Any) -> Iterator[Any]:
    from dyy_desk.ui.panels.sop_panel import SopPanel
    from dyy_desk.ui.signals import AppSignals
    from dyy_desk.ui.tasks import TaskRunner

    runner = TaskRunner()
    signals = AppSignals()

    def make(user: UserRow | None) -> Any:
        signals.user_changed.emit(user)  # before the panel exists, as when the area is first shown later
        panel = SopPanel(sop=board_ws.sop, runner=runner, signals=signals, clock_now=board_ws.clock.now)
        qtbot.addWidget(panel)
        panel.resize(1200, 700)
        with qtbot.waitSignal(panel.loaded, check_params_cb=lambda what: what == "board", timeout=5000):
            panel.show()
        return panel

    yield make
    runner.wait_idle()


def _tickets(panel: Any) -> list[str]:
    return [r.ticket_number for r in panel.model.rows()]


def test_agent_starts_on_mine_and_a_supervisor_on_everything(make_panel: Any, board_ws: Any) -> None:
    agent = _user(board_ws, Role.AGENT, 0)
    panel = make_panel(agent)
    from dyy_desk.ui.models.sop_board_models import BoardFilter

    assert panel.model.filter is BoardFilter.MINE and panel.filter_buttons[BoardFilter.MINE].isChecked()
    assert len(panel.model.rows()) == 2 and all(r.assignee_id == agent.id for r in panel.model.rows())
    assert panel.filter_buttons[BoardFilter.ALL].text() == "全部 (3)"
    assert panel.filter_buttons[BoardFilter.DUE_SOON].text() == "即将超时 (0)"

    supervisor = _user(board_ws, Role.SUPERVISOR)
    panel._signals.user_changed.emit(supervisor)
    assert panel.model.filter is BoardFilter.ALL and len(panel.model.rows()) == 3
    assert panel.filter_buttons[BoardFilter.MINE].text() == "我的 (0)"
    soonest = panel.model.rows()
    assert [r.deadline for r in soonest] == sorted(r.deadline for r in soonest)  # soonest loss first


def test_countdown_and_time_filters_follow_the_tick_without_queries(
    make_panel: Any, board_ws: Any, qtbot: Any
) -> None:
    from dyy_desk.ui.models.sop_board_models import BoardFilter

    panel = make_panel(_user(board_ws, Role.SUPERVISOR))
    clock: FakeClock = board_ws.clock
    calls: list[str] = []
    real = panel._board.board
    panel._board.board = lambda **kw: calls.append("board") or real(**kw)
    chip = panel.model.index(0, 0)
    assert chip.data() == "○ 3:00 · 平台显示"
    assert chip.data(Qt.ItemDataRole.ToolTipRole).startswith("剩余 3:00")

    panel.set_filter(BoardFilter.OVERDUE)
    assert panel.model.rowCount() == 0 and panel.board_stack.currentIndex() == 0
    assert "没有已超时" in panel.empty_label.text()
    clock.advance(hours=2, minutes=30)
    panel._signals.tick.emit()
    assert panel.model.rowCount() == 0 and panel.filter_buttons[BoardFilter.DUE_SOON].text() == "即将超时 (1)"
    clock.advance(minutes=31)
    panel._signals.tick.emit()
    assert panel.model.rowCount() == 1 and panel.board_stack.currentIndex() == 1
    assert panel.model.index(0, 0).data() == "✕ 超时 0:01 · 平台显示"
    assert panel.filter_buttons[BoardFilter.OVERDUE].text() == "已超时 (1)"
    panel._runner.wait_idle()
    qtbot.wait(10)
    assert calls == []


def test_enter_and_double_click_open_the_ticket(make_panel: Any, board_ws: Any, qtbot: Any) -> None:
    panel = make_panel(_user(board_ws, Role.SUPERVISOR))
    rows = panel.model.rows()
    panel.table.setFocus()
    panel.table.selectRow(1)
    with qtbot.waitSignal(panel._signals.ticket_selected) as opened:
        qtbot.keyClick(panel.table, Qt.Key.Key_Return)
    assert opened.args == [rows[1].ticket_id]
    with qtbot.waitSignal(panel._signals.ticket_selected) as opened:
        panel.table.doubleClicked.emit(panel.model.index(2, 3))
    assert opened.args == [rows[2].ticket_id]


def test_reloads_on_changes_only_while_shown(make_panel: Any, board_ws: Any, qtbot: Any) -> None:
    agent = _user(board_ws, Role.AGENT, 0)
    panel = make_panel(_user(board_ws, Role.SUPERVISOR))
    panel.table.selectRow(2)
    selected = panel.model.row_at(2).ticket_id
    first = panel.model.rows()[0]
    board_ws.sop.tick(ticket_id=first.ticket_id, step_id="check_stock", actor_id=agent.id)
    changes = Changes(sop=True, tickets=True, ticket_ids=(first.ticket_id,))
    with qtbot.waitSignal(panel.loaded, timeout=5000):
        panel._signals.operation_did_execute.emit(changes, None)
    moved = next(r for r in panel.model.rows() if r.ticket_id == first.ticket_id)
    assert moved.step_id == "review" and moved.done_steps == 1
    assert panel.model.row_at(panel.table.currentIndex().row()).ticket_id == selected  # selection kept

    calls: list[str] = []
    real = panel._board.board
    panel._board.board = lambda **kw: calls.append("board") or real(**kw)
    for _ in range(5):  # a burst of edits: one read, and one more for what arrived meanwhile
        panel._signals.operation_did_execute.emit(changes, None)
    qtbot.waitUntil(lambda: not panel._loading and len(calls) == 2, timeout=5000)
    panel._runner.wait_idle()
    qtbot.wait(20)
    assert calls == ["board", "board"]

    calls.clear()
    panel.hide()
    panel._signals.operation_did_execute.emit(Changes(qa=True), None)
    panel._signals.operation_did_execute.emit(changes, None)
    panel._runner.wait_idle()
    assert calls == []  # hidden: remembered, not read
    with qtbot.waitSignal(panel.loaded, timeout=5000):
        panel.show()
    assert calls == ["board"]


def test_templates_tab_is_read_only_and_flags_unverified_numbers(
    make_panel: Any, board_ws: Any, qtbot: Any
) -> None:
    panel = make_panel(_user(board_ws, Role.SUPERVISOR))
    with qtbot.waitSignal(panel.loaded, check_params_cb=lambda what: what == "templates", timeout=5000):
        panel.tabs.setCurrentIndex(1)
    model = panel.template_model
    names = [model.index(r, 1).data() for r in range(model.rowCount())]
    assert "换货 · 通用流程" in names
    row = names.index("换货 · 通用流程")
    assert model.index(row, 0).data() == "生效中" and model.index(row, 3).data() == "通用（其余平台）"
    assert model.index(row, 7).data() == "⚠ 6 项未核实"
    assert "09:00-12:00、13:30-18:30" in panel.schedule_label.text()
    assert "import-template" in panel.tabs.widget(1).findChildren(type(panel.schedule_label))[0].text()

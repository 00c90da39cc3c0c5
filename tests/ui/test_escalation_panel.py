"""The 升级 panel offscreen: the board by level, a live countdown from the tick, the acknowledge →
close flow with its refusal messages, and the manual escalation dialog."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from dyy_desk.core.clock import FakeClock
from dyy_desk.core.escalation_model import EscalationLevel, EscalationStatus
from dyy_desk.core.types import Role, TicketCategory, UserRow
from dyy_desk.infra.paths import DataPaths
from tests.services.test_escalation_service import Desk, make_desk

AGENT = UserRow(id="u_agent", name="李娜", role=Role.AGENT)
SUP = UserRow(id="u_sup", name="赵敏", role=Role.SUPERVISOR)


@pytest.fixture
def desk(paths: DataPaths, clock: FakeClock) -> Iterator[Desk]:
    yield from make_desk(paths, clock)


@pytest.fixture
def panel(qtbot: Any, desk: Desk) -> Iterator[Any]:
    from dyy_desk.ui.panels.escalation_panel import EscalationPanel
    from dyy_desk.ui.signals import AppSignals
    from dyy_desk.ui.tasks import TaskRunner

    signals = AppSignals()
    runner = TaskRunner()
    widget = EscalationPanel(
        escalations=desk.esc, tickets=desk.tickets, runner=runner, signals=signals, clock_now=desk.clock.now
    )
    qtbot.addWidget(widget)
    widget.resize(1200, 700)
    widget.show()
    yield widget
    runner.wait_idle()


def _settle(qtbot: Any, panel: Any) -> None:
    panel._runner.wait_idle()
    qtbot.wait(20)  # deliver the queued callbacks
    panel._runner.wait_idle()
    qtbot.wait(20)


def _select(qtbot: Any, panel: Any, row: int) -> None:
    panel.tabs.setCurrentIndex(0)
    panel.board_view.clearSelection()
    with qtbot.waitSignal(panel.loaded, check_params_cb=lambda what: what == "detail", timeout=5000):
        panel.board_view.selectRow(row)


def test_board_lists_by_level_and_the_countdown_follows_the_clock(qtbot: Any, panel: Any, desk: Desk) -> None:
    for _ in range(3):
        desk.add("s_food", TicketCategory.QUALITY_COMPLAINT, product="坚果礼盒")
    desk.add("s_home", TicketCategory.DATA_LEAK)
    manual = desk.ticket("s_home", TicketCategory.EXCHANGE)
    desk.esc.escalate_ticket(
        ticket_id=manual, level=EscalationLevel.L1, reason="买家情绪激动", actor_id="u_agent"
    )
    panel.set_user(SUP)
    _settle(qtbot, panel)
    assert [r.level for r in panel.board.rows()] == [
        EscalationLevel.L3,
        EscalationLevel.L2,
        EscalationLevel.L1,
    ]
    model = panel.board
    assert model.index(0, 0).data() == "L3 紧急干预" and model.index(2, 0).data() == "L1 潜在风险"
    assert model.index(0, 1).data() == "剩余 2:00"

    calls: list[str] = []
    real_board = desk.esc.board_page
    desk.esc.board_page = lambda **kw: calls.append("board") or real_board(**kw)  # type: ignore[method-assign]
    desk.advance(minutes=95)
    panel._signals.tick.emit()
    assert model.index(0, 1).data() == "即将超时 0:25"
    desk.advance(minutes=30)
    panel._signals.tick.emit()
    assert model.index(0, 1).data() == "超时 0:05"
    _settle(qtbot, panel)
    assert calls == []  # the tick never queried the database

    panel.sort_combo.setCurrentIndex(1)  # by first-response deadline: the overdue L3, then the L2 (4 h)
    _settle(qtbot, panel)
    assert [r.level for r in model.rows()][:2] == [EscalationLevel.L3, EscalationLevel.L2]
    panel.client_combo.setCurrentIndex(panel.client_combo.findText("青禾食品"))
    _settle(qtbot, panel)
    assert [r.level for r in model.rows()] == [EscalationLevel.L2]
    assert calls == ["board", "board"]  # sorting and filtering are SQL reads of the first page
    assert panel.shop_combo.count() == 2  # 全部店铺 + the one shop of 青禾食品


def test_the_board_reads_a_page_at_a_time(
    qtbot: Any, panel: Any, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Thousands of escalations may be open: the board holds only the pages scrolled into view."""
    from dyy_desk.ui.panels import escalation_panel

    monkeypatch.setattr(escalation_panel, "BOARD_PAGE", 2)
    for n, level in enumerate([EscalationLevel.L1, EscalationLevel.L3, EscalationLevel.L2] * 2):
        tid = desk.ticket("s_home", TicketCategory.EXCHANGE)
        desk.esc.escalate_ticket(ticket_id=tid, level=level, reason=f"原因 {n}", actor_id="u_agent")
    offsets: list[int] = []
    real_page = desk.esc.board_page
    desk.esc.board_page = lambda **kw: offsets.append(kw.get("offset", 0)) or real_page(**kw)  # type: ignore[method-assign]
    panel.set_user(SUP)
    model = panel.board
    for _ in range(5):  # the shown view asks for pages until its viewport is full
        _settle(qtbot, panel)
    assert offsets == [0, 2, 4] and model.total() == 6 and not model.canFetchMore()
    levels = [r.level for r in model.rows()]
    assert levels == sorted(levels, reverse=True) and len({r.id for r in model.rows()}) == 6

    first = model.rows()[:2]
    model.reset_page(first, 6)
    assert model.canFetchMore()
    model.fetchMore()
    assert not model.canFetchMore()  # one page on its way at a time
    model.append_page(model.generation - 1, 2, model.rows(), 6)  # an answer to the board before a reset
    assert model.rowCount() == 2


def test_acknowledge_to_close_with_refusals(qtbot: Any, panel: Any, desk: Desk) -> None:
    tid, _ = desk.add("s_home", TicketCategory.DATA_LEAK)
    panel.set_user(AGENT)
    _settle(qtbot, panel)
    assert panel.tabs.currentIndex() == 1  # an agent starts on 我发起的升级
    _select(qtbot, panel, 0)
    assert panel.ack_button.isEnabled() and not panel.close_button.isEnabled()
    assert "仅主管或管理员" in panel.close_button.toolTip()

    opened: list[str] = []
    panel._signals.ticket_selected.connect(opened.append)
    panel.detail_tabs.setCurrentIndex(0)
    panel.evidence_list.clicked.emit(panel.evidence_model.index(0, 0))
    assert opened == [tid]

    panel._signals.user_changed.emit(SUP)
    _settle(qtbot, panel)
    _select(qtbot, panel, 0)
    panel.owner_combo.setCurrentIndex(panel.owner_combo.findData("u_agent"))
    panel.ack_button.click()
    _settle(qtbot, panel)
    assert panel.detail.row.owner_name == "李娜"
    panel.start_button.click()
    _settle(qtbot, panel)
    panel.resolve_button.click()
    _settle(qtbot, panel)
    assert panel.detail.row.escalation.status is EscalationStatus.RESOLVED
    assert not panel.close_button.isEnabled()
    assert "复盘" in panel.refusal_label.text() and "回访" in panel.refusal_label.text()

    for key, text in (
        ("cause", "面单外泄"),
        ("impact", "1 位买家"),
        ("actions", "致歉补偿"),
        ("prevention", "隐私面单"),
    ):
        panel.pm_edits[key].setText(text)
    panel.pm_button.click()
    _settle(qtbot, panel)
    assert "回访" in panel.refusal_label.text() and "复盘" not in panel.refusal_label.text()
    panel.fu_note.setText("买家满意")
    panel.fu_button.click()
    _settle(qtbot, panel)
    assert panel.close_button.isEnabled() and panel.refusal_label.text() == ""
    panel.close_button.click()
    _settle(qtbot, panel)
    assert panel.board.rows() == []
    assert panel.detail.row.escalation.status is EscalationStatus.CLOSED
    assert [h.kind.value for h in panel.detail.history][-1] == "status"


def test_the_agent_sees_what_happened_to_their_escalation(qtbot: Any, panel: Any, desk: Desk) -> None:
    tid = desk.ticket("s_home", TicketCategory.EXCHANGE)
    row, _ = desk.esc.escalate_ticket(
        ticket_id=tid, level=EscalationLevel.L2, reason="威胁投诉", actor_id="u_agent"
    )
    desk.esc.acknowledge(escalation_id=row.id, actor_id="u_sup")
    panel.set_user(AGENT)
    _settle(qtbot, panel)
    assert panel.mine.index(0, 2).data() == "已响应" and panel.mine.index(0, 6).data() == "赵敏"


def test_manual_escalation_dialog_requires_a_reason(qtbot: Any, panel: Any, desk: Desk) -> None:
    from dyy_desk.ui.dialogs.escalate_dialog import EscalateDialog

    tid = desk.ticket("s_home", TicketCategory.EXCHANGE)
    dialog = EscalateDialog(
        escalations=desk.esc,
        runner=panel._runner,
        signals=panel._signals,
        ticket_id=tid,
        ticket_label="T…0001 换货",
        actor_id="u_agent",
    )
    qtbot.addWidget(dialog)
    dialog.submit()
    assert "原因" in dialog.error_label.text() and desk.esc.board() == []
    dialog.level_combo.setCurrentIndex(2)
    dialog.reason_edit.setPlainText("买家说要发微博曝光")
    with qtbot.waitSignal(dialog.escalated, timeout=5000) as caught:
        dialog.submit()
    row, changes = caught.args[0]
    assert row.level is EscalationLevel.L3 and changes.escalations and changes.ticket_ids == (tid,)
    panel.set_user(AGENT)
    _settle(qtbot, panel)
    assert [r.escalation.reason for r in panel.mine.rows()] == ["买家说要发微博曝光"]


def test_supervisor_is_told_once_about_escalations_waiting_for_them(qtbot: Any, window: Any) -> None:
    """The demo's rules raise L2/L3 escalations; a supervisor switching in hears about them once."""
    from dyy_desk.core.types import Role

    boss = next(u for u in window.workspace.directory.users() if u.role is Role.SUPERVISOR)
    with qtbot.waitSignal(window.maintenance.escalations.notify, timeout=10_000) as told:
        window.set_user(boss)
        window.maintenance.escalations._refresh_count()
    title, text = told.args
    assert "需要你处理" in title and "等待主管响应" in text
    received: list[Any] = []
    window.maintenance.escalations.notify.connect(lambda *a: received.append(a))
    window.maintenance.escalations._refresh_count()
    window.runner.wait_idle()
    qtbot.wait(100)
    assert received == []  # the same escalations are not announced twice

"""Drive the real main window as an agent would: create, filter, change status, get refused."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from dyy_desk.core.ticket_query import QueueView
from dyy_desk.core.types import STATUS_LABELS, TicketStatus
from dyy_desk.ui.actions import ACTIONS
from dyy_desk.ui.dialogs.shortcuts_dialog import shortcuts_html
from dyy_desk.ui.models.ticket_table import TicketTableModel


def _show_all(qtbot: Any, window: Any) -> None:
    with qtbot.waitSignal(window.queue.ids_loaded, timeout=5000):
        window.queue.set_view(QueueView.ALL)


def _open_row(qtbot: Any, window: Any, row: int) -> Any:
    with qtbot.waitSignal(window.detail.detail_loaded, timeout=5000) as blocker:
        window.queue.table.selectRow(row)
    return blocker.args[0]


def test_starts_on_my_tickets_and_lists_at_least_15_rows_at_1366x768(qtbot: Any, window: Any) -> None:
    assert window.queue.view_combo.currentText() == "我的工单"
    _show_all(qtbot, window)
    table = window.queue.table
    visible_rows = table.viewport().height() // table.rowHeight(0)
    assert visible_rows >= 15
    assert window.queue.model.rowCount() >= 180


def test_create_ticket_through_the_dialog(qtbot: Any, window: Any) -> None:
    dialog = window.new_ticket()
    dialog.subject_edit.setText("抗菌乳胶枕有异味想退")
    dialog.nick_edit.setText("界面测试买家")
    dialog.phone_edit.setText("13900001111")
    with qtbot.waitSignal(window.queue.ids_loaded, timeout=5000):
        qtbot.mouseClick(dialog.buttons.buttons()[0], Qt.MouseButton.LeftButton)
    window.queue.search_edit.setText("界面测试买家")
    qtbot.waitUntil(lambda: window.queue.model.rowCount() == 1, timeout=5000)
    row = window.queue.model.ticket_row(0)
    assert row.subject == "抗菌乳胶枕有异味想退"
    assert row.assignee_name == window.user.name


def test_dialog_marks_bad_fields_and_writes_nothing(qtbot: Any, window: Any) -> None:
    before = window.workspace.tickets.query_ids(query=window.queue.current_query().with_(view=QueueView.ALL))
    dialog = window.new_ticket()
    dialog.phone_edit.setText("not a phone")
    dialog.submit()
    assert dialog.isVisible()
    assert not dialog._errors["subject"].isHidden()
    assert not dialog._errors["customer_phone"].isHidden()
    assert "标红" in dialog.status_label.text()
    after = window.workspace.tickets.query_ids(query=window.queue.current_query().with_(view=QueueView.ALL))
    assert len(after) == len(before)
    dialog.reject()


def test_filter_by_text_and_status(qtbot: Any, window: Any) -> None:
    _show_all(qtbot, window)
    target = window.queue.model.ticket_row(3)
    with qtbot.waitSignal(window.queue.ids_loaded, timeout=5000) as blocker:
        window.queue.search_edit.setText(target.number)
    assert blocker.args == [1]
    assert window.queue.model.ticket_id(0) == target.id
    window.queue.search_edit.clear()
    qtbot.waitUntil(lambda: window.queue.model.rowCount() > 1, timeout=5000)
    combo = window.queue.status_combo
    with qtbot.waitSignal(window.queue.ids_loaded, timeout=5000):
        combo.setCurrentIndex(combo.findText(STATUS_LABELS[TicketStatus.CLOSED]))
    model = window.queue.model
    assert model.rowCount() > 0
    assert all(model.ticket_row(r).status is TicketStatus.CLOSED for r in range(model.rowCount()))


def _find_row(window: Any, status: TicketStatus) -> int:
    model = window.queue.model
    return next(r for r in range(model.rowCount()) if model.ticket_row(r).status is status)


def test_change_status_from_the_detail_panel(qtbot: Any, window: Any) -> None:
    _show_all(qtbot, window)
    detail = _open_row(qtbot, window, _find_row(window, TicketStatus.IN_PROGRESS))
    combo = window.detail.status_combo
    with qtbot.waitSignal(window.detail.detail_loaded, timeout=5000) as blocker:
        combo.setCurrentIndex(combo.findData(TicketStatus.WAITING_BUYER))
        combo.activated.emit(combo.currentIndex())
    updated = blocker.args[0]
    assert updated.row.id == detail.row.id
    assert updated.row.status is TicketStatus.WAITING_BUYER
    assert "处理中 → 待买家回复" in updated.events[-1].text


def test_illegal_transition_is_refused_with_allowed_list(qtbot: Any, window: Any) -> None:
    _show_all(qtbot, window)
    detail = _open_row(qtbot, window, _find_row(window, TicketStatus.NEW))
    combo = window.detail.status_combo
    with qtbot.waitSignal(window.detail.action_failed, timeout=5000) as blocker:
        combo.setCurrentIndex(combo.findData(TicketStatus.CLOSED))
        combo.activated.emit(combo.currentIndex())
    message = blocker.args[0]
    assert "不能从「新建」改为「已关闭」" in message and "处理中" in message
    assert window.detail.error_label.isVisible()
    qtbot.waitUntil(lambda: combo.currentData() == TicketStatus.NEW.value, timeout=2000)
    stored = window.workspace.tickets.detail(ticket_id=detail.row.id)
    assert stored.row.status is TicketStatus.NEW


def test_add_note_lands_in_timeline(qtbot: Any, window: Any) -> None:
    _show_all(qtbot, window)
    _open_row(qtbot, window, 0)
    window.detail.note_edit.setPlainText("已联系仓库补发")
    with qtbot.waitSignal(window.detail.detail_loaded, timeout=5000) as blocker:
        qtbot.mouseClick(window.detail.note_button, Qt.MouseButton.LeftButton)
    # the rules may add an escalation event in the background at any moment: look for ours
    assert [e.text for e in blocker.args[0].events if e.kind.value == "note"][-1] == "已联系仓库补发"
    assert "已联系仓库补发" in window.detail.timeline.toPlainText()


def test_queue_model_passes_qt_model_tester(qtmodeltester: Any, window: Any, qtbot: Any) -> None:
    _show_all(qtbot, window)
    qtmodeltester.check(window.queue.model)


def test_model_fetches_rows_lazily_in_pages(demo_workspace: Any) -> None:
    fetched: list[int] = []

    def fetch(ids: Any) -> Any:
        fetched.append(len(ids))
        return demo_workspace.tickets.rows(ids=ids)

    model = TicketTableModel(fetch, demo_workspace.clock.now)
    ids = demo_workspace.tickets.query_ids(query=window_query())
    model.set_ids(ids)
    assert fetched == []
    model.data(model.index(150, 1))
    assert fetched == [100]  # one page, around the row asked for
    model.data(model.index(120, 1))
    assert fetched == [100]


def window_query() -> Any:
    from dyy_desk.core.ticket_query import TicketQuery

    return TicketQuery()


def test_shortcuts_are_listed_from_the_registry() -> None:
    html = shortcuts_html(["工单", "知识库与话术"])
    for action in ACTIONS:
        assert action.shortcut in html and action.text in html
    assert "Alt+2" in html


def test_keyboard_shortcut_switches_view(qtbot: Any, window: Any) -> None:
    with qtbot.waitSignal(window.queue.ids_loaded, timeout=5000):
        window.action("view_overdue").trigger()
    assert window.queue.current_query().view is QueueView.OVERDUE


def test_layout_is_remembered_across_restarts(qtbot: Any, window: Any) -> None:
    from dyy_desk.infra.settings import load_settings
    from dyy_desk.ui.main_window import MainWindow

    window.resize(760, 560)  # inside the offscreen screen (800×800), so nothing gets clamped
    window.work_splitter.setSizes([380, 300])
    window.close()
    saved = load_settings(window.workspace.paths.config_dir)
    assert saved.window_geometry and saved.splitter_state
    before = window.work_splitter.sizes()
    again = MainWindow(workspace=window.workspace, settings=saved)
    qtbot.addWidget(again)
    assert again.restore_layout()
    again.show()
    qtbot.waitUntil(lambda: again.isVisible())
    assert again.size() == window.size()
    assert all(abs(a - b) <= 2 for a, b in zip(again.work_splitter.sizes(), before, strict=True))
    again.runner.shutdown()


def test_empty_view_explains_itself(qtbot: Any, window: Any) -> None:
    with qtbot.waitSignal(window.queue.ids_loaded, timeout=5000):
        window.queue.search_edit.setText("绝对不会出现的词")
    assert window.queue.empty_label.isVisible()
    assert "没有符合筛选条件" in window.queue.empty_label.text()
    with qtbot.waitSignal(window.queue.ids_loaded, timeout=5000):
        window.queue.search_edit.clear()
    assert window.queue.table.isVisible()


def test_header_counts_open_their_view_and_match_it(qtbot: Any, window: Any) -> None:
    """The count an agent clicks is the number of rows they then see (no other filter set)."""
    due_soon, overdue = window.header.due_counts
    assert overdue > 0
    with qtbot.waitSignal(window.queue.ids_loaded, timeout=5000):
        window.queue.search_edit.setText("毛毯")  # filters left over from earlier work are cleared
        window.queue.status_combo.setCurrentIndex(1)
    with qtbot.waitSignal(window.queue.ids_loaded, timeout=5000):
        window.header.due_badge.linkActivated.emit(QueueView.OVERDUE.value)
    assert window.queue.current_query().view is QueueView.OVERDUE
    assert window.queue.model.rowCount() == overdue
    assert window.queue.search_edit.text() == "" and window.queue.status_combo.currentIndex() == 0
    with qtbot.waitSignal(window.queue.ids_loaded, timeout=5000):
        window.header.due_badge.linkActivated.emit(QueueView.DUE_SOON.value)
    assert window.queue.model.rowCount() == due_soon


def test_header_search_field_opens_the_library_search(qtbot: Any, window: Any) -> None:
    qtbot.mouseClick(window.header.search_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.search_popup.isVisible(), timeout=5000)
    window.search_popup.close()


def test_timeline_gets_the_room_a_ticket_without_checklist_leaves(qtbot: Any, window: Any) -> None:
    _show_all(qtbot, window)
    model, sop = window.queue.model, window.workspace.sop
    ids = model.ids()[:60]
    with_steps = next(i for i in ids if sop.view(ticket_id=i) is not None)
    without = next(i for i in ids if sop.view(ticket_id=i) is None)
    heights = {}
    for ticket_id in (with_steps, without):
        with qtbot.waitSignal(window.checklist.loaded, timeout=5000):
            window.queue.select_ticket(ticket_id)
        qtbot.waitUntil(lambda t=ticket_id: window.checklist.ticket_id == t, timeout=5000)
        QApplication.processEvents()
        heights[ticket_id] = window.detail.timeline.height()
    assert heights[without] > heights[with_steps] * 1.5

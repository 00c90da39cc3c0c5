"""小窗: always on top, narrow (font-relative), the ticket's placeholder values, copy, remembered place."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from dyy_desk.ui.compact_window import WIDTH_EM, CompactWindow
from dyy_desk.ui.library_context import LibraryContext
from dyy_desk.ui.signals import AppSignals
from dyy_desk.ui.tasks import TaskRunner
from tests.ui.test_library_panel import library_workspace, some_tickets


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    yield from library_workspace(tmp_path_factory, "compact_ui")


@pytest.fixture
def compact(qtbot: Any, ws: Any) -> Iterator[CompactWindow]:
    signals, runner = AppSignals(), TaskRunner()
    context = LibraryContext(library=ws.library, tickets=ws.tickets, runner=runner, signals=signals)
    window = CompactWindow(context=context)
    window._test_keep = (signals, runner)  # type: ignore[attr-defined]
    qtbot.addWidget(window)
    signals.user_changed.emit(next(u for u in ws.directory.users() if u.name == "王强"))
    window.toggle()
    qtbot.waitExposed(window)
    yield window
    runner.wait_idle()


def test_stays_on_top_and_is_narrow(compact: CompactWindow) -> None:
    assert compact.windowFlags() & Qt.WindowType.WindowStaysOnTopHint
    assert compact.parentWidget() is None  # survives the main window being minimised
    em = compact.fontMetrics().horizontalAdvance("中")
    assert compact.width() == em * WIDTH_EM
    assert 250 <= compact.width() <= 480  # about 360 px at 100 % scale
    compact.toggle()
    assert not compact.isVisible()


def test_shows_ticket_values_and_copies(qtbot: Any, compact: CompactWindow, ws: Any) -> None:
    ticket_id = some_tickets(ws)[1]
    detail = ws.tickets.detail(ticket_id=ticket_id)
    compact.context.signals.ticket_selected.emit(ticket_id)
    qtbot.waitUntil(lambda: detail.row.customer_nick in compact.ticket_label.text(), timeout=5000)
    assert detail.row.number in compact.ticket_label.text()
    view = compact.view
    view.search_edit.setText("/hf")
    qtbot.waitUntil(lambda: view.shown_query == "/hf", timeout=5000)
    assert detail.row.customer_nick in compact.preview.toPlainText()
    QGuiApplication.clipboard().setText("")
    qtbot.keyClick(view.search_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: detail.order_no in QGuiApplication.clipboard().text(), timeout=5000)
    text = QGuiApplication.clipboard().text()
    assert detail.row.customer_nick in text and "{" not in text


def test_position_is_remembered_through_the_settings_text(
    qtbot: Any, compact: CompactWindow, ws: Any
) -> None:
    compact.move(123, 77)
    saved: list[str] = []
    compact.geometry_changed.connect(saved.append)
    compact.toggle()
    assert saved and saved[-1] == compact.geometry_text()
    again = CompactWindow(context=compact.context, geometry=saved[-1])
    qtbot.addWidget(again)
    again.toggle()
    qtbot.waitExposed(again)
    assert again.geometry() == compact.geometry()

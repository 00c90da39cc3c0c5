"""Ctrl+K: the quick-search popup opens over the window, ↑/↓ and Enter copy (then it closes), Esc closes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QMainWindow

from dyy_desk.ui.library_context import LibraryContext
from dyy_desk.ui.panels.library_panel import LibraryPanel
from dyy_desk.ui.search_popup import SearchPopup
from dyy_desk.ui.signals import AppSignals
from dyy_desk.ui.tasks import TaskRunner
from dyy_desk.ui.widgets.toast import Toast
from tests.ui.test_library_panel import library_workspace, some_tickets


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    yield from library_workspace(tmp_path_factory, "popup_ui")


@pytest.fixture
def host(qtbot: Any, ws: Any) -> Iterator[QMainWindow]:
    """A main window with the library area and the Ctrl+K action, as the lead wires it."""
    window = QMainWindow()
    window.signals = AppSignals(window)  # type: ignore[attr-defined]
    window.runner = TaskRunner(window)  # type: ignore[attr-defined]
    context = LibraryContext(
        library=ws.library,
        tickets=ws.tickets,
        runner=window.runner,  # type: ignore[attr-defined]
        signals=window.signals,  # type: ignore[attr-defined]
    )
    panel = LibraryPanel(context=context, directory=ws.directory)
    window.setCentralWidget(panel)
    window.popup = SearchPopup(context=panel.context, parent=window)  # type: ignore[attr-defined]
    action = QAction("搜索知识库与话术", window)
    action.setShortcut(QKeySequence("Ctrl+K"))
    action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
    action.triggered.connect(window.popup.show_popup)  # type: ignore[attr-defined]
    window.addAction(action)
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    qtbot.waitExposed(window)
    agent = next(u for u in ws.directory.users() if u.name == "李娜")
    window.signals.user_changed.emit(agent)  # type: ignore[attr-defined]
    yield window
    window.runner.wait_idle()  # type: ignore[attr-defined]


def open_with_ctrl_k(qtbot: Any, host: Any) -> SearchPopup:
    host.activateWindow()
    qtbot.keyClick(host, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    popup: SearchPopup = host.popup
    qtbot.waitUntil(popup.isVisible)
    return popup


def test_ctrl_k_opens_centred_over_the_window(qtbot: Any, host: Any) -> None:
    popup = open_with_ctrl_k(qtbot, host)
    centre = host.geometry().center()
    assert abs(popup.geometry().center().x() - centre.x()) <= 2
    assert popup.width() < host.width() and popup.height() < host.height()
    assert popup.windowFlags() & Qt.WindowType.FramelessWindowHint


def test_arrows_and_enter_copy_then_close(qtbot: Any, host: Any, ws: Any) -> None:
    detail = ws.tickets.detail(ticket_id=some_tickets(ws)[0])
    host.signals.ticket_selected.emit(detail.row.id)
    popup = open_with_ctrl_k(qtbot, host)
    qtbot.waitUntil(lambda: popup.view.context.detail is not None)
    edit = popup.view.search_edit
    edit.setText("欢迎语")  # QTest types Latin-1 only; Chinese arrives through the IME as text
    qtbot.waitUntil(
        lambda: popup.view.shown_query == "欢迎语" and popup.view.model.rowCount() > 1, timeout=5000
    )
    qtbot.keyClick(edit, Qt.Key.Key_Down)
    qtbot.keyClick(edit, Qt.Key.Key_Up)
    qtbot.keyClick(edit, Qt.Key.Key_Down)
    chosen = popup.view.current_hit()
    assert chosen is popup.view.model.hit(1)
    QGuiApplication.clipboard().setText("")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not popup.isVisible(), timeout=5000)
    text = QGuiApplication.clipboard().text()
    assert text and text[:4] in chosen.text
    toast = host.findChild(Toast)
    assert toast is not None and toast.isVisible() and chosen.title in toast.text()


def test_esc_closes_the_form_first_then_the_popup(qtbot: Any, host: Any) -> None:
    popup = open_with_ctrl_k(qtbot, host)
    popup.view.search_edit.setText("/yfh")
    qtbot.waitUntil(lambda: popup.view.shown_query == "/yfh", timeout=5000)
    qtbot.keyClick(popup.view.search_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(popup.view.form.isVisible, timeout=5000)
    qtbot.keyClick(popup, Qt.Key.Key_Escape)
    assert not popup.view.form.isVisible() and popup.isVisible()
    qtbot.keyClick(popup.view.search_edit, Qt.Key.Key_Escape)
    assert not popup.isVisible()

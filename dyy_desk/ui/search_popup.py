"""Ctrl+K from anywhere: a quick search over the library, centred over the window.

Type → results → ↑/↓ → Enter copies (the placeholder form appears when the ticket cannot fill
everything) → the popup closes and the window shows the toast. Esc closes the form first, then the
popup. It shares the panel's LibraryContext: same user, same selected ticket, same loaded index.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QDialog, QFrame, QLabel, QVBoxLayout, QWidget

from dyy_desk.core.i18n import _
from dyy_desk.ui.library_context import LibraryContext
from dyy_desk.ui.library_search_view import LibrarySearchView
from dyy_desk.ui.widgets.toast import show_toast

_STYLE = "QFrame#searchPopupFrame { border: 1px solid #9aa5b1; border-radius: 0.4em; }"


class SearchPopup(QDialog):
    """Create once (parent = the main window); call `show_popup()` from the Ctrl+K action."""

    def __init__(self, *, context: LibraryContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("搜索知识库与话术"))
        self.setWindowFlags(Qt.WindowType.Dialog | Qt.WindowType.FramelessWindowHint)
        frame = QFrame()
        frame.setObjectName("searchPopupFrame")
        frame.setStyleSheet(_STYLE)
        self.view = LibrarySearchView(context)
        hint = QLabel(_("↑/↓ 选择 · Enter 复制 · Esc 关闭"))
        hint.setObjectName("mutedLabel")
        inner = QVBoxLayout(frame)
        inner.addWidget(self.view, 1)
        inner.addWidget(hint)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(frame)
        self.view.copied.connect(self._on_copied)

    def show_popup(self) -> None:
        """Open (or bring back) the popup over the parent window with the search text selected."""
        fm = self.fontMetrics()
        em = fm.horizontalAdvance("中")
        host = self.parentWidget()
        area = host.window().geometry() if host is not None else self.screen().availableGeometry()
        width = min(em * 44, int(area.width() * 0.9))
        height = min(fm.height() * 28, int(area.height() * 0.85))
        self.resize(width, height)
        self.move(area.center().x() - width // 2, area.top() + max((area.height() - height) // 3, 0))
        self.show()
        self.raise_()
        self.activateWindow()
        self.view.focus_search()
        self.view.refresh()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape and self.view.form.isVisible():
            self.view.form.cancel()
            return
        super().keyPressEvent(event)

    def _on_copied(self, _text: str) -> None:
        host = self.parentWidget()
        self.accept()
        if host is not None:  # the popup is gone: confirm on the window underneath
            show_toast(host, self.view.last_message)

"""小窗 mode: a narrow always-on-top window with the search, its results, a short preview and the selected
ticket's placeholder values, for an agent who keeps the platform chat maximised.

It has no parent window on purpose: an owned window disappears when its owner is minimised, and the
whole point is that the main window may be minimised. The owner (the main window) keeps a reference,
closes it on exit and stores `geometry_text()` in Settings.compact_geometry (also sent by
`geometry_changed` whenever it is hidden), handing it back to the constructor next time.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import QByteArray, Qt, Signal
from PySide6.QtGui import QCloseEvent, QHideEvent
from PySide6.QtWidgets import QLabel, QTextBrowser, QVBoxLayout, QWidget

from dyy_desk.core.i18n import _
from dyy_desk.core.placeholders import KNOWN_PLACEHOLDERS
from dyy_desk.services.library_views import LibraryHit
from dyy_desk.ui.library_context import LibraryContext
from dyy_desk.ui.library_search_view import LibrarySearchView
from dyy_desk.ui.widgets.placeholder_form import placeholder_html

WIDTH_EM = 26  # about 360 px at 100 %; scales with the font
PREVIEW_LINES = 6


class CompactWindow(QWidget):
    geometry_changed = Signal(str)  # base64 of saveGeometry(), for Settings.compact_geometry

    def __init__(self, *, context: LibraryContext, geometry: str = "") -> None:
        super().__init__(None, Qt.WindowType.Window | Qt.WindowType.WindowStaysOnTopHint)
        self.setWindowTitle(_("DYY 小窗"))
        self.context = context
        fm = self.fontMetrics()
        self.ticket_label = QLabel()
        self.ticket_label.setWordWrap(True)
        self.ticket_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.view = LibrarySearchView(context)
        self.preview = QTextBrowser()
        self.preview.setMaximumHeight(fm.lineSpacing() * PREVIEW_LINES + fm.height())
        layout = QVBoxLayout(self)
        margin = fm.height() // 3
        layout.setContentsMargins(margin, margin, margin, margin)
        layout.addWidget(self.ticket_label)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.preview)
        self.setMinimumWidth(fm.horizontalAdvance("中") * 18)
        self.resize(fm.horizontalAdvance("中") * WIDTH_EM, fm.height() * 40)
        context.changed.connect(self._show_ticket)
        self.view.current_hit_changed.connect(self._show_preview)
        self._show_ticket()
        if geometry:
            self.restoreGeometry(QByteArray.fromBase64(geometry.encode("ascii")))

    def toggle(self) -> None:
        if self.isVisible():
            self.hide()
            return
        self.show()
        self.raise_()
        self.activateWindow()
        self.view.focus_search()
        self.view.refresh()

    def geometry_text(self) -> str:
        return bytes(self.saveGeometry().toBase64().data()).decode("ascii")

    def _show_ticket(self) -> None:
        detail = self.context.detail
        values = self.context.placeholder_values()
        if detail is None:
            head = _("<b>未选工单</b>：在主窗口选中工单后，占位符会自动填写。")
        else:
            row = detail.row
            head = f"<b>{escape(row.number)}</b> · {escape(row.client_name)} · {escape(row.shop_name)}"
        lines = [
            f"<span style='color:#555'>{escape(name)}</span>：{escape(values[name])}"
            for name in KNOWN_PLACEHOLDERS
            if name in values
        ]
        self.ticket_label.setText("<br>".join([head, *lines]))
        self._show_preview(self.view.current_hit())

    def _show_preview(self, hit: LibraryHit | None) -> None:
        if hit is None:
            self.preview.setHtml(_("<span style='color:#666'>选中结果后在这里预览；Enter 复制。</span>"))
            return
        body = placeholder_html(hit.text, self.context.placeholder_values())
        self.preview.setHtml(f"<b>{escape(hit.title)}</b><br>{body}")

    def hideEvent(self, event: QHideEvent) -> None:
        self.geometry_changed.emit(self.geometry_text())
        super().hideEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.geometry_changed.emit(self.geometry_text())
        super().closeEvent(event)

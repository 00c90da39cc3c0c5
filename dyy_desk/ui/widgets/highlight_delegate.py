"""Draw a library hit as two lines of rich text: kind, title, client badge and shortcut, then the
snippet, with the words the search matched highlighted.

Lines never wrap: each is elided to the row's width before highlighting, so a row is always exactly two
lines tall at any font size or scale.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from html import escape

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSize, Qt
from PySide6.QtGui import QAbstractTextDocumentLayout, QFont, QFontMetrics, QPainter, QPalette, QTextDocument
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from dyy_desk.core.i18n import _
from dyy_desk.services.library_views import LibraryHit
from dyy_desk.ui.models.library_models import KIND_LABELS, HitRole, client_badge

MARK_STYLE = "background-color:#ffe58f;color:#202020"
_BADGES = {
    "faq": "background-color:#e3f0ff;color:#0b3d91",
    "script": "background-color:#e6f4ea;color:#1e5e2f",
}
_CLIENT_BADGE = "background-color:#f1e8ff;color:#4a2a7a"
_GENERIC_BADGE = "background-color:#eeeeee;color:#444444"
_SHORTCUT = "color:#8a4b00"
_MUTED = "#5f6368"
_Index = QModelIndex | QPersistentModelIndex


def highlight(text: str, terms: Iterable[str]) -> str:
    """HTML-escaped `text` with every case-insensitive occurrence of `terms` marked (longest first)."""
    words = sorted({t for t in terms if t.strip()}, key=len, reverse=True)
    if not words:
        return escape(text)
    pattern = re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)
    out: list[str] = []
    last = 0
    for match in pattern.finditer(text):
        out.append(escape(text[last : match.start()]))
        out.append(f'<span style="{MARK_STYLE}">{escape(match.group(0))}</span>')
        last = match.end()
    out.append(escape(text[last:]))
    return "".join(out)


def _badge(text: str, style: str) -> str:
    return f'<span style="{style}">&nbsp;{escape(text)}&nbsp;</span>'


class HighlightDelegate(QStyledItemDelegate):
    def __init__(self, parent: object = None) -> None:
        super().__init__(parent)  # type: ignore[arg-type]
        self._pad = 4

    def html(self, index: _Index, width: int = 10_000, *, selected: bool = False) -> str:
        """The row's rich text for a row `width` pixels wide (public: tests read what is drawn)."""
        hit: LibraryHit | None = index.data(HitRole)
        if hit is None:
            return ""
        font = QApplication.font()
        bold = QFont(font)
        bold.setBold(True)
        plain_fm, bold_fm = QFontMetrics(font), QFontMetrics(bold)
        badges = [(_(KIND_LABELS[hit.kind]), _BADGES[hit.kind])]
        badges.append((client_badge(hit), _CLIENT_BADGE if hit.client_name else _GENERIC_BADGE))
        badge_width = sum(plain_fm.horizontalAdvance(f"  {b}  ") for b, _colour in badges)
        shortcut = hit.shortcut or ""
        if shortcut:
            badge_width += plain_fm.horizontalAdvance(f"  {shortcut}")
        room = max(width - 2 * self._pad, plain_fm.averageCharWidth() * 4)
        title = bold_fm.elidedText(hit.title, Qt.TextElideMode.ElideRight, max(room - badge_width, 0))
        snippet = plain_fm.elidedText(hit.snippet, Qt.TextElideMode.ElideRight, room)
        terms = hit.matched_terms
        head = " ".join(
            [_badge(*badges[0]), f"<b>{highlight(title, terms)}</b>", _badge(*badges[1])]
            + ([f'<span style="{_SHORTCUT}">{highlight(shortcut, terms)}</span>'] if shortcut else [])
        )
        muted = "" if selected else f' style="color:{_MUTED}"'
        return (
            f'<div style="white-space:nowrap">{head}</div>'
            f'<div style="white-space:nowrap"><span{muted}>{highlight(snippet, terms)}</span></div>'
        )

    def _document(self, option: QStyleOptionViewItem, index: _Index, *, selected: bool) -> QTextDocument:
        doc = QTextDocument()
        doc.setDocumentMargin(0)
        doc.setDefaultFont(option.font)
        doc.setHtml(self.html(index, option.rect.width(), selected=selected))
        return doc

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        widget = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        doc = self._document(opt, index, selected=selected)
        context = QAbstractTextDocumentLayout.PaintContext()
        palette = QPalette(opt.palette)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        palette.setColor(QPalette.ColorRole.Text, opt.palette.color(role))
        context.palette = palette
        painter.save()
        painter.setClipRect(opt.rect)
        painter.translate(opt.rect.left() + self._pad, opt.rect.top() + self._pad)
        doc.documentLayout().draw(painter, context)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        fm = QFontMetrics(option.font)
        height = fm.lineSpacing() * 2 + fm.descent() + 2 * self._pad + 2
        return QSize(fm.averageCharWidth() * 30, height)

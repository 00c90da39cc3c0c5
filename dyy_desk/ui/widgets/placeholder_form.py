"""Placeholders the ticket could not fill: a small inline form that asks for each one before copying,
and the preview markup that shows every placeholder (filled or not) at a glance.

Nothing reaches the clipboard until every placeholder is either typed in or explicitly 保持原样 (left
as `{name}` for the agent to fill in the chat tool), so a reply never goes out with a silent gap.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from html import escape

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from dyy_desk.core.i18n import _
from dyy_desk.core.placeholders import fill_placeholders, find_placeholders

FILLED_STYLE = "background-color:#e6f4ea;color:#1e5e2f"
UNFILLED_STYLE = "background-color:#fff1d6;color:#8a4b00;font-weight:600"
_OPEN, _CLOSE = "\ue000", "\ue001"  # private-use marks that survive escaping
_MARKED = re.compile(f"{_OPEN}([^{_CLOSE}]*){_CLOSE}")


def placeholder_html(text: str, values: Mapping[str, str]) -> str:
    """`text` as HTML with each placeholder marked: green with the value it will get, or orange
    `{name}` when nothing fills it yet. Line breaks kept."""
    names = find_placeholders(text)
    marked = fill_placeholders(text, {n: f"{_OPEN}{n}{_CLOSE}" for n in names}).text
    html = escape(marked)

    def mark(match: re.Match[str]) -> str:
        name = match.group(1)
        value = values.get(name, "").strip()
        if value:
            return f'<span style="{FILLED_STYLE}" title="{escape(name)}">{escape(value)}</span>'
        return f'<span style="{UNFILLED_STYLE}">{{{escape(name)}}}</span>'

    return _MARKED.sub(mark, html).replace("\n", "<br>")


class PlaceholderForm(QFrame):
    """One row per unfilled placeholder: a field and a 保持原样 box. `submitted(values)` carries only
    the typed values (names left as they are are absent); `cancelled` when the agent gives up."""

    submitted = Signal(object)
    cancelled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("placeholderForm")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.title_label = QLabel()
        self.title_label.setWordWrap(True)
        self.hint_label = QLabel(_("请填写以下占位符，或勾选「保持原样」后在聊天工具里补上："))
        self.hint_label.setWordWrap(True)
        self.hint_label.setObjectName("mutedLabel")
        self._grid = QGridLayout()
        self._grid.setColumnStretch(1, 1)
        self.copy_button = QPushButton(_("复制"))
        self.copy_button.setDefault(True)
        self.cancel_button = QPushButton(_("取消"))
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.copy_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title_label)
        layout.addWidget(self.hint_label)
        layout.addLayout(self._grid)
        layout.addLayout(buttons)
        self.fields: dict[str, QLineEdit] = {}
        self.keep_boxes: dict[str, QCheckBox] = {}
        self.copy_button.clicked.connect(self.submit)
        self.cancel_button.clicked.connect(self.cancel)
        self.hide()

    def ask(self, names: Sequence[str], title: str = "") -> None:
        """Show the form for these placeholder names and put the cursor in the first field."""
        while self._grid.count():
            item = self._grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.fields, self.keep_boxes = {}, {}
        self.title_label.setText(
            _("复制「{title}」前还差 {count} 个占位符").format(title=title, count=len(names)) if title else ""
        )
        self.title_label.setVisible(bool(title))
        for row, name in enumerate(names):
            field = QLineEdit()
            field.setPlaceholderText(_("填写{name}").format(name=name))
            field.setAccessibleName(name)
            keep = QCheckBox(_("保持原样"))
            keep.setToolTip(_("复制时保留 {{{name}}}，稍后手动填写").format(name=name))
            field.textChanged.connect(self._update)
            keep.toggled.connect(lambda on, f=field: f.setEnabled(not on))
            keep.toggled.connect(self._update)
            field.installEventFilter(self)
            self._grid.addWidget(QLabel(f"{{{name}}}"), row, 0)
            self._grid.addWidget(field, row, 1)
            self._grid.addWidget(keep, row, 2)
            self.fields[name] = field
            self.keep_boxes[name] = keep
        self._update()
        self.show()
        if names:
            self.fields[names[0]].setFocus()

    def is_complete(self) -> bool:
        return all(
            self.keep_boxes[name].isChecked() or field.text().strip() for name, field in self.fields.items()
        )

    def values(self) -> dict[str, str]:
        return {
            name: field.text().strip()
            for name, field in self.fields.items()
            if not self.keep_boxes[name].isChecked() and field.text().strip()
        }

    def submit(self) -> None:
        if not self.is_complete():
            self._focus_missing()
            return
        values = self.values()
        self.hide()
        self.submitted.emit(values)

    def cancel(self) -> None:
        if self.isVisible():
            self.hide()
            self.cancelled.emit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.submit()
                return True
            if event.key() == Qt.Key.Key_Escape:
                self.cancel()
                return True
        return False

    def _focus_missing(self) -> None:
        for name, field in self.fields.items():
            if not self.keep_boxes[name].isChecked() and not field.text().strip():
                field.setFocus()
                return

    def _update(self) -> None:
        complete = self.is_complete()
        self.copy_button.setEnabled(complete)
        missing = sum(
            1 for n, f in self.fields.items() if not self.keep_boxes[n].isChecked() and not f.text().strip()
        )
        self.copy_button.setText(
            _("复制") if complete else _("复制（还差 {missing} 项）").format(missing=missing)
        )

"""The small forms the SOP checklist opens (start, record an event, deadline, skip, note, proof, amount):
a form dialog that validates before it closes, so what was typed survives a refusal."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from dyy_desk.core.i18n import _

Check = Callable[[dict[str, Any]], str | None]


class FormDialog(QDialog):
    """A small form that stays open, saying what is wrong, until `check` accepts the values."""

    submitted = Signal(dict)

    def __init__(self, title: str, parent: QWidget | None, check: Check | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.fields: dict[str, QWidget] = {}
        self._check = check
        self.form = QFormLayout()
        self.error_label = QLabel()
        self.error_label.setObjectName("errorLabel")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(_("确定"))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(_("取消"))
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)

    def add(self, key: str, label: str, widget: QWidget) -> QWidget:
        self.fields[key] = widget
        self.form.addRow(label, widget)
        return widget

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, w in self.fields.items():
            if isinstance(w, QLineEdit):
                out[key] = w.text()
            elif isinstance(w, QComboBox):
                out[key] = w.currentData()
            elif isinstance(w, QDateTimeEdit):
                wall = w.dateTime().toPython()
                assert isinstance(wall, datetime)
                out[key] = wall.astimezone()  # local wall time → aware
        return out

    def submit(self) -> None:
        values = self.values()
        problem = self._check(values) if self._check else None
        if problem:
            self.error_label.setText(problem)
            self.error_label.show()
            return
        self.accept()
        self.submitted.emit(values)


def required_field(key: str, message: str) -> Check:
    return lambda v: message if not str(v.get(key) or "").strip() else None

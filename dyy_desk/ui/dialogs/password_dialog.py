"""Asks for a password: to confirm who you are, to set a first one, or to change it.

The dialog knows nothing of services: `submit` gets what was typed and returns an error to show
(wrong password, try again in N seconds …) or None to close. It keeps its own checks to what needs
no database: fields filled, the new password typed twice alike, long enough.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from dyy_desk.core.i18n import _

MIN_LENGTH = 6


@dataclass(frozen=True)
class PasswordEntry:
    current: str  # "" when not asked
    new: str  # "" when not asked


class PasswordDialog(QDialog):
    def __init__(
        self,
        *,
        title: str,
        prompt: str,
        submit: Callable[[PasswordEntry], str | None],
        ask_current: bool = True,
        ask_new: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self._submit = submit
        self._ask_current = ask_current
        self._ask_new = ask_new
        self.prompt_label = QLabel(prompt)
        self.prompt_label.setWordWrap(True)
        self.current_edit = self._password_edit(_("密码"))
        self.new_edit = self._password_edit(_("至少 {min_length} 位").format(min_length=MIN_LENGTH))
        self.repeat_edit = self._password_edit(_("再输入一次"))
        form = QFormLayout()
        if ask_current:
            form.addRow(_("当前密码") if ask_new else _("密码"), self.current_edit)
        if ask_new:
            form.addRow(_("新密码"), self.new_edit)
            form.addRow(_("确认新密码"), self.repeat_edit)
        self.error_label = QLabel()
        self.error_label.setObjectName("errorLabel")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(_("确定"))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(_("取消"))
        self.buttons.accepted.connect(self.try_accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.prompt_label)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)
        (self.current_edit if ask_current else self.new_edit).setFocus()

    @staticmethod
    def _password_edit(placeholder: str) -> QLineEdit:
        edit = QLineEdit()
        edit.setEchoMode(QLineEdit.EchoMode.Password)
        edit.setPlaceholderText(placeholder)
        return edit

    def try_accept(self) -> None:
        current = self.current_edit.text() if self._ask_current else ""
        new = self.new_edit.text() if self._ask_new else ""
        if self._ask_current and not current:
            self.show_error(_("请输入密码"))
            return
        if self._ask_new:
            if len(new) < MIN_LENGTH:
                self.show_error(_("新密码至少 {min_length} 位").format(min_length=MIN_LENGTH))
                return
            if new != self.repeat_edit.text():
                self.show_error(_("两次输入的新密码不一致"))
                return
        # scrypt is deliberately slow (~0.1–0.5 s): show it is working rather than looking frozen
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            error = self._submit(PasswordEntry(current=current, new=new))
        finally:
            QGuiApplication.restoreOverrideCursor()
        if error:
            self.current_edit.clear()
            (self.current_edit if self._ask_current else self.new_edit).setFocus()
            self.show_error(error)
            return
        self.accept()

    def show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.show()

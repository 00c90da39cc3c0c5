"""添加用户 / 修改角色: a name and a role. The dialog only collects them; the page runs the service
call in the worker and answers with `accept()` or `show_error()`, so a refusal keeps what was typed.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from dyy_desk.core.i18n import _
from dyy_desk.core.types import ROLE_LABELS, Role, UserRow
from dyy_desk.ui.panels.settings.common import label


class UserDialog(QDialog):
    """添加用户 (name and role) or 修改角色 (role only); `submit` reports back via accept/show_error."""

    def __init__(
        self,
        *,
        roles: tuple[Role, ...],
        submit: Callable[[str, Role], None],
        user: UserRow | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("修改角色") if user else _("添加用户"))
        self._submit = submit
        self.name_edit = QLineEdit(user.name if user else "")
        self.name_edit.setMaxLength(64)
        self.name_edit.setPlaceholderText(_("同事的姓名，例如 李娜"))
        self.name_edit.setReadOnly(user is not None)
        self.role_combo = QComboBox()
        for role in roles:
            self.role_combo.addItem(_(ROLE_LABELS[role]), role)
        if user is not None and user.role in roles:
            self.role_combo.setCurrentIndex(roles.index(user.role))
        self.error_label = label(name="errorLabel")
        self.error_label.hide()
        form = QFormLayout()
        form.addRow(_("姓名"), self.name_edit)
        form.addRow(_("角色"), self.role_combo)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(_("保存"))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(_("取消"))
        self.buttons.accepted.connect(self.try_accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(
            label(_("主管和管理员切换到自己的账号时需要输入密码，第一次切换时设置。"), name="mutedLabel")
        )
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(self.fontMetrics().horizontalAdvance("工") * 26)
        (self.role_combo if user else self.name_edit).setFocus()

    def try_accept(self) -> None:
        if not self.name_edit.text().strip():
            self.show_error(_("请输入姓名"))
            return
        self.buttons.setEnabled(False)  # until the worker answers
        self._submit(self.name_edit.text(), self.role())

    def role(self) -> Role:
        return Role(self.role_combo.currentData())  # Qt hands a str enum back as plain str

    def show_error(self, message: str) -> None:
        self.buttons.setEnabled(True)
        self.error_label.setText(message)
        self.error_label.show()
        self.adjustSize()  # room for the message without squeezing the fields

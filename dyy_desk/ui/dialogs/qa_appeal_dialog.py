"""申诉: an agent contests a submitted review once, with a required reason."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from dyy_desk.core.i18n import _


class AppealDialog(QDialog):
    def __init__(
        self,
        *,
        marks: list[tuple[str, str]],  # (item or fatal id, label) of the review's deductions
        on_submit: Callable[[str, list[str]], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("申诉质检结果"))
        self._on_submit = on_submit
        intro = QLabel(_("每条质检只能申诉一次，由另一位主管复核，复核结果为最终结果。"))
        intro.setWordWrap(True)
        self.reason_edit = QPlainTextEdit()
        self.reason_edit.setPlaceholderText(_("申诉理由（必填）：说明为什么认为扣分不合理，可附会话时间点"))
        self.item_checks: dict[str, QCheckBox] = {}
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.reason_edit, 1)
        if marks:
            layout.addWidget(QLabel(_("申诉的扣分项（不选则申诉整条质检）：")))
        for item_id, label in marks:
            check = QCheckBox(label)
            self.item_checks[item_id] = check
            layout.addWidget(check)
        self.error_label = QLabel()
        self.error_label.setObjectName("errorLabel")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        layout.addWidget(self.error_label)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(_("提交申诉"))
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(_("取消"))
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def submit(self) -> None:
        reason = self.reason_edit.toPlainText().strip()
        if not reason:
            self.show_error(_("请填写申诉理由，主管复核时需要依据。"))
            return
        self.error_label.hide()
        self._on_submit(reason, [i for i, check in self.item_checks.items() if check.isChecked()])

    def show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.show()

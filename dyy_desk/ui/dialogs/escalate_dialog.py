"""手动升级: escalate the selected ticket with a level and a reason (required)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from dyy_desk.core.escalation_lifecycle import EscalationTransitionError
from dyy_desk.core.escalation_model import LEVEL_LABELS, EscalationLevel
from dyy_desk.core.i18n import _
from dyy_desk.services.errors import ServiceError
from dyy_desk.services.escalation_service import EscalationService
from dyy_desk.ui.signals import AppSignals
from dyy_desk.ui.tasks import TaskRunner

USER_ERRORS = (ServiceError, PermissionError, EscalationTransitionError, ValueError)


class EscalateDialog(QDialog):
    escalated = Signal(object)  # (EscalationRow, Changes)

    def __init__(
        self,
        *,
        escalations: EscalationService,
        runner: TaskRunner,
        signals: AppSignals,
        ticket_id: str,
        ticket_label: str,
        actor_id: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("升级工单"))
        self._escalations = escalations
        self._runner = runner
        self._signals = signals
        self._ticket_id = ticket_id
        self._actor_id = actor_id
        self.level_combo = QComboBox()
        for level in EscalationLevel:
            self.level_combo.addItem(f"{level.code} {_(LEVEL_LABELS[level])}", level)
        self.level_combo.setCurrentIndex(1)
        self.reason_edit = QPlainTextEdit()
        self.reason_edit.setPlaceholderText(_("例如：买家威胁向平台投诉，要求主管介入"))
        self.reason_edit.setTabChangesFocus(True)
        self.error_label = QLabel()
        self.error_label.setObjectName("errorLabel")
        self.error_label.setWordWrap(True)
        hint = QLabel(_("L1 潜在风险：观察；L2 重点关注：组长立即查看；L3 紧急干预：通知主管与品牌方。"))
        hint.setObjectName("mutedLabel")
        hint.setWordWrap(True)
        form = QFormLayout()
        form.addRow(_("工单"), QLabel(ticket_label))
        form.addRow(_("级别"), self.level_combo)
        form.addRow(_("原因（必填）"), self.reason_edit)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.addButton(_("升级"), QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(hint)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)

    def submit(self) -> None:
        reason = self.reason_edit.toPlainText().strip()
        if not reason:
            self.error_label.setText(_("请填写升级原因：主管需要知道为什么升级"))
            self.reason_edit.setFocus()
            return
        level = EscalationLevel(self.level_combo.currentData())
        self.ok_button.setEnabled(False)
        self.error_label.setText(_("正在升级…"))
        self._runner.run_db(
            lambda _ctx: self._escalations.escalate_ticket(
                ticket_id=self._ticket_id, level=level, reason=reason, actor_id=self._actor_id
            ),
            on_done=self._done,
            on_error=self._failed,
        )

    def _done(self, result: tuple[object, object]) -> None:
        self.escalated.emit(result)
        self._signals.operation_did_execute.emit(result[1], self)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.ok_button.setEnabled(True)
        self.error_label.setText(str(exc) if isinstance(exc, USER_ERRORS) else _("升级失败，详情已写入日志"))

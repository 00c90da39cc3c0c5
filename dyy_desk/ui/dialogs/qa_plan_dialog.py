"""新建抽检计划: the dialog stays open until the service accepted the plan, showing its message."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from dyy_desk.core.i18n import _
from dyy_desk.core.qa_sampling import SamplingPeriod
from dyy_desk.core.types import ClientRow, UserRow


class PlanDialog(QDialog):
    def __init__(
        self,
        *,
        clients: list[ClientRow],
        agents: list[UserRow],
        on_submit: Callable[[dict[str, Any]], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("新建抽检计划"))
        self._on_submit = on_submit
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText(_("例如：每日抽检 · 全部客服"))
        self.period_combo = QComboBox()
        self.period_combo.addItem(_("按天（每位客服每天）"), SamplingPeriod.DAY)
        self.period_combo.addItem(_("按周（每位客服每周）"), SamplingPeriod.WEEK)
        self.mode_combo = QComboBox()
        self.mode_combo.addItems([_("按数量"), _("按比例")])
        self.count_spin = QSpinBox()
        self.count_spin.setRange(0, 500)
        self.count_spin.setValue(3)
        self.count_spin.setSuffix(_(" 张"))
        self.percent_spin = QDoubleSpinBox()
        self.percent_spin.setRange(0, 100)
        self.percent_spin.setDecimals(1)
        self.percent_spin.setValue(10)
        self.percent_spin.setSuffix(" %")
        self.minimum_spin = QSpinBox()
        self.minimum_spin.setRange(0, 500)
        self.minimum_spin.setValue(1)
        self.minimum_spin.setSuffix(_(" 张"))
        self.client_combo = QComboBox()
        self.client_combo.addItem(_("全部品牌方"), None)
        for client in clients:
            self.client_combo.addItem(client.name, client.id)
        self.agent_combo = QComboBox()
        self.agent_combo.addItem(_("全部客服"), None)
        for agent in agents:
            self.agent_combo.addItem(agent.name, agent.id)
        self.stratify_check = QCheckBox(_("按品牌方、平台、类型分层抽取"))
        self.stratify_check.setChecked(True)
        note = QLabel(_("已升级、有投诉、超平台时限的工单总会被抽中；同一工单不会被抽检两次。"))
        note.setObjectName("mutedLabel")
        note.setWordWrap(True)
        self.error_label = QLabel()
        self.error_label.setObjectName("errorLabel")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        form = QFormLayout()
        form.addRow(_("名称"), self.name_edit)
        form.addRow(_("周期"), self.period_combo)
        form.addRow(_("抽取方式"), self.mode_combo)
        form.addRow(_("数量"), self.count_spin)
        form.addRow(_("比例"), self.percent_spin)
        form.addRow(_("最低数量"), self.minimum_spin)
        form.addRow(_("品牌方"), self.client_combo)
        form.addRow(_("客服"), self.agent_combo)
        form.addRow("", self.stratify_check)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(_("创建"))
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(_("取消"))
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(self.error_label)
        layout.addWidget(buttons)
        self.mode_combo.currentIndexChanged.connect(self._mode_changed)
        self._mode_changed()

    def _mode_changed(self) -> None:
        by_count = self.mode_combo.currentIndex() == 0
        self.count_spin.setEnabled(by_count)
        self.percent_spin.setEnabled(not by_count)
        self.minimum_spin.setEnabled(not by_count)

    def values(self) -> dict[str, Any]:
        by_count = self.mode_combo.currentIndex() == 0
        client = self.client_combo.currentData()
        agent = self.agent_combo.currentData()
        return {
            "name": self.name_edit.text(),
            "period": self.period_combo.currentData(),
            "count": self.count_spin.value() if by_count else None,
            "percent": None if by_count else Decimal(str(round(self.percent_spin.value(), 1))),
            "minimum": 0 if by_count else self.minimum_spin.value(),
            "client_ids": [client] if client else [],
            "agent_ids": [agent] if agent else [],
            "stratify": self.stratify_check.isChecked(),
        }

    def submit(self) -> None:
        self.error_label.hide()
        self._on_submit(self.values())

    def show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.show()

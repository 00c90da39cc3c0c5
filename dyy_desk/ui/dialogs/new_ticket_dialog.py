"""New ticket: the form marks each bad field in place; nothing is written until every check passes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import QDateTime, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from dyy_desk.core.i18n import _
from dyy_desk.core.ticket_input import NewTicket, TicketInputError, validate_new_ticket
from dyy_desk.core.types import CATEGORY_LABELS, PRIORITY_LABELS, Priority, TicketCategory, TicketRow, UserRow
from dyy_desk.services.directory import DirectoryService
from dyy_desk.services.tickets import TicketService
from dyy_desk.ui.tasks import TaskRunner


class NewTicketDialog(QDialog):
    created = Signal(object)  # (TicketRow, Changes)

    def __init__(
        self,
        *,
        tickets: TicketService,
        directory: DirectoryService,
        runner: TaskRunner,
        user: UserRow | None,
        clock_now: Callable[[], datetime],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("新建工单"))
        self._tickets = tickets
        self._directory = directory
        self._runner = runner
        self._user = user
        self._now = clock_now

        self.client_combo = QComboBox()
        for client in directory.clients():
            self.client_combo.addItem(client.name, client.id)
        self.shop_combo = QComboBox()
        self.category_combo = QComboBox()
        for category, label in CATEGORY_LABELS.items():
            self.category_combo.addItem(_(label), category)
        self.priority_combo = QComboBox()
        for priority, label in PRIORITY_LABELS.items():
            self.priority_combo.addItem(_(label), priority)
        self.priority_combo.setCurrentIndex(self.priority_combo.findData(Priority.NORMAL))
        self.subject_edit = QLineEdit()
        self.subject_edit.setPlaceholderText(_("买家的问题概要，例如：四件套颜色发错了要换"))
        self.nick_edit = QLineEdit()
        self.nick_edit.setPlaceholderText(_("平台上的买家昵称"))
        self.phone_edit = QLineEdit()
        self.phone_edit.setPlaceholderText(_("选填"))
        self.order_edit = QLineEdit()
        self.order_edit.setPlaceholderText(_("选填，平台订单号"))
        self.product_edit = QLineEdit()
        self.product_edit.setPlaceholderText(_("选填"))
        self.tags_edit = QLineEdit()
        self.tags_edit.setPlaceholderText(_("选填，用逗号分隔，如：大促, 加急"))
        self.assignee_combo = QComboBox()
        self.assignee_combo.addItem(_("未分配"), None)
        for u in directory.users():
            self.assignee_combo.addItem(u.name, u.id)
        if user is not None:
            self.assignee_combo.setCurrentIndex(self.assignee_combo.findData(user.id))
        self.due_check = QCheckBox(_("平台显示的处理时限"))
        self.due_edit = QDateTimeEdit(QDateTime.currentDateTime().addSecs(48 * 3600))
        self.due_edit.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.due_edit.setCalendarPopup(True)
        self.due_edit.setEnabled(False)
        self.due_check.toggled.connect(self.due_edit.setEnabled)
        self.intervention_check = QCheckBox(_("平台已介入"))
        self.note_edit = QPlainTextEdit()
        self.note_edit.setPlaceholderText(_("选填，首条备注"))
        self.note_edit.setMaximumHeight(self.fontMetrics().height() * 3 + 14)

        self._errors: dict[str, QLabel] = {}
        form = QFormLayout()
        form.addRow(_("品牌方 *"), self._with_error("client", self.client_combo))
        form.addRow(_("店铺 *"), self._with_error("shop", self.shop_combo))
        form.addRow(_("类型 *"), self.category_combo)
        form.addRow(_("标题 *"), self._with_error("subject", self.subject_edit))
        form.addRow(_("买家昵称 *"), self._with_error("customer_nick", self.nick_edit))
        form.addRow(_("手机号"), self._with_error("customer_phone", self.phone_edit))
        form.addRow(_("订单号"), self._with_error("order_no", self.order_edit))
        form.addRow(_("商品"), self.product_edit)
        form.addRow(_("标签"), self._with_error("tags", self.tags_edit))
        form.addRow(_("优先级"), self.priority_combo)
        form.addRow(_("处理人"), self.assignee_combo)
        due_row = QHBoxLayout()
        due_row.addWidget(self.due_check)
        due_row.addWidget(self.due_edit, 1)
        form.addRow(_("处理时限"), self._with_error("due_at", _wrap(due_row)))
        form.addRow("", self.intervention_check)
        form.addRow(_("备注"), self.note_edit)

        self.status_label = QLabel()
        self.status_label.setObjectName("errorLabel")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(_("创建 (Ctrl+Enter)"))
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setShortcut("Ctrl+Return")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(_("取消"))
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.status_label)
        layout.addWidget(self.buttons)
        self.client_combo.currentIndexChanged.connect(self._fill_shops)
        self._fill_shops()
        self.subject_edit.setFocus()

    def _with_error(self, field: str, widget: QWidget) -> QWidget:
        label = QLabel()
        label.setObjectName("errorLabel")
        label.hide()
        self._errors[field] = label
        box = QVBoxLayout()
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(2)
        box.addWidget(widget)
        box.addWidget(label)
        return _wrap(box)

    def _fill_shops(self) -> None:
        self.shop_combo.clear()
        for shop in self._directory.shops(client_id=self.client_combo.currentData()):
            self.shop_combo.addItem(shop.name, shop.id)

    def ticket(self) -> NewTicket:
        due = None
        if self.due_check.isChecked():
            due = self.due_edit.dateTime().toPython().astimezone()  # type: ignore[union-attr]
        return NewTicket(
            client_id=self.client_combo.currentData() or "",
            shop_id=self.shop_combo.currentData() or "",
            category=TicketCategory(self.category_combo.currentData()),
            subject=self.subject_edit.text(),
            customer_nick=self.nick_edit.text(),
            priority=Priority(self.priority_combo.currentData()),
            order_no=self.order_edit.text().strip(),
            product=self.product_edit.text(),
            tags=tuple(t.strip() for t in self.tags_edit.text().replace("，", ",").split(",") if t.strip()),
            customer_phone=self.phone_edit.text(),
            assignee_id=self.assignee_combo.currentData(),
            due_at=due,
            note=self.note_edit.toPlainText(),
            platform_intervention=self.intervention_check.isChecked(),
        )

    def show_errors(self, errors: dict[str, str]) -> None:
        for field, label in self._errors.items():
            label.setText(errors.get(field, ""))
            label.setVisible(field in errors)
        self.status_label.setText(_("请修改标红的项目") if errors else "")

    def submit(self) -> None:
        ticket = self.ticket()
        errors = validate_new_ticket(ticket, now=self._now())
        self.show_errors(errors)
        if errors:
            return
        self.buttons.setEnabled(False)
        self.status_label.setText(_("正在保存…"))
        actor = self._user.id if self._user else None
        self._runner.run_db(
            lambda _ctx: self._tickets.create(ticket=ticket, actor_id=actor),
            on_done=self._on_created,
            on_error=self._on_failed,
        )

    def _on_created(self, result: tuple[TicketRow, object]) -> None:
        self.created.emit(result)
        self.accept()

    def _on_failed(self, exc: BaseException) -> None:
        self.buttons.setEnabled(True)
        if isinstance(exc, TicketInputError):
            self.show_errors(exc.errors)
        else:
            self.status_label.setText(_("保存失败，未创建工单。详情已写入日志。"))


def _wrap(layout: QVBoxLayout | QHBoxLayout) -> QWidget:
    widget = QWidget()
    layout.setContentsMargins(0, 0, 0, 0)
    widget.setLayout(layout)
    return widget

"""One ticket: who and what, its timeline, and the actions an agent takes on it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QStackedLayout,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from dyy_desk.core.changes import Changes
from dyy_desk.core.due_chip import due_chip
from dyy_desk.core.i18n import _
from dyy_desk.core.ticket_states import IllegalTransition
from dyy_desk.core.timefmt import format_local
from dyy_desk.core.types import (
    CATEGORY_LABELS,
    PLATFORM_LABELS,
    PRIORITY_LABELS,
    STATUS_LABELS,
    EventKind,
    TicketDetail,
    TicketStatus,
    UserRow,
)
from dyy_desk.services.directory import DirectoryService
from dyy_desk.services.errors import ServiceError
from dyy_desk.services.personal_data import PersonalDataService
from dyy_desk.services.tickets import TicketService
from dyy_desk.ui.signals import AppSignals
from dyy_desk.ui.tasks import TaskRunner
from dyy_desk.ui.widgets.reveal_button import RevealButton

_EVENT_ICONS = {
    EventKind.CREATED: "✚",
    EventKind.NOTE: "✎",
    EventKind.REPLY: "↩",
    EventKind.STATUS: "⇄",
    EventKind.ASSIGN: "→",
    EventKind.EDIT: "✎",
    EventKind.FLAG: "⚑",
}


class TicketDetailPanel(QWidget):
    detail_loaded = Signal(object)  # TicketDetail; tests and selftest wait on it
    action_failed = Signal(str)

    def __init__(
        self,
        *,
        tickets: TicketService,
        directory: DirectoryService,
        runner: TaskRunner,
        signals: AppSignals,
        clock_now: Callable[[], datetime],
        due_soon_hours: float,
        checklist: QWidget | None = None,
        escalate: Callable[[TicketDetail], None] | None = None,
        personal_data: PersonalDataService | None = None,
    ) -> None:
        super().__init__()
        self._tickets = tickets
        self._escalate = escalate
        self._directory = directory
        self._runner = runner
        self._signals = signals
        self._now = clock_now
        self._due_soon_hours = due_soon_hours
        self._user: UserRow | None = None
        self.detail: TicketDetail | None = None

        self.empty_label = QLabel(_("在左侧列表中选择一个工单查看详情，\n或按 Ctrl+N 新建工单。"))
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setObjectName("emptyState")

        self.title_label = QLabel()
        self.title_label.setObjectName("detailTitle")
        self.title_label.setWordWrap(True)
        self.meta_label = QLabel()
        self.meta_label.setWordWrap(True)
        self.meta_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.due_label = QLabel()
        self.contact: RevealButton | None = None
        if personal_data is not None:
            self.contact = RevealButton(
                reveal=lambda ticket_id: personal_data.reveal_contact(
                    ticket_id=ticket_id, actor_id=self._actor()
                ),
                runner=runner,
                clock_now=clock_now,
            )
            self.contact.reveal_failed.connect(self._show_error)
            signals.tick.connect(self.contact.on_tick)
        self.assign_combo = QComboBox()
        self.status_combo = QComboBox()
        for status, label in STATUS_LABELS.items():
            self.status_combo.addItem(_(label), status)
        self.error_label = QLabel()
        self.error_label.setObjectName("errorLabel")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        self.timeline = QTextBrowser()
        self.timeline.setOpenExternalLinks(False)
        self.note_edit = QPlainTextEdit()
        self.note_edit.setPlaceholderText(_("写备注或记录已发给买家的回复… (Ctrl+Enter 添加备注)"))
        self.note_edit.setMaximumHeight(self.fontMetrics().height() * 4 + 16)
        self.note_button = QPushButton(_("添加备注"))
        self.reply_button = QPushButton(_("记录回复"))
        self.reply_button.setToolTip(_("把已在平台聊天工具中发出的回复记入时间线（计首次响应）"))

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow(_("处理人"), self.assign_combo)
        form.addRow(_("状态"), self.status_combo)
        note_buttons = QHBoxLayout()
        self.escalate_button = QPushButton(_("升级…"))
        self.escalate_button.setToolTip(_("把这个工单升级给主管 (Ctrl+Shift+E)"))
        self.escalate_button.setVisible(escalate is not None)
        self.escalate_button.clicked.connect(self._on_escalate)
        note_buttons.addWidget(self.escalate_button)
        note_buttons.addStretch(1)
        note_buttons.addWidget(self.reply_button)
        note_buttons.addWidget(self.note_button)

        content = QWidget()
        body = self._body = QVBoxLayout(content)
        self._checklist_box = checklist
        body.setContentsMargins(0, 0, 0, 0)
        body.addWidget(self.title_label)
        body.addWidget(self.meta_label)
        if self.contact is not None:
            body.addWidget(self.contact)
        body.addWidget(self.due_label)
        body.addLayout(form)
        body.addWidget(self.error_label)
        if checklist is not None:
            body.addWidget(checklist)  # takes room only once it lists steps (set_checklist_expanding)
        body.addWidget(QLabel(_("时间线")))
        body.addWidget(self.timeline, 1)
        body.addWidget(self.note_edit)
        body.addLayout(note_buttons)

        self._stack = QStackedLayout(self)
        self._stack.addWidget(self.empty_label)
        self._stack.addWidget(content)

        self.status_combo.activated.connect(self._on_status_chosen)
        self.assign_combo.activated.connect(self._on_assign_chosen)
        self.note_button.clicked.connect(lambda: self._add_note(reply=False))
        self.reply_button.clicked.connect(lambda: self._add_note(reply=True))
        QShortcut(QKeySequence("Ctrl+Return"), self.note_edit, activated=lambda: self._add_note(reply=False))
        signals.ticket_selected.connect(self.show_ticket)
        signals.operation_did_execute.connect(self._on_changes)
        signals.user_changed.connect(self._on_user)
        signals.tick.connect(self._render_due)

    # --- loading -----------------------------------------------------------------------------
    def show_ticket(self, ticket_id: str | None) -> None:
        if not ticket_id:
            self.detail = None
            if self.contact is not None:
                self.contact.set_contact(None, None, None)
            self._stack.setCurrentIndex(0)
            return
        self._runner.run_db(
            lambda _ctx: (self._tickets.detail(ticket_id=ticket_id), self._directory.users()),
            on_done=self._apply,
            on_error=lambda exc: self._show_error(str(exc)),
        )

    def _apply(self, result: tuple[TicketDetail, list[UserRow]]) -> None:
        detail, users = result
        self.detail = detail
        row = detail.row
        self.error_label.hide()
        self.title_label.setText(row.number)  # category and status lead the next line: no mid-word wraps
        self.title_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.title_label.setToolTip(row.subject)
        parts = [
            f"<b>{_(CATEGORY_LABELS[row.category])} · {_(STATUS_LABELS[row.status])}</b>",
            f"<b>{escape(row.subject)}</b>",
            f"{escape(row.client_name)} · {escape(row.shop_name)} · {_(PLATFORM_LABELS[row.platform])}"
            + (_(" · 订单 {order_no}").format(order_no=escape(detail.order_no)) if detail.order_no else ""),
            _("买家 {buyer}").format(buyer=escape(row.customer_nick))
            + (
                f" · {escape(detail.customer_phone_masked)}"
                if detail.customer_phone_masked and self.contact is None
                else ""
            )
            + _(" · 优先级 {priority}").format(priority=_(PRIORITY_LABELS[row.priority])),
        ]
        if row.platform_intervention:
            parts.append(_("<span style='color:#c62828'>⚠ 平台已介入</span>"))
        self.meta_label.setText("<br>".join(parts))
        if self.contact is not None:
            self.contact.set_contact(row.id, detail.customer_phone_masked, detail.customer_address_masked)
        self.assign_combo.clear()
        self.assign_combo.addItem(_("未分配"), None)
        for user in users:
            self.assign_combo.addItem(user.name, user.id)
        self.assign_combo.setCurrentIndex(max(0, self.assign_combo.findData(detail.assignee_id)))
        self.status_combo.setCurrentIndex(self.status_combo.findData(row.status))
        self._render_timeline(detail)
        self._render_due()
        self._stack.setCurrentIndex(1)
        self.detail_loaded.emit(detail)

    def set_checklist_expanding(self, expanding: bool) -> None:
        """A running checklist shares the height with the timeline; without one, the timeline gets it."""
        if self._checklist_box is not None:
            self._body.setStretchFactor(self._checklist_box, 2 if expanding else 0)

    def _render_timeline(self, detail: TicketDetail) -> None:
        now = self._now()
        lines = []
        for event in reversed(detail.events):  # newest first: what happened last matters most
            who = escape(event.actor_name or _("系统"))
            lines.append(
                f"<p style='margin:0 0 6px 0'><span style='color:#666'>{format_local(event.at, now=now)}"
                f" · {who}</span><br>{_EVENT_ICONS.get(event.kind, '•')} {escape(event.text)}</p>"
            )
        self.timeline.setHtml("".join(lines))

    def _render_due(self) -> None:
        if self.detail is None:
            return
        row = self.detail.row
        chip = due_chip(
            row.due_at,
            self._now(),
            due_soon_hours=self._due_soon_hours,
            status=row.status,
            due_soon_at=row.due_soon_at,
        )
        self.due_label.setText(_("处理时限：{tooltip}").format(tooltip=chip.tooltip) if chip.text else "")

    # --- actions -----------------------------------------------------------------------------
    def _on_escalate(self) -> None:
        if self.detail is not None and self._escalate is not None:
            self._escalate(self.detail)

    def _actor(self) -> str | None:
        return self._user.id if self._user else None

    def _on_user(self, user: UserRow | None) -> None:
        self._user = user
        if self.contact is not None:
            self.contact.hide_now()  # what one person revealed is not left on screen for the next

    def _run_action(self, fn: Callable[[], Changes]) -> None:
        self.error_label.hide()
        self._runner.run_db(
            lambda _ctx: fn(),
            on_done=lambda changes: self._signals.operation_did_execute.emit(changes, self),
            on_error=self._on_action_error,
        )

    def _on_action_error(self, exc: BaseException) -> None:
        if isinstance(exc, IllegalTransition | ServiceError):
            self._show_error(str(exc))
        else:
            self._show_error(_("操作失败，数据未改动。详情已写入日志。"))
        if self.detail is not None:  # put the pickers back to what is stored
            self.status_combo.setCurrentIndex(self.status_combo.findData(self.detail.row.status))
            self.assign_combo.setCurrentIndex(max(0, self.assign_combo.findData(self.detail.assignee_id)))

    def _show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.show()
        self.action_failed.emit(message)

    def _on_status_chosen(self, index: int) -> None:
        if self.detail is None:
            return
        target = TicketStatus(self.status_combo.itemData(index))
        if target == self.detail.row.status:
            return
        ticket_id = self.detail.row.id
        self._run_action(
            lambda: self._tickets.change_status(ticket_id=ticket_id, status=target, actor_id=self._actor())
        )

    def _on_assign_chosen(self, index: int) -> None:
        if self.detail is None:
            return
        assignee = self.assign_combo.itemData(index)
        ticket_id = self.detail.row.id
        self._run_action(
            lambda: self._tickets.assign(ticket_id=ticket_id, assignee_id=assignee, actor_id=self._actor())
        )

    def _add_note(self, *, reply: bool) -> None:
        if self.detail is None:
            return
        text = self.note_edit.toPlainText()
        if not text.strip():
            self._show_error(_("请先输入备注内容"))
            return
        ticket_id = self.detail.row.id
        self.note_edit.clear()
        self._run_action(
            lambda: self._tickets.add_note(
                ticket_id=ticket_id, text=text, actor_id=self._actor(), reply=reply
            )
        )

    def _on_changes(self, changes: Changes, _initiator: object) -> None:
        if self.detail is not None and self.detail.row.id in changes.ticket_ids:
            self.show_ticket(self.detail.row.id)

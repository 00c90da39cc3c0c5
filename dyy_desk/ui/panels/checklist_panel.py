"""The SOP checklist of one ticket: steps with countdown chips and the actions an agent takes on them.

Threading contract: every service call runs in the TaskRunner's database worker; the panel keeps the
last ChecklistView and repaints countdowns from `signals.tick` with pure arithmetic, never a query.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from PySide6.QtCore import QDateTime, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from dyy_desk.core.changes import Changes
from dyy_desk.core.i18n import _
from dyy_desk.core.sop_checklist import DEADLINE_SOURCE_LABELS, DeadlineSource, StepStatus
from dyy_desk.core.sop_template import ANCHOR_LABELS, AfterSalesType, AnchorEvent
from dyy_desk.core.timefmt import format_local
from dyy_desk.core.types import UserRow
from dyy_desk.services.errors import ServiceError
from dyy_desk.services.sop_deadline_text import parse_deadline_text
from dyy_desk.services.sop_service import SopService, parse_amount
from dyy_desk.services.sop_views import ChecklistView, StartOptions, format_amount
from dyy_desk.ui.dialogs.sop_dialogs import FormDialog, required_field
from dyy_desk.ui.signals import AppSignals
from dyy_desk.ui.tasks import TaskRunner
from dyy_desk.ui.widgets.sop_step_row import StepRow


class ChecklistPanel(QWidget):
    loaded = Signal(object)  # ChecklistView or None, after each load or action; tests wait on it
    action_failed = Signal(str)

    def __init__(
        self, *, sop: SopService, runner: TaskRunner, signals: AppSignals, clock_now: Callable[[], datetime]
    ) -> None:
        super().__init__()
        self._sop = sop
        self._runner = runner
        self._signals = signals
        self._now = clock_now
        self._user: UserRow | None = None
        self.ticket_id: str | None = None
        self.view: ChecklistView | None = None
        self.rows: list[StepRow] = []
        self.dialog: QDialog | None = None  # the last dialog opened (tests drive it)

        self.title_label = QLabel()
        self.title_label.setObjectName("checklistTitle")
        self.title_label.setWordWrap(True)
        self.start_button = QPushButton(_("开始处理清单"))
        self.start_button.setToolTip(_("按售后类型和平台选用 SOP 模板，开始逐步处理并计时"))
        self.event_button = QPushButton(_("记录事件"))
        self.event_button.setToolTip(
            _("记录申请提交、买家寄回、退货签收等事件的实际时间（可以是过去的时间）")
        )
        self.deadline_button = QPushButton(_("录入平台时限"))
        self.deadline_button.setToolTip(_("粘贴平台售后单显示的截止时间或倒计时，平台显示优先于规则默认"))
        self.amount_button = QPushButton(_("金额"))
        self.amount_button.setToolTip(_("售后金额，用于显示逾期后果，例如 逾期将自动退款 ¥129.00"))
        self.error_label = QLabel()
        self.error_label.setObjectName("errorLabel")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        header = QHBoxLayout()
        header.setContentsMargins(0, 0, 0, 0)
        header.addStretch(1)
        for button in (self.start_button, self.event_button, self.deadline_button, self.amount_button):
            header.addWidget(button)
        self._steps_box = QWidget()
        self._steps_layout = QVBoxLayout(self._steps_box)
        self._steps_layout.setContentsMargins(0, 0, 0, 0)
        self._steps_layout.setSpacing(0)
        self.steps_area = QScrollArea()
        self.steps_area.setWidgetResizable(True)
        self.steps_area.setFrameShape(QFrame.Shape.NoFrame)
        self.steps_area.setWidget(self._steps_box)
        self.steps_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title_label)
        layout.addLayout(header)
        layout.addWidget(self.error_label)
        layout.addWidget(self.steps_area, 1)

        self.start_button.clicked.connect(self.request_start)
        self.event_button.clicked.connect(self.request_event)
        self.deadline_button.clicked.connect(lambda: self.request_deadline(None, DeadlineSource.PLATFORM))
        self.amount_button.clicked.connect(self.request_amount)
        signals.tick.connect(self.render_countdowns)
        signals.operation_did_execute.connect(self._on_changes)
        signals.user_changed.connect(self.set_user)
        self._show(None)

    # --- loading and rendering ---------------------------------------------------------------
    def set_user(self, user: UserRow | None) -> None:
        self._user = user

    def show_ticket(self, ticket_id: str | None) -> None:
        self.ticket_id = ticket_id
        if not ticket_id:
            self._show(None)
            return
        self._runner.run_db(
            lambda _ctx: self._sop.view(ticket_id=ticket_id),
            on_done=lambda view: self._show(view) if self.ticket_id == ticket_id else None,
            on_error=self._fail,
        )

    def _show(self, view: ChecklistView | None) -> None:
        self.view = view
        self.error_label.hide()
        for row in self.rows:
            row.deleteLater()
        self.rows = []
        has = view is not None
        self.start_button.setVisible(not has and self.ticket_id is not None)
        for button in (self.event_button, self.deadline_button, self.amount_button):
            button.setVisible(has)
        self.steps_area.setVisible(has)
        if view is None:
            self.title_label.setText(_("处理清单：未开始") if self.ticket_id else "")
        else:
            amount = format_amount(view.amount)
            done = sum(1 for s in view.steps if not s.is_open)
            self.title_label.setText(
                _("<b>SOP {template_name}</b> 第 {template_version} 版 · {done}/{count}").format(
                    template_name=view.template_name,
                    template_version=view.template_version,
                    done=done,
                    count=len(view.steps),
                )
                + (_(" · 金额 {amount}").format(amount=amount) if amount else "")
                + (_(" · ✓ 已完成") if view.complete else "")
            )
            self.title_label.setToolTip(
                "\n".join(f"{a.label}：{format_local(a.at)}（{a.by}）" for a in view.anchors)
                or _("尚未记录事件")
            )
            for item in view.steps:
                row = StepRow(item, self)
                self._steps_layout.addWidget(row)
                self.rows.append(row)
            self.render_countdowns()
        self.loaded.emit(view)

    def render_countdowns(self) -> None:
        """On every tick: recompute chip text and colour from the held view (no database access)."""
        if self.rows and self.isVisible():
            now = self._now()
            for row in self.rows:
                row.paint_countdown(now)

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self.render_countdowns()

    # --- actions -----------------------------------------------------------------------------
    def _actor(self) -> str:
        return self._user.id if self._user else ""

    def _run(self, fn: Callable[[str, str], tuple[ChecklistView, Changes]]) -> None:
        ticket_id, actor = self.ticket_id, self._actor()
        if ticket_id is None:
            return
        self.error_label.hide()

        def done(result: tuple[ChecklistView, Changes]) -> None:
            view, changes = result
            if self.ticket_id == ticket_id:
                self._show(view)
            self._signals.operation_did_execute.emit(changes, self)

        self._runner.run_db(lambda _ctx: fn(ticket_id, actor), on_done=done, on_error=self._fail)

    def _fail(self, exc: BaseException) -> None:
        message = str(exc) if isinstance(exc, ServiceError) else _("操作失败，数据未改动。详情已写入日志。")
        self.error_label.setText(message)
        self.error_label.show()
        if self.view is not None:
            self._show_error_keep(message)
        self.action_failed.emit(message)

    def _show_error_keep(self, message: str) -> None:
        for row in self.rows:  # a refused tick puts the box back
            row.check.setChecked(row.item.status is not StepStatus.OPEN)
        self.error_label.setText(message)
        self.error_label.show()

    def tick_step(self, step_id: str) -> None:
        self._run(lambda t, a: self._sop.tick(ticket_id=t, step_id=step_id, actor_id=a))

    def _open(self, dialog: FormDialog, on_submit: Callable[[dict[str, Any]], None]) -> FormDialog:
        dialog.submitted.connect(on_submit)
        self.dialog = dialog
        dialog.open()
        return dialog

    def request_start(self) -> None:
        ticket_id = self.ticket_id
        if ticket_id is not None:
            self._runner.run_db(
                lambda _ctx: self._sop.start_options(ticket_id=ticket_id),
                on_done=self._on_start_options,
                on_error=self._fail,
            )

    def _on_start_options(self, options: StartOptions) -> None:
        self._start_dialog(options)

    def _start_dialog(self, options: StartOptions) -> FormDialog:
        def check(v: dict[str, Any]) -> str | None:
            if v["type"] is None:
                return _("请选择售后类型（例如 仅退款 要分 未发货 / 已发货）")
            try:
                parse_amount(v["amount"])
            except ServiceError as exc:
                return str(exc)
            return None

        dialog = FormDialog(_("开始处理清单"), self, check)
        combo = QComboBox()
        combo.addItem(_("请选择售后类型…"), None)
        ordered = sorted(options.options, key=lambda o: o.after_sales_type not in options.suggested)
        for o in ordered:
            mark = _("（推荐）") if o.after_sales_type in options.suggested else ""
            combo.addItem(
                _("{label}{mark} — {template_name} 第{template_version}版").format(
                    label=o.label,
                    mark=mark,
                    template_name=o.template_name,
                    template_version=o.template_version,
                ),
                o.after_sales_type,
            )
        if not options.ambiguous:
            combo.setCurrentIndex(combo.findData(options.suggested[0]))
        dialog.add("type", _("售后类型"), combo)
        amount = QLineEdit()
        amount.setPlaceholderText(_("选填，例如 129.00"))
        dialog.add("amount", _("售后金额 ¥"), amount)

        def submit(v: dict[str, Any]) -> None:
            self._run(
                lambda t, a: self._sop.start(
                    ticket_id=t,
                    actor_id=a,
                    after_sales_type=AfterSalesType(v["type"]),
                    amount=parse_amount(v["amount"]),
                )
            )

        return self._open(dialog, submit)

    def request_event(self) -> FormDialog:
        now = self._now()
        dialog = FormDialog(
            _("记录事件"), self, lambda v: _("时间不能晚于现在") if v["at"] > self._now() else None
        )
        combo = QComboBox()
        wanted = list(self.view.anchor_events) if self.view else []
        for event in wanted + [e for e in AnchorEvent if e not in wanted]:
            combo.addItem(_(ANCHOR_LABELS[event]), event)
        dialog.add("event", _("事件"), combo)
        when = QDateTimeEdit(QDateTime(now.astimezone().replace(tzinfo=None)))
        when.setDisplayFormat("yyyy-MM-dd HH:mm")
        when.setCalendarPopup(True)
        when.setMaximumDateTime(QDateTime(now.astimezone().replace(tzinfo=None)))
        dialog.add("at", _("发生时间"), when)
        return self._open(
            dialog,
            lambda v: self._run(
                lambda t, a: self._sop.record_anchor(
                    ticket_id=t, event=AnchorEvent(v["event"]), at=v["at"], actor_id=a
                )
            ),
        )

    def request_deadline(self, step_id: str | None, source: DeadlineSource) -> FormDialog:
        def check(v: dict[str, Any]) -> str | None:
            if v["step"] is None:
                return _("请选择步骤")
            try:
                parse_deadline_text(v["text"], now=self._now())
            except ServiceError as exc:
                return str(exc)
            return None

        dialog = FormDialog(
            _("录入{source}时限").format(source=_(DEADLINE_SOURCE_LABELS[source])),
            self,
            check,
        )
        steps = QComboBox()
        for item in self.view.steps if self.view else ():
            if item.is_open:
                steps.addItem(item.title, item.step_id)
        if step_id is not None:
            steps.setCurrentIndex(max(0, steps.findData(step_id)))
        dialog.add("step", _("步骤"), steps)
        kind = QComboBox()
        for s in (DeadlineSource.PLATFORM, DeadlineSource.MANUAL):
            kind.addItem(_(DEADLINE_SOURCE_LABELS[s]), s)
        kind.setCurrentIndex(kind.findData(source))
        dialog.add("source", _("来源"), kind)
        text = QLineEdit()
        text.setPlaceholderText(_("粘贴 2026-11-24 18:30 或 剩余1天3小时"))
        dialog.add("text", _("截止时间"), text)
        preview = QLabel()
        dialog.form.addRow("", preview)

        def show_preview(value: str) -> None:
            try:
                at = parse_deadline_text(value, now=self._now())
                preview.setText(_("= {time:%Y-%m-%d %H:%M}（本地时间）").format(time=at.astimezone()))
            except ServiceError:
                preview.setText("")

        text.textChanged.connect(show_preview)
        return self._open(
            dialog,
            lambda v: self._run(
                lambda t, a: self._sop.set_deadline(
                    ticket_id=t,
                    step_id=v["step"],
                    source=DeadlineSource(v["source"]),
                    text=v["text"],
                    actor_id=a,
                )
            ),
        )

    def request_skip(self, step_id: str) -> FormDialog:
        dialog = FormDialog(_("跳过步骤"), self, required_field("reason", _("跳过步骤必须填写原因")))
        dialog.add("reason", _("跳过原因（必填）"), QLineEdit())
        return self._open(
            dialog,
            lambda v: self._run(
                lambda t, a: self._sop.skip(ticket_id=t, step_id=step_id, reason=v["reason"], actor_id=a)
            ),
        )

    def request_note(self, step_id: str) -> FormDialog:
        dialog = FormDialog(_("步骤备注"), self, required_field("text", _("备注不能为空")))
        dialog.add("text", _("备注"), QLineEdit())
        return self._open(
            dialog,
            lambda v: self._run(
                lambda t, a: self._sop.add_note(ticket_id=t, step_id=step_id, text=v["text"], actor_id=a)
            ),
        )

    def request_proof(self, step_id: str) -> FormDialog:
        dialog = FormDialog(
            _("添加凭证"), self, required_field("ref", _("请填写截图文件、物流单号或平台链接"))
        )
        dialog.add("ref", _("凭证（文件/单号/链接）"), QLineEdit())
        dialog.add("label", _("说明（选填）"), QLineEdit())
        return self._open(
            dialog,
            lambda v: self._run(
                lambda t, a: self._sop.add_proof(
                    ticket_id=t, step_id=step_id, ref=v["ref"], label=v["label"], actor_id=a
                )
            ),
        )

    def request_amount(self) -> FormDialog:
        def check(v: dict[str, Any]) -> str | None:
            try:
                parse_amount(v["amount"])
            except ServiceError as exc:
                return str(exc)
            return None

        dialog = FormDialog(_("售后金额"), self, check)
        edit = QLineEdit(f"{self.view.amount:.2f}" if self.view and self.view.amount is not None else "")
        edit.setPlaceholderText(_("例如 129.00；留空表示未知"))
        dialog.add("amount", _("金额 ¥"), edit)
        return self._open(
            dialog,
            lambda v: self._run(
                lambda t, a: self._sop.set_amount(ticket_id=t, amount=parse_amount(v["amount"]), actor_id=a)
            ),
        )

    def _on_changes(self, changes: Changes, initiator: object) -> None:
        if initiator is not self and changes.sop and self.ticket_id in changes.ticket_ids:
            self.show_ticket(self.ticket_id)

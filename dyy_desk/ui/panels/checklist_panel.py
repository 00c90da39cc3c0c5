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
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from dyy_desk.core.changes import Changes
from dyy_desk.core.due_chip import ChipState
from dyy_desk.core.sop_checklist import DEADLINE_SOURCE_LABELS, DeadlineSource, StepStatus
from dyy_desk.core.sop_template import ANCHOR_LABELS, AfterSalesType, AnchorEvent
from dyy_desk.core.timefmt import format_local
from dyy_desk.core.types import UserRow
from dyy_desk.services.errors import ServiceError
from dyy_desk.services.sop_deadline_text import parse_deadline_text
from dyy_desk.services.sop_service import SopService, parse_amount
from dyy_desk.services.sop_views import ChecklistView, StartOptions, StepItem, format_amount
from dyy_desk.ui.countdown import CHIP_COLOURS
from dyy_desk.ui.models.sop_models import step_chip
from dyy_desk.ui.signals import AppSignals
from dyy_desk.ui.tasks import TaskRunner

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
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("确定")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
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


def _required(key: str, message: str) -> Check:
    return lambda v: message if not str(v.get(key) or "").strip() else None


class StepRow(QFrame):
    """One step: tick box with title, countdown chip, actions menu; instructions on hover or 说明."""

    def __init__(self, item: StepItem, panel: ChecklistPanel) -> None:
        super().__init__()
        self.item = item
        self.setObjectName("checklistStep")
        self.check = QCheckBox()
        self.check.setToolTip("勾选表示此步骤已完成")
        self.title = QLabel(item.title + ("" if item.required else "（可选）"))
        self.title.setWordWrap(True)
        self.title.setToolTip(item.instructions)
        self.title.setBuddy(self.check)
        self.check.setChecked(item.status is not StepStatus.OPEN)
        self.check.setEnabled(item.is_open)
        self.check.clicked.connect(lambda checked: panel.tick_step(item.step_id) if checked else None)
        self.chip = QLabel()
        self.chip.setObjectName("countdownChip")
        self.chip.setMargin(2)
        self.more = QToolButton()
        self.more.setText("⋯")
        self.more.setToolTip("跳过、录入时限、备注、凭证")
        self.more.setAutoRaise(True)
        self.more.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.more.setStyleSheet("QToolButton::menu-indicator { image: none; }")
        menu = QMenu(self.more)
        if item.is_open:
            menu.addAction(
                "录入平台时限…", lambda: panel.request_deadline(item.step_id, DeadlineSource.PLATFORM)
            )
            menu.addAction(
                "录入手动时限…", lambda: panel.request_deadline(item.step_id, DeadlineSource.MANUAL)
            )
            menu.addAction("跳过…", lambda: panel.request_skip(item.step_id))
        menu.addAction("备注…", lambda: panel.request_note(item.step_id))
        menu.addAction("凭证…", lambda: panel.request_proof(item.step_id))
        menu.addAction("说明", self._toggle_instructions)
        self.more.setMenu(menu)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.check)
        top.addWidget(self.title, 1)
        top.addWidget(self.more)
        chip_row = QHBoxLayout()  # its own line, so a narrow detail column never clips the countdown
        chip_row.setContentsMargins(0, 0, 0, 0)
        chip_row.addWidget(self.chip)
        chip_row.addStretch(1)
        self.detail = QLabel(self._detail_text())
        self.detail.setObjectName("stepDetail")
        self.detail.setWordWrap(True)
        self.detail.setVisible(bool(self.detail.text()))
        self.instructions = QLabel(item.instructions)
        self.instructions.setWordWrap(True)
        self.instructions.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.instructions.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.setSpacing(1)
        layout.addLayout(top)
        layout.addLayout(chip_row)
        layout.addWidget(self.detail)
        layout.addWidget(self.instructions)

    def _toggle_instructions(self) -> None:
        self.instructions.setVisible(not self.instructions.isVisible())

    def _detail_text(self) -> str:
        item, parts = self.item, []
        if item.is_open:
            if item.consequence:
                parts.append(item.consequence)
            if item.waiting_for:
                parts.append(f"待记录事件：{item.waiting_for}")
        if item.notes:
            parts.append(f"备注 {len(item.notes)} 条：{item.notes[-1].text}")
        if item.proofs:
            last = item.proofs[-1]
            parts.append(f"凭证 {len(item.proofs)} 个：{(last.label + ' ') if last.label else ''}{last.text}")
        return "\n".join(parts)

    def closed_text(self) -> str:
        """Done and skipped steps keep to one line: who and when, or the skip reason."""
        item = self.item
        if item.status is StepStatus.DONE:
            return f"✓ {item.closed_by or ''} {format_local(item.closed_at)}"
        reason = item.skip_reason if len(item.skip_reason) <= 14 else item.skip_reason[:13] + "…"
        return f"⊘ 跳过：{reason}"

    def paint_countdown(self, now: datetime) -> None:
        if not self.item.is_open:
            self.chip.setText(self.closed_text())
            self.chip.setToolTip(
                f"已跳过，原因：{self.item.skip_reason}" if self.item.skip_reason else "已完成"
            )
            self.chip.setVisible(True)
            self.chip.setStyleSheet("color: palette(mid);")
            self.chip_state = ChipState.NONE
            return
        chip = step_chip(self.item, now)
        self.chip.setText(chip.text)
        self.chip.setToolTip(chip.tooltip)
        self.chip.setVisible(chip.state is not ChipState.NONE)
        colour = CHIP_COLOURS.get(chip.state)
        self.chip.setStyleSheet(f"background:{colour.name()};border-radius:3px;" if colour else "")
        self.chip_state = chip.state


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
        self.start_button = QPushButton("开始处理清单")
        self.start_button.setToolTip("按售后类型和平台选用 SOP 模板，开始逐步处理并计时")
        self.event_button = QPushButton("记录事件")
        self.event_button.setToolTip("记录申请提交、买家寄回、退货签收等事件的实际时间（可以是过去的时间）")
        self.deadline_button = QPushButton("录入平台时限")
        self.deadline_button.setToolTip("粘贴平台售后单显示的截止时间或倒计时，平台显示优先于规则默认")
        self.amount_button = QPushButton("金额")
        self.amount_button.setToolTip("售后金额，用于显示逾期后果，例如 逾期将自动退款 ¥129.00")
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
            self.title_label.setText("处理清单：未开始" if self.ticket_id else "")
        else:
            amount = format_amount(view.amount)
            done = sum(1 for s in view.steps if not s.is_open)
            self.title_label.setText(
                f"<b>SOP {view.template_name}</b> 第 {view.template_version} 版 · {done}/{len(view.steps)}"
                + (f" · 金额 {amount}" if amount else "")
                + (" · ✓ 已完成" if view.complete else "")
            )
            self.title_label.setToolTip(
                "\n".join(f"{a.label}：{format_local(a.at)}（{a.by}）" for a in view.anchors)
                or "尚未记录事件"
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
        message = str(exc) if isinstance(exc, ServiceError) else "操作失败，数据未改动。详情已写入日志。"
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
                return "请选择售后类型（例如 仅退款 要分 未发货 / 已发货）"
            try:
                parse_amount(v["amount"])
            except ServiceError as exc:
                return str(exc)
            return None

        dialog = FormDialog("开始处理清单", self, check)
        combo = QComboBox()
        combo.addItem("请选择售后类型…", None)
        ordered = sorted(options.options, key=lambda o: o.after_sales_type not in options.suggested)
        for o in ordered:
            mark = "（推荐）" if o.after_sales_type in options.suggested else ""
            combo.addItem(f"{o.label}{mark} — {o.template_name} 第{o.template_version}版", o.after_sales_type)
        if not options.ambiguous:
            combo.setCurrentIndex(combo.findData(options.suggested[0]))
        dialog.add("type", "售后类型", combo)
        amount = QLineEdit()
        amount.setPlaceholderText("选填，例如 129.00")
        dialog.add("amount", "售后金额 ¥", amount)

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
        dialog = FormDialog("记录事件", self, lambda v: "时间不能晚于现在" if v["at"] > self._now() else None)
        combo = QComboBox()
        wanted = list(self.view.anchor_events) if self.view else []
        for event in wanted + [e for e in AnchorEvent if e not in wanted]:
            combo.addItem(ANCHOR_LABELS[event], event)
        dialog.add("event", "事件", combo)
        when = QDateTimeEdit(QDateTime(now.astimezone().replace(tzinfo=None)))
        when.setDisplayFormat("yyyy-MM-dd HH:mm")
        when.setCalendarPopup(True)
        when.setMaximumDateTime(QDateTime(now.astimezone().replace(tzinfo=None)))
        dialog.add("at", "发生时间", when)
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
                return "请选择步骤"
            try:
                parse_deadline_text(v["text"], now=self._now())
            except ServiceError as exc:
                return str(exc)
            return None

        dialog = FormDialog(f"录入{DEADLINE_SOURCE_LABELS[source]}时限", self, check)
        steps = QComboBox()
        for item in self.view.steps if self.view else ():
            if item.is_open:
                steps.addItem(item.title, item.step_id)
        if step_id is not None:
            steps.setCurrentIndex(max(0, steps.findData(step_id)))
        dialog.add("step", "步骤", steps)
        kind = QComboBox()
        for s in (DeadlineSource.PLATFORM, DeadlineSource.MANUAL):
            kind.addItem(DEADLINE_SOURCE_LABELS[s], s)
        kind.setCurrentIndex(kind.findData(source))
        dialog.add("source", "来源", kind)
        text = QLineEdit()
        text.setPlaceholderText("粘贴 2026-11-24 18:30 或 剩余1天3小时")
        dialog.add("text", "截止时间", text)
        preview = QLabel()
        dialog.form.addRow("", preview)

        def show_preview(value: str) -> None:
            try:
                at = parse_deadline_text(value, now=self._now())
                preview.setText(f"= {at.astimezone():%Y-%m-%d %H:%M}（本地时间）")
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
        dialog = FormDialog("跳过步骤", self, _required("reason", "跳过步骤必须填写原因"))
        dialog.add("reason", "跳过原因（必填）", QLineEdit())
        return self._open(
            dialog,
            lambda v: self._run(
                lambda t, a: self._sop.skip(ticket_id=t, step_id=step_id, reason=v["reason"], actor_id=a)
            ),
        )

    def request_note(self, step_id: str) -> FormDialog:
        dialog = FormDialog("步骤备注", self, _required("text", "备注不能为空"))
        dialog.add("text", "备注", QLineEdit())
        return self._open(
            dialog,
            lambda v: self._run(
                lambda t, a: self._sop.add_note(ticket_id=t, step_id=step_id, text=v["text"], actor_id=a)
            ),
        )

    def request_proof(self, step_id: str) -> FormDialog:
        dialog = FormDialog("添加凭证", self, _required("ref", "请填写截图文件、物流单号或平台链接"))
        dialog.add("ref", "凭证（文件/单号/链接）", QLineEdit())
        dialog.add("label", "说明（选填）", QLineEdit())
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

        dialog = FormDialog("售后金额", self, check)
        edit = QLineEdit(f"{self.view.amount:.2f}" if self.view and self.view.amount is not None else "")
        edit.setPlaceholderText("例如 129.00；留空表示未知")
        dialog.add("amount", "金额 ¥", edit)
        return self._open(
            dialog,
            lambda v: self._run(
                lambda t, a: self._sop.set_amount(ticket_id=t, amount=parse_amount(v["amount"]), actor_id=a)
            ),
        )

    def _on_changes(self, changes: Changes, initiator: object) -> None:
        if initiator is not self and changes.sop and self.ticket_id in changes.ticket_ids:
            self.show_ticket(self.ticket_id)

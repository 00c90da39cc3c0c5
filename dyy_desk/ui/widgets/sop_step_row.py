"""One step of an SOP checklist: tick box, title, countdown chip, and the step's notes and proofs."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QToolButton,
    QVBoxLayout,
)

from dyy_desk.core.due_chip import ChipState
from dyy_desk.core.i18n import _
from dyy_desk.core.sop_checklist import DeadlineSource, StepStatus
from dyy_desk.core.timefmt import format_local
from dyy_desk.services.sop_views import StepItem
from dyy_desk.ui.countdown import CHIP_COLOURS
from dyy_desk.ui.models.sop_models import step_chip

if TYPE_CHECKING:
    from dyy_desk.ui.panels.checklist_panel import ChecklistPanel


class StepRow(QFrame):
    """One step: tick box with title, countdown chip, actions menu; instructions on hover or 说明."""

    def __init__(self, item: StepItem, panel: ChecklistPanel) -> None:
        super().__init__()
        self.item = item
        self.setObjectName("checklistStep")
        self.check = QCheckBox()
        self.check.setToolTip(_("勾选表示此步骤已完成"))
        self.title = QLabel(item.title + ("" if item.required else _("（可选）")))
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
        self.more.setToolTip(_("跳过、录入时限、备注、凭证"))
        self.more.setAutoRaise(True)
        self.more.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.more.setStyleSheet("QToolButton::menu-indicator { image: none; }")
        menu = QMenu(self.more)
        if item.is_open:
            menu.addAction(
                _("录入平台时限…"), lambda: panel.request_deadline(item.step_id, DeadlineSource.PLATFORM)
            )
            menu.addAction(
                _("录入手动时限…"), lambda: panel.request_deadline(item.step_id, DeadlineSource.MANUAL)
            )
            menu.addAction(_("跳过…"), lambda: panel.request_skip(item.step_id))
        menu.addAction(_("备注…"), lambda: panel.request_note(item.step_id))
        menu.addAction(_("凭证…"), lambda: panel.request_proof(item.step_id))
        menu.addAction(_("说明"), self._toggle_instructions)
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
                parts.append(_("待记录事件：{waiting_for}").format(waiting_for=item.waiting_for))
        if item.notes:
            parts.append(_("备注 {count} 条：{text}").format(count=len(item.notes), text=item.notes[-1].text))
        if item.proofs:
            last = item.proofs[-1]
            parts.append(
                _("凭证 {count} 个：{latest}{text}").format(
                    count=len(item.proofs), latest=last.label + " " if last.label else "", text=last.text
                )
            )
        return "\n".join(parts)

    def closed_text(self) -> str:
        """Done and skipped steps keep to one line: who and when, or the skip reason."""
        item = self.item
        if item.status is StepStatus.DONE:
            return f"✓ {item.closed_by or ''} {format_local(item.closed_at)}"
        reason = item.skip_reason if len(item.skip_reason) <= 14 else item.skip_reason[:13] + "…"
        return _("⊘ 跳过：{reason}").format(reason=reason)

    def paint_countdown(self, now: datetime) -> None:
        if not self.item.is_open:
            self.chip.setText(self.closed_text())
            self.chip.setToolTip(
                _("已跳过，原因：{skip_reason}").format(skip_reason=self.item.skip_reason)
                if self.item.skip_reason
                else _("已完成")
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

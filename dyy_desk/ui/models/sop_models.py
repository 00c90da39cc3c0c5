"""Countdown chips of checklist steps and the shift-handover table.

`step_chip` is pure arithmetic on data the panel already holds, so the window-wide tick can repaint
every countdown without asking the database.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush

from dyy_desk.core.deadlines import DeadlineState, deadline_state, format_duration, remaining
from dyy_desk.core.due_chip import Chip, ChipState
from dyy_desk.core.i18n import N_, _
from dyy_desk.core.timefmt import format_local
from dyy_desk.services.sop_views import DeadlineItem, StepItem
from dyy_desk.ui.countdown import CHIP_COLOURS

_Index = QModelIndex | QPersistentModelIndex
_STATE_CHIP = {
    DeadlineState.NORMAL: ChipState.ON_TRACK,
    DeadlineState.DUE_SOON: ChipState.DUE_SOON,
    DeadlineState.OVERDUE: ChipState.OVERDUE,
}
UNVERIFIED_MARK = N_("未核实")


def deadline_chip(
    deadline: datetime, window_start: datetime | None, source_label: str, unverified: bool, now: datetime
) -> Chip:
    state = deadline_state(deadline, now, window_start=window_start)
    left = remaining(deadline, now)
    # Glyphs every CJK UI font has (emoji clocks render as boxes in WenQuanYi and YaHei)
    prefix = {DeadlineState.NORMAL: "○", DeadlineState.DUE_SOON: "⚠", DeadlineState.OVERDUE: "✕"}[state]
    text = f"{prefix} {format_duration(left)} · {source_label}" + (
        f"({_(UNVERIFIED_MARK)})" if unverified else ""
    )
    words = {
        DeadlineState.NORMAL: _("剩余"),
        DeadlineState.DUE_SOON: _("即将超时，剩余"),
        DeadlineState.OVERDUE: _("已超时"),
    }
    span = format_duration(left).removeprefix("超时 ")
    tooltip = _("{words} {span} · 截止 {time} · 来源：{source_label}").format(
        words=words[state], span=span, time=format_local(deadline, now=now), source_label=source_label
    )
    if unverified:
        tooltip += _("（规则默认值未经核实，请以平台售后单显示为准）")
    return Chip(_STATE_CHIP[state], text, tooltip)


def step_chip(item: StepItem, now: datetime) -> Chip:
    """The chip of one step: none when closed or when its anchor event has not been recorded."""
    if not item.is_open or item.deadline_at is None:
        return Chip(ChipState.NONE, "", "")
    return deadline_chip(item.deadline_at, item.window_start, item.source_label, item.unverified, now)


HANDOVER_COLUMNS = [
    N_("倒计时"),
    N_("工单号"),
    N_("步骤"),
    N_("截止时间"),
    N_("来源"),
    N_("处理人"),
    N_("逾期后果"),
]


class HandoverModel(QAbstractTableModel):
    """Deadlines due in the next hours; the countdown column repaints from the window tick."""

    def __init__(self, now: Callable[[], datetime]) -> None:
        super().__init__()
        self._now = now
        self._items: list[DeadlineItem] = []

    def set_items(self, items: list[DeadlineItem]) -> None:
        self.beginResetModel()
        self._items = list(items)
        self.endResetModel()

    def item(self, row: int) -> DeadlineItem:
        return self._items[row]

    def tick(self) -> None:
        if self._items:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._items) - 1, 0))

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._items)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(HANDOVER_COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return _(HANDOVER_COLUMNS[section])
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        item = self._items[index.row()]
        if index.column() == 0:
            chip = deadline_chip(item.deadline, None, item.source_label, item.unverified, self._now())
            if role == Qt.ItemDataRole.DisplayRole:
                return chip.text
            if role == Qt.ItemDataRole.ToolTipRole:
                return chip.tooltip
            colour = CHIP_COLOURS.get(chip.state)
            return QBrush(colour) if role == Qt.ItemDataRole.BackgroundRole and colour is not None else None
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == 2:
            return item.subject
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        values = [
            "",
            item.ticket_number,
            item.step_title,
            format_local(item.deadline, now=self._now()),
            item.source_label + (f"（{_(UNVERIFIED_MARK)}）" if item.unverified else ""),
            item.assignee_name or _("未分配"),
            item.consequence,
        ]
        return values[index.column()]


def handover_text(items: list[DeadlineItem], now: datetime, hours: float) -> str:
    """Plain text for the shift log or a chat group."""
    lines = [
        _("交接班：未来 {hours:g} 小时内到期的处理时限（共 {count} 项）").format(
            hours=hours, count=len(items)
        )
    ]
    for i in items:
        chip = deadline_chip(i.deadline, None, i.source_label, i.unverified, now)
        lines.append(
            _("{ticket_number}｜{step_title}｜截止 {time}｜{text}｜{assignee}").format(
                ticket_number=i.ticket_number,
                step_title=i.step_title,
                time=format_local(i.deadline, now=now),
                text=chip.text,
                assignee=i.assignee_name or _("未分配"),
            )
            + (f"｜{i.consequence}" if i.consequence else "")
        )
    return "\n".join(lines)

"""Tables of the SOP area: the board of running checklists and the list of templates.

The board holds every running checklist and shows the ones its filter lets through. 即将超时 and 已超时
depend on the time, so `tick` re-evaluates the filter by arithmetic on the rows it already holds and
repaints only the countdown column while the visible set stays the same.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from dyy_desk.core.deadlines import DeadlineState
from dyy_desk.core.due_chip import ChipState
from dyy_desk.core.i18n import N_, _
from dyy_desk.core.types import PLATFORM_LABELS
from dyy_desk.services.sop_board import TEMPLATE_STATE_LABELS, BoardRow, TemplateRow, TemplateState
from dyy_desk.ui.countdown import CHIP_COLOURS
from dyy_desk.ui.models.sop_models import deadline_chip

_Index = QModelIndex | QPersistentModelIndex
_WAITING_COLOUR = QColor("#eceff1")


class BoardFilter(StrEnum):
    ALL = "all"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    MINE = "mine"


BOARD_FILTER_LABELS: dict[BoardFilter, str] = {
    BoardFilter.ALL: N_("全部"),
    BoardFilter.DUE_SOON: N_("即将超时"),
    BoardFilter.OVERDUE: N_("已超时"),
    BoardFilter.MINE: N_("我的"),
}
BOARD_COLUMNS = [
    N_("倒计时"),
    N_("工单号"),
    N_("品牌方 · 店铺"),
    N_("平台"),
    N_("售后类型"),
    N_("当前步骤"),
    N_("进度"),
    N_("逾期后果"),
    N_("处理人"),
]
COUNTDOWN_COLUMN = 0


def passes(row: BoardRow, wanted: BoardFilter, *, now: datetime, user_id: str | None) -> bool:
    if wanted is BoardFilter.ALL:
        return True
    if wanted is BoardFilter.MINE:
        return user_id is not None and row.assignee_id == user_id
    state = DeadlineState.DUE_SOON if wanted is BoardFilter.DUE_SOON else DeadlineState.OVERDUE
    return row.state(now) is state


class SopBoardModel(QAbstractTableModel):
    def __init__(self, now: Callable[[], datetime]) -> None:
        super().__init__()
        self._now = now
        self._all: list[BoardRow] = []
        self._shown: list[BoardRow] = []
        self._filter = BoardFilter.ALL
        self._user_id: str | None = None

    # --- state -------------------------------------------------------------------------------
    def set_rows(self, rows: list[BoardRow]) -> None:
        """`rows` come soonest-loss-first from the service; the order is kept."""
        self._all = list(rows)
        self._refilter(force=True)

    def set_filter(self, wanted: BoardFilter) -> None:
        self._filter = wanted
        self._refilter(force=True)

    def set_user_id(self, user_id: str | None) -> None:
        self._user_id = user_id
        self._refilter(force=self._filter is BoardFilter.MINE)

    @property
    def filter(self) -> BoardFilter:
        return self._filter

    def counts(self) -> dict[BoardFilter, int]:
        now = self._now()
        return {
            f: sum(1 for r in self._all if passes(r, f, now=now, user_id=self._user_id)) for f in BoardFilter
        }

    def total(self) -> int:
        return len(self._all)

    def row_at(self, row: int) -> BoardRow:
        return self._shown[row]

    def rows(self) -> list[BoardRow]:
        return list(self._shown)

    def tick(self) -> None:
        """Once a second: no query, only the filter and the countdown text are recomputed."""
        if not self._refilter(force=False) and self._shown:
            last = len(self._shown) - 1
            self.dataChanged.emit(self.index(0, COUNTDOWN_COLUMN), self.index(last, COUNTDOWN_COLUMN))

    def _refilter(self, *, force: bool) -> bool:
        now = self._now()
        shown = [r for r in self._all if passes(r, self._filter, now=now, user_id=self._user_id)]
        if not force and [r.checklist_id for r in shown] == [r.checklist_id for r in self._shown]:
            return False
        self.beginResetModel()
        self._shown = shown
        self.endResetModel()
        return True

    # --- Qt model ----------------------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._shown)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(BOARD_COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return _(BOARD_COLUMNS[section])
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        row = self._shown[index.row()]
        if index.column() == COUNTDOWN_COLUMN:
            return _countdown(row, self._now(), role)
        if role == Qt.ItemDataRole.ToolTipRole:
            return _tooltip(row, index.column())
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        return [
            "",
            row.ticket_number,
            f"{row.client_name} · {row.shop_name}",
            _(PLATFORM_LABELS[row.platform]),
            row.type_label,
            row.step_title,
            f"{row.done_steps}/{row.total_steps}",
            row.consequence or "—",
            row.assignee_name or _("未分配"),
        ][index.column()]


def _countdown(row: BoardRow, now: datetime, role: int) -> object:
    if row.deadline is None:
        if role == Qt.ItemDataRole.DisplayRole:
            return (
                _("○ 等待：{waiting}").format(waiting=row.waiting_for) if row.waiting_for else _("○ 无时限")
            )
        if role == Qt.ItemDataRole.ToolTipRole:
            return _(
                "这一步的时限要等事件发生后才开始计算：请在工单的处理清单里记录事件时间，"
                "或录入平台显示的截止时间。"
            )
        return QBrush(_WAITING_COLOUR) if role == Qt.ItemDataRole.BackgroundRole else None
    chip = deadline_chip(row.deadline, row.window_start, row.source_label, row.unverified, now)
    if role == Qt.ItemDataRole.DisplayRole:
        return chip.text
    if role == Qt.ItemDataRole.ToolTipRole:
        return chip.tooltip
    if role == Qt.ItemDataRole.BackgroundRole and chip.state is not ChipState.NONE:
        return QBrush(CHIP_COLOURS[chip.state])
    return None


def _tooltip(row: BoardRow, column: int) -> str | None:
    if column == 1:
        return row.subject
    if column == 4:
        return _("模板：{name}").format(name=row.template_name)
    if column == 2:
        return f"{row.client_name} · {row.shop_name}（{_(PLATFORM_LABELS[row.platform])}）"
    return None


TEMPLATE_COLUMNS = [
    N_("状态"),
    N_("模板名称"),
    N_("售后类型"),
    N_("适用平台"),
    N_("版本"),
    N_("生效日期"),
    N_("步骤数"),
    N_("时限核实"),
]
_STATE_COLOURS = {TemplateState.IN_FORCE: QColor("#d8f0dc"), TemplateState.UPCOMING: QColor("#e3f2fd")}
UNVERIFIED_COLUMN = 7


class SopTemplateModel(QAbstractTableModel):
    def __init__(self) -> None:
        super().__init__()
        self._rows: list[TemplateRow] = []

    def set_rows(self, rows: list[TemplateRow]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row_at(self, row: int) -> TemplateRow:
        return self._rows[row]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(TEMPLATE_COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return _(TEMPLATE_COLUMNS[section])
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        t = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.BackgroundRole:
            if column == 0:
                colour = _STATE_COLOURS.get(t.state)
                return QBrush(colour) if colour is not None else None
            if column == UNVERIFIED_COLUMN and t.unverified_steps:
                return QBrush(CHIP_COLOURS[ChipState.DUE_SOON])
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == UNVERIFIED_COLUMN:
                return _(
                    "未核实的时限是保守的默认值，未按平台最新规则确认；"
                    "以平台售后单显示的截止时间为准，录入后会覆盖默认值。"
                )
            return _("文件：{source}（{template_id}）").format(source=t.source, template_id=t.template_id)
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        platforms = "、".join(_(PLATFORM_LABELS[p]) for p in t.platforms) or _("通用（其余平台）")
        if t.unverified_steps:
            checked = _("⚠ {count} 项未核实").format(count=t.unverified_steps)
        else:
            checked = _("✓ 已核实") if t.timed_steps else _("无时限")
        return [
            TEMPLATE_STATE_LABELS[t.state],
            t.name,
            t.type_label,
            platforms,
            _("第 {version} 版").format(version=t.version),
            t.effective_date.isoformat(),
            _("{steps} 步（{timed} 步有时限）").format(steps=t.steps, timed=t.timed_steps),
            checked,
        ][column]

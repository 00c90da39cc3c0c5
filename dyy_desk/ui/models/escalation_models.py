"""Table models for the escalation board and the 我发起的升级 list. Rows are frozen service DTOs; the
countdown column is recomputed from `clock_now` on each tick, with no database access.

The board holds only the pages scrolled into view: at 100k tickets thousands of escalations are open,
and building them all cost seconds and tens of MB. Qt asks for more through canFetchMore/fetchMore;
the model asks its panel (`more_wanted`), which reads the page in the TaskRunner and hands it back."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor

from dyy_desk.core.deadlines import DeadlineState
from dyy_desk.core.due_chip import format_span
from dyy_desk.core.escalation_lifecycle import first_response_state
from dyy_desk.core.escalation_model import (
    ESCALATION_STATUS_LABELS,
    LEVEL_LABELS,
    EscalationLevel,
)
from dyy_desk.core.i18n import N_, _
from dyy_desk.core.timefmt import format_local
from dyy_desk.services.escalation_views import BoardSort, EscalationRow

_Index = QModelIndex | QPersistentModelIndex
LEVEL_COLOURS = {
    EscalationLevel.L1: QColor("#fff3c4"),
    EscalationLevel.L2: QColor("#ffe0b2"),
    EscalationLevel.L3: QColor("#ffcdd2"),
}
STATE_COLOURS = {DeadlineState.DUE_SOON: QColor("#ffe7b3"), DeadlineState.OVERDUE: QColor("#ffcdd2")}


def level_badge(level: EscalationLevel) -> str:
    return f"{level.code} {_(LEVEL_LABELS[level])}"


def countdown_text(row: EscalationRow, now: datetime) -> str:
    """首次响应 countdown in words, so colour is never the only signal."""
    esc = row.escalation
    state = first_response_state(esc, now)
    if state is None:
        return (
            _("已响应 {time}").format(time=format_local(esc.acknowledged_at, now=now))
            if esc.acknowledged_at
            else "—"
        )
    left = esc.first_response_due - now
    if state is DeadlineState.OVERDUE:
        return _("超时 {span}").format(span=format_span(left))
    if state is DeadlineState.DUE_SOON:
        return _("即将超时 {span}").format(span=format_span(left))
    return _("剩余 {span}").format(span=format_span(left))


class EscalationTableModel(QAbstractTableModel):
    COLUMNS = (
        N_("级别"),
        N_("首次响应"),
        N_("状态"),
        N_("原因"),
        N_("客户 · 店铺"),
        N_("工单"),
        N_("负责人"),
        N_("创建"),
    )
    LEVEL, COUNTDOWN = 0, 1

    def __init__(self, clock_now: Callable[[], datetime]) -> None:
        super().__init__()
        self._now = clock_now
        self._rows: list[EscalationRow] = []
        self.sort_mode = BoardSort.LEVEL

    # --- content ---------------------------------------------------------------------------------
    def set_rows(self, rows: Sequence[EscalationRow]) -> None:
        """A complete (short) list, sorted here: 我发起的升级 holds one agent's manual escalations."""
        far = datetime.max.replace(tzinfo=self._now().tzinfo)

        def due(r: EscalationRow) -> datetime:
            return r.escalation.first_response_due if r.escalation.acknowledged_at is None else far

        ordered = list(rows)
        if self.sort_mode is BoardSort.LEVEL:
            ordered.sort(key=lambda r: (-r.level, due(r), r.escalation.created_at))
        else:
            ordered.sort(key=lambda r: (due(r), -r.level, r.escalation.created_at))
        self.beginResetModel()
        self._rows = ordered
        self.endResetModel()

    def set_sort(self, mode: BoardSort) -> None:
        self.sort_mode = mode
        self.set_rows(self._rows)

    def row_at(self, row: int) -> EscalationRow | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def rows(self) -> list[EscalationRow]:
        return list(self._rows)

    def row_of(self, escalation_id: str) -> int:
        return next((i for i, r in enumerate(self._rows) if r.id == escalation_id), -1)

    def tick(self) -> None:
        """Repaint only the countdown column (called once a second)."""
        if self._rows:
            top = self.index(0, self.COUNTDOWN)
            bottom = self.index(len(self._rows) - 1, self.COUNTDOWN)
            self.dataChanged.emit(top, bottom, [Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.BackgroundRole])

    # --- Qt ----------------------------------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return _(self.COLUMNS[section])
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        row = self.row_at(index.row()) if index.isValid() else None
        if row is None:
            return None
        column, esc, now = index.column(), row.escalation, self._now()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, column, now)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == self.COUNTDOWN:
                return _("首次响应截止 {time}").format(time=format_local(esc.first_response_due, now=now))
            if column == 3:
                return esc.reason
            return self._text(row, column, now)
        if role == Qt.ItemDataRole.BackgroundRole:
            if column == self.LEVEL:
                return QBrush(LEVEL_COLOURS[esc.level])
            if column == self.COUNTDOWN:
                colour = STATE_COLOURS.get(first_response_state(esc, now) or DeadlineState.NORMAL)
                return QBrush(colour) if colour else None
        return None

    def _text(self, row: EscalationRow, column: int, now: datetime) -> str:
        esc = row.escalation
        if column == 0:
            return level_badge(esc.level)
        if column == 1:
            return countdown_text(row, now)
        if column == 2:
            return _(ESCALATION_STATUS_LABELS[esc.status])
        if column == 3:
            return f"{row.rule_name}：{esc.reason.split('：', 1)[-1]}" if esc.rule_id else esc.reason
        if column == 4:
            return row.scope_text
        if column == 5:
            return _("{count} 张").format(count=len(esc.ticket_ids))
        if column == 6:
            return row.owner_name or _("未指派")
        return format_local(esc.created_at, now=now)


class EscalationBoardModel(EscalationTableModel):
    """The board: pages in the service's order (sort and client/shop filter applied in SQL)."""

    more_wanted = Signal(int, int)  # (generation, offset of the next page)

    def __init__(self, clock_now: Callable[[], datetime]) -> None:
        super().__init__(clock_now)
        self._total = 0
        self._generation = 0
        self._waiting = False  # a page is on its way: Qt asks again on every scroll

    @property
    def generation(self) -> int:
        return self._generation

    def total(self) -> int:
        return self._total

    def reset_page(self, rows: Sequence[EscalationRow], total: int) -> None:
        """The first page of a new answer (after a reload, a sort or a filter change)."""
        self.beginResetModel()
        self._generation += 1
        self._rows = list(rows)
        self._total = total
        self._waiting = False
        self.endResetModel()

    def append_page(self, generation: int, offset: int, rows: Sequence[EscalationRow], total: int) -> None:
        self._waiting = False
        if generation != self._generation or offset != len(self._rows) or not rows:
            return  # an answer to an older question: a reset came in between
        self._total = total
        self.beginInsertRows(QModelIndex(), offset, offset + len(rows) - 1)
        self._rows.extend(rows)
        self.endInsertRows()

    def canFetchMore(self, parent: _Index = QModelIndex()) -> bool:  # noqa: B008 - Qt's signature
        return not parent.isValid() and not self._waiting and len(self._rows) < self._total

    def fetchMore(self, parent: _Index = QModelIndex()) -> None:  # noqa: B008
        if self.canFetchMore(parent):
            self._waiting = True
            self.more_wanted.emit(self._generation, len(self._rows))

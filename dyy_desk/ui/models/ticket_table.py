"""The queue as a table model: holds only ids; rows are fetched a page at a time when first shown.

Threading contract: `set_ids` and every method here run on the GUI thread. `fetch_rows` is a fast
indexed lookup of at most PAGE ids (a few ms); the slow part — finding and sorting the ids — runs in the
TaskRunner and arrives through `set_ids`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor

from dyy_desk.core.due_chip import due_chip
from dyy_desk.core.i18n import N_, _
from dyy_desk.core.ticket_query import SortKey
from dyy_desk.core.timefmt import format_local
from dyy_desk.core.types import (
    CATEGORY_LABELS,
    PLATFORM_LABELS,
    PRIORITY_LABELS,
    STATUS_LABELS,
    Priority,
    TicketRow,
)
from dyy_desk.ui.countdown import CHIP_COLOURS

PAGE = 100
_Index = QModelIndex | QPersistentModelIndex

# (header, sort key or None)
COLUMNS: list[tuple[str, SortKey | None]] = [
    (N_("倒计时"), SortKey.DUE),
    (N_("工单号"), SortKey.NUMBER),
    (N_("类型"), SortKey.CATEGORY),
    (N_("标题"), None),
    (N_("品牌方"), SortKey.CLIENT),
    (N_("店铺"), None),
    (N_("平台"), None),
    (N_("状态"), SortKey.STATUS),
    (N_("优先级"), SortKey.PRIORITY),
    (N_("处理人"), None),
    (N_("买家"), None),
    (N_("创建时间"), SortKey.CREATED),
]
DUE_COLUMN = 0
TicketIdRole = Qt.ItemDataRole.UserRole + 1


class TicketTableModel(QAbstractTableModel):
    sort_requested = Signal(object, bool)  # (SortKey, descending): the panel re-queries ids

    def __init__(
        self,
        fetch_rows: Callable[[Sequence[str]], dict[str, TicketRow]],
        now: Callable[[], datetime],
        due_soon_hours: float = 2.0,
    ) -> None:
        super().__init__()
        self._fetch_rows = fetch_rows
        self._now = now
        self._due_soon_hours = due_soon_hours
        self._ids: list[str] = []
        self._total = 0  # may exceed len(_ids) while only the first page is known
        self._cache: dict[str, TicketRow] = {}
        self._texts: dict[str, tuple[str, ...]] = {}  # display strings, formatted once per fetch

    # --- content -----------------------------------------------------------------------------
    def set_ids(self, ids: list[str], total: int | None = None) -> None:
        """`total` larger than len(ids): only the first page is known yet; the rest show as loading."""
        self.beginResetModel()
        self._ids = ids
        self._total = max(len(ids), total or 0)
        self._cache.clear()
        self._texts.clear()
        self.endResetModel()

    def is_complete(self) -> bool:
        return self._total == len(self._ids)

    def refresh_rows(self, ticket_ids: Sequence[str]) -> None:
        """Re-read rows that a mutation touched, keeping the selection and scroll position."""
        for ticket_id in ticket_ids:
            self._cache.pop(ticket_id, None)
            self._texts.pop(ticket_id, None)
        positions = [self._ids.index(t) for t in ticket_ids if t in self._ids]
        if positions:
            self.dataChanged.emit(self.index(min(positions), 0), self.index(max(positions), len(COLUMNS) - 1))

    def ids(self) -> list[str]:
        return self._ids

    def ticket_id(self, row: int) -> str | None:
        return self._ids[row] if 0 <= row < len(self._ids) else None

    def row_of(self, ticket_id: str) -> int:
        try:
            return self._ids.index(ticket_id)
        except ValueError:
            return -1

    def ticket_row(self, row: int) -> TicketRow | None:
        ticket_id = self.ticket_id(row)
        if ticket_id is None:
            return None
        cached = self._cache.get(ticket_id)
        if cached is None:
            start = row - row % PAGE
            page = [i for i in self._ids[start : start + PAGE] if i not in self._cache]
            self._cache.update(self._fetch_rows(page))
            cached = self._cache.get(ticket_id)
        return cached

    def tick(self, first_row: int, last_row: int) -> None:
        """Repaint the countdown cells of the visible rows only (one timer for the whole window)."""
        if self._ids and first_row <= last_row:
            self.dataChanged.emit(
                self.index(first_row, DUE_COLUMN),
                self.index(last_row, DUE_COLUMN),
                [Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.ToolTipRole],
            )

    # --- Qt model API ------------------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else self._total

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return _(COLUMNS[section][0])
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        key = COLUMNS[column][1] if 0 <= column < len(COLUMNS) else None
        if key is not None:
            self.sort_requested.emit(key, order == Qt.SortOrder.DescendingOrder)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        if role == TicketIdRole:
            return self.ticket_id(index.row())
        if role not in (
            Qt.ItemDataRole.DisplayRole,
            Qt.ItemDataRole.ToolTipRole,
            Qt.ItemDataRole.BackgroundRole,
            Qt.ItemDataRole.ForegroundRole,
        ):
            return None
        row = self.ticket_row(index.row())
        if row is None:
            loading = (
                index.row() >= len(self._ids) and index.column() == 1 and role == Qt.ItemDataRole.DisplayRole
            )
            return _("加载中…") if loading else None
        column = index.column()
        if column == DUE_COLUMN:
            return self._due_data(row, role)
        if role == Qt.ItemDataRole.ForegroundRole:
            if column == 8 and row.priority in (Priority.URGENT, Priority.HIGH):
                return QBrush(QColor("#c62828"))
            return None
        if role == Qt.ItemDataRole.BackgroundRole:
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            return row.subject if column == 3 else None
        return self._display(row, column)

    def _display(self, row: TicketRow, column: int) -> str:
        texts = self._texts.get(row.id)
        if texts is None:
            texts = self._texts[row.id] = self._format(row)
        return texts[column]

    def _format(self, row: TicketRow) -> tuple[str, ...]:
        return (
            "",
            row.number,
            _(CATEGORY_LABELS[row.category]),
            (f"【L{row.escalation_level}】" if row.escalation_level else "")
            + (_("⚠ 平台介入 ") if row.platform_intervention else "")
            + row.subject,
            row.client_name,
            row.shop_name,
            _(PLATFORM_LABELS[row.platform]),
            _(STATUS_LABELS[row.status]),
            _(PRIORITY_LABELS[row.priority]),
            row.assignee_name or _("未分配"),
            row.customer_nick,
            format_local(row.created_at, now=self._now()),
        )

    def _due_data(self, row: TicketRow, role: int) -> object:
        chip = due_chip(
            row.due_at,
            self._now(),
            due_soon_hours=self._due_soon_hours,
            status=row.status,
            due_soon_at=row.due_soon_at,
        )
        if role == Qt.ItemDataRole.DisplayRole:
            return chip.text
        if role == Qt.ItemDataRole.ToolTipRole:
            return chip.tooltip
        colour = CHIP_COLOURS.get(chip.state)
        if role == Qt.ItemDataRole.BackgroundRole and colour is not None:
            return QBrush(colour)
        return None

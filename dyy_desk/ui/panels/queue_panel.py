"""The ticket queue: built-in views, filters, free text and server-side sorting over a lazy model."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import TypeVar

from PySide6.QtCore import QItemSelection, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from dyy_desk.core.changes import Changes
from dyy_desk.core.i18n import N_, _
from dyy_desk.core.ticket_query import VIEW_LABELS, QueueView, SortKey, TicketQuery
from dyy_desk.core.types import (
    CATEGORY_LABELS,
    PLATFORM_LABELS,
    STATUS_LABELS,
    Platform,
    TicketCategory,
    TicketStatus,
    UserRow,
)
from dyy_desk.services.directory import DirectoryService
from dyy_desk.services.tickets import QueuePage, TicketService
from dyy_desk.ui.models.ticket_table import COLUMNS, TicketTableModel
from dyy_desk.ui.signals import AppSignals
from dyy_desk.ui.tasks import TaskRunner

FILTER_DEBOUNCE_MS = 180
FIRST_PAGE = 200  # rows shown from SQL while the queue index loads
EMPTY_VIEW_MESSAGES = {
    QueueView.MINE: (
        N_(
            "没有分配给你的未完成工单。\n"
            "可以在「未分配」里认领工单（选中后按 Ctrl+Shift+A），或按 Ctrl+N 新建工单。"
        )
    ),
    QueueView.UNASSIGNED: N_("所有未完成的工单都已有人处理。"),
    QueueView.DUE_SOON: N_("没有即将超时的工单。"),
    QueueView.OVERDUE: N_("没有已超时的工单。"),
    QueueView.ESCALATED: N_("没有处于升级中的工单。"),
    QueueView.ALL: N_("工作区里还没有工单。按 Ctrl+N 新建第一个工单。"),
}
E = TypeVar("E", bound=StrEnum)


class QueuePanel(QWidget):
    new_ticket_requested = Signal()
    rows_shown = Signal(int)  # rows are on screen (perhaps only the first page): the queue is usable
    ids_loaded = Signal(int)  # the complete answer is in (number of tickets); tests wait on it

    def __init__(
        self,
        *,
        tickets: TicketService,
        directory: DirectoryService,
        runner: TaskRunner,
        signals: AppSignals,
        clock_now: Callable[[], datetime],
        due_soon_hours: float,
    ) -> None:
        super().__init__()
        self._tickets = tickets
        self._directory = directory
        self._runner = runner
        self._signals = signals
        self._query = TicketQuery(view=QueueView.ALL, due_soon_hours=due_soon_hours)
        self._generation = 0
        self._selected_id: str | None = None
        self._texts_warmed = False

        self.model = TicketTableModel(lambda ids: tickets.rows(ids=ids), clock_now, due_soon_hours)
        self.model.sort_requested.connect(self._on_sort)

        self.view_combo = QComboBox()
        for view, label in VIEW_LABELS.items():
            self.view_combo.addItem(_(label), view)
        self.client_combo = QComboBox()
        self.shop_combo = QComboBox()
        self.platform_combo = _enum_combo(_("全部平台"), PLATFORM_LABELS)
        self.status_combo = _enum_combo(_("全部状态"), STATUS_LABELS)
        self.category_combo = _enum_combo(_("全部类型"), CATEGORY_LABELS)
        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText(_("搜索工单号、标题、订单号、买家… (Ctrl+F)"))
        self.search_edit.setClearButtonEnabled(True)
        self.new_button = QPushButton(_("新建工单"))
        self.new_button.setToolTip(_("新建工单 (Ctrl+N)"))
        self.count_label = QLabel()
        self.count_label.setObjectName("mutedLabel")

        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSortIndicator(0, Qt.SortOrder.AscendingOrder)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 10)
        self.table.setWordWrap(False)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        char = self.fontMetrics().horizontalAdvance("中")
        widths = [9, 9, 5, 18, 6, 10, 4, 5, 4, 4, 7, 7]
        for column, width in enumerate(widths[: len(COLUMNS)]):
            header.resizeSection(column, char * width)
        self.table.selectionModel().selectionChanged.connect(self._on_selection)

        filters = QHBoxLayout()
        filters.setSpacing(6)
        self._filter_combos = (
            self.view_combo,
            self.client_combo,
            self.shop_combo,
            self.platform_combo,
            self.status_combo,
            self.category_combo,
        )
        for widget in self._filter_combos:
            widget.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            filters.addWidget(widget)
        filters.addStretch(1)
        search_row = QHBoxLayout()
        search_row.addWidget(self.search_edit, 1)
        search_row.addWidget(self.count_label)
        search_row.addWidget(self.new_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(filters)
        layout.addLayout(search_row)
        self.empty_label = QLabel()
        self.empty_label.setObjectName("emptyState")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self._stack = QStackedWidget()
        self._stack.addWidget(self.table)
        self._stack.addWidget(self.empty_label)
        layout.addWidget(self._stack, 1)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(FILTER_DEBOUNCE_MS)
        self._debounce.timeout.connect(self.reload)
        self.search_edit.textChanged.connect(lambda _text: self._debounce.start())
        for combo in (
            self.view_combo,
            self.shop_combo,
            self.platform_combo,
            self.status_combo,
            self.category_combo,
        ):
            combo.currentIndexChanged.connect(lambda _i: self.reload())
        self.client_combo.currentIndexChanged.connect(self._on_client_changed)
        self.new_button.clicked.connect(self.new_ticket_requested)
        signals.operation_did_execute.connect(self._on_changes)
        signals.tick.connect(self._on_tick)
        self._fill_clients()

    # --- public ------------------------------------------------------------------------------
    def set_user(self, user: UserRow | None) -> None:
        self._query = self._query.with_(user_id=user.id if user else None)
        self.reload()

    def set_view(self, view: QueueView) -> None:
        self.view_combo.setCurrentIndex(self.view_combo.findData(view))

    def show_whole_view(self, view: QueueView) -> None:
        """The view with every filter and the search text cleared, loaded once: what a count in the
        header promised."""
        combos = self._filter_combos
        for widget in (*combos, self.search_edit):
            widget.blockSignals(True)
        try:
            for combo in combos[1:]:
                combo.setCurrentIndex(0)
            self._fill_shops()
            self.search_edit.clear()
            self.view_combo.setCurrentIndex(self.view_combo.findData(view))
        finally:
            for widget in (*combos, self.search_edit):
                widget.blockSignals(False)
        self._debounce.stop()
        self.reload()

    def focus_search(self) -> None:
        self.search_edit.setFocus()
        self.search_edit.selectAll()

    def selected_ticket_id(self) -> str | None:
        return self._selected_id

    def select_ticket(self, ticket_id: str) -> None:
        row = self.model.row_of(ticket_id)
        if row >= 0:
            self.table.selectRow(row)
            self.table.scrollTo(self.model.index(row, 0))

    def current_query(self) -> TicketQuery:
        # Qt hands StrEnum item data back as plain str: convert explicitly.
        return self._query.with_(
            view=QueueView(self.view_combo.currentData()),
            client_id=self.client_combo.currentData(),
            shop_id=self.shop_combo.currentData(),
            platform=_enum_or_none(Platform, self.platform_combo.currentData()),
            status=_enum_or_none(TicketStatus, self.status_combo.currentData()),
            category=_enum_or_none(TicketCategory, self.category_combo.currentData()),
            text=self.search_edit.text(),
        )

    def reload(self) -> None:
        self._generation += 1
        generation = self._generation
        query = self.current_query()
        self._query = query
        self.count_label.setText(_("加载中…"))
        self._runner.run_db(
            lambda _ctx: self._tickets.query_page(query=query, limit=FIRST_PAGE),
            on_done=lambda page: self._apply_page(generation, query, page),
            on_error=self._on_load_error,
        )

    # --- internals ---------------------------------------------------------------------------
    def _apply_page(self, generation: int, query: TicketQuery, page: QueuePage) -> None:
        if generation != self._generation:
            return  # a newer filter is already on its way
        keep = self._selected_id
        self.model.set_ids(page.ids, page.total)
        self.count_label.setText(_("{total} 个工单").format(total=page.total))
        self._show_empty_state(query, page.total)
        if keep:
            self.select_ticket(keep)
        self.rows_shown.emit(page.total)
        if not page.complete:  # the index loads behind the first page; its full answer follows
            self._runner.run_db(
                lambda _ctx: self._tickets.query_ids(query=query),
                on_done=lambda ids: self._apply_page(generation, query, QueuePage(ids, len(ids), True)),
                on_error=self._on_load_error,
            )
            return
        self.ids_loaded.emit(page.total)
        if not self._texts_warmed:
            self._texts_warmed = True  # loaded in the worker before the agent starts typing
            self._runner.run_db(lambda _ctx: self._tickets.warm_queue_texts())

    def _show_empty_state(self, query: TicketQuery, total: int) -> None:
        if total:
            self._stack.setCurrentWidget(self.table)
            return
        filtered = any(
            (query.client_id, query.shop_id, query.platform, query.status, query.category, query.text)
        )
        if filtered:
            message = _("没有符合筛选条件的工单。\n清空搜索框或把筛选改回「全部」试试。")
        else:
            message = _(EMPTY_VIEW_MESSAGES.get(query.view, N_("这里还没有工单。按 Ctrl+N 新建工单。")))
        self.empty_label.setText(message)
        self._stack.setCurrentWidget(self.empty_label)

    def _on_load_error(self, exc: BaseException) -> None:
        self.count_label.setText(_("加载失败，详情已写入日志"))

    def _fill_clients(self) -> None:
        self.client_combo.blockSignals(True)
        self.client_combo.clear()
        self.client_combo.addItem(_("全部品牌方"), None)
        for client in self._directory.clients():
            self.client_combo.addItem(client.name, client.id)
        self.client_combo.blockSignals(False)
        self._fill_shops()

    def _fill_shops(self) -> None:
        self.shop_combo.blockSignals(True)
        self.shop_combo.clear()
        self.shop_combo.addItem(_("全部店铺"), None)
        for shop in self._directory.shops(client_id=self.client_combo.currentData()):
            self.shop_combo.addItem(f"{shop.name}", shop.id)
        self.shop_combo.blockSignals(False)

    def _on_client_changed(self, _index: int) -> None:
        self._fill_shops()
        self.reload()

    def _on_sort(self, key: SortKey, descending: bool) -> None:
        self._query = self._query.with_(sort=key, descending=descending)
        self.reload()

    def _on_selection(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        indexes = selected.indexes()
        if indexes:
            ticket_id = self.model.ticket_id(indexes[0].row())
            if ticket_id == self._selected_id:
                return  # a reload put the same ticket back: nobody asked to see it again
            self._selected_id = ticket_id
            self._signals.ticket_selected.emit(ticket_id)

    def _on_changes(self, changes: Changes, _initiator: object) -> None:
        if changes.users or changes.library:
            return
        if changes.tickets:
            self.reload()

    def _on_tick(self) -> None:
        first = self.table.rowAt(0)
        last = self.table.rowAt(self.table.viewport().height() - 1)
        if first < 0:
            return
        self.model.tick(first, last if last >= 0 else self.model.rowCount() - 1)


def _enum_or_none(enum: type[E], value: object) -> E | None:
    return None if value is None else enum(value)


def _enum_combo(all_label: str, labels: dict[object, str]) -> QComboBox:
    combo = QComboBox()
    combo.addItem(all_label, None)
    for value, label in labels.items():
        combo.addItem(_(label), value)
    return combo

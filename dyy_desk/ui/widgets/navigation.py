"""The left navigation: one row per area, with a count badge where an area has work waiting."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QListView


class NavigationList(QListView):
    area_changed = Signal(int)

    def __init__(self, titles: list[str]) -> None:
        super().__init__()
        self._titles = titles
        self._model = QStandardItemModel(self)
        for title in titles:
            item = QStandardItem(title)
            item.setEditable(False)
            self._model.appendRow(item)
        self.setObjectName("navigation")
        self.setModel(self._model)
        self.setFixedWidth(self.fontMetrics().horizontalAdvance(max(titles, key=len) + " (99)") + 24)
        self.selectionModel().currentChanged.connect(self._on_current)
        self.show_area(0)

    def show_area(self, row: int) -> None:
        self.setCurrentIndex(self._model.index(row, 0))

    def row_of(self, title: str) -> int:
        return self._titles.index(title)

    def set_badge(self, title: str, count: int, tooltip: str = "") -> None:
        item = self._model.item(self.row_of(title))
        item.setText(f"{title} ({count})" if count else title)
        item.setToolTip(tooltip if count else "")

    def text(self, row: int) -> str:
        return str(self._model.item(row).text())

    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self.area_changed.emit(max(0, current.row()))

"""The read-only, one-row-at-a-time tables every area lists its rows in, and the plain sentence shown
in a table's place while it is empty (an empty grid tells a tired agent nothing)."""

from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel, Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QStackedWidget, QTableView


def row_table(model: QAbstractItemModel, *, stretch: int | None = None) -> QTableView:
    """Columns fit their contents; column `stretch` (the last one when None) takes the spare width."""
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.verticalHeader().setVisible(False)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    if stretch is None:
        header.setStretchLastSection(True)
    else:
        header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    return view


def empty_label(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("emptyState")
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    return label


def with_empty_state(view: QTableView, text: str) -> QStackedWidget:
    """The table, or `text` in its place while the model has no rows."""
    stack = QStackedWidget()
    stack.addWidget(empty_label(text))
    stack.addWidget(view)
    model = view.model()
    model.modelReset.connect(lambda: stack.setCurrentIndex(1 if model.rowCount() else 0))
    return stack


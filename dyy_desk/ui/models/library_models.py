"""Search results for the library views, the search-as-you-type driver that feeds them, and the plain
tables of the import preview.

Threading contract: everything here lives on the GUI thread. `LibrarySearcher` hands the query to the
TaskRunner's CPU pool (LibraryService.search is safe on any thread) and drops any answer that is not
for the latest query, so a slow early keystroke never overwrites a later one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import shiboken6
from PySide6.QtCore import (
    QAbstractListModel,
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)

from dyy_desk.core.i18n import N_, _
from dyy_desk.services.library_views import LibraryHit
from dyy_desk.ui.tasks import TaskRunner

SEARCH_DEBOUNCE_MS = 120
RESULT_LIMIT = 20
KIND_LABELS = {"faq": "FAQ", "script": N_("话术")}
HitRole = Qt.ItemDataRole.UserRole + 1
_Index = QModelIndex | QPersistentModelIndex
SearchFn = Callable[[str, str | None, str | None], list[LibraryHit]]  # (query, client_id, user_id)


def client_badge(hit: LibraryHit) -> str:
    return hit.client_name or _("通用")


class LibraryHitsModel(QAbstractListModel):
    """FAQ entries and scripts mixed, best first, exactly as the search returned them."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._hits: list[LibraryHit] = []

    def set_hits(self, hits: Sequence[LibraryHit]) -> None:
        self.beginResetModel()
        self._hits = list(hits)
        self.endResetModel()

    def hit(self, row: int) -> LibraryHit | None:
        return self._hits[row] if 0 <= row < len(self._hits) else None

    @property
    def best_is_weak(self) -> bool:
        """The best hit is below the engine's no-match threshold: say so rather than suggest it."""
        return bool(self._hits) and self._hits[0].weak

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._hits)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        hit = self.hit(index.row()) if index.isValid() else None
        if hit is None:
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            shortcut = f" {hit.shortcut}" if hit.shortcut else ""
            return f"{_(KIND_LABELS[hit.kind])} {hit.title}（{client_badge(hit)}）{shortcut}"
        if role == Qt.ItemDataRole.ToolTipRole:
            return hit.text if len(hit.text) <= 400 else hit.text[:399] + "…"
        if role == HitRole:
            return hit
        return None


class LibrarySearcher(QObject):
    """Debounced search off the GUI thread; `results_ready(query, hits)` only for the latest request."""

    results_ready = Signal(str, object)
    failed = Signal(str)

    def __init__(self, *, search: SearchFn, runner: TaskRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._search = search
        self._runner = runner
        self._generation = 0
        self._pending: tuple[str, str | None, str | None] = ("", None, None)
        self._busy = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DEBOUNCE_MS)
        self._timer.timeout.connect(self.run_now)

    @property
    def busy(self) -> bool:
        return self._busy or self._timer.isActive()

    def request(self, query: str, *, client_id: str | None, user_id: str | None) -> None:
        self._pending = (query, client_id, user_id)
        self._generation += 1  # anything still running is stale from now on
        self._timer.start()

    def run_now(self) -> None:
        self._timer.stop()
        self._generation += 1
        generation = self._generation
        query, client_id, user_id = self._pending
        if not query.strip():
            self._busy = False
            self.results_ready.emit(query, [])
            return
        self._busy = True
        search = self._search
        self._runner.run_cpu(
            lambda _ctx: search(query, client_id, user_id),
            on_done=lambda hits: self._deliver(generation, query, hits),
            on_error=lambda exc: self._fail(generation, exc),
        )

    def _deliver(self, generation: int, query: str, hits: list[LibraryHit]) -> None:
        if generation != self._generation or not shiboken6.isValid(self):
            return  # a newer keystroke is on its way, or the view closed while this one ran
        self._busy = False
        self.results_ready.emit(query, hits)

    def _fail(self, generation: int, exc: BaseException) -> None:
        if generation == self._generation and shiboken6.isValid(self):
            self._busy = False
            self.failed.emit(_("搜索出错，详情已写入日志"))


class RowsTableModel(QAbstractTableModel):
    """Read-only rows of text (the import preview's planned rows and its errors)."""

    def __init__(
        self, headers: Sequence[str], rows: Sequence[Sequence[str]] = (), parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._headers = list(headers)
        self._rows = [tuple(r) for r in rows]

    def set_rows(self, rows: Sequence[Sequence[str]]) -> None:
        self.beginResetModel()
        self._rows = [tuple(r) for r in rows]
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._headers)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        return self._rows[index.row()][index.column()]

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return _(self._headers[section])
        return None

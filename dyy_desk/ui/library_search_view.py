"""Search as you type over the FAQ / 话术 library: the shared context (index, user, ticket placeholders)
and the search view that the 知识库 panel, the Ctrl+K popup and 小窗 all embed."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QModelIndex, QObject, Qt, Signal
from PySide6.QtGui import QGuiApplication, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QVBoxLayout,
    QWidget,
)

from dyy_desk.core.i18n import N_, _
from dyy_desk.core.placeholders import fill_placeholders
from dyy_desk.services.library_views import CopiedText, LibraryHit
from dyy_desk.ui.library_context import LibraryContext
from dyy_desk.ui.models.library_models import (
    RESULT_LIMIT,
    LibraryHitsModel,
    LibrarySearcher,
)
from dyy_desk.ui.widgets.highlight_delegate import HighlightDelegate
from dyy_desk.ui.widgets.placeholder_form import PlaceholderForm
from dyy_desk.ui.widgets.toast import show_toast

LOADING_TEXT = N_("知识库加载中…")


WEAK_TEXT = N_("没有合适的答案：下面只是相近的条目，请核对后再用，或换个说法。")


_MOVE_KEYS = (Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_PageUp, Qt.Key.Key_PageDown)


class LibrarySearchView(QWidget):
    """Search box, scope toggle, results and the copy flow (with the placeholder form)."""

    copied = Signal(str)  # the text now on the clipboard
    current_hit_changed = Signal(object)  # LibraryHit | None
    results_shown = Signal(int)

    def __init__(self, context: LibraryContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self._pending: tuple[LibraryHit, CopiedText] | None = None
        self._copying = False
        self.last_message = ""
        self.shown_query: str | None = None  # the query the results on screen answer
        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText(_("搜索问题、拼音或快捷编码（如 /thh）"))
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.installEventFilter(self)
        self.scope_label = QLabel()
        self.scope_label.setObjectName("mutedLabel")
        self.scope_label.setWordWrap(True)
        self.all_clients_box = QCheckBox(_("全部客户"))
        self.all_clients_box.setToolTip(_("勾选后也搜索其他客户的条目（默认只搜当前工单的客户和通用条目）"))
        self.state_label = QLabel()
        self.state_label.setWordWrap(True)
        self.state_label.setObjectName("emptyState")
        self.model = LibraryHitsModel(self)
        self.delegate = HighlightDelegate(self)
        self.list = QListView()
        self.list.setModel(self.model)
        self.list.setItemDelegate(self.delegate)
        self.list.setUniformItemSizes(True)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setAlternatingRowColors(True)
        self.form = PlaceholderForm()
        scope = QHBoxLayout()
        scope.addWidget(self.scope_label, 1)
        scope.addWidget(self.all_clients_box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.search_edit)
        layout.addLayout(scope)
        layout.addWidget(self.state_label)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.form)

        library = context.library
        self.searcher = LibrarySearcher(
            search=lambda q, c, u: library.search(q, client_id=c, user_id=u, limit=RESULT_LIMIT),
            runner=context.runner,
            parent=self,
        )
        self.searcher.results_ready.connect(self._show_results)
        self.searcher.failed.connect(self._set_state)
        self.search_edit.textChanged.connect(lambda _t: self.refresh())
        self.all_clients_box.toggled.connect(lambda _on: self.refresh())
        self.list.activated.connect(lambda _i: self.copy_current())
        self.list.selectionModel().currentChanged.connect(self._on_current)
        self.form.submitted.connect(self._on_form_submitted)
        self.form.cancelled.connect(self._on_form_cancelled)
        context.changed.connect(self._on_context)
        context.index_ready.connect(self.refresh)
        context.library_changed.connect(self.refresh)
        self._on_context()

    # --- searching -----------------------------------------------------------------------------
    def client_id(self) -> str | None:
        detail = self.context.detail
        if detail is None or self.all_clients_box.isChecked():
            return None
        return detail.client_id

    def refresh(self) -> None:
        if self.context.load_error:
            self._set_state(self.context.load_error)
            return
        if not self.context.index_loaded:
            self._set_state(_(LOADING_TEXT))
            self.context.load_index()
            return
        user = self.context.user
        query = self.search_edit.text()
        if query.strip():
            self.context.ensure_semantic()
        self.searcher.request(query, client_id=self.client_id(), user_id=user.id if user else None)

    def current_hit(self) -> LibraryHit | None:
        return self.model.hit(self.list.currentIndex().row())

    def focus_search(self) -> None:
        self.search_edit.setFocus()
        self.search_edit.selectAll()

    def _show_results(self, query: str, hits: list[LibraryHit]) -> None:
        keep = self.current_hit() if query == self.shown_query else None  # a refresh, not a new query
        self.shown_query = query
        self.model.set_hits(hits)
        if hits:
            rows = [i for i, h in enumerate(hits) if keep is not None and h.doc_id == keep.doc_id]
            self.list.setCurrentIndex(self.model.index(rows[0] if rows else 0, 0))
        else:
            self.current_hit_changed.emit(None)
        if not query.strip():
            self._set_state(_("输入买家的问题、拼音首字母或快捷编码开始搜索；↑/↓ 选择，Enter 复制。"))
        elif not hits:
            self._set_state(_("没有找到相关条目。换个说法试试，或勾选「全部客户」。"))
        elif self.model.best_is_weak:
            self._set_state(_(WEAK_TEXT), weak=True)
        else:
            self._set_state("")
        self.results_shown.emit(len(hits))

    def _set_state(self, text: str, *, weak: bool = False) -> None:
        self.state_label.setText(text)
        self.state_label.setObjectName("errorLabel" if weak else "emptyState")
        self.state_label.style().polish(self.state_label)
        self.state_label.setVisible(bool(text))

    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self.current_hit_changed.emit(self.model.hit(current.row()))

    def _on_context(self) -> None:
        detail = self.context.detail
        self.all_clients_box.setEnabled(detail is not None)
        if detail is None:
            self.scope_label.setText(_("范围：全部客户（未选工单）"))
        else:
            self.scope_label.setText(
                _("范围：{client_name} + 通用").format(client_name=detail.row.client_name)
            )
            self.scope_label.setToolTip(
                _("工单 {number} 的客户；其他客户的条目不会出现").format(number=detail.row.number)
            )
        self.refresh()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.search_edit and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            if event.key() in _MOVE_KEYS and self.model.rowCount():
                step = {Qt.Key.Key_Up: -1, Qt.Key.Key_Down: 1}.get(Qt.Key(event.key()), 0)
                page = max(self.list.viewport().height() // max(self.list.sizeHintForRow(0), 1), 1)
                step = step or (-page if event.key() == Qt.Key.Key_PageUp else page)
                row = min(max(self.list.currentIndex().row() + step, 0), self.model.rowCount() - 1)
                self.list.setCurrentIndex(self.model.index(row, 0))
                return True
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.copy_current()
                return True
        return False

    # --- copying -------------------------------------------------------------------------------
    def copy_current(self) -> None:
        """Fill placeholders from the selected ticket (in the worker); ask for any left unfilled."""
        hit = self.current_hit()
        if self.form.isVisible():
            self.form.submit()
            return
        if hit is None or self._copying:
            return
        user = self.context.user
        if user is None:
            show_toast(self, _("请先在右上角选择当前用户"))
            return
        self._copying = True
        library, ticket_id = self.context.library, self.context.ticket_id
        self.context.runner.run_db(
            lambda _ctx: library.copy_entry(user_id=user.id, doc_id=hit.doc_id, ticket_id=ticket_id),
            on_done=lambda result: self._on_copied(hit, result[0]),
            on_error=self._on_copy_failed,
        )

    def _on_copied(self, hit: LibraryHit, copied: CopiedText) -> None:
        self._copying = False
        if copied.unfilled:
            self._pending = (hit, copied)
            self.form.ask(copied.unfilled, hit.title)
            return
        self._finish(hit, copied.text, ())

    def _on_copy_failed(self, exc: BaseException) -> None:
        self._copying = False
        show_toast(self, _("复制失败：{exc}").format(exc=exc) if str(exc) else _("复制失败，详情已写入日志"))

    def _on_form_submitted(self, values: dict[str, str]) -> None:
        if self._pending is None:
            return
        hit, copied = self._pending
        self._pending = None
        filled = fill_placeholders(copied.text, values)
        self._finish(hit, filled.text, filled.unfilled)

    def _on_form_cancelled(self) -> None:
        self._pending = None
        show_toast(self, _("已取消复制"))
        self.search_edit.setFocus()

    def _finish(self, hit: LibraryHit, text: str, kept: tuple[str, ...]) -> None:
        QGuiApplication.clipboard().setText(text)
        note = (
            _("（保留 {names} 待填写）").format(names="、".join("{" + k + "}" for k in kept)) if kept else ""
        )
        self.last_message = _("已复制「{title}」{note}").format(title=hit.title, note=note)
        show_toast(self, self.last_message)
        self.copied.emit(text)
        self.search_edit.setFocus()

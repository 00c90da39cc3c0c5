"""The 知识库与话术 area, and the search-and-copy view it shares with the Ctrl+K popup and the 小窗.

Threading contract: searches run on the CPU pool (LibrarySearcher), the index load, ticket lookups and
every copy/edit on the database worker; this module only ever touches widgets on the GUI thread.
`LibraryContext` is created once (by the panel) and handed to the popup and the 小窗, so all three
follow the same user, the same selected ticket and the same index state.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from PySide6.QtCore import QEvent, QModelIndex, QObject, Qt, Signal
from PySide6.QtGui import QGuiApplication, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMenu,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from dyy_desk.core.changes import Changes
from dyy_desk.core.library_rows import LibraryKind
from dyy_desk.core.placeholders import fill_placeholders, ticket_values
from dyy_desk.core.types import ClientRow, Role, TicketDetail, UserRow
from dyy_desk.services.directory import DirectoryService
from dyy_desk.services.library_service import LibraryService
from dyy_desk.services.library_views import CopiedText, FaqEntry, LibraryHit, ScriptEntry
from dyy_desk.services.tickets import TicketService
from dyy_desk.ui.dialogs.library_entry_dialog import LibraryEntryDialog
from dyy_desk.ui.dialogs.library_import_dialog import LibraryImportDialog
from dyy_desk.ui.models.library_models import (
    KIND_LABELS,
    RESULT_LIMIT,
    LibraryHitsModel,
    LibrarySearcher,
    client_badge,
)
from dyy_desk.ui.signals import AppSignals
from dyy_desk.ui.tasks import TaskRunner
from dyy_desk.ui.widgets.highlight_delegate import HighlightDelegate
from dyy_desk.ui.widgets.placeholder_form import PlaceholderForm, placeholder_html
from dyy_desk.ui.widgets.toast import show_toast

LOADING_TEXT = "知识库加载中…"
WEAK_TEXT = "没有合适的答案：下面只是相近的条目，请核对后再用，或换个说法。"
_MOVE_KEYS = (Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_PageUp, Qt.Key.Key_PageDown)


class LibraryContext(QObject):
    """Who is copying, for which ticket, and whether the index is ready."""

    changed = Signal()  # the user, or the selected ticket's detail, changed
    index_ready = Signal()
    index_progress = Signal(int, int, str)
    library_changed = Signal()  # entries were edited or imported: shown results are stale

    def __init__(
        self, *, library: LibraryService, tickets: TicketService, runner: TaskRunner, signals: AppSignals
    ) -> None:
        super().__init__()
        self.library = library
        self.tickets = tickets
        self.runner = runner
        self.signals = signals
        self.user: UserRow | None = None
        self.ticket_id: str | None = None
        self.detail: TicketDetail | None = None
        self.load_error = ""
        self._loading = False
        self._detail_generation = 0
        signals.user_changed.connect(self.set_user)
        signals.ticket_selected.connect(self.set_ticket)
        signals.operation_did_execute.connect(self._on_changes)

    @property
    def index_loaded(self) -> bool:
        return self.library.index.loaded

    @property
    def is_editor(self) -> bool:
        return self.user is not None and self.user.role in (Role.SUPERVISOR, Role.ADMIN)

    def load_index(self) -> None:
        """Start loading the search index on the database worker (once); views show 知识库加载中… until
        `index_ready`."""
        if self.index_loaded or self._loading:
            return
        self._loading = True
        index = self.library.index
        self.runner.run_db(
            lambda ctx: index.load(progress=ctx.progress, cancel=lambda: ctx.cancelled),
            on_done=self._on_loaded,
            on_error=self._on_load_failed,
            on_progress=self.index_progress.emit,
        )

    def set_user(self, user: object) -> None:
        self.user = user if isinstance(user, UserRow) else None
        self.changed.emit()

    def set_ticket(self, ticket_id: object) -> None:
        """Follow the queue's selection; the detail (client scope, placeholder values) arrives later."""
        self.ticket_id = ticket_id if isinstance(ticket_id, str) and ticket_id else None
        self._detail_generation += 1
        generation = self._detail_generation
        if self.ticket_id is None:
            self.detail = None
            self.changed.emit()
            return
        ticket_id_ = self.ticket_id
        self.runner.run_db(
            lambda _ctx: self.tickets.detail(ticket_id=ticket_id_),
            on_done=lambda detail: self._on_detail(generation, detail),
            on_error=lambda _exc: self._on_detail(generation, None),
        )

    def placeholder_values(self) -> dict[str, str]:
        """What the selected ticket fills, for showing (copy_entry does the real filling)."""
        agent = self.user.name if self.user else None
        if self.detail is None:
            return ticket_values(agent_name=agent)
        row = self.detail.row
        return ticket_values(
            customer_nick=row.customer_nick,
            order_no=self.detail.order_no,
            shop_name=row.shop_name,
            client_name=row.client_name,
            agent_name=agent,
        )

    def _on_detail(self, generation: int, detail: TicketDetail | None) -> None:
        if generation == self._detail_generation:
            self.detail = detail
            self.changed.emit()

    def _on_loaded(self, _stats: object) -> None:
        self._loading = False
        self.index_ready.emit()

    def _on_load_failed(self, exc: BaseException) -> None:
        self._loading = False
        self.load_error = "知识库加载失败，详情已写入日志。请重启程序再试。"
        self.index_ready.emit()

    def _on_changes(self, changes: Changes, _initiator: object) -> None:
        if changes.library:
            self.library_changed.emit()
        if self.ticket_id is not None and self.ticket_id in changes.ticket_ids:
            self.set_ticket(self.ticket_id)


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
        self.search_edit.setPlaceholderText("搜索问题、拼音或快捷编码（如 /thh）")
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.installEventFilter(self)
        self.scope_label = QLabel()
        self.scope_label.setObjectName("mutedLabel")
        self.scope_label.setWordWrap(True)
        self.all_clients_box = QCheckBox("全部客户")
        self.all_clients_box.setToolTip("勾选后也搜索其他客户的条目（默认只搜当前工单的客户和通用条目）")
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
            self._set_state(LOADING_TEXT)
            self.context.load_index()
            return
        user = self.context.user
        self.searcher.request(
            self.search_edit.text(), client_id=self.client_id(), user_id=user.id if user else None
        )

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
            self._set_state("输入买家的问题、拼音首字母或快捷编码开始搜索；↑/↓ 选择，Enter 复制。")
        elif not hits:
            self._set_state("没有找到相关条目。换个说法试试，或勾选「全部客户」。")
        elif self.model.best_is_weak:
            self._set_state(WEAK_TEXT, weak=True)
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
            self.scope_label.setText("范围：全部客户（未选工单）")
        else:
            self.scope_label.setText(f"范围：{detail.row.client_name} + 通用")
            self.scope_label.setToolTip(f"工单 {detail.row.number} 的客户；其他客户的条目不会出现")
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
            show_toast(self, "请先在右上角选择当前用户")
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
        show_toast(self, f"复制失败：{exc}" if str(exc) else "复制失败，详情已写入日志")

    def _on_form_submitted(self, values: dict[str, str]) -> None:
        if self._pending is None:
            return
        hit, copied = self._pending
        self._pending = None
        filled = fill_placeholders(copied.text, values)
        self._finish(hit, filled.text, filled.unfilled)

    def _on_form_cancelled(self) -> None:
        self._pending = None
        show_toast(self, "已取消复制")
        self.search_edit.setFocus()

    def _finish(self, hit: LibraryHit, text: str, kept: tuple[str, ...]) -> None:
        QGuiApplication.clipboard().setText(text)
        note = f"（保留 {'、'.join('{' + k + '}' for k in kept)} 待填写）" if kept else ""
        self.last_message = f"已复制「{hit.title}」{note}"
        show_toast(self, self.last_message)
        self.copied.emit(text)
        self.search_edit.setFocus()


class LibraryPanel(QWidget):
    """Search on the left, the full answer on the right; supervisors also edit, import and export."""

    def __init__(
        self,
        *,
        library: LibraryService,
        tickets: TicketService,
        directory: DirectoryService,
        runner: TaskRunner,
        signals: AppSignals,
    ) -> None:
        super().__init__()
        self._directory = directory
        self.editor: LibraryEntryDialog | None = None
        self.importer: LibraryImportDialog | None = None
        self.context = LibraryContext(library=library, tickets=tickets, runner=runner, signals=signals)
        self.search_view = LibrarySearchView(self.context)
        self.preview = QTextBrowser()
        self.preview.setOpenLinks(False)
        self.copy_button = QPushButton("复制 (Enter)")
        self.new_button = QPushButton("新建")
        new_menu = QMenu(self.new_button)
        new_menu.addAction("新建 FAQ…", lambda: self.open_editor(LibraryKind.FAQ, None))
        new_menu.addAction("新建话术…", lambda: self.open_editor(LibraryKind.SCRIPTS, None))
        self.new_button.setMenu(new_menu)
        self.edit_button = QPushButton("编辑…")
        self.delete_button = QPushButton("删除")
        self.import_button = QPushButton("导入…")
        self.export_button = QPushButton("导出…")
        export_menu = QMenu(self.export_button)
        export_menu.addAction("导出知识库（FAQ）…", lambda: self.choose_export(LibraryKind.FAQ))
        export_menu.addAction("导出话术…", lambda: self.choose_export(LibraryKind.SCRIPTS))
        self.export_button.setMenu(export_menu)
        self.import_button.setToolTip("从 Excel（.xlsx）或 CSV 文件导入，先预览再应用")

        toolbar = QHBoxLayout()
        toolbar.addWidget(QLabel("<b>知识库与话术</b>"))
        toolbar.addStretch(1)
        for button in (self.new_button, self.edit_button, self.delete_button, self.import_button):
            toolbar.addWidget(button)
        toolbar.addWidget(self.export_button)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.preview, 1)
        copy_row = QHBoxLayout()
        copy_row.addStretch(1)
        copy_row.addWidget(self.copy_button)
        right_layout.addLayout(copy_row)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.search_view)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(toolbar)
        layout.addWidget(self.splitter, 1)

        self.copy_button.clicked.connect(self.search_view.copy_current)
        self.edit_button.clicked.connect(self.edit_current)
        self.delete_button.clicked.connect(self.delete_current)
        self.import_button.clicked.connect(self.choose_import)
        self.search_view.current_hit_changed.connect(self._show_preview)
        self.context.changed.connect(self._on_context)
        self._on_context()

    def _on_context(self) -> None:
        editor = self.context.is_editor
        for button in (self.new_button, self.edit_button, self.delete_button, self.import_button):
            button.setVisible(editor)
        self._show_preview(self.search_view.current_hit())

    def _show_preview(self, hit: LibraryHit | None) -> None:
        has_hit = hit is not None
        self.copy_button.setEnabled(has_hit)
        self.edit_button.setEnabled(has_hit)
        self.delete_button.setEnabled(has_hit)
        if hit is None:
            self.preview.setHtml("<p style='color:#666'>选中左侧的条目，在这里查看完整答案或话术。</p>")
            return
        meta = [KIND_LABELS[hit.kind], client_badge(hit)]
        meta += [f"快捷编码 {hit.shortcut}"] if hit.shortcut else []
        meta += [f"分组 {hit.group}"] if hit.group else []
        meta.append(f"编号 {hit.external_id}")
        detail = self.context.detail
        source = (
            f"占位符按工单 {escape(detail.row.number)} 填写；橙色的需要手动填写。"
            if detail
            else "未选工单：橙色的占位符复制时需要手动填写。"
        )
        self.preview.setHtml(
            f"<h3>{escape(hit.title)}</h3><p style='color:#555'>{escape(' · '.join(meta))}</p>"
            f"<p style='line-height:150%'>{placeholder_html(hit.text, self.context.placeholder_values())}</p>"
            f"<p style='color:#666'>{source}</p>"
        )

    # --- supervisors: edit, delete, import; everyone: export -------------------------------------
    def open_editor(self, kind: LibraryKind, entry_id: str | None) -> None:
        """Load the clients (and the entry being edited) in the worker, then open the editor."""
        library, directory = self.context.library, self._directory

        def load(_ctx: object) -> tuple[list[ClientRow], FaqEntry | ScriptEntry | None]:
            if entry_id is None:
                return directory.clients(), None
            entries: list[FaqEntry] | list[ScriptEntry] = (
                library.faq_entries() if kind is LibraryKind.FAQ else library.script_entries()
            )
            return directory.clients(), next((e for e in entries if e.id == entry_id), None)

        self.context.runner.run_db(load, on_done=lambda result: self._open_dialog(kind, entry_id, *result))

    def _open_dialog(
        self,
        kind: LibraryKind,
        entry_id: str | None,
        clients: list[ClientRow],
        entry: FaqEntry | ScriptEntry | None,
    ) -> None:
        user = self.context.user
        if user is None:
            return
        if entry_id is not None and entry is None:
            show_toast(self, "条目不存在或已被删除")
            return
        self.editor = LibraryEntryDialog(
            kind=kind,
            library=self.context.library,
            runner=self.context.runner,
            signals=self.context.signals,
            user_id=user.id,
            clients=clients,
            entry=entry,
            parent=self,
        )
        self.editor.saved.connect(lambda title: show_toast(self, f"已保存「{title}」"))
        self.editor.open()

    def edit_current(self) -> None:
        hit = self.search_view.current_hit()
        if hit is not None:
            self.open_editor(LibraryKind.FAQ if hit.kind == "faq" else LibraryKind.SCRIPTS, hit.doc_id)

    def delete_current(self) -> QMessageBox | None:
        hit = self.search_view.current_hit()
        if hit is None:
            return None
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "删除条目",
            f"删除{KIND_LABELS[hit.kind]}「{hit.title}」？\n删除会同步给团队其他成员。",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.button(QMessageBox.StandardButton.Yes).setText("删除")
        box.button(QMessageBox.StandardButton.Cancel).setText("取消")
        box.accepted.connect(lambda: self._delete(hit))
        box.open()
        return box

    def _delete(self, hit: LibraryHit) -> None:
        user = self.context.user
        if user is None:
            return
        library, signals = self.context.library, self.context.signals
        self.context.runner.run_db(
            lambda _ctx: library.delete_entry(user_id=user.id, entry_id=hit.doc_id),
            on_done=lambda changes: (
                signals.operation_did_execute.emit(changes, self),
                show_toast(self, f"已删除「{hit.title}」"),
            ),
            on_error=lambda exc: show_toast(self, f"删除失败：{exc}"),
        )

    def choose_import(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "导入知识库或话术", "", "表格文件 (*.xlsx *.csv);;所有文件 (*)"
        )
        if path:
            self.open_import(Path(path))

    def open_import(self, path: Path) -> LibraryImportDialog | None:
        user = self.context.user
        if user is None:
            return None
        self.importer = LibraryImportDialog(
            path=path,
            library=self.context.library,
            runner=self.context.runner,
            signals=self.context.signals,
            user_id=user.id,
            parent=self,
        )
        self.importer.open()
        return self.importer

    def choose_export(self, kind: LibraryKind) -> None:
        name = "知识库.xlsx" if kind is LibraryKind.FAQ else "话术.xlsx"
        path, _ = QFileDialog.getSaveFileName(
            self, "导出", name, "Excel 文件 (*.xlsx);;CSV 文件（UTF-8）(*.csv)"
        )
        if path:
            self.export_to(Path(path), kind)

    def export_to(self, path: Path, kind: LibraryKind) -> None:
        library = self.context.library
        self.context.runner.run_db(
            lambda _ctx: library.export(path=path, kind=kind),
            on_done=lambda count: show_toast(self, f"已导出 {count} 条到 {path.name}"),
            on_error=lambda exc: show_toast(self, f"导出失败：{exc}"),
        )

"""The 知识库与话术 area, and the search-and-copy view it shares with the Ctrl+K popup and the 小窗.

Threading contract: searches run on the CPU pool (LibrarySearcher), the index load, ticket lookups and
every copy/edit on the database worker; this module only ever touches widgets on the GUI thread.
`LibraryContext` is created once (by the panel) and handed to the popup and the 小窗, so all three
follow the same user, the same selected ticket and the same index state.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMenu,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from dyy_desk.core.i18n import _
from dyy_desk.core.library_rows import LibraryKind
from dyy_desk.core.types import ClientRow
from dyy_desk.services.directory import DirectoryService
from dyy_desk.services.library_views import FaqEntry, LibraryHit, ScriptEntry
from dyy_desk.ui.dialogs.library_entry_dialog import LibraryEntryDialog
from dyy_desk.ui.dialogs.library_import_dialog import LibraryImportDialog
from dyy_desk.ui.library_context import LibraryContext
from dyy_desk.ui.library_search_view import LibrarySearchView
from dyy_desk.ui.models.library_models import (
    KIND_LABELS,
    client_badge,
)
from dyy_desk.ui.widgets.placeholder_form import placeholder_html
from dyy_desk.ui.widgets.toast import show_toast


class LibraryPanel(QWidget):
    """Search on the left, the full answer on the right; supervisors also edit, import and export."""

    def __init__(
        self,
        *,
        context: LibraryContext,
        directory: DirectoryService,
    ) -> None:
        """`context` is shared with Ctrl+K and the 小窗, so all three follow one index and one ticket."""
        super().__init__()
        self._directory = directory
        self.editor: LibraryEntryDialog | None = None
        self.importer: LibraryImportDialog | None = None
        self.context = context
        self.search_view = LibrarySearchView(self.context)
        self.preview = QTextBrowser()
        self.preview.setOpenLinks(False)
        self.copy_button = QPushButton(_("复制 (Enter)"))
        self.new_button = QPushButton(_("新建"))
        new_menu = QMenu(self.new_button)
        new_menu.addAction(_("新建 FAQ…"), lambda: self.open_editor(LibraryKind.FAQ, None))
        new_menu.addAction(_("新建话术…"), lambda: self.open_editor(LibraryKind.SCRIPTS, None))
        self.new_button.setMenu(new_menu)
        self.edit_button = QPushButton(_("编辑…"))
        self.delete_button = QPushButton(_("删除"))
        self.import_button = QPushButton(_("导入…"))
        self.export_button = QPushButton(_("导出…"))
        export_menu = QMenu(self.export_button)
        export_menu.addAction(_("导出知识库（FAQ）…"), lambda: self.choose_export(LibraryKind.FAQ))
        export_menu.addAction(_("导出话术…"), lambda: self.choose_export(LibraryKind.SCRIPTS))
        self.export_button.setMenu(export_menu)
        self.import_button.setToolTip(_("从 Excel（.xlsx）或 CSV 文件导入，先预览再应用"))

        toolbar = QHBoxLayout()
        toolbar.addWidget(QLabel(_("<b>知识库与话术</b>")))
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
            self.preview.setHtml(_("<p style='color:#666'>选中左侧的条目，在这里查看完整答案或话术。</p>"))
            return
        meta = [_(KIND_LABELS[hit.kind]), client_badge(hit)]
        meta += [_("快捷编码 {shortcut}").format(shortcut=hit.shortcut)] if hit.shortcut else []
        meta += [_("分组 {group}").format(group=hit.group)] if hit.group else []
        meta.append(_("编号 {external_id}").format(external_id=hit.external_id))
        detail = self.context.detail
        source = (
            _("占位符按工单 {number} 填写；橙色的需要手动填写。").format(number=escape(detail.row.number))
            if detail
            else _("未选工单：橙色的占位符复制时需要手动填写。")
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
            show_toast(self, _("条目不存在或已被删除"))
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
        self.editor.saved.connect(lambda title: show_toast(self, _("已保存「{title}」").format(title=title)))
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
            _("删除条目"),
            _("删除{kind}「{title}」？\n删除会同步给团队其他成员。").format(
                kind=_(KIND_LABELS[hit.kind]), title=hit.title
            ),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.button(QMessageBox.StandardButton.Yes).setText(_("删除"))
        box.button(QMessageBox.StandardButton.Cancel).setText(_("取消"))
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
                show_toast(self, _("已删除「{title}」").format(title=hit.title)),
            ),
            on_error=lambda exc: show_toast(self, _("删除失败：{exc}").format(exc=exc)),
        )

    def choose_import(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self, _("导入知识库或话术"), "", _("表格文件 (*.xlsx *.csv);;所有文件 (*)")
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
        name = _("知识库.xlsx") if kind is LibraryKind.FAQ else _("话术.xlsx")
        path, _filter = QFileDialog.getSaveFileName(
            self, _("导出"), name, _("Excel 文件 (*.xlsx);;CSV 文件（UTF-8）(*.csv)")
        )
        if path:
            self.export_to(Path(path), kind)

    def export_to(self, path: Path, kind: LibraryKind) -> None:
        library = self.context.library
        user_id = self.context.user.id if self.context.user else None  # the audit log says who exported
        self.context.runner.run_db(
            lambda _ctx: library.export(path=path, kind=kind, user_id=user_id),
            on_done=lambda count: show_toast(
                self, _("已导出 {count} 条到 {name}").format(count=count, name=path.name)
            ),
            on_error=lambda exc: show_toast(self, _("导出失败：{exc}").format(exc=exc)),
        )

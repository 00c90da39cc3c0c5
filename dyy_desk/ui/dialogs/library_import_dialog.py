"""导入… : read and check a team's spreadsheet in the worker, show what it would change (new / updated /
unchanged, every error with its row and column, clients to create), then apply it with progress.

取消 during 应用 sets the task's cancel flag; the service then rolls its one transaction back, so a
cancelled import has written nothing. While applying, closing the dialog means 取消, never "walk away".
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from dyy_desk.core.i18n import N_, _
from dyy_desk.core.library_rows import LibraryFileError, RowIssue
from dyy_desk.services.errors import ServiceError
from dyy_desk.services.library_import import ImportCancelled
from dyy_desk.services.library_service import LibraryService
from dyy_desk.services.library_views import ImportPreview, ImportResult, RowStatus
from dyy_desk.ui.models.library_models import RowsTableModel
from dyy_desk.ui.signals import AppSignals
from dyy_desk.ui.tasks import TaskContext, TaskRunner
from dyy_desk.ui.widgets.row_table import row_table

COLUMN_LABELS = {
    "id": "编号", "question": "问题", "answer": "答案", "similar_questions": "相似问法",
    "client": "客户", "tags": "标签", "title": "标题", "body": "内容", "group": "分组",
    "shortcut": "快捷编码", "platforms": "平台",
}  # fmt: skip
STATUS_LABELS = {RowStatus.NEW: N_("新增"), RowStatus.UPDATED: N_("更新"), RowStatus.UNCHANGED: N_("未变")}


def issue_cells(issue: RowIssue) -> tuple[str, str, str]:
    line = _("第 {line} 行").format(line=issue.line) if issue.line else _("整个文件")
    return line, COLUMN_LABELS.get(issue.column, issue.column) or "—", issue.reason


class LibraryImportDialog(QDialog):
    applied = Signal(object)  # ImportResult
    preview_ready = Signal(object)  # ImportPreview, or None when the file cannot be used

    def __init__(
        self,
        *,
        path: Path,
        library: LibraryService,
        runner: TaskRunner,
        signals: AppSignals,
        user_id: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("导入 {name}").format(name=path.name))
        self._path = path
        self._library = library
        self._runner = runner
        self._signals = signals
        self._user_id = user_id
        self.preview: ImportPreview | None = None
        self._apply_task: TaskContext | None = None
        self.summary_label = QLabel(_("正在读取并检查文件…"))
        self.summary_label.setWordWrap(True)
        self.issues_label = QLabel()
        self.issues_label.setObjectName("errorLabel")
        self.issues_model = RowsTableModel((N_("行"), N_("列"), N_("问题")), parent=self)
        self.issues_view = row_table(self.issues_model)
        self.rows_model = RowsTableModel((N_("行"), N_("编号"), N_("标题"), N_("结果")), parent=self)
        self.rows_view = row_table(self.rows_model)
        self.progress = QProgressBar()
        self.progress.hide()
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.buttons = QDialogButtonBox()
        self.apply_button: QPushButton = self.buttons.addButton(
            _("应用"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.cancel_button: QPushButton = self.buttons.addButton(
            _("取消"), QDialogButtonBox.ButtonRole.RejectRole
        )
        self.apply_button.setEnabled(False)
        self.apply_button.clicked.connect(self.apply)
        self.cancel_button.clicked.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.issues_label)
        layout.addWidget(self.issues_view, 1)
        layout.addWidget(QLabel(_("将导入的行")))
        layout.addWidget(self.rows_view, 2)
        layout.addWidget(self.progress)
        layout.addWidget(self.status_label)
        layout.addWidget(self.buttons)
        self.issues_label.hide()
        self.issues_view.hide()
        em = self.fontMetrics().horizontalAdvance("中")
        self.resize(em * 52, self.fontMetrics().height() * 30)
        library_, user_id_ = library, user_id
        runner.run_db(
            lambda _ctx: library_.preview_import(user_id=user_id_, path=path),
            on_done=self._show_preview,
            on_error=self._preview_failed,
        )

    # --- preview -------------------------------------------------------------------------------
    def _show_preview(self, preview: ImportPreview) -> None:
        self.preview = preview
        self.summary_label.setText(preview.summary())
        self._show_issues(preview.issues)
        self.rows_model.set_rows(
            [(str(p.line), p.external_id, p.title, _(STATUS_LABELS[p.status])) for p in preview.planned]
        )
        self.apply_button.setEnabled(preview.ok)
        if not preview.ok:
            self.status_label.setText(_("文件有错误，未导入任何内容。请在表格中改正后重新导入。"))
        self.preview_ready.emit(preview)

    def _preview_failed(self, exc: BaseException) -> None:
        if isinstance(exc, LibraryFileError):
            self.summary_label.setText(_("无法导入 {name}：").format(name=self._path.name))
            self._show_issues(exc.issues)
        elif isinstance(exc, ServiceError | PermissionError | OSError):
            self.summary_label.setText(_("无法导入 {name}：{exc}").format(name=self._path.name, exc=exc))
        else:
            self.summary_label.setText(
                _("无法导入 {name}：出错了，详情已写入日志。").format(name=self._path.name)
            )
        self.status_label.setText(_("没有写入任何内容。"))
        self.preview_ready.emit(None)

    def _show_issues(self, issues: tuple[RowIssue, ...]) -> None:
        self.issues_model.set_rows([issue_cells(i) for i in issues])
        self.issues_label.setText(_("错误 {count} 处（行号与表格软件中一致）：").format(count=len(issues)))
        self.issues_label.setVisible(bool(issues))
        self.issues_view.setVisible(bool(issues))

    # --- apply ---------------------------------------------------------------------------------
    @property
    def applying(self) -> bool:
        return self._apply_task is not None

    def apply(self) -> None:
        preview = self.preview
        if preview is None or not preview.ok or self.applying:
            return
        library, user_id = self._library, self._user_id
        self.apply_button.setEnabled(False)
        self.progress.setRange(0, 0)
        self.progress.show()
        self.status_label.setText(_("正在导入…（取消不会写入任何内容）"))
        self._apply_task = self._runner.run_db(
            lambda ctx: library.apply_import(
                user_id=user_id, preview=preview, progress=ctx.progress, cancel=lambda: ctx.cancelled
            ),
            on_done=self._applied,
            on_error=self._apply_failed,
            on_progress=self._on_progress,
        )

    def _on_progress(self, value: int, maximum: int, label: str) -> None:
        self.progress.setRange(0, max(maximum, 1))
        self.progress.setValue(value)
        if label:
            self.progress.setFormat(f"{label} %v/%m")

    def _applied(self, result: tuple[ImportResult, object]) -> None:
        self._apply_task = None
        imported, changes = result
        self.progress.hide()
        created = (
            _("，新建客户：{clients}").format(clients="、".join(imported.clients_created))
            if imported.clients_created
            else ""
        )
        self.status_label.setText(
            _("已导入：新增 {created} 条，更新 {updated} 条，未变 {unchanged} 条{created2}").format(
                created=imported.created,
                updated=imported.updated,
                unchanged=imported.unchanged,
                created2=created,
            )
        )
        self.cancel_button.setText(_("关闭"))
        self._signals.operation_did_execute.emit(changes, self)
        self.applied.emit(imported)

    def _apply_failed(self, exc: BaseException) -> None:
        self._apply_task = None
        self.progress.hide()
        self.apply_button.setEnabled(True)
        if isinstance(exc, ImportCancelled):
            self.status_label.setText(_("已取消导入，没有写入任何内容。"))
        elif isinstance(exc, ServiceError | PermissionError):
            self.status_label.setText(_("未导入：{exc}").format(exc=exc))
        else:
            self.status_label.setText(_("未导入任何内容：出错了，详情已写入日志。"))

    def reject(self) -> None:
        if self._apply_task is not None:  # 取消 while applying: roll back, stay open to say so
            self._apply_task.cancel()
            self.status_label.setText(_("正在取消…"))
            return
        super().reject()

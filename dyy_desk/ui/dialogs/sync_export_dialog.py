"""导出数据包… : choose what goes in (this machine's changes, one client in full, or the library only),
whether buyers' phone numbers and addresses are masked, and where the file goes; export with progress.

A numbered bundle (all changes) that is sent by hand is also copied into the sync folder when one is
set, so colleagues who sync through the folder never see its number missing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from dyy_desk.core.i18n import N_, _
from dyy_desk.core.types import ClientRow
from dyy_desk.services.sync_export import ExportResult
from dyy_desk.services.sync_team import SyncService
from dyy_desk.ui.dialogs.sync_import_dialog import failure_text
from dyy_desk.ui.tasks import TaskContext, TaskRunner


@dataclass(frozen=True)
class ExportDone:
    result: ExportResult
    folder_copy: str | None  # file name in the sync folder, if a copy was put there


class SyncExportDialog(QDialog):
    exported = Signal(object)  # ExportDone

    def __init__(
        self,
        *,
        sync: SyncService,
        runner: TaskRunner,
        clients: Callable[[], list[ClientRow]] | None = None,
        copy_to_folder: Callable[[ExportResult], str | None] | None = None,
        actor_id: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("导出数据包"))
        self._sync, self._runner, self._copy = sync, runner, copy_to_folder
        self._actor_id = actor_id  # who the audit log names for this export
        self._task: TaskContext | None = None
        self.all_radio = QRadioButton(_("本机的全部改动（给同事同步用）"))
        self.all_radio.setChecked(True)
        self.client_radio = QRadioButton(_("一个品牌方的全部数据："))
        self.client_combo = QComboBox()
        self.client_combo.setEnabled(False)
        self.library_radio = QRadioButton(_("只导出知识库与话术"))
        self.client_radio.toggled.connect(self.client_combo.setEnabled)
        self.mask_check = QCheckBox(_("隐去买家手机号和地址"))
        self.mask_check.setToolTip(
            _("手机号显示为 138****5678，地址只保留前 6 个字；收到的一方不会因此丢失真实信息。")
        )
        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText(_("选择保存位置…"))
        browse = QPushButton(_("浏览…"))
        browse.clicked.connect(self._browse)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.hide()
        self.buttons = QDialogButtonBox()
        self.export_button = self.buttons.addButton(_("导出"), QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = self.buttons.addButton(_("取消"), QDialogButtonBox.ButtonRole.RejectRole)
        self.export_button.clicked.connect(self.start_export)
        self.cancel_button.clicked.connect(self.cancel)

        client_row = QHBoxLayout()
        client_row.addWidget(self.client_radio)
        client_row.addWidget(self.client_combo, 1)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(browse)
        form = QFormLayout()
        form.addRow(_("保存到："), path_row)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(_("导出哪些数据：")))
        layout.addWidget(self.all_radio)
        layout.addLayout(client_row)
        layout.addWidget(self.library_radio)
        layout.addWidget(self.mask_check)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.progress)
        layout.addWidget(self.buttons)
        if clients is not None:
            runner.run_db(lambda _ctx: clients(), on_done=self._fill_clients)
        else:
            self.client_radio.setEnabled(False)

    def _fill_clients(self, rows: list[ClientRow]) -> None:
        for row in rows:
            self.client_combo.addItem(row.name, row.id)
        self.client_radio.setEnabled(bool(rows))

    def _browse(self) -> None:
        path, _filter = QFileDialog.getSaveFileName(
            self,
            _("保存数据包"),
            self.path_edit.text() or _("dyy-数据包.dyyb"),
            _("DYY Desk 数据包 (*.dyyb)"),
        )
        if path:
            self.path_edit.setText(path)

    def start_export(self) -> TaskContext | None:
        text = self.path_edit.text().strip()
        if not text:
            self.message.setText(_("请先选择保存位置。"))
            return None
        out = Path(text)
        if out.suffix.lower() != ".dyyb":
            out = out.with_name(out.name + ".dyyb")
        client = self.client_combo.currentText() if self.client_radio.isChecked() else None
        if self.client_radio.isChecked() and not client:
            self.message.setText(_("请选择一个品牌方。"))
            return None
        library_only = self.library_radio.isChecked()
        mask = self.mask_check.isChecked()
        sync, copy, actor_id = self._sync, self._copy, self._actor_id

        def work(ctx: TaskContext) -> ExportDone:
            result = sync.export(
                out=out,
                client_name=client,
                library_only=library_only,
                mask_personal_data=mask,
                progress=ctx.progress,
                cancel=lambda: ctx.cancelled,
                actor_id=actor_id,
            )
            return ExportDone(result, copy(result) if copy else None)

        self.export_button.setEnabled(False)
        self.message.setText(_("正在导出…"))
        self.progress.setValue(0)
        self.progress.show()
        self._task = self._runner.run_db(
            work, on_done=self._done, on_error=self._failed, on_progress=self._on_progress
        )
        return self._task

    def _on_progress(self, value: int, maximum: int, label: str) -> None:
        self.progress.setMaximum(max(maximum, 1))
        self.progress.setValue(value)
        self.progress.setFormat(f"{label} %p%")

    def _done(self, done: ExportDone) -> None:
        self._task = None
        result = done.result
        number = _("第 {sequence} 号").format(sequence=result.sequence) if result.sequence else ""
        lines = [
            _("已导出{number}数据包 {name}（{total} 条记录）。").format(
                number=number, name=result.path.name, total=result.total
            )
        ]
        if result.masked:
            lines.append(_("买家手机号、地址已打码。"))
        if done.folder_copy:
            lines.append(_("副本已放入同步文件夹（{folder_copy}）。").format(folder_copy=done.folder_copy))
        self.message.setText("\n".join(lines))
        self.progress.hide()
        self.cancel_button.setText(_("关闭"))
        self.exported.emit(done)

    def _failed(self, exc: BaseException) -> None:
        self._task = None
        self.message.setText(failure_text(exc, N_("导出")))
        self.progress.hide()
        self.export_button.setEnabled(True)
        self.cancel_button.setEnabled(True)

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()  # the export rolls back and leaves no file
            self.cancel_button.setEnabled(False)
            self.message.setText(_("正在取消…"))
            return
        self.reject()

"""备份: backups of the database, keeping them, and how to restore one.

Listing, sizing and taking backups touch the disk, so they run on the maintenance lane
(`run_background`), never on the GUI thread. Restoring replaces the database file and needs the
folder unlocked, so it cannot happen while this window is open: the page explains the command.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableView,
    QWidget,
)

from dyy_desk.core.i18n import N_, _
from dyy_desk.core.types import UserRow
from dyy_desk.infra.settings import Settings
from dyy_desk.services.workspace import Workspace
from dyy_desk.ui.panels.settings.common import (
    error_text,
    file_size,
    format_size,
    is_manager,
    label,
    open_folder,
    page_layout,
)
from dyy_desk.ui.tasks import TaskRunner

if TYPE_CHECKING:  # the service modules load their tables; the worker imports them when used
    from dyy_desk.services.backup_service import BackupFile

MIN_KEEP_DAYS, MAX_KEEP_DAYS = 3, 365
REASON_LABELS = {
    "daily": N_("每日自动"),
    "manual": N_("手动"),
    "before-import": N_("导入前"),
    "before-upgrade": N_("升级前"),
    "before-restore": N_("恢复前"),
}


@dataclass(frozen=True)
class BackupListing:
    backups: tuple[tuple[BackupFile, int], ...]  # newest first, with size in bytes


def list_backups(workspace: Workspace) -> BackupListing:
    found = [(b, file_size(b.path)) for b in workspace.backups.backups()]
    return BackupListing(tuple(reversed(found)))


def _quote(path: Path) -> str:
    return subprocess.list2cmdline([str(path)]) if sys.platform == "win32" else shlex.quote(str(path))


def restore_command(data_dir: Path, backup: Path | None) -> str:
    """What `dyy-desk restore` (commands/security_commands.py) needs, quoted for this platform's shell."""
    target = _quote(backup) if backup else _("备份文件路径")
    return f"dyy-desk --data-dir {_quote(data_dir)} restore {target}"


class BackupPage(QWidget):
    def __init__(
        self,
        *,
        workspace: Workspace,
        settings: Settings,
        runner: TaskRunner,
        user: UserRow | None,
        save_settings: Callable[[Settings], None],
    ) -> None:
        super().__init__()
        self._workspace, self._settings, self._runner, self._save = workspace, settings, runner, save_settings
        self._listing = BackupListing(())
        layout = page_layout(
            self,
            _("备份"),
            _(
                "每天第一次打开时自动备份数据库。超过保留天数的每日备份和导入前备份会被删除；"
                "手动、升级前和恢复前的备份一直保留。"
            ),
        )
        self.keep_spin = QSpinBox()
        self.keep_spin.setRange(MIN_KEEP_DAYS, MAX_KEEP_DAYS)
        self.keep_spin.setSuffix(_(" 天"))
        self.keep_spin.setValue(max(MIN_KEEP_DAYS, settings.backup_keep_days))
        self.keep_button = QPushButton(_("保存"))
        self.keep_button.clicked.connect(self.save_keep_days)
        self.backup_button = QPushButton(_("立即备份"))
        self.backup_button.clicked.connect(self.backup_now)
        self.folder_button = QPushButton(_("打开备份文件夹"))
        self.folder_button.clicked.connect(lambda: open_folder(workspace.paths.backup_dir))
        self.data_button = QPushButton(_("打开数据文件夹"))
        self.data_button.clicked.connect(lambda: open_folder(workspace.paths.data_dir))
        row = QHBoxLayout()
        row.addWidget(label(_("每日备份保留")))
        row.addWidget(self.keep_spin)
        row.addWidget(self.keep_button)
        row.addStretch(1)
        row.addWidget(self.backup_button)
        row.addWidget(self.folder_button)
        row.addWidget(self.data_button)
        self.model = QStandardItemModel(0, 4, self)
        self.model.setHorizontalHeaderLabels([_("时间"), _("类型"), _("大小"), _("文件")])
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.selectionModel().selectionChanged.connect(self._update_command)
        self.command_edit = QLineEdit()
        self.command_edit.setReadOnly(True)
        self.copy_button = QPushButton(_("复制命令"))
        self.copy_button.clicked.connect(
            lambda: QGuiApplication.clipboard().setText(self.command_edit.text())
        )
        command_row = QHBoxLayout()
        command_row.addWidget(self.command_edit, 1)
        command_row.addWidget(self.copy_button)
        self.message = label()
        layout.addLayout(row)
        layout.addWidget(self.table, 1)
        layout.addWidget(
            label(
                _(
                    "如何恢复：先退出 DYY Desk（窗口打开时无法恢复），在列表中选中要恢复的备份，"
                    "然后在命令行运行下面的命令。恢复前会检查备份文件是否完好，并先把当前数据库再备份一份。"
                )
            )
        )
        layout.addLayout(command_row)
        layout.addWidget(self.message)
        self.set_user(user)
        self._update_command()

    def set_user(self, user: UserRow | None) -> None:
        """Keeping fewer days deletes backups: supervisors and admins decide, agents see the value."""
        manager = is_manager(user)
        self.keep_spin.setEnabled(manager)
        self.keep_button.setEnabled(manager)
        self.keep_spin.setToolTip("" if manager else _("只有主管和管理员可以修改保留天数"))

    def reload(self) -> None:
        workspace = self._workspace
        self._runner.run_background(lambda _ctx: list_backups(workspace), self._show, self._show_error)

    def _show(self, listing: BackupListing) -> None:
        self._listing = listing
        self.model.removeRows(0, self.model.rowCount())
        for backup, size in listing.backups:
            kind = REASON_LABELS.get(backup.reason)
            cells = [
                f"{backup.taken:%Y-%m-%d %H:%M}",
                _(kind) if kind else backup.reason,
                format_size(size),
                backup.path.name,
            ]
            items = [QStandardItem(text) for text in cells]
            items[2].setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.model.appendRow(items)
        self.table.resizeColumnsToContents()
        if not listing.backups:
            self.message.setText(_("还没有备份。点“立即备份”，或明天第一次打开时会自动备份。"))
        self._update_command()

    def selected(self) -> BackupFile | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self._listing.backups):
            return None
        return self._listing.backups[rows[0].row()][0]

    def _update_command(self) -> None:
        backup = self.selected()
        self.command_edit.setText(
            restore_command(self._workspace.paths.data_dir, backup.path if backup else None)
        )
        self.copy_button.setEnabled(backup is not None)

    def save_keep_days(self) -> None:
        self._settings.backup_keep_days = self.keep_spin.value()
        try:
            self._save(self._settings)
        except OSError as exc:
            self.message.setText(error_text(exc))
            return
        self.message.setText(
            _("已保存：每日备份保留 {days} 天，下次自动备份时清理更早的。").format(
                days=self.keep_spin.value()
            )
        )

    def backup_now(self) -> None:
        workspace = self._workspace
        self.backup_button.setEnabled(False)
        self.message.setText(_("正在备份…"))

        def done(path: Path) -> None:
            self.backup_button.setEnabled(True)
            self.message.setText(_("已备份到 {file}").format(file=path.name))
            self.reload()

        self._runner.run_background(lambda _ctx: workspace.backups.backup_now(), done, self._on_backup_error)

    def _on_backup_error(self, exc: BaseException) -> None:
        self.backup_button.setEnabled(True)
        self._show_error(exc)

    def _show_error(self, exc: BaseException) -> None:
        self.message.setText(error_text(exc))

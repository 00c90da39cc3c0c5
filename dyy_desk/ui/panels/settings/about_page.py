"""关于: the version, and where this workspace keeps its database, backups, logs and settings.

Sizes are read on the maintenance lane: on a network drive a stat can take longer than a frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QPushButton, QWidget

from dyy_desk import __version__
from dyy_desk.core.i18n import _
from dyy_desk.services.workspace import Workspace
from dyy_desk.ui.panels.settings.common import (
    error_text,
    file_size,
    format_size,
    label,
    open_folder,
    page_layout,
)
from dyy_desk.ui.tasks import TaskRunner


@dataclass(frozen=True)
class FolderSizes:
    database: int
    backups: int


def folder_sizes(workspace: Workspace) -> FolderSizes:
    db = workspace.paths.db_path
    database = sum(file_size(Path(f"{db}{suffix}")) for suffix in ("", "-wal")) if db.exists() else 0
    folder = workspace.paths.backup_dir
    backups = sum(file_size(p) for p in folder.glob("*.sqlite3")) if folder.is_dir() else 0
    return FolderSizes(database, backups)


class AboutPage(QWidget):
    def __init__(self, *, workspace: Workspace, runner: TaskRunner) -> None:
        super().__init__()
        self._workspace, self._runner = workspace, runner
        paths = workspace.paths
        layout = page_layout(self, _("关于"), _("DYY Desk 代运营客服工作台"))
        self.size_label = label(_("正在计算…"))
        self.backup_size_label = label(_("正在计算…"))
        form = QFormLayout()
        form.addRow(_("版本"), label(__version__))
        form.addRow(_("数据文件夹"), self._path_label(paths.data_dir))
        form.addRow(_("数据库大小"), self.size_label)
        form.addRow(_("备份占用"), self.backup_size_label)
        form.addRow(_("日志文件夹"), self._path_label(paths.log_dir))
        form.addRow(_("设置文件夹"), self._path_label(paths.config_dir))
        self.data_button = QPushButton(_("打开数据文件夹"))
        self.data_button.clicked.connect(lambda: open_folder(paths.data_dir))
        self.log_button = QPushButton(_("打开日志文件夹"))
        self.log_button.clicked.connect(lambda: open_folder(paths.log_dir))
        row = QHBoxLayout()
        row.addWidget(self.data_button)
        row.addWidget(self.log_button)
        row.addStretch(1)
        layout.addLayout(form)
        layout.addLayout(row)
        layout.addWidget(
            label(_("遇到问题时，请把日志文件夹里的文件发给管理员，便于查找原因。"), name="mutedLabel")
        )
        layout.addStretch(1)

    @staticmethod
    def _path_label(path: Path) -> QWidget:
        shown = label(str(path))
        shown.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        return shown

    def reload(self) -> None:
        workspace = self._workspace
        self._runner.run_background(lambda _ctx: folder_sizes(workspace), self._show, self._show_error)

    def _show(self, sizes: FolderSizes) -> None:
        self.size_label.setText(format_size(sizes.database))
        self.backup_size_label.setText(format_size(sizes.backups))

    def _show_error(self, exc: BaseException) -> None:
        self.size_label.setText(error_text(exc))

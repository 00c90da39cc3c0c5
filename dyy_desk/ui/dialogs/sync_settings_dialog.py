"""同步设置… : the sync folder, how often to sync, and the name colleagues see for this machine.

The folder and interval are machine settings (`Settings`); the name lives with the team membership
in the database, so renaming re-joins the same team with the stored key and the new name.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from dyy_desk.core.i18n import _
from dyy_desk.infra.bundle_crypto import format_team_key
from dyy_desk.infra.settings import Settings
from dyy_desk.services.sync_team import SyncService, TeamInfo
from dyy_desk.ui.tasks import TaskRunner

MIN_MINUTES, MAX_MINUTES = 1, 24 * 60


class SyncSettingsDialog(QDialog):
    saved = Signal()

    def __init__(
        self, *, sync: SyncService, runner: TaskRunner, settings: Settings, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("同步设置"))
        self._sync, self._runner, self._settings = sync, runner, settings
        self._info: TeamInfo | None = None
        self.folder_edit = QLineEdit(settings.sync_folder)
        self.folder_edit.setPlaceholderText(_("例如共享盘或网盘同步文件夹；留空则不自动同步"))
        browse = QPushButton(_("选择…"))
        browse.clicked.connect(self._browse)
        self.interval_spin = QSpinBox()
        self.interval_spin.setRange(MIN_MINUTES, MAX_MINUTES)
        self.interval_spin.setSuffix(_(" 分钟"))
        self.interval_spin.setValue(max(MIN_MINUTES, int(settings.sync_interval_minutes or 10)))
        self.name_edit = QLineEdit()
        self.name_edit.setMaxLength(100)
        self.name_edit.setEnabled(False)
        self.team_label = QLabel(_("正在读取团队信息…"))
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setObjectName("errorLabel")
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(browse)
        form = QFormLayout()
        form.addRow(_("同步文件夹："), folder_row)
        form.addRow(_("自动同步间隔："), self.interval_spin)
        form.addRow(_("团队："), self.team_label)
        form.addRow(_("本机显示名称："), self.name_edit)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setText(_("保存"))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(_("取消"))
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(
            QLabel(_("每台电脑把自己的改动写入同步文件夹，并导入同事的新数据包；退出程序时也会写一次。"))
        )
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        runner.run_db(lambda _ctx: sync.info(), on_done=self._show_info)

    def _show_info(self, info: TeamInfo) -> None:
        self._info = info
        if info.team_id is None:
            self.team_label.setText(_("尚未加入团队（在 同步 → 团队密钥… 中创建或加入）"))
            return
        self.team_label.setText(_("团队 {team_id}").format(team_id=info.team_id))
        self.name_edit.setText(info.name)
        self.name_edit.setEnabled(True)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, _("选择同步文件夹"), self.folder_edit.text())
        if folder:
            self.folder_edit.setText(folder)

    def save(self) -> None:
        folder = self.folder_edit.text().strip()
        if folder and not Path(folder).is_dir():
            self.message.setText(
                _("文件夹“{folder}”不存在或无法访问，请重新选择。设置尚未保存。").format(folder=folder)
            )
            return
        name = self.name_edit.text().strip()
        info = self._info
        if info is not None and info.team_id is not None and name != info.name:
            if not 1 <= len(name) <= 100:
                self.message.setText(_("本机显示名称需为 1–100 个字符。设置尚未保存。"))
                return
            sync = self._sync

            def rename(_ctx: object) -> None:
                _, key, _ = sync.team_key()
                sync.join_team(key_text=format_team_key(key), name=name)

            self.buttons.setEnabled(False)
            self._runner.run_db(rename, on_done=lambda _r: self._store(folder), on_error=self._rename_failed)
            return
        self._store(folder)

    def _rename_failed(self, exc: BaseException) -> None:
        self.buttons.setEnabled(True)
        self.message.setText(_("无法修改显示名称：{exc}。设置尚未保存。").format(exc=exc))

    def _store(self, folder: str) -> None:
        self._settings.sync_folder = folder
        self._settings.sync_interval_minutes = self.interval_spin.value()
        self.saved.emit()
        self.accept()

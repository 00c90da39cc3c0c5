"""提醒 and 同步与团队密钥: settings of this computer, kept in `Settings` (not in the database).

The panel edits the one `Settings` object the window holds, then hands it to `save_settings`, so every
part of the window reads the same values. Sync itself belongs to the sync controller: this page only
shows where and how often, and opens the controller's dialogs through the callables it was given.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QDoubleSpinBox, QFormLayout, QHBoxLayout, QPushButton, QWidget

from dyy_desk.core.i18n import _
from dyy_desk.core.timefmt import format_local
from dyy_desk.infra.settings import Settings
from dyy_desk.services.workspace import Workspace
from dyy_desk.ui.panels.settings.common import error_text, label, page_layout
from dyy_desk.ui.tasks import TaskRunner

if TYPE_CHECKING:  # the service modules load their tables; the worker imports them when used
    from dyy_desk.services.sync_team import TeamInfo

MIN_DUE_SOON_HOURS, MAX_DUE_SOON_HOURS = 0.5, 72.0


class RemindersPage(QWidget):
    def __init__(self, *, settings: Settings, save_settings: Callable[[Settings], None]) -> None:
        super().__init__()
        self._settings, self._save = settings, save_settings
        layout = page_layout(
            self,
            _("提醒"),
            _(
                "截止时间前多久把工单标为“即将超时”（琥珀色倒计时），并计入顶部的即将超时数量。"
                "SOP 步骤自带提醒时间的，以步骤的设置为准。"
            ),
        )
        self.hours_spin = QDoubleSpinBox()
        self.hours_spin.setRange(MIN_DUE_SOON_HOURS, MAX_DUE_SOON_HOURS)
        self.hours_spin.setSingleStep(0.5)
        self.hours_spin.setDecimals(1)
        self.hours_spin.setSuffix(_(" 小时"))
        self.hours_spin.setValue(settings.due_soon_hours)
        self.save_button = QPushButton(_("保存"))
        self.save_button.clicked.connect(self.save)
        row = QHBoxLayout()
        row.addWidget(label(_("截止前")))
        row.addWidget(self.hours_spin)
        row.addWidget(self.save_button)
        row.addStretch(1)
        self.message = label()
        layout.addLayout(row)
        layout.addWidget(
            label(_("这是本机的设置；工单列表在重新打开 DYY Desk 后使用新的时间。"), name="mutedLabel")
        )
        layout.addWidget(self.message)
        layout.addStretch(1)

    def save(self) -> None:
        self._settings.due_soon_hours = self.hours_spin.value()
        try:
            self._save(self._settings)
        except OSError as exc:
            self.message.setText(error_text(exc))
            return
        self.message.setText(
            _("已保存：截止前 {hours:g} 小时提醒。重新打开后生效。").format(
                hours=self._settings.due_soon_hours
            )
        )


class SyncPage(QWidget):
    """Re-reads the settings whenever it is shown or the window comes back from a dialog, because the
    sync dialogs change them behind this page's back."""

    def __init__(
        self,
        *,
        workspace: Workspace,
        settings: Settings,
        runner: TaskRunner,
        now: Callable[[], datetime],
        open_sync_settings: Callable[[], None],
        open_team_key: Callable[[], None],
    ) -> None:
        super().__init__()
        self._workspace, self._settings, self._runner, self._now = workspace, settings, runner, now
        layout = page_layout(
            self,
            _("同步与团队密钥"),
            _(
                "同一团队的电脑通过共享的同步文件夹交换加密的数据包；团队密钥由各台电脑自己保存，不随数据包传送。"
            ),
        )
        self.folder_label = label()
        self.interval_label = label()
        self.team_label = label(_("正在读取…"))
        self.machine_label = label()
        self.last_label = label()
        form = QFormLayout()
        form.addRow(_("同步文件夹"), self.folder_label)
        form.addRow(_("自动同步"), self.interval_label)
        form.addRow(_("团队"), self.team_label)
        form.addRow(_("本机名称"), self.machine_label)
        form.addRow(_("最近同步"), self.last_label)
        self.settings_button = QPushButton(_("同步设置…"))
        self.settings_button.clicked.connect(open_sync_settings)
        self.team_button = QPushButton(_("团队密钥…"))
        self.team_button.clicked.connect(open_team_key)
        row = QHBoxLayout()
        row.addWidget(self.settings_button)
        row.addWidget(self.team_button)
        row.addStretch(1)
        layout.addLayout(form)
        layout.addLayout(row)
        layout.addWidget(
            label(_("同步的实时状态显示在窗口顶部；也可在“同步”菜单中立即同步。"), name="mutedLabel")
        )
        layout.addStretch(1)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.reload()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.ActivationChange and self.isVisible() and self.isActiveWindow():
            self.reload()

    def reload(self) -> None:
        folder = self._settings.sync_folder
        self.folder_label.setText(folder or _("未设置（不自动同步）"))
        self.interval_label.setText(
            _("每 {minutes} 分钟").format(minutes=self._settings.sync_interval_minutes)
            if folder
            else _("关闭")
        )
        workspace = self._workspace
        self._runner.run_background(lambda _ctx: workspace.sync.info(), self._show_team, self._show_error)

    def _show_team(self, info: TeamInfo) -> None:
        if info.team_id is None:
            self.team_label.setText(_("尚未加入团队：点“团队密钥…”创建团队或输入同事给的密钥"))
        else:
            self.team_label.setText(_("已加入（团队编号 {team}）").format(team=info.team_id[:8]))
        self.machine_label.setText(info.name or _("未命名"))
        now = self._now()
        parts = [
            _("导出 {time}").format(time=self._when(info.last_export_at, now)),
            _("导入 {time}").format(time=self._when(info.last_import_at, now)),
        ]
        self.last_label.setText("；".join(parts))

    @staticmethod
    def _when(value: str | None, now: datetime) -> str:
        if not value:
            return _("从未")
        try:
            return format_local(datetime.fromisoformat(value), now=now)
        except ValueError:
            return value

    def _show_error(self, exc: BaseException) -> None:
        self.team_label.setText(error_text(exc))

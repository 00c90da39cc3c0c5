"""设置: users and roles, working hours, reminders, sync, backups and about, one page at a time.

The area is built the first time it is shown, so it starts from `signals.current_user` and follows
`user_changed`. Each page reads what it shows the first time it is opened (pages nobody opens cost
nothing) and again when an operation elsewhere touched it. Nothing here touches the database or the
disk on the GUI thread: pages go through `TaskRunner`, and `workspace.sop`, `.backups`, `.auth` and
`.sync` are only reached inside the worker callables.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QStringListModel, Qt
from PySide6.QtWidgets import QHBoxLayout, QListView, QStackedWidget, QWidget

from dyy_desk.core.changes import Changes
from dyy_desk.core.i18n import _
from dyy_desk.core.types import UserRow
from dyy_desk.infra.settings import Settings
from dyy_desk.services.workspace import Workspace
from dyy_desk.ui.panels.settings.about_page import AboutPage
from dyy_desk.ui.panels.settings.backup_page import BackupPage
from dyy_desk.ui.panels.settings.hours_page import HoursPage
from dyy_desk.ui.panels.settings.machine_pages import RemindersPage, SyncPage
from dyy_desk.ui.panels.settings.users_page import UsersPage
from dyy_desk.ui.signals import AppSignals
from dyy_desk.ui.tasks import TaskRunner


class SettingsPanel(QWidget):
    def __init__(
        self,
        *,
        workspace: Workspace,
        settings: Settings,
        runner: TaskRunner,
        signals: AppSignals,
        save_settings: Callable[[Settings], None],
        open_sync_settings: Callable[[], None],
        open_team_key: Callable[[], None],
    ) -> None:
        super().__init__()
        user = signals.current_user
        now = workspace.clock.now
        self.users = UsersPage(workspace=workspace, runner=runner, signals=signals, user=user)
        self.hours = HoursPage(workspace=workspace, runner=runner, signals=signals, user=user, now=now)
        self.reminders = RemindersPage(settings=settings, save_settings=save_settings)
        self.sync = SyncPage(
            workspace=workspace,
            settings=settings,
            runner=runner,
            now=now,
            open_sync_settings=open_sync_settings,
            open_team_key=open_team_key,
        )
        self.backup = BackupPage(
            workspace=workspace, settings=settings, runner=runner, user=user, save_settings=save_settings
        )
        self.about = AboutPage(workspace=workspace, runner=runner)
        # (title, page, what reads its data the first time it is opened); the sync page re-reads
        # on every show by itself, because the sync dialogs change the settings behind it
        pages: list[tuple[str, QWidget, Callable[[], None] | None]] = [
            (_("用户与权限"), self.users, self.users.reload),
            (_("工作时间与节假日"), self.hours, self.hours.reload),
            (_("提醒"), self.reminders, None),
            (_("同步与团队密钥"), self.sync, None),
            (_("备份"), self.backup, self.backup.reload),
            (_("关于"), self.about, self.about.reload),
        ]
        self._first_load = {page: load for _title, page, load in pages if load is not None}
        self._loaded: set[QWidget] = set()
        self.stack = QStackedWidget()
        for _title, page, _load in pages:
            self.stack.addWidget(page)
        self.sections = QListView()
        self.sections.setObjectName("navigation")
        self.sections.setModel(QStringListModel([title for title, _page, _load in pages], self))
        self.sections.setEditTriggers(QListView.EditTrigger.NoEditTriggers)
        self.sections.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        metrics = self.sections.fontMetrics()  # the section names whole, at any scaling
        widest = max(metrics.horizontalAdvance(title) for title, _page, _load in pages)
        self.sections.setFixedWidth(widest + metrics.horizontalAdvance("工") * 4)
        self.sections.selectionModel().currentRowChanged.connect(
            lambda current, _prev: self.show_page(current.row())
        )
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.sections)
        layout.addWidget(self.stack, 1)
        signals.user_changed.connect(self._on_user)
        signals.operation_did_execute.connect(self._on_changes)
        self.sections.setCurrentIndex(self.sections.model().index(0, 0))

    def show_page(self, row: int) -> None:
        self.stack.setCurrentIndex(row)
        page = self.stack.currentWidget()
        load = self._first_load.get(page) if page is not None else None
        if page is not None and load is not None and page not in self._loaded:
            self._loaded.add(page)
            load()

    def select(self, page: QWidget) -> None:
        """Open a page by its widget (keyboard users get there with ↑/↓ in the section list too)."""
        self.sections.setCurrentIndex(self.sections.model().index(self.stack.indexOf(page), 0))

    def _on_user(self, user: object) -> None:
        current = user if isinstance(user, UserRow) else None
        self.hours.set_user(current)
        self.backup.set_user(current)
        self.users.set_user(current)
        if self.users in self._loaded:
            self.users.reload()  # the list marks who "我" is

    def _on_changes(self, changes: Changes, initiator: object) -> None:
        if initiator is self.users or initiator is self.hours:
            return  # the page already shows its own change
        if changes.users and self.users in self._loaded:
            self.users.reload()
        if changes.sop and self.hours in self._loaded:
            self.hours.reload()

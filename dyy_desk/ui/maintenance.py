"""Work that goes on behind the agent once the window is usable: escalation rule passes, deadline
notices (banner and tray), the daily backup, the library's search index and folder sync.

Threading contract: everything here runs through the TaskRunner's background lane or the database
worker; `start()` is called a moment after the queue first shows rows, `stop()` from closeEvent.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QSystemTrayIcon, QWidget

from dyy_desk.infra.settings import Settings, save_settings
from dyy_desk.services.workspace import Workspace
from dyy_desk.ui.escalation_watch import EscalationWatcher
from dyy_desk.ui.library_context import LibraryContext
from dyy_desk.ui.notifications import DeadlineBanner, DeadlineNotifier, make_tray_icon
from dyy_desk.ui.signals import AppSignals
from dyy_desk.ui.sync_controller import SyncController
from dyy_desk.ui.tasks import TaskRunner
from dyy_desk.ui.widgets.header_bar import HeaderBar
from dyy_desk.ui.widgets.toast import show_toast

BACKUP_CHECK_MS = 3_600_000  # the daily backup is taken at most once a local day; check hourly


class Maintenance(QObject):
    def __init__(
        self,
        *,
        workspace: Workspace,
        settings: Settings,
        runner: TaskRunner,
        signals: AppSignals,
        clock_now: Callable[[], datetime],
        window: QWidget,
        header: HeaderBar,
        banner: DeadlineBanner,
        library: LibraryContext,
        on_deadlines_changed: Callable[[], None],
        on_pending_escalations: Callable[[int], None],
    ) -> None:
        super().__init__(window)
        self._workspace = workspace
        self._settings = settings
        self._runner = runner
        self._library = library
        self.escalations = EscalationWatcher(
            escalations=workspace.escalations, runner=runner, signals=signals
        )
        self.escalations.pending_changed.connect(on_pending_escalations)
        self.escalations.notify.connect(self._notify)
        self._window = window
        self.tray = make_tray_icon(window)  # None where the desktop has no system tray
        self.notifier = DeadlineNotifier(
            sop=workspace.sop, runner=runner, clock_now=clock_now, tray=self.tray, parent=self
        )
        self.notifier.notices_ready.connect(banner.show_notices)
        self.notifier.notices_ready.connect(lambda _notices: on_deadlines_changed())
        self.sync = SyncController(
            sync=workspace.sync,
            tickets=workspace.tickets,
            escalations=workspace.escalations,
            runner=runner,
            signals=signals,
            settings=settings,
            parent=window,
            clock_now=clock_now,
            directory=workspace.directory,
            save_settings=lambda s: save_settings(workspace.paths.config_dir, s),
        )
        self.sync.status_changed.connect(header.set_sync_text)
        self._backup_timer = QTimer(self)
        self._backup_timer.setInterval(BACKUP_CHECK_MS)
        self._backup_timer.timeout.connect(self.daily_backup)

    def sync_actions(self) -> list[QAction]:
        return list(self.sync.actions())

    def start(self) -> None:
        self._backup_timer.start()
        self.daily_backup()
        self._library.load_index()
        self.escalations.start()
        self.notifier.start()  # deadlines that passed while the app was closed are flagged now
        self.sync.start()

    def stop(self) -> None:
        self._backup_timer.stop()
        self.escalations.stop()
        self.notifier.stop()
        self.sync.flush_on_exit()  # bounded: an unfinished export is cancelled, leaving no file

    def _notify(self, title: str, text: str) -> None:
        """In the window (a toast that needs no click) and, when the window is hidden, in the tray."""
        show_toast(self._window, f"{title}\n{text}", msecs=8000)
        if self.tray is not None:
            self.tray.showMessage(title, text, QSystemTrayIcon.MessageIcon.Warning, 10_000)

    def daily_backup(self) -> None:
        keep = self._settings.backup_keep_days
        self._runner.run_background(lambda _ctx: self._workspace.backups.maybe_daily_backup(keep_days=keep))

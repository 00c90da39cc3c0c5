"""Work that goes on behind the agent once the window is usable: escalation rule passes, deadline
notices (banner and tray), the daily backup, the library's search index and folder sync.

Threading contract: everything here runs through the TaskRunner's background lane or the database
worker; `start()` is called a moment after the queue first shows rows, `stop()` from closeEvent.
The parts are built on first use: `start()` first creates the services they need on the background
lane (their imports take a few hundred milliseconds), then builds and starts the Qt-side parts.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QMenu, QSystemTrayIcon, QWidget

from dyy_desk.infra.settings import Settings, save_settings
from dyy_desk.services.workspace import Workspace
from dyy_desk.ui.notifications import DeadlineBanner, make_tray_icon
from dyy_desk.ui.signals import AppSignals
from dyy_desk.ui.tasks import TaskRunner
from dyy_desk.ui.widgets.header_bar import HeaderBar
from dyy_desk.ui.widgets.toast import show_toast

if TYPE_CHECKING:
    from dyy_desk.ui.escalation_watch import EscalationWatcher
    from dyy_desk.ui.library_context import LibraryContext
    from dyy_desk.ui.notifications import DeadlineNotifier
    from dyy_desk.ui.sync_controller import SyncController

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
        library: Callable[[], LibraryContext],
        on_deadlines_changed: Callable[[], None],
        on_pending_escalations: Callable[[int], None],
    ) -> None:
        """`library` builds (once) the library context whose index is loaded here."""
        super().__init__(window)
        self._workspace = workspace
        self._settings = settings
        self._runner = runner
        self._signals = signals
        self._clock_now = clock_now
        self._window = window
        self._header = header
        self._banner = banner
        self._library = library
        self._on_deadlines_changed = on_deadlines_changed
        self._on_pending_escalations = on_pending_escalations
        self._escalations: EscalationWatcher | None = None
        self._notifier: DeadlineNotifier | None = None
        self._sync: SyncController | None = None
        self._sync_menu: QMenu | None = None
        self._stopped = False
        self.tray = make_tray_icon(window)  # None where the desktop has no system tray
        self._backup_timer = QTimer(self)
        self._backup_timer.setInterval(BACKUP_CHECK_MS)
        self._backup_timer.timeout.connect(self.daily_backup)

    # --- parts, built on first use -----------------------------------------------------------
    @property
    def escalations(self) -> EscalationWatcher:
        if self._escalations is None:
            from dyy_desk.ui.escalation_watch import EscalationWatcher

            self._escalations = EscalationWatcher(
                escalations=self._workspace.escalations, runner=self._runner, signals=self._signals
            )
            self._escalations.pending_changed.connect(self._on_pending_escalations)
            self._escalations.notify.connect(self._notify)
        return self._escalations

    @property
    def notifier(self) -> DeadlineNotifier:
        if self._notifier is None:
            from dyy_desk.ui.notifications import DeadlineNotifier

            self._notifier = DeadlineNotifier(
                sop=self._workspace.sop,
                runner=self._runner,
                clock_now=self._clock_now,
                tray=self.tray,
                parent=self,
            )
            self._notifier.notices_ready.connect(self._banner.show_notices)
            self._notifier.notices_ready.connect(lambda _notices: self._on_deadlines_changed())
        return self._notifier

    @property
    def sync(self) -> SyncController:
        if self._sync is None:
            from dyy_desk.ui.sync_controller import SyncController

            workspace = self._workspace
            self._sync = SyncController(
                sync=workspace.sync,
                tickets=workspace.tickets,
                escalations=workspace.escalations,
                runner=self._runner,
                signals=self._signals,
                settings=self._settings,
                parent=self._window,
                clock_now=self._clock_now,
                directory=workspace.directory,
                save_settings=lambda s: save_settings(workspace.paths.config_dir, s),
            )
            self._sync.status_changed.connect(self._header.set_sync_text)
        return self._sync

    def fill_sync_menu(self, menu: QMenu) -> None:
        """The 同步 menu gets its actions when maintenance starts, or when opened before that."""
        self._sync_menu = menu
        menu.aboutToShow.connect(self._populate_sync_menu)

    def _populate_sync_menu(self) -> None:
        if self._sync_menu is not None and self._sync_menu.isEmpty():
            self._sync_menu.addActions(self.sync.actions())

    # --- life cycle --------------------------------------------------------------------------
    def start(self) -> None:
        workspace = self._workspace
        self._runner.run_background(
            lambda _ctx: (workspace.sop, workspace.escalations, workspace.library, workspace.sync),
            on_done=lambda _services: self._start_parts(),
        )

    def _start_parts(self) -> None:
        if self._stopped:
            return
        self._backup_timer.start()
        self.daily_backup()
        self.notifier.start()  # deadlines that passed while the app was closed are flagged now
        self.sync.start()
        self._populate_sync_menu()
        # The search index and the first escalation pass are the two big loads (tens of MB each at
        # 100k tickets): one after the other, so their peaks do not add up.
        library = self._library()
        if library.index_loaded:
            self.escalations.start()
            return
        library.index_ready.connect(self._start_escalations_once)
        library.load_index()

    def _start_escalations_once(self) -> None:
        self._library().index_ready.disconnect(self._start_escalations_once)
        if not self._stopped:
            self.escalations.start()

    def stop(self) -> None:
        self._stopped = True
        self._backup_timer.stop()
        if self._escalations is not None:
            self._escalations.stop()
        if self._notifier is not None:
            self._notifier.stop()
        if self._sync is not None or self._settings.sync_folder.strip():
            self.sync.flush_on_exit()  # bounded: an unfinished export is cancelled, leaving no file

    def _notify(self, title: str, text: str) -> None:
        """In the window (a toast that needs no click) and, when the window is hidden, in the tray."""
        show_toast(self._window, f"{title}\n{text}", msecs=8000)
        if self.tray is not None:
            self.tray.showMessage(title, text, QSystemTrayIcon.MessageIcon.Warning, 10_000)

    def daily_backup(self) -> None:
        keep = self._settings.backup_keep_days
        self._runner.run_background(lambda _ctx: self._workspace.backups.maybe_daily_backup(keep_days=keep))

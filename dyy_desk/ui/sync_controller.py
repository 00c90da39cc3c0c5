"""同步 menu and folder sync: this machine's outgoing bundle goes to the sync folder on a timer and on
exit; peers' new bundles there are imported at start and on the timer.

Threading contract: a sync cycle runs on the maintenance lane (`run_background`) so an agent's filter
never waits behind it; its progress reaches the GUI thread through `_progress` (a queued signal on
this GUI-thread object). One cycle at a time. The import ledger (file name → size:mtime of what was
applied) lives in `Settings.sync_applied`, pruned to the files still in the folder, so a file is
imported once and retried only when it changes. A failed file stays listed as a problem until a
later cycle imports it (its parent bundle may simply not have arrived yet).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QWidget

from dyy_desk.core.changes import Changes
from dyy_desk.core.i18n import _
from dyy_desk.core.timefmt import format_local, format_relative
from dyy_desk.core.types import UserRow
from dyy_desk.infra.settings import Settings
from dyy_desk.services.directory import DirectoryService
from dyy_desk.services.errors import ServiceError
from dyy_desk.services.escalation_service import EscalationService
from dyy_desk.services.sync_export import ExportResult, SyncCancelled
from dyy_desk.services.sync_team import SyncService
from dyy_desk.services.tickets import TicketService
from dyy_desk.ui.dialogs.sync_export_dialog import SyncExportDialog
from dyy_desk.ui.dialogs.sync_import_dialog import SyncImportDialog
from dyy_desk.ui.dialogs.sync_settings_dialog import SyncSettingsDialog
from dyy_desk.ui.dialogs.sync_team_dialog import SyncTeamDialog
from dyy_desk.ui.signals import AppSignals
from dyy_desk.ui.sync_cycle import FolderProblem, SyncCycle, SyncRun, bundle_name, problem_reason
from dyy_desk.ui.tasks import Cancelled, TaskContext, TaskRunner

DEFAULT_INTERVAL_MINUTES = 10
EXIT_FLUSH_SECONDS = 5.0


class SyncController(QObject):
    status_changed = Signal(str, str)  # (header text, tooltip)
    _progress = Signal(int, int, str)  # emitted in the worker, delivered queued on the GUI thread

    def __init__(
        self,
        *,
        sync: SyncService,
        tickets: TicketService,
        escalations: EscalationService,
        runner: TaskRunner,
        signals: AppSignals,
        settings: Settings,
        parent: QWidget,
        clock_now: Callable[[], datetime],
        directory: DirectoryService | None = None,
        save_settings: Callable[[Settings], None] | None = None,
    ) -> None:
        super().__init__(parent)
        self._sync, self._tickets, self._escalations = sync, tickets, escalations
        self._runner, self._signals, self._settings = runner, signals, settings
        self._parent, self._directory, self._save = parent, directory, save_settings
        self._clock_now = clock_now
        self._user: UserRow | None = signals.current_user  # built after the user was chosen
        self._running: TaskContext | None = None
        self._dirty = True  # edits of an earlier session may not have reached the folder
        self._last_ok: datetime | None = None
        self._problems: tuple[FolderProblem, ...] = ()
        self._gaps: tuple[str, ...] = ()
        self._activity = ""
        self._shown: tuple[str, str] = ("", "")
        sync.allow_unprotected_file(settings.team_key_unprotected_file)

        self.export_action = self._action(_("导出数据包…"), self.show_export)
        self.import_action = self._action(_("导入数据包…"), self.choose_import)
        self.sync_now_action = self._action(_("立即同步"), lambda: self.sync_now(export=True))
        self.cancel_action = self._action(_("取消同步"), self.cancel)
        self.cancel_action.setEnabled(False)
        self.settings_action = self._action(_("同步设置…"), self.show_settings)
        self.team_action = self._action(_("团队密钥…"), self.show_team_key)

        self._timer = QTimer(self)
        self._timer.timeout.connect(self.on_timer)
        self._progress.connect(self._on_progress)
        signals.operation_did_execute.connect(self._on_operation)
        signals.user_changed.connect(self._on_user)
        signals.tick.connect(self._show_status)

    def _action(self, text: str, slot: Callable[[], object]) -> QAction:
        action = QAction(text, self)
        action.triggered.connect(lambda _checked=False: slot())
        return action

    def actions(self) -> list[QAction]:
        return [
            self.export_action,
            self.import_action,
            self.sync_now_action,
            self.cancel_action,
            self.settings_action,
            self.team_action,
        ]

    # --- schedule ----------------------------------------------------------------------------
    def folder(self) -> Path | None:
        text = self._settings.sync_folder.strip()
        return Path(text) if text else None

    def start(self) -> None:
        """At start: import what peers left while we were away (and publish our own edits)."""
        minutes = max(1, int(self._settings.sync_interval_minutes or DEFAULT_INTERVAL_MINUTES))
        self._timer.setInterval(minutes * 60_000)
        self._timer.start()
        self.sync_now(export=True)

    def stop(self) -> None:
        self._timer.stop()

    @Slot()
    def on_timer(self) -> None:
        self.sync_now(export=self._dirty)

    def sync_now(self, *, export: bool) -> TaskContext | None:
        folder = self.folder()
        if folder is None or self._running is not None:
            self._show_status()
            return None
        if not folder.is_dir():
            self._problems = (
                FolderProblem(str(folder), _("同步文件夹不存在或无法访问，请在“同步设置”中重新选择")),
            )
            self._show_status()
            return None
        ledger = dict(self._settings.sync_applied)
        self._dirty = self._dirty and not export  # edits made while this runs mark it dirty again
        self._activity = _("正在同步…")
        self.cancel_action.setEnabled(True)
        self._running = self._runner.run_background(
            lambda ctx: self._work(ctx, folder, ledger, export),
            on_done=self._on_done,
            on_error=self._on_error,
        )
        self._show_status()
        return self._running

    def _work(self, ctx: TaskContext, folder: Path, ledger: dict[str, str], export: bool) -> SyncRun:
        info = self._sync.info()
        if info.team_id is None:
            raise ServiceError(_("本机还没有加入团队，请在 同步 → 团队密钥… 中创建或加入团队"))
        cycle = SyncCycle(
            self._sync,
            self._tickets,
            self._escalations,
            folder,
            ledger,
            ctx,
            self._progress.emit,
            actor_id=self._actor_id(),
        )
        exported, problems, gaps, cancelled = None, [], None, False
        try:
            if export:
                exported = cycle.export(info.team_id, info.origin)
            problems, gaps = cycle.import_new(info.origin)
        except SyncCancelled:
            cancelled = True
        return SyncRun(
            exported, tuple(cycle.imported), tuple(problems), gaps, cycle.ledger, cycle.changes, cancelled
        )

    def cancel(self) -> None:
        if self._running is not None:
            self._running.cancel()
            self._activity = _("正在取消…")
            self._show_status()

    def flush_on_exit(self, timeout: float = EXIT_FLUSH_SECONDS) -> bool:
        """From closeEvent: stop any import and write our pending edits to the folder, within
        `timeout` seconds; past that the export is cancelled (it then leaves no file and no number).
        True when the bundle was written (or there was nothing to write)."""
        self._timer.stop()
        folder = self.folder()
        if folder is None or not self._dirty or not folder.is_dir():
            return True
        if self._running is not None:
            self._running.cancel()
        finished = threading.Event()
        written: list[str] = []
        actor_id = self._actor_id()

        def work(ctx: TaskContext) -> None:
            try:
                info = self._sync.info()
                if info.team_id is not None:
                    cycle = SyncCycle(
                        self._sync,
                        self._tickets,
                        self._escalations,
                        folder,
                        {},
                        ctx,
                        lambda *_: None,
                        actor_id=actor_id,
                    )
                    written.append(cycle.export(info.team_id, info.origin))
            finally:
                finished.set()

        context = self._runner.run_background(work)
        if not finished.wait(timeout):
            context.cancel()
            finished.wait(timeout)
        return bool(written)

    # --- results -----------------------------------------------------------------------------
    def _on_done(self, run: SyncRun) -> None:
        self._running = None
        self._activity = ""
        self.cancel_action.setEnabled(False)
        self._settings.sync_applied = run.ledger
        if self._save is not None:
            self._save(self._settings)
        if run.gaps is not None:
            self._gaps = run.gaps
        self._problems = run.problems
        if run.cancelled:
            self._dirty = self._dirty or run.exported is None
            self._problems = (*run.problems, FolderProblem("", _("同步已取消，未完成的部分没有写入")))
        else:
            self._last_ok = self._clock_now()
        if run.imported:
            self._signals.operation_did_execute.emit(run.changes, self)
        self._show_status()

    def _on_error(self, exc: BaseException) -> None:
        self._running = None
        self._activity = ""
        self._dirty = True
        self.cancel_action.setEnabled(False)
        reason = _("同步已取消，本机数据未做任何改动") if isinstance(exc, Cancelled) else problem_reason(exc)
        self._problems = (FolderProblem("", reason),)
        self._show_status()

    @Slot(int, int, str)
    def _on_progress(self, value: int, maximum: int, label: str) -> None:
        if self._running is None:
            return
        percent = f" {value * 100 // maximum}%" if maximum else ""
        self._activity = f"{label}{percent}"
        self._show_status()

    def _on_operation(self, _changes: Changes, initiator: object) -> None:
        if initiator is not self:
            self._dirty = True

    def _on_user(self, user: object) -> None:
        self._user = user if isinstance(user, UserRow) else None

    def _actor_id(self) -> str | None:
        return self._user.id if self._user is not None else None

    # --- status ------------------------------------------------------------------------------
    def status(self) -> tuple[str, str]:
        folder = self.folder()
        if folder is None:
            return _("同步：未设置"), _("在 同步 → 同步设置… 中选择同步文件夹，即可与同事自动交换数据包。")
        if self._activity:
            return _("同步：{activity}").format(activity=self._activity), _(
                "同步文件夹：{folder}\n可在 同步 → 取消同步 中取消。"
            ).format(folder=folder)
        now = self._clock_now()
        when = format_relative(self._last_ok, now=now) if self._last_ok else _("尚未同步")
        lines = [_("同步文件夹：{folder}").format(folder=folder)]
        if self._last_ok:
            lines.append(_("上次同步：{time}").format(time=format_local(self._last_ok, now=now)))
        lines += [f"{p.file}：{p.reason}" if p.file else p.reason for p in self._problems]
        lines += self._gaps
        if self._problems:
            first = self._problems[0]
            what = _("{file} 无法导入").format(file=first.file) if first.file else first.reason
            more = (
                _(" 等 {count} 个问题").format(count=len(self._problems)) if len(self._problems) > 1 else ""
            )
            return _("同步：{when} ⚠ {what}{more}").format(when=when, what=what, more=more), "\n".join(lines)
        if self._gaps:
            return _("同步：{when} ⚠ 缺少数据包").format(when=when), "\n".join(lines)
        return _("同步：{when}{ok}").format(when=when, ok=" ✓" if self._last_ok else ""), "\n".join(lines)

    def _show_status(self) -> None:
        shown = self.status()
        if shown != self._shown:
            self._shown = shown
            self.status_changed.emit(*shown)

    # --- dialogs -----------------------------------------------------------------------------
    def show_export(self) -> SyncExportDialog:
        dialog = SyncExportDialog(
            sync=self._sync,
            runner=self._runner,
            clients=self._directory.clients if self._directory else None,
            copy_to_folder=self._copy_to_folder,
            actor_id=self._actor_id(),
            parent=self._parent,
        )
        dialog.open()
        return dialog

    def _copy_to_folder(self, result: ExportResult) -> str | None:
        """Worker side: a numbered bundle sent by hand also goes to the folder, or folder peers
        would see a missing number."""
        folder = self.folder()
        if folder is None or result.sequence == 0 or not folder.is_dir():
            return None
        info = self._sync.info()
        assert info.team_id is not None
        target = folder / bundle_name(info.team_id, info.origin, result.sequence)
        tmp = folder / f".dyy-{info.origin}.copy"
        tmp.write_bytes(result.path.read_bytes())
        os.replace(tmp, target)
        return target.name

    def choose_import(self) -> SyncImportDialog | None:
        path, _filter = QFileDialog.getOpenFileName(
            self._parent,
            _("导入数据包"),
            str(self.folder() or ""),
            _("DYY Desk 数据包 (*.dyyb);;所有文件 (*)"),
        )
        return self.show_import(Path(path)) if path else None

    def show_import(self, path: Path) -> SyncImportDialog:
        dialog = SyncImportDialog(
            path=path,
            sync=self._sync,
            tickets=self._tickets,
            escalations=self._escalations,
            runner=self._runner,
            signals=self._signals,
            initiator=self,
            actor_id=self._actor_id(),
            parent=self._parent,
        )
        dialog.open()
        return dialog

    def show_settings(self) -> SyncSettingsDialog:
        dialog = SyncSettingsDialog(
            sync=self._sync, runner=self._runner, settings=self._settings, parent=self._parent
        )
        dialog.saved.connect(self._on_settings_saved)
        dialog.open()
        return dialog

    def _on_settings_saved(self) -> None:
        if self._save is not None:
            self._save(self._settings)
        self.stop()
        self._shown = ("", "")
        if self.folder() is not None:
            self.start()
        else:
            self._show_status()

    def show_team_key(self) -> SyncTeamDialog:
        dialog = SyncTeamDialog(
            sync=self._sync,
            runner=self._runner,
            settings=self._settings,
            user=self._user,
            parent=self._parent,
        )
        dialog.joined.connect(self._on_joined)
        dialog.open()
        return dialog

    def _on_joined(self) -> None:
        if self._save is not None:
            self._save(self._settings)
        with contextlib.suppress(RuntimeError):
            self.sync_now(export=True)

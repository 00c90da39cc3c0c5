"""The main window composes the panels, the header, menus and the one window-wide timer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from dyy_desk import __version__
from dyy_desk.core.changes import Changes
from dyy_desk.core.i18n import N_, _
from dyy_desk.core.ticket_query import QueueView
from dyy_desk.core.types import UserRow
from dyy_desk.infra.settings import Settings, save_settings
from dyy_desk.services.workspace import Workspace
from dyy_desk.ui.maintenance import Maintenance
from dyy_desk.ui.menus import build_menus
from dyy_desk.ui.notifications import DeadlineBanner
from dyy_desk.ui.panels.queue_panel import QueuePanel
from dyy_desk.ui.panels.ticket_detail_panel import TicketDetailPanel
from dyy_desk.ui.signals import AppSignals
from dyy_desk.ui.tasks import TaskRunner
from dyy_desk.ui.user_switch import confirm_switch
from dyy_desk.ui.widgets.header_bar import HeaderBar
from dyy_desk.ui.widgets.lazy_area import LazyArea
from dyy_desk.ui.widgets.navigation import NavigationList

if TYPE_CHECKING:
    from dyy_desk.ui.compact_window import CompactWindow
    from dyy_desk.ui.dialogs.new_ticket_dialog import NewTicketDialog
    from dyy_desk.ui.library_context import LibraryContext
    from dyy_desk.ui.panels.checklist_panel import ChecklistPanel
    from dyy_desk.ui.panels.escalation_panel import EscalationPanel
    from dyy_desk.ui.panels.library_panel import LibraryPanel
    from dyy_desk.ui.panels.qa_panel import QAPanel
    from dyy_desk.ui.search_popup import SearchPopup

NAV_AREAS: list[str] = [
    N_("工单"),
    N_("知识库与话术"),
    N_("SOP"),
    N_("升级"),
    N_("质检"),
    N_("报表"),
    N_("设置"),
]
TICK_MS = 1000
DUE_COUNT_REFRESH_MS = 30_000
MAINTENANCE_DELAY_MS = 2_000


class MainWindow(QMainWindow):
    ready = Signal()  # first queue load finished: the window is usable

    def __init__(
        self,
        *,
        workspace: Workspace,
        settings: Settings,
        ask_passwords: bool = True,
        trusted_user_id: str | None = None,
    ) -> None:
        """`ask_passwords`: switching to a supervisor/admin asks for the password (off for selftest).
        `trusted_user_id`: the profile the person chose or created in the welcome dialog a moment ago."""
        super().__init__()
        self.workspace = workspace
        self.settings = settings
        self.signals = AppSignals(self)
        self.runner = TaskRunner(self)
        self.user: UserRow | None = None
        self._ask_passwords = ask_passwords
        self._trusted_user_id = trusted_user_id
        self.setWindowTitle(_("DYY Desk 代运营客服工作台 {version}").format(version=__version__))
        clock_now = workspace.clock.now
        hours = settings.due_soon_hours

        self.queue = QueuePanel(
            tickets=workspace.tickets,
            directory=workspace.directory,
            runner=self.runner,
            signals=self.signals,
            clock_now=clock_now,
            due_soon_hours=hours,
        )
        # The SOP checklist (and the SOP service behind it) is built when the first ticket is opened.
        self._checklist: ChecklistPanel | None = None
        self._checklist_slot = QWidget()
        QVBoxLayout(self._checklist_slot).setContentsMargins(0, 0, 0, 0)
        self.detail = TicketDetailPanel(
            tickets=workspace.tickets,
            directory=workspace.directory,
            runner=self.runner,
            signals=self.signals,
            clock_now=clock_now,
            due_soon_hours=hours,
            checklist=self._checklist_slot,
            escalate=self.escalate_ticket,
            personal_data=workspace.personal_data,
        )
        self.signals.ticket_selected.connect(lambda ticket_id: self.checklist.show_ticket(ticket_id))
        self.queue.new_ticket_requested.connect(self.new_ticket)
        self.queue.rows_shown.connect(self._on_first_load)

        self.work_splitter = QSplitter(Qt.Orientation.Horizontal)
        self.work_splitter.addWidget(self.queue)
        self.work_splitter.addWidget(self.detail)
        self.work_splitter.setStretchFactor(0, 3)
        self.work_splitter.setStretchFactor(1, 2)
        self.work_splitter.setSizes([600, 400])  # proportions until the user drags (then remembered)
        self.work_splitter.setChildrenCollapsible(False)

        self._library_context: LibraryContext | None = None
        self._search_popup: SearchPopup | None = None
        self.compact: CompactWindow | None = None
        self._lazy_areas = {
            "知识库与话术": LazyArea(self._build_library_panel),
            "SOP": LazyArea(self._build_sop_panel),
            "升级": LazyArea(self._build_escalation_panel),
            "质检": LazyArea(self._build_qa_panel),
            "报表": LazyArea(self._build_reports_panel),
            "设置": LazyArea(self._build_settings_panel),
        }
        self.areas = QStackedWidget()
        for title in NAV_AREAS:
            self.areas.addWidget(self._lazy_areas.get(title, self.work_splitter))

        self.nav = NavigationList([_(title) for title in NAV_AREAS])
        self.nav.area_changed.connect(self.areas.setCurrentIndex)
        self.header = HeaderBar()
        self.header.user_chosen.connect(self.switch_user)
        self.header.search_requested.connect(lambda: self.search_popup.show_popup())
        self.header.view_requested.connect(self._show_whole_view)

        central = QWidget()
        outer = QVBoxLayout(central)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(self.header)
        self.banner = DeadlineBanner(clock_now)
        self.banner.open_ticket.connect(self._open_ticket)
        outer.addWidget(self.banner)
        self.maintenance = Maintenance(
            workspace=workspace,
            settings=settings,
            runner=self.runner,
            signals=self.signals,
            clock_now=clock_now,
            window=self,
            header=self.header,
            banner=self.banner,
            library=lambda: self.library_context,
            on_deadlines_changed=self.refresh_due_counts,
            on_pending_escalations=self._show_pending_escalations,
        )
        body = QHBoxLayout()
        body.setContentsMargins(0, 0, 0, 0)
        body.addWidget(self.nav)
        body.addWidget(self.areas, 1)
        outer.addLayout(body, 1)
        self.setCentralWidget(central)
        self.statusBar().showMessage(_("数据文件夹：{data_dir}").format(data_dir=workspace.paths.data_dir))

        self._build_actions()
        self._ticker = QTimer(self)
        self._ticker.setInterval(TICK_MS)
        self._ticker.timeout.connect(self.signals.tick)
        self._ticker.start()
        self._due_refresh = QTimer(self)
        self._due_refresh.setInterval(DUE_COUNT_REFRESH_MS)
        self._due_refresh.timeout.connect(self.refresh_due_counts)
        self._due_refresh.start()
        self.signals.operation_did_execute.connect(self._on_changes)
        self.signals.ticket_selected.connect(self._reveal_ticket)
        self._first_load_done = False
        self._load_users()

    # --- actions and menus -------------------------------------------------------------------
    def _build_actions(self) -> None:
        handlers = {
            "new_ticket": self.new_ticket,
            "focus_search": self.queue.focus_search,
            "refresh": self.queue.reload,
            "next_ticket": lambda: self._step_ticket(1),
            "prev_ticket": lambda: self._step_ticket(-1),
            "focus_note": self.detail.note_edit.setFocus,
            "change_status": self.detail.status_combo.showPopup,
            "assign_me": self._assign_me,
            "view_mine": lambda: self._show_view(QueueView.MINE),
            "view_unassigned": lambda: self._show_view(QueueView.UNASSIGNED),
            "view_due_soon": lambda: self._show_view(QueueView.DUE_SOON),
            "view_overdue": lambda: self._show_view(QueueView.OVERDUE),
            "view_escalated": lambda: self._show_view(QueueView.ESCALATED),
            "view_all": lambda: self._show_view(QueueView.ALL),
            "switch_user": self.header.user_combo.showPopup,
            "shortcuts": self.show_shortcuts,
            "handover": self.show_handover,
            "library_search": lambda: self.search_popup.show_popup(),
            "compact_window": self.toggle_compact,
            "escalate": lambda: self.detail.escalate_button.click(),
            "quit": self.close,
        }
        self._actions = build_menus(
            self,
            handlers,
            fill_sync_menu=self.maintenance.fill_sync_menu,
            on_about=self.show_about,
            areas=len(NAV_AREAS),
            show_area=self.nav.show_area,
        )

    # --- areas built on first use ------------------------------------------------------------
    @property
    def checklist(self) -> ChecklistPanel:
        if self._checklist is None:
            from dyy_desk.ui.panels.checklist_panel import ChecklistPanel

            self._checklist = ChecklistPanel(
                sop=self.workspace.sop,
                runner=self.runner,
                signals=self.signals,
                clock_now=self.workspace.clock.now,
            )
            self._checklist.set_user(self.user)
            self._checklist.loaded.connect(lambda view: self.detail.set_checklist_expanding(view is not None))
            self._checklist_slot.layout().addWidget(self._checklist)
        return self._checklist

    @property
    def library_context(self) -> LibraryContext:
        """Shared by the library panel, Ctrl+K and the 小窗; built when the first of them needs it."""
        if self._library_context is None:
            from dyy_desk.ui.library_context import LibraryContext

            self._library_context = LibraryContext(
                library=self.workspace.library,
                tickets=self.workspace.tickets,
                runner=self.runner,
                signals=self.signals,
            )
        return self._library_context

    @property
    def search_popup(self) -> SearchPopup:
        if self._search_popup is None:
            from dyy_desk.ui.search_popup import SearchPopup

            self._search_popup = SearchPopup(context=self.library_context, parent=self)
        return self._search_popup

    @property
    def library_panel(self) -> LibraryPanel:
        return self._lazy_areas["知识库与话术"].panel()  # type: ignore[return-value]

    @property
    def escalation_panel(self) -> EscalationPanel:
        return self._lazy_areas["升级"].panel()  # type: ignore[return-value]

    @property
    def qa_panel(self) -> QAPanel:
        return self._lazy_areas["质检"].panel()  # type: ignore[return-value]

    def _build_library_panel(self) -> QWidget:
        from dyy_desk.ui.panels.library_panel import LibraryPanel

        return LibraryPanel(context=self.library_context, directory=self.workspace.directory)

    def _build_escalation_panel(self) -> QWidget:
        from dyy_desk.ui.panels.escalation_panel import EscalationPanel

        panel = EscalationPanel(
            escalations=self.workspace.escalations,
            tickets=self.workspace.tickets,
            runner=self.runner,
            signals=self.signals,
            clock_now=self.workspace.clock.now,
        )
        panel.set_user(self.user)
        return panel

    def _build_qa_panel(self) -> QWidget:
        from dyy_desk.ui.panels.qa_panel import QAPanel

        panel = QAPanel(
            qa=self.workspace.qa, tickets=self.workspace.tickets, runner=self.runner, signals=self.signals
        )
        panel.set_user(self.user)
        return panel

    def _build_sop_panel(self) -> QWidget:
        from dyy_desk.ui.panels.sop_panel import SopPanel

        return SopPanel(
            sop=self.workspace.sop,
            runner=self.runner,
            signals=self.signals,
            clock_now=self.workspace.clock.now,
        )

    def _build_reports_panel(self) -> QWidget:
        from dyy_desk.services.report_service import ReportService
        from dyy_desk.ui.panels.reports_panel import ReportsPanel

        return ReportsPanel(
            reports=ReportService(engine=self.workspace.engine, clock=self.workspace.clock),
            runner=self.runner,
            signals=self.signals,
            clock_now=self.workspace.clock.now,
        )

    def _build_settings_panel(self) -> QWidget:
        from dyy_desk.ui.panels.settings_panel import SettingsPanel

        return SettingsPanel(
            workspace=self.workspace,
            settings=self.settings,
            runner=self.runner,
            signals=self.signals,
            save_settings=lambda s: save_settings(self.workspace.paths.config_dir, s),
            open_sync_settings=self._open_sync_settings,
            open_team_key=self._open_team_key,
        )

    def _open_sync_settings(self) -> None:
        self.maintenance.sync.show_settings()

    def _open_team_key(self) -> None:
        self.maintenance.sync.show_team_key()

    def restore_layout(self) -> bool:
        """Put the window back where the user left it; False when there is nothing saved."""
        if self.settings.splitter_state:
            self.work_splitter.restoreState(_from_text(self.settings.splitter_state))
        if not self.settings.window_geometry:
            return False
        return self.restoreGeometry(_from_text(self.settings.window_geometry))

    def action(self, key: str) -> QAction:
        return self._actions[key]

    # --- users -------------------------------------------------------------------------------
    def _load_users(self) -> None:
        users = self.workspace.directory.users()
        wanted = self.settings.current_user_id
        current = next((u for u in users if u.id == wanted), users[0] if users else None)
        self.header.set_users(users, current)
        remembered = current is not None and current.id != self._trusted_user_id
        if remembered and self._ask_passwords and self.workspace.auth.needs_password(current):
            # A remembered supervisor/admin types the password again after a restart; until then the
            # window opens as nobody and asks as soon as it is shown.
            self.set_user(None)
            QTimer.singleShot(0, lambda: self.switch_user(current))
            return
        self.set_user(current)

    def switch_user(self, user: UserRow | None) -> None:
        """The person at the keyboard picked a profile: supervisors and admins prove who they are."""
        changing = user is not None and (self.user is None or user.id != self.user.id)
        if changing and self._ask_passwords and not confirm_switch(self, self.workspace.auth, user):
            self.header.show_user(self.user)
            return
        self.set_user(user)

    def set_user(self, user: UserRow | None) -> None:
        self.header.show_user(user)
        self.user = user
        self.settings.current_user_id = user.id if user else None
        self.queue.set_user(user)  # first in the database lane: the agent's own tickets come first
        self.signals.user_changed.emit(user)

    def _assign_me(self) -> None:
        ticket_id = self.queue.selected_ticket_id()
        if ticket_id and self.user:
            user_id = self.user.id
            self.runner.run_db(
                lambda _ctx: self.workspace.tickets.assign(
                    ticket_id=ticket_id, assignee_id=user_id, actor_id=user_id
                ),
                on_done=lambda changes: self.signals.operation_did_execute.emit(changes, self),
            )

    # --- behaviour ---------------------------------------------------------------------------
    def _show_view(self, view: QueueView) -> None:
        self.nav.show_area(0)
        self.queue.set_view(view)

    def _show_whole_view(self, view: QueueView) -> None:
        self.nav.show_area(0)
        self.queue.show_whole_view(view)

    def _step_ticket(self, delta: int) -> None:
        current = self.queue.table.currentIndex()
        row = max(
            0, min(self.queue.model.rowCount() - 1, (current.row() if current.isValid() else -1) + delta)
        )
        self.queue.table.selectRow(row)

    def _on_first_load(self, _count: int) -> None:
        """Once: later reloads are filters, which change no deadline (ticket writes and the 30 s timer
        refresh the header's counts)."""
        if not self._first_load_done:
            self._first_load_done = True
            self.refresh_due_counts()
            # Maintenance waits a moment: the agent's first clicks get the CPU, not a rule pass.
            QTimer.singleShot(MAINTENANCE_DELAY_MS, self._start_maintenance)
            self.ready.emit()
            workspace = self.workspace
            self.runner.run_background(lambda _ctx: _prepare_checklist(workspace))

    def _start_maintenance(self) -> None:
        self.maintenance.start()

    def _reveal_ticket(self, ticket_id: object) -> None:
        """Another area (an escalation's evidence, a QA sample) asked for a ticket: show the queue."""
        if self.areas.currentIndex() != 0:
            self.nav.show_area(0)
        if isinstance(ticket_id, str):
            self.queue.select_ticket(ticket_id)

    def _show_pending_escalations(self, count: int) -> None:
        self.nav.set_badge(_("升级"), count, _("{count} 个升级等待首次响应").format(count=count))

    def _on_changes(self, changes: Changes, _initiator: object) -> None:
        if changes.tickets:
            self.refresh_due_counts()
        if changes.users:  # added or renamed in 设置: the header's list follows, the person stays
            self.runner.run_db(
                lambda _ctx: self.workspace.directory.users(),
                on_done=lambda users: self.header.set_users(users, self.user),
            )

    def refresh_due_counts(self) -> None:
        hours = self.settings.due_soon_hours
        self.runner.run_db(
            lambda _ctx: self.workspace.tickets.due_counts(due_soon_hours=hours),
            on_done=self._show_due_counts,
        )

    def _show_due_counts(self, counts: tuple[int, int]) -> None:
        self.header.set_due_counts(*counts)

    def new_ticket(self) -> NewTicketDialog:
        from dyy_desk.ui.dialogs.new_ticket_dialog import NewTicketDialog

        dialog = NewTicketDialog(
            tickets=self.workspace.tickets,
            directory=self.workspace.directory,
            runner=self.runner,
            user=self.user,
            clock_now=self.workspace.clock.now,
            parent=self,
        )
        dialog.created.connect(self._on_ticket_created)
        dialog.open()
        return dialog

    def _on_ticket_created(self, result: tuple[object, Changes]) -> None:
        row, changes = result
        self.statusBar().showMessage(_("已创建工单 {number}").format(number=getattr(row, "number", "")), 5000)
        self.signals.operation_did_execute.emit(changes, self)

    def toggle_compact(self) -> None:
        if self.compact is None:
            from dyy_desk.ui.compact_window import CompactWindow

            self.compact = CompactWindow(
                context=self.library_context, geometry=self.settings.compact_geometry
            )
            self.compact.geometry_changed.connect(
                lambda text: setattr(self.settings, "compact_geometry", text)
            )
        self.compact.toggle()
        self.settings.compact_window = self.compact.isVisible()

    def _open_ticket(self, ticket_id: str) -> None:
        self._reveal_ticket(ticket_id)
        self.signals.ticket_selected.emit(ticket_id)

    def escalate_ticket(self, detail: object) -> None:
        row = getattr(detail, "row", None)
        if row is None or self.user is None:
            return
        from dyy_desk.ui.dialogs.escalate_dialog import EscalateDialog

        EscalateDialog(
            escalations=self.workspace.escalations,
            runner=self.runner,
            signals=self.signals,
            ticket_id=row.id,
            ticket_label=f"{row.number} {row.subject}",
            actor_id=self.user.id,
            parent=self,
        ).open()

    def show_handover(self) -> None:
        from dyy_desk.ui.dialogs.handover_dialog import HandoverDialog

        dialog = HandoverDialog(
            sop=self.workspace.sop,
            runner=self.runner,
            signals=self.signals,
            clock_now=self.workspace.clock.now,
            parent=self,
        )
        dialog.ticket_chosen.connect(self._open_ticket)
        dialog.open()

    def show_shortcuts(self) -> None:
        from dyy_desk.ui.dialogs.shortcuts_dialog import ShortcutsDialog

        ShortcutsDialog([_(title) for title in NAV_AREAS], self).exec()

    def show_about(self) -> None:
        QMessageBox.about(
            self,
            _("关于 DYY Desk"),
            _("<b>DYY Desk 代运营客服工作台</b><br>版本 {version}<br>数据文件夹：{data_dir}").format(
                version=__version__, data_dir=self.workspace.paths.data_dir
            ),
        )

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.compact is not None:
            self.compact.close()  # sends its geometry into the settings
        self.settings.window_geometry = _to_text(self.saveGeometry())
        self.settings.splitter_state = _to_text(self.work_splitter.saveState())
        save_settings(self.workspace.paths.config_dir, self.settings)
        self._ticker.stop()
        self._due_refresh.stop()
        self.maintenance.stop()
        self.runner.shutdown()
        super().closeEvent(event)


def _prepare_checklist(workspace: Workspace) -> None:
    """Right after the first paint, on the background lane: the checklist's modules and the SOP
    service, so opening the first ticket does not pay for them on the GUI thread."""
    import dyy_desk.ui.panels.checklist_panel  # noqa: F401

    workspace.sop  # noqa: B018 - built on first use


def _to_text(state: QByteArray) -> str:
    return bytes(state.toBase64().data()).decode("ascii")


def _from_text(text: str) -> QByteArray:
    return QByteArray.fromBase64(text.encode("ascii"))

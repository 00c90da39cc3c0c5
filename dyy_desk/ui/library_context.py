"""What every library view shares: the search index, the current user and the selected ticket's
placeholder values, loaded in the background and refreshed on changes."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from dyy_desk.core.changes import Changes
from dyy_desk.core.i18n import _
from dyy_desk.core.placeholders import ticket_values
from dyy_desk.core.types import Role, TicketDetail, UserRow
from dyy_desk.services.library_service import LibraryService
from dyy_desk.services.tickets import TicketService
from dyy_desk.ui.signals import AppSignals
from dyy_desk.ui.tasks import TaskRunner


class LibraryContext(QObject):
    """Who is copying, for which ticket, and whether the index is ready."""

    changed = Signal()  # the user, or the selected ticket's detail, changed
    index_ready = Signal()
    index_progress = Signal(int, int, str)
    library_changed = Signal()  # entries were edited or imported: shown results are stale

    def __init__(
        self, *, library: LibraryService, tickets: TicketService, runner: TaskRunner, signals: AppSignals
    ) -> None:
        super().__init__()
        self.library = library
        self.tickets = tickets
        self.runner = runner
        self.signals = signals
        self.user: UserRow | None = signals.current_user  # built late: start from what is current
        self.ticket_id: str | None = None
        self.detail: TicketDetail | None = None
        self.load_error = ""
        self._loading = False
        self._semantic_requested = False
        self._detail_generation = 0
        signals.user_changed.connect(self.set_user)
        signals.ticket_selected.connect(self.set_ticket)
        signals.operation_did_execute.connect(self._on_changes)
        if signals.current_ticket_id is not None:
            self.set_ticket(signals.current_ticket_id)

    @property
    def index_loaded(self) -> bool:
        return self.library.index.loaded

    @property
    def is_editor(self) -> bool:
        return self.user is not None and self.user.role in (Role.SUPERVISOR, Role.ADMIN)

    def load_index(self) -> None:
        """Start loading the search index on the database worker (once); views show 知识库加载中… until
        `index_ready`."""
        if self.index_loaded or self._loading:
            return
        self._loading = True
        index = self.library.index
        self.runner.run_db(
            lambda ctx: index.load(progress=ctx.progress, cancel=lambda: ctx.cancelled, semantic=False),
            on_done=self._on_loaded,
            on_error=self._on_load_failed,
            on_progress=self.index_progress.emit,
        )

    def ensure_semantic(self) -> None:
        """On the first search: load the sentence encoder and the entries' vectors in the background
        (CPU work, off the database worker); until then, and if it fails, the ranking stays lexical."""
        if self._semantic_requested or not self.index_loaded:
            return
        self._semantic_requested = True
        index = self.library.index
        self.runner.run_background(lambda ctx: index.ensure_semantic(cancel=lambda: ctx.cancelled))

    def set_user(self, user: object) -> None:
        self.user = user if isinstance(user, UserRow) else None
        self.changed.emit()

    def set_ticket(self, ticket_id: object) -> None:
        """Follow the queue's selection; the detail (client scope, placeholder values) arrives later."""
        self.ticket_id = ticket_id if isinstance(ticket_id, str) and ticket_id else None
        self._detail_generation += 1
        generation = self._detail_generation
        if self.ticket_id is None:
            self.detail = None
            self.changed.emit()
            return
        ticket_id_ = self.ticket_id
        self.runner.run_db(
            lambda _ctx: self.tickets.detail(ticket_id=ticket_id_),
            on_done=lambda detail: self._on_detail(generation, detail),
            on_error=lambda _exc: self._on_detail(generation, None),
        )

    def placeholder_values(self) -> dict[str, str]:
        """What the selected ticket fills, for showing (copy_entry does the real filling)."""
        agent = self.user.name if self.user else None
        if self.detail is None:
            return ticket_values(agent_name=agent)
        row = self.detail.row
        return ticket_values(
            customer_nick=row.customer_nick,
            order_no=self.detail.order_no,
            shop_name=row.shop_name,
            client_name=row.client_name,
            agent_name=agent,
        )

    def _on_detail(self, generation: int, detail: TicketDetail | None) -> None:
        if generation == self._detail_generation:
            self.detail = detail
            self.changed.emit()

    def _on_loaded(self, _stats: object) -> None:
        self._loading = False
        self.index_ready.emit()

    def _on_load_failed(self, exc: BaseException) -> None:
        self._loading = False
        self.load_error = _("知识库加载失败，详情已写入日志。请重启程序再试。")
        self.index_ready.emit()

    def _on_changes(self, changes: Changes, _initiator: object) -> None:
        if changes.library:
            self.library_changed.emit()
        if self.ticket_id is not None and self.ticket_id in changes.ticket_ids:
            self.set_ticket(self.ticket_id)

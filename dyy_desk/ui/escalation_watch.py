"""Runs the escalation rules after every ticket change and once a minute, and keeps a pending count.

Threading contract: rule passes run on the TaskRunner's background lane (a full pass takes seconds at
100k tickets and holds the service's index lock; it must never sit in front of the agent's own queries);
the pending count is a quick read on the database worker. Results come back on the GUI thread as
operation_did_execute and `pending_changed`.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from dyy_desk.core.changes import Changes
from dyy_desk.core.escalation_model import EscalationLevel, EscalationStatus
from dyy_desk.core.i18n import _
from dyy_desk.core.types import Role, UserRow
from dyy_desk.services.escalation_service import EscalationService
from dyy_desk.services.escalation_views import EscalationRow
from dyy_desk.ui.models.escalation_models import level_badge
from dyy_desk.ui.signals import AppSignals
from dyy_desk.ui.tasks import TaskRunner

RULES_INTERVAL_MS = 60_000


class EscalationWatcher(QObject):
    pending_changed = Signal(int)  # escalations waiting for a first response
    # (title, text): an escalation this user now owns, or — for supervisors — a new L2/L3 waiting
    notify = Signal(str, str)

    def __init__(self, *, escalations: EscalationService, runner: TaskRunner, signals: AppSignals) -> None:
        super().__init__()
        self._escalations = escalations
        self._runner = runner
        self._signals = signals
        self._timer = QTimer(self)
        self._timer.setInterval(RULES_INTERVAL_MS)
        self._timer.timeout.connect(self.run_all)
        self._user: UserRow | None = signals.current_user  # built after the user was chosen
        self._announced: set[tuple[str, str]] = set()  # (escalation id, why) already told to this user
        signals.operation_did_execute.connect(self._on_changes)
        signals.user_changed.connect(self._on_user)

    def start(self) -> None:
        """First full pass builds the rule index (seconds at 100k tickets): always in the worker."""
        self._timer.start()
        self.run_all()

    def stop(self) -> None:
        self._timer.stop()

    def run_all(self) -> None:
        self._runner.run_background(lambda _ctx: self._escalations.run_rules(), on_done=self._after_run)

    def _on_changes(self, changes: Changes, initiator: object) -> None:
        if initiator is self:
            return  # our own escalations: already evaluated
        if changes.escalations:
            self._refresh_count()
        if changes.tickets and changes.ticket_ids:
            ids = list(changes.ticket_ids)
            self._runner.run_db(
                lambda _ctx: self._escalations.run_rules(ticket_ids=ids), on_done=self._after_run
            )

    def _after_run(self, result: tuple[list[object], Changes]) -> None:
        applied, changes = result
        if applied:
            self._signals.operation_did_execute.emit(changes, self)
        self._refresh_count()

    def _refresh_count(self) -> None:
        self._runner.run_db(lambda _ctx: self._escalations.pending_count(), on_done=self.pending_changed.emit)
        if self._user is not None:  # only what is this person's to act on, read without evidence
            user_id = self._user.id
            self._runner.run_background(
                lambda _ctx: self._escalations.attention(actor_id=user_id), on_done=self._announce
            )

    def _on_user(self, user: UserRow | None) -> None:
        self._user = user
        self._announced.clear()  # the next person hears about what concerns them

    def _announce(self, rows: list[EscalationRow]) -> None:
        """Tell the person at the keyboard once about each escalation that is theirs to act on."""
        user = self._user
        if user is None:
            return
        fresh = [
            (row, why) for row in rows if (why := _why_me(row, user)) and (row.id, why) not in self._announced
        ]
        if not fresh:
            return
        self._announced.update((row.id, why) for row, why in fresh)
        lines = [f"{level_badge(row.level)} {row.escalation.reason}（{why}）" for row, why in fresh[:3]]
        more = _("\n另有 {count} 条，见「升级」。").format(count=len(fresh) - 3) if len(fresh) > 3 else ""
        self.notify.emit(_("{count} 条升级需要你处理").format(count=len(fresh)), "\n".join(lines) + more)


def _why_me(row: EscalationRow, user: UserRow) -> str:
    esc = row.escalation
    if esc.status is EscalationStatus.CLOSED:
        return ""
    if esc.owner_id == user.id and esc.status is not EscalationStatus.RESOLVED:
        return _("你是负责人")
    waiting = esc.status is EscalationStatus.PENDING and esc.level >= EscalationLevel.L2
    if waiting and user.role in (Role.SUPERVISOR, Role.ADMIN):
        return _("等待主管响应")
    return ""

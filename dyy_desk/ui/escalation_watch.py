"""Runs the escalation rules after every ticket change and once a minute, and keeps a pending count.

Threading contract: rule passes run on the TaskRunner's background lane (a full pass takes seconds at
100k tickets and holds the service's index lock; it must never sit in front of the agent's own queries);
the pending count is a quick read on the database worker. Results come back on the GUI thread as
operation_did_execute and `pending_changed`.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from dyy_desk.core.changes import Changes
from dyy_desk.services.escalation_service import EscalationService
from dyy_desk.ui.signals import AppSignals
from dyy_desk.ui.tasks import TaskRunner

RULES_INTERVAL_MS = 60_000


class EscalationWatcher(QObject):
    pending_changed = Signal(int)  # escalations waiting for a first response

    def __init__(self, *, escalations: EscalationService, runner: TaskRunner, signals: AppSignals) -> None:
        super().__init__()
        self._escalations = escalations
        self._runner = runner
        self._signals = signals
        self._timer = QTimer(self)
        self._timer.setInterval(RULES_INTERVAL_MS)
        self._timer.timeout.connect(self.run_all)
        signals.operation_did_execute.connect(self._on_changes)

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

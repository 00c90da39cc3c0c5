"""Application-wide signals: panels listen here and never call each other."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from dyy_desk.core.types import UserRow


class AppSignals(QObject):
    # (Changes, initiator object or None) after every mutation
    operation_did_execute = Signal(object, object)
    # once a second from the one window-wide timer; drives countdown chips
    tick = Signal()
    # the current user changed (UserRow)
    user_changed = Signal(object)
    # a panel asks the window to show a ticket (ticket id)
    ticket_selected = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # The latest user and ticket, for panels built after the signals went out (areas are built
        # on first show). Connected first, so every listener already sees the new values here.
        self.current_user: UserRow | None = None
        self.current_ticket_id: str | None = None
        self.user_changed.connect(self._remember_user)
        self.ticket_selected.connect(self._remember_ticket)

    def _remember_user(self, user: object) -> None:
        self.current_user = user if isinstance(user, UserRow) else None

    def _remember_ticket(self, ticket_id: object) -> None:
        self.current_ticket_id = ticket_id if isinstance(ticket_id, str) and ticket_id else None

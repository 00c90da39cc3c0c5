"""Application-wide signals: panels listen here and never call each other."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class AppSignals(QObject):
    # (Changes, initiator object or None) after every mutation
    operation_did_execute = Signal(object, object)
    # once a second from the one window-wide timer; drives countdown chips
    tick = Signal()
    # the current user changed (UserRow)
    user_changed = Signal(object)
    # a panel asks the window to show a ticket (ticket id)
    ticket_selected = Signal(object)

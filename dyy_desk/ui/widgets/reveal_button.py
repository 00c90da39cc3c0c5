"""买家 phone (and address) masked, with a 显示 button that reveals them for 30 s, then masks again.

Revealing is an explicit, audited act: the widget never holds the real values until the service has
written the audit entry and returned them, and it forgets them when the time is up, when the ticket
changes, or when 隐藏 is pressed. Time comes from the injected clock and the window-wide tick
(connect `AppSignals.tick` to `on_tick`), so there is no timer per ticket and tests never wait.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from dyy_desk.core.i18n import _
from dyy_desk.services.errors import ServiceError
from dyy_desk.ui.tasks import TaskRunner

RevealFn = Callable[[str], tuple[str | None, str | None]]  # ticket id → (phone, address); runs in the worker


class RevealButton(QWidget):
    revealed_changed = Signal(bool)
    reveal_failed = Signal(str)

    def __init__(
        self,
        *,
        reveal: RevealFn,
        runner: TaskRunner,
        clock_now: Callable[[], datetime],
        seconds: int = 30,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._reveal = reveal
        self._runner = runner
        self._now = clock_now
        self._duration = timedelta(seconds=seconds)
        self._ticket_id: str | None = None
        self._masked: tuple[str | None, str | None] = (None, None)
        self._until: datetime | None = None
        self._pending = False

        self.phone_label = QLabel()
        self.phone_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.address_label = QLabel()
        self.address_label.setWordWrap(True)
        self.address_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.button = QPushButton(_("显示"))
        self.button.setToolTip(
            _("显示完整手机号和地址 {seconds} 秒；每次显示都会记入审计日志").format(seconds=seconds)
        )
        self.button.clicked.connect(self._on_clicked)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.phone_label)
        row.addWidget(self.button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.address_label)
        self.set_contact(None, None, None)

    @property
    def revealed(self) -> bool:
        return self._until is not None

    def set_contact(
        self, ticket_id: str | None, phone_masked: str | None, address_masked: str | None
    ) -> None:
        """Show a ticket's buyer, masked. Another ticket forgets whatever was revealed; the same ticket
        reloaded (a note was added) keeps its reveal until the time is up."""
        self._masked = (phone_masked, address_masked)
        if ticket_id == self._ticket_id and (self.revealed or self._pending):
            return
        self._ticket_id = ticket_id
        self._pending = False
        self._mask()

    def hide_now(self) -> None:
        """Mask at once (e.g. the current user changed)."""
        self._pending = False
        self._mask()

    def on_tick(self) -> None:
        if self._until is None:
            return
        left = self._until - self._now()
        if left <= timedelta(0):
            self._mask()
        else:
            self.button.setText(_("隐藏（{seconds} 秒）").format(seconds=int(-(-left.total_seconds() // 1))))

    def _on_clicked(self) -> None:
        if self.revealed:
            self._mask()
            return
        if self._ticket_id is None or self._pending:
            return
        ticket_id = self._ticket_id
        self._pending = True
        self.button.setEnabled(False)
        self._runner.run_db(
            lambda _ctx: self._reveal(ticket_id),
            on_done=lambda values: self._show(ticket_id, values),
            on_error=lambda exc: self._failed(ticket_id, exc),
        )

    def _show(self, ticket_id: str, values: tuple[str | None, str | None]) -> None:
        if ticket_id != self._ticket_id or not self._pending:
            return  # the ticket changed while the reveal ran: never show a stale buyer
        self._pending = False
        phone, address = values
        self.phone_label.setText(phone or "")
        self.address_label.setText(address or "")
        self.address_label.setVisible(bool(address))
        self._until = self._now() + self._duration
        self.button.setEnabled(True)
        self.on_tick()
        self.revealed_changed.emit(True)

    def _failed(self, ticket_id: str, exc: BaseException) -> None:
        if ticket_id != self._ticket_id:
            return
        self._pending = False
        self.button.setEnabled(True)
        message = (
            str(exc) if isinstance(exc, ServiceError | PermissionError) else _("显示失败，详情已写入日志。")
        )
        self.reveal_failed.emit(message)

    def _mask(self) -> None:
        was_revealed = self._until is not None
        self._until = None
        phone, address = self._masked
        self.phone_label.setText(phone or _("（无手机号）"))
        self.address_label.setText(address or "")
        self.address_label.setVisible(bool(address))
        self.button.setText(_("显示"))
        self.button.setEnabled(self._ticket_id is not None and bool(phone or address) and not self._pending)
        if was_revealed:
            self.revealed_changed.emit(False)

"""Deadline reminders: ask the service every 30 s (and at start), show a banner and a tray message.

Threading contract: `due_notices` runs in the database worker; it records what it returns, so each
(step, state) reaches the agent once even across restarts. Widgets are touched on the GUI thread only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from html import escape
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QStyle, QSystemTrayIcon, QWidget

from dyy_desk.core.deadlines import DeadlineState
from dyy_desk.core.i18n import _
from dyy_desk.core.timefmt import format_local
from dyy_desk.ui.tasks import TaskRunner

if TYPE_CHECKING:
    from dyy_desk.services.sop_service import SopService
    from dyy_desk.services.sop_views import DeadlineItem

NOTICE_INTERVAL_MS = 30_000


def notice_line(item: DeadlineItem, now: datetime) -> str:
    state = _("已超时") if item.state is DeadlineState.OVERDUE else _("即将超时")
    tail = f"，{item.consequence}" if item.consequence else ""
    return _("{ticket_number}「{step_title}」{state}（截止 {time} · {source_label}）{tail}").format(
        ticket_number=item.ticket_number,
        step_title=item.step_title,
        state=state,
        time=format_local(item.deadline, now=now),
        source_label=item.source_label,
        tail=tail,
    )


class DeadlineNotifier(QObject):
    notices_ready = Signal(list)  # list[DeadlineItem], only when there is something new

    def __init__(
        self,
        *,
        sop: SopService,
        runner: TaskRunner,
        clock_now: Callable[[], datetime],
        tray: QSystemTrayIcon | None = None,
        interval_ms: int = NOTICE_INTERVAL_MS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._sop = sop
        self._runner = runner
        self._now = clock_now
        self.tray = tray
        self._busy = False
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.check_now)

    def start(self) -> None:
        self.check_now()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def check_now(self) -> None:
        if self._busy:  # a slow disk: never queue a second check behind the first
            return
        self._busy = True
        now = self._now()
        self._runner.run_background(  # a scan over every open checklist: not in the agent's way
            lambda _ctx: self._sop.due_notices(now=now), on_done=self._deliver, on_error=self._idle
        )

    def _idle(self, _exc: BaseException) -> None:
        self._busy = False

    def _deliver(self, notices: list[DeadlineItem]) -> None:
        self._busy = False
        if not notices:
            return
        self.notices_ready.emit(notices)
        if self.tray is not None and self.tray.isVisible():
            overdue = sum(1 for n in notices if n.state is DeadlineState.OVERDUE)
            title = _("{count} 个处理时限提醒").format(count=len(notices)) + (
                _("（{overdue} 个已超时）").format(overdue=overdue) if overdue else ""
            )
            icon = QSystemTrayIcon.MessageIcon.Warning if overdue else QSystemTrayIcon.MessageIcon.Information
            now = self._now()
            self.tray.showMessage(title, "\n".join(notice_line(n, now) for n in notices[:3]), icon, 10_000)


def make_tray_icon(parent: QWidget) -> QSystemTrayIcon | None:
    """A tray icon where the desktop has a tray (many Linux desktops do not); None elsewhere."""
    if not QSystemTrayIcon.isSystemTrayAvailable():
        return None
    tray = QSystemTrayIcon(parent.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning), parent)
    tray.setToolTip(_("DYY Desk 代运营客服工作台"))
    tray.show()
    return tray


class DeadlineBanner(QWidget):
    """An in-app strip above the work area: the newest reminders, 查看 opens the first ticket."""

    open_ticket = Signal(str)

    def __init__(self, clock_now: Callable[[], datetime], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("deadlineBanner")
        self._now = clock_now
        self._first: str | None = None
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.open_button = QPushButton(_("查看"))
        self.close_button = QPushButton(_("知道了"))
        layout = QHBoxLayout(self)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.open_button)
        layout.addWidget(self.close_button)
        self.setStyleSheet("#deadlineBanner { background: #fff3cd; border-bottom: 1px solid #e0c36a; }")
        self.open_button.clicked.connect(self._open)
        self.close_button.clicked.connect(self.hide)
        self.hide()

    def show_notices(self, notices: list[DeadlineItem]) -> None:
        if not notices:
            return
        now = self._now()
        overdue = [n for n in notices if n.state is DeadlineState.OVERDUE]
        first = (overdue or notices)[0]
        self._first = first.ticket_id
        more = (
            _("<br>另有 {count} 个提醒，见 工单 → 即将超时 / 已超时").format(count=len(notices) - 1)
            if len(notices) > 1
            else ""
        )
        icon = "⚠"  # in every CJK UI font; colour and the words 已超时/即将超时 carry the state
        self.label.setText(f"{icon} {escape(notice_line(first, now))}{more}")
        self.show()

    def _open(self) -> None:
        if self._first:
            self.open_ticket.emit(self._first)
        self.hide()

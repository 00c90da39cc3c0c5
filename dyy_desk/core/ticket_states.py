"""The ticket status state machine: every status change goes through `check_transition`."""

from __future__ import annotations

from dyy_desk.core.i18n import _
from dyy_desk.core.types import STATUS_LABELS, TicketStatus

S = TicketStatus

ALLOWED: dict[TicketStatus, frozenset[TicketStatus]] = {
    S.NEW: frozenset({S.IN_PROGRESS, S.WAITING_BUYER, S.WAITING_PLATFORM, S.RESOLVED}),
    S.IN_PROGRESS: frozenset({S.WAITING_BUYER, S.WAITING_PLATFORM, S.RESOLVED}),
    S.WAITING_BUYER: frozenset({S.IN_PROGRESS, S.WAITING_PLATFORM, S.RESOLVED}),
    S.WAITING_PLATFORM: frozenset({S.IN_PROGRESS, S.WAITING_BUYER, S.RESOLVED}),
    S.RESOLVED: frozenset({S.CLOSED, S.IN_PROGRESS}),  # back to 处理中 = reopen
    S.CLOSED: frozenset({S.IN_PROGRESS}),  # reopen
}

OPEN_STATUSES: frozenset[TicketStatus] = frozenset(
    {S.NEW, S.IN_PROGRESS, S.WAITING_BUYER, S.WAITING_PLATFORM}
)


class IllegalTransition(ValueError):
    def __init__(self, current: TicketStatus, target: TicketStatus) -> None:
        self.current = current
        self.target = target
        allowed = "、".join(STATUS_LABELS[s] for s in allowed_targets(current)) or _("无")
        super().__init__(
            _("不能从「{a}」改为「{b}」。当前状态可改为：{allowed}").format(
                a=STATUS_LABELS[current], b=STATUS_LABELS[target], allowed=allowed
            )
        )


def allowed_targets(current: TicketStatus) -> list[TicketStatus]:
    """Allowed next statuses in the order the UI lists them."""
    return [s for s in TicketStatus if s in ALLOWED[current]]


def check_transition(current: TicketStatus, target: TicketStatus) -> None:
    if target not in ALLOWED[current]:
        raise IllegalTransition(current, target)


def is_reopen(current: TicketStatus, target: TicketStatus) -> bool:
    return current in (S.RESOLVED, S.CLOSED) and target is S.IN_PROGRESS

"""The countdown a queue row shows for its nearest deadline: text, colour class and tooltip.

Colour is never the only signal: the text says 超时 or shows the time left.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from dyy_desk.core.ticket_states import OPEN_STATUSES
from dyy_desk.core.timefmt import format_local
from dyy_desk.core.types import TicketStatus


class ChipState(StrEnum):
    NONE = "none"
    ON_TRACK = "on_track"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class Chip:
    state: ChipState
    text: str
    tooltip: str


def format_span(delta: timedelta) -> str:
    """1:52 under a day, 2天3小时 beyond."""
    seconds = int(abs(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}天{hours}小时"
    return f"{hours}:{minutes:02d}"


def due_chip(
    due_at: datetime | None,
    now: datetime,
    *,
    due_soon_hours: float,
    status: TicketStatus,
    due_soon_at: datetime | None = None,
) -> Chip:
    """`due_soon_at`: when the ticket's checklist says it turns 即将超时 (the SOP policy), as the
    queue's view counts it; without one, the last `due_soon_hours` before the deadline."""
    if due_at is None or status not in OPEN_STATUSES:
        return Chip(ChipState.NONE, "", "")
    left = due_at - now
    when = format_local(due_at, now=now)
    if left <= timedelta(0):
        return Chip(ChipState.OVERDUE, f"超时 {format_span(left)}", f"已超时 · 截止 {when}")
    soon = now >= due_soon_at if due_soon_at is not None else left <= timedelta(hours=due_soon_hours)
    state = ChipState.DUE_SOON if soon else ChipState.ON_TRACK
    label = "即将超时" if state is ChipState.DUE_SOON else "剩余"
    return Chip(state, format_span(left), f"{label} {format_span(left)} · 截止 {when}")

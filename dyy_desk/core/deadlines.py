"""Deadline arithmetic (calendar and business hours), due-soon/overdue states and countdown text.

Every instant in and out is an aware datetime in UTC; local time only exists inside the schedule.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from dyy_desk.core.business_hours import BusinessSchedule, working_intervals_from

HOUR = timedelta(hours=1)


class DeadlineState(StrEnum):
    NORMAL = "normal"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"


DEADLINE_STATE_LABELS: dict[DeadlineState, str] = {
    DeadlineState.NORMAL: "正常",
    DeadlineState.DUE_SOON: "即将超时",
    DeadlineState.OVERDUE: "已超时",
}


def as_utc(instant: datetime, name: str = "时间") -> datetime:
    """Refuse naive datetimes: a wall time without a zone is a bug waiting for a DST night."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{name}必须带时区（UTC）: {instant!r}")
    return instant.astimezone(UTC)


def _hours(hours: float) -> timedelta:
    if not math.isfinite(hours) or hours < 0:
        raise ValueError(f"时长必须是非负有限数，实际为 {hours}")
    return timedelta(hours=hours)


def add_calendar_hours(start: datetime, hours: float) -> datetime:
    """Elapsed-time addition: 24 h after 01:00 on a DST night is 00:00 or 02:00 local, as it should be."""
    return as_utc(start, "开始时间") + _hours(hours)


def add_business_hours(start: datetime, hours: float, schedule: BusinessSchedule) -> datetime:
    """The instant when `hours` of working time have passed since `start`.

    Counting starts at `start` or at the next shift start; the result lies inside a shift or exactly at
    a shift end (Friday 16:00 + 2 h with work until 18:00 is Friday 18:00, not Monday morning).
    """
    start = as_utc(start, "开始时间")
    left = _hours(hours)
    if not left:
        return start
    for begin, end in working_intervals_from(schedule, start):
        begin = max(begin, start)
        if left <= end - begin:
            return begin + left
        left -= end - begin
    raise AssertionError("working_intervals_from never ends")  # pragma: no cover


def business_time_between(a: datetime, b: datetime, schedule: BusinessSchedule) -> timedelta:
    """Working time from `a` to `b`; negative when `b` is before `a`."""
    a, b = as_utc(a, "开始时间"), as_utc(b, "结束时间")
    if b < a:
        return -business_time_between(b, a, schedule)
    total = timedelta()
    for begin, end in working_intervals_from(schedule, a):
        if begin >= b:
            break
        total += min(end, b) - max(begin, a)
    return total


def business_hours_between(a: datetime, b: datetime, schedule: BusinessSchedule) -> float:
    return business_time_between(a, b, schedule) / HOUR


@dataclass(frozen=True)
class DueSoonPolicy:
    """Due soon during the last `fraction` of the window or the last `min_lead`, whichever is longer.

    The window runs from its start (the anchor event, or when the deadline was entered) to the deadline
    in elapsed time, so a Monday deadline set on Friday warns on Sunday like the platforms' own timers.
    """

    fraction: float = 0.25
    min_lead: timedelta = timedelta(hours=2)

    def __post_init__(self) -> None:
        if not 0 <= self.fraction <= 1:
            raise ValueError("即将超时比例必须在 0 到 1 之间")
        if self.min_lead < timedelta():
            raise ValueError("即将超时提前量不能为负")

    def due_soon_from(self, deadline: datetime, window_start: datetime | None) -> datetime:
        deadline = as_utc(deadline, "截止时间")
        lead = self.min_lead
        if window_start is not None:
            window = deadline - as_utc(window_start, "开始时间")
            lead = max(lead, window * self.fraction)
        return deadline - lead


DEFAULT_POLICY = DueSoonPolicy()


def deadline_state(
    deadline: datetime,
    now: datetime,
    *,
    window_start: datetime | None = None,
    policy: DueSoonPolicy = DEFAULT_POLICY,
) -> DeadlineState:
    """Overdue from the deadline instant itself: at 0:00 left the time is up."""
    now = as_utc(now, "当前时间")
    if now >= as_utc(deadline, "截止时间"):
        return DeadlineState.OVERDUE
    if now >= policy.due_soon_from(deadline, window_start):
        return DeadlineState.DUE_SOON
    return DeadlineState.NORMAL


def remaining(deadline: datetime, now: datetime) -> timedelta:
    """Time left; negative once overdue."""
    return as_utc(deadline, "截止时间") - as_utc(now, "当前时间")


def format_duration(delta: timedelta) -> str:
    """Countdown text: "1:52" (h:mm) under a day, "2天3小时" from a day on, "超时 0:35" when negative.

    Truncates to whole minutes (hours once past a day), so the text never claims more time than is left.
    """
    seconds = int(abs(delta).total_seconds())
    minutes = seconds // 60
    if minutes < 24 * 60:
        text = f"{minutes // 60}:{minutes % 60:02d}"
    else:
        days, hours = divmod(minutes // 60, 24)
        text = f"{days}天{hours}小时" if hours else f"{days}天"
    return f"超时 {text}" if delta < timedelta() else text

"""The supervisor's work report: periods in local days, duration statistics, and the figures per agent
and per client, as frozen rows every layer can pass around.

A period is whole local days (今天, 最近7天 including today, …) turned into a UTC half-open interval
[start, end), so a ticket resolved at 23:59 local time counts on the day the agent saw it happen.
Duration statistics use the nearest-rank method: a p90 of ten values is the ninth, an observed time,
never an interpolated one nobody experienced.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum

from dyy_desk.core.i18n import N_
from dyy_desk.core.types import TicketCategory

MAX_CUSTOM_DAYS = 366


class PeriodKind(StrEnum):
    TODAY = "today"
    LAST_7_DAYS = "last_7_days"
    LAST_30_DAYS = "last_30_days"
    CUSTOM = "custom"


PERIOD_LABELS: dict[PeriodKind, str] = {
    PeriodKind.TODAY: N_("今天"),
    PeriodKind.LAST_7_DAYS: N_("最近7天"),
    PeriodKind.LAST_30_DAYS: N_("最近30天"),
    PeriodKind.CUSTOM: N_("自定义"),
}
_DAYS = {PeriodKind.TODAY: 1, PeriodKind.LAST_7_DAYS: 7, PeriodKind.LAST_30_DAYS: 30}


@dataclass(frozen=True)
class ReportPeriod:
    first_day: date  # local, inclusive
    last_day: date  # local, inclusive
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive

    @property
    def label(self) -> str:
        if self.first_day == self.last_day:
            return self.first_day.isoformat()
        return f"{self.first_day.isoformat()} 至 {self.last_day.isoformat()}"


def report_period(
    kind: PeriodKind,
    *,
    now: datetime,
    zone: tzinfo | None = None,
    first_day: date | None = None,
    last_day: date | None = None,
) -> ReportPeriod:
    """`zone` None: the computer's local zone. CUSTOM needs both days; ValueError says what is wrong."""
    today = (now.astimezone(zone) if zone is not None else now.astimezone()).date()
    if kind is PeriodKind.CUSTOM:
        if first_day is None or last_day is None:
            raise ValueError("自定义时段需要开始和结束日期")
        if last_day < first_day:
            raise ValueError("结束日期不能早于开始日期")
        if (last_day - first_day).days >= MAX_CUSTOM_DAYS:
            raise ValueError(f"时段最长 {MAX_CUSTOM_DAYS} 天，请缩短后重试")
    else:
        first_day, last_day = today - timedelta(days=_DAYS[kind] - 1), today
    return ReportPeriod(
        first_day, last_day, _midnight(first_day, zone), _midnight(last_day + timedelta(days=1), zone)
    )


def _midnight(day: date, zone: tzinfo | None) -> datetime:
    local = datetime.combine(day, time(0, 0))
    aware = local.replace(tzinfo=zone) if zone is not None else local.astimezone()
    return aware.astimezone(UTC)


def median(values: Sequence[float]) -> float | None:
    """The middle value (mean of the two middle ones for an even count); None without values."""
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile (0 < p ≤ 100); None without values."""
    if not 0 < p <= 100:
        raise ValueError("百分位必须在 0 到 100 之间")
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@dataclass(frozen=True)
class DurationStats:
    """Seconds; None where there was nothing to measure."""

    count: int
    median: float | None
    p90: float | None

    @classmethod
    def of(cls, seconds: Sequence[float]) -> DurationStats:
        return cls(len(seconds), median(seconds), percentile(seconds, 90))


@dataclass(frozen=True)
class AgentLine:
    agent_id: str | None  # None: tickets nobody is assigned to
    agent_name: str
    handled: int  # resolved or closed in the period
    open_now: int
    first_response: DurationStats  # tickets created in the period
    resolution: DurationStats  # tickets handled in the period, from creation
    overdue_steps: int  # SOP steps whose deadline passed in the period before they were closed
    escalations: int  # escalations the agent raised in the period
    qa_reviews: int
    qa_average: float | None


@dataclass(frozen=True)
class ClientLine:
    client_id: str
    client_name: str
    new_tickets: int
    resolved: int
    by_category: tuple[tuple[TicketCategory, int], ...]  # most first
    negative_reviews: int
    quality_complaints: int
    platform_interventions: int  # tickets created in the period that the platform stepped into


@dataclass(frozen=True)
class WorkReport:
    period: ReportPeriod
    client_id: str | None
    generated_at: datetime
    agents: tuple[AgentLine, ...]
    total: AgentLine | None  # the team's figures; None for an agent, who sees only their own line
    clients: tuple[ClientLine, ...]  # empty for an agent


def category_counts(counts: dict[TicketCategory, int]) -> tuple[tuple[TicketCategory, int], ...]:
    """Non-zero categories, most tickets first, then in the order of the enum."""
    order = list(TicketCategory)
    return tuple(
        sorted(((c, n) for c, n in counts.items() if n), key=lambda cn: (-cn[1], order.index(cn[0])))
    )

"""Working-time schedule of a team: weekly shifts, holidays and make-up working days (调休).

Shifts are written in local wall-clock time of one IANA zone and belong to the day they start on, so a
night shift 22:00–06:00 written under Friday is off when Friday is a holiday. Durations are real elapsed
time: a shift across a DST change is an hour longer or shorter, exactly as the staff experience it.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dyy_desk.core.sop_toml import TomlSource

WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_TIMEZONE = "Asia/Shanghai"
MINUTES_PER_DAY = 24 * 60
# A schedule whose finite holiday list blanks out this many days in a row is a data error.
_MAX_IDLE_DAYS = 3700
_INTERVAL = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–~]\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True)
class WorkInterval:
    """Minutes after local midnight of the start day; `end_minute` > 1440 reaches into the next day."""

    start_minute: int
    end_minute: int

    def __post_init__(self) -> None:
        if not 0 <= self.start_minute < MINUTES_PER_DAY:
            raise ValueError(f"开始时间超出 00:00–23:59: {self.start_minute} 分钟")
        if not self.start_minute < self.end_minute <= self.start_minute + MINUTES_PER_DAY:
            raise ValueError("时段结束必须晚于开始，且最长 24 小时")

    @classmethod
    def parse(cls, text: str) -> WorkInterval:
        """`"09:00-12:00"`; an end not after the start crosses midnight (`"22:00-06:00"`)."""
        m = _INTERVAL.match(text)
        if not m:
            raise ValueError(f'时段 "{text}" 格式应为 "09:00-12:00"')
        sh, sm, eh, em = (int(g) for g in m.groups())
        if sh > 23 or sm > 59 or em > 59 or eh > 24 or (eh == 24 and em != 0):
            raise ValueError(f'时段 "{text}" 中的时间无效')
        start, end = sh * 60 + sm, eh * 60 + em
        if start == end and eh != 24:
            raise ValueError(f'时段 "{text}" 开始与结束相同；全天请写 "00:00-24:00"')
        if end <= start:
            end += MINUTES_PER_DAY
        return cls(start, end)

    def label(self) -> str:
        start, end = self.start_minute, self.end_minute
        nxt = "次日" if end > MINUTES_PER_DAY else ""
        if end > MINUTES_PER_DAY:
            end -= MINUTES_PER_DAY
        return f"{start // 60:02d}:{start % 60:02d}-{nxt}{end // 60:02d}:{end % 60:02d}"


def valid_timezone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def weekly_problem(weekly: tuple[tuple[WorkInterval, ...], ...]) -> tuple[int, str] | None:
    """(weekday, reason) of the first thing wrong with a weekly pattern, or None."""
    if not any(weekly):
        return 0, "工作时间表没有任何工作时段，无法计算工作时间"
    for day, shifts in enumerate(weekly):
        ordered = sorted(shifts, key=lambda s: s.start_minute)
        for a, b in itertools.pairwise(ordered):
            if b.start_minute < a.end_minute:
                return day, f"{WEEKDAY_KEYS[day]} 的时段 {a.label()} 与 {b.label()} 重叠"
        spill = max((s.end_minute for s in shifts), default=0) - MINUTES_PER_DAY
        tomorrow = (day + 1) % 7
        if spill > 0 and any(s.start_minute < spill for s in weekly[tomorrow]):
            return day, f"{WEEKDAY_KEYS[day]} 的跨夜时段与 {WEEKDAY_KEYS[tomorrow]} 的时段重叠"
    return None


@dataclass(frozen=True)
class BusinessSchedule:
    """`weekly[0]` is Monday. Make-up working days follow the shifts of weekday `makeup_uses`."""

    weekly: tuple[tuple[WorkInterval, ...], ...]
    holidays: frozenset[date] = frozenset()
    makeup_workdays: frozenset[date] = frozenset()
    makeup_uses: int = 0
    timezone: str = DEFAULT_TIMEZONE

    def __post_init__(self) -> None:
        if len(self.weekly) != 7:
            raise ValueError("每周时段必须正好 7 天（周一到周日）")
        if problem := weekly_problem(self.weekly):
            raise ValueError(problem[1])
        if not 0 <= self.makeup_uses < 7:
            raise ValueError("调休上班日参照的星期无效")
        if both := self.holidays & self.makeup_workdays:
            raise ValueError(f"{min(both).isoformat()} 同时是节假日和调休上班日")
        if not valid_timezone(self.timezone):
            raise ValueError(f'未知时区 "{self.timezone}"（示例: Asia/Shanghai）')

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def shifts_on(self, day: date) -> tuple[WorkInterval, ...]:
        """Shifts starting on local date `day`, after holidays and make-up days."""
        if day in self.holidays:
            return ()
        if day in self.makeup_workdays:
            return self.weekly[self.makeup_uses]
        return self.weekly[day.weekday()]

    def intervals_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """UTC (start, end) of the shifts starting on local date `day`."""
        midnight = datetime(day.year, day.month, day.day, tzinfo=self.zone)
        out = []
        for shift in sorted(self.shifts_on(day), key=lambda s: s.start_minute):
            # Wall-clock addition, then conversion: a start inside a DST gap maps to the instant after
            # the jump; a shift lying wholly inside the gap has no real duration and is dropped.
            start = (midnight + timedelta(minutes=shift.start_minute)).astimezone(UTC)
            end = (midnight + timedelta(minutes=shift.end_minute)).astimezone(UTC)
            if end > start:
                out.append((start, end))
        return out


def working_intervals_from(
    schedule: BusinessSchedule, since: datetime
) -> Iterator[tuple[datetime, datetime]]:
    """UTC working intervals ending after `since`, in order, disjoint, without end.

    One interval per shift (adjacent shifts are not joined, so a 24/7 schedule still yields finite
    pieces). Where a make-up day's shifts overlap the previous night shift, the overlap counts once.
    """
    since = since.astimezone(UTC)
    day = since.astimezone(schedule.zone).date() - timedelta(days=1)
    last_end = since
    idle = 0
    while True:
        found = schedule.intervals_on(day)
        idle = 0 if found else idle + 1
        if idle > _MAX_IDLE_DAYS:
            raise ValueError("工作时间表在约十年内没有工作时段，请检查节假日列表")
        for start, end in sorted(found):
            if end <= last_end:
                continue
            # Shifts start in order of their local day, so only the previous one can overlap.
            if start < last_end and last_end > since:
                start = last_end
            yield start, end
            last_end = end
        day += timedelta(days=1)


def is_working_time(schedule: BusinessSchedule, instant: datetime) -> bool:
    start, _ = next(working_intervals_from(schedule, instant))
    return start <= instant


def _dates(src: TomlSource, table: Mapping[str, Any], key: str) -> frozenset[date]:
    value = table.get(key, [])
    if not isinstance(value, list):
        raise src.error(("calendar", key), "应为日期列表，例如 [2026-10-01, 2026-10-02]")
    out = set()
    for n, item in enumerate(value):
        if isinstance(item, date) and not isinstance(item, datetime):
            out.add(item)
            continue
        try:
            out.add(date.fromisoformat(str(item)))
        except ValueError:
            raise src.error(("calendar", key, n), f'"{item}" 不是日期，应写作 2026-10-01') from None
    return frozenset(out)


def parse_business_hours(text: str, source: str) -> BusinessSchedule:
    """Read a schedule from TOML (see resources/business_hours.toml); errors name file and line."""
    src = TomlSource(text, source, kind="工作时间")
    data = src.data
    src.check_keys(data, (), frozenset({"timezone", "weekly", "calendar"}))
    weekly_table = data.get("weekly", {})
    if not isinstance(weekly_table, dict):
        raise src.error(("weekly",), "应为表 [weekly]")
    src.check_keys(weekly_table, ("weekly",), frozenset(WEEKDAY_KEYS))
    weekly: list[tuple[WorkInterval, ...]] = []
    for key in WEEKDAY_KEYS:
        items = weekly_table.get(key, [])
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise src.error(("weekly", key), '应为时段列表，例如 ["09:00-12:00", "13:30-18:00"]')
        try:
            weekly.append(tuple(WorkInterval.parse(i) for i in items))
        except ValueError as exc:
            raise src.error(("weekly", key), str(exc)) from None
    calendar = data.get("calendar", {})
    if not isinstance(calendar, dict):
        raise src.error(("calendar",), "应为表 [calendar]")
    src.check_keys(calendar, ("calendar",), frozenset({"holidays", "makeup_workdays", "makeup_uses"}))
    makeup_uses = calendar.get("makeup_uses", "mon")
    if makeup_uses not in WEEKDAY_KEYS:
        raise src.error(("calendar", "makeup_uses"), f"应为 {', '.join(WEEKDAY_KEYS)} 之一")
    timezone = data.get("timezone", DEFAULT_TIMEZONE)
    if not isinstance(timezone, str) or not valid_timezone(timezone):
        raise src.error(("timezone",), f'未知时区 "{timezone}"（示例: Asia/Shanghai、Europe/Berlin）')
    if problem := weekly_problem(tuple(weekly)):
        day, reason = problem
        path = ("weekly", WEEKDAY_KEYS[day]) if any(weekly) else ("weekly",)
        raise src.error(path, reason)
    holidays = _dates(src, calendar, "holidays")
    makeup = _dates(src, calendar, "makeup_workdays")
    if both := holidays & makeup:
        raise src.error(("calendar", "makeup_workdays"), f"{min(both).isoformat()} 同时是节假日和调休上班日")
    return BusinessSchedule(
        weekly=tuple(weekly),
        holidays=holidays,
        makeup_workdays=makeup,
        makeup_uses=WEEKDAY_KEYS.index(makeup_uses),
        timezone=timezone,
    )

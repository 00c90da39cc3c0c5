from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from dyy_desk.core.business_hours import (
    BusinessSchedule,
    WorkInterval,
    is_working_time,
    parse_business_hours,
    working_intervals_from,
)
from dyy_desk.core.sop_toml import DataFileError

RESOURCES = Path(__file__).resolve().parents[2] / "resources"
SH = ZoneInfo("Asia/Shanghai")


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SH).astimezone(UTC)


def test_shipped_schedule_parses_with_lunch_break_and_2026_holidays() -> None:
    text = (RESOURCES / "business_hours.toml").read_text(encoding="utf-8")
    schedule = parse_business_hours(text, "business_hours.toml")
    assert schedule.timezone == "Asia/Shanghai"
    assert [i.label() for i in schedule.weekly[0]] == ["09:00-12:00", "13:30-18:30"]
    assert schedule.weekly[5] == schedule.weekly[6] == ()
    assert date(2026, 10, 1) in schedule.holidays
    assert schedule.shifts_on(date(2026, 10, 1)) == ()  # Thursday, National Day
    assert schedule.shifts_on(date(2026, 10, 10)) == schedule.weekly[0]  # Saturday make-up day


@pytest.mark.parametrize(
    ("text", "start", "end", "label"),
    [
        ("09:00-12:00", 540, 720, "09:00-12:00"),
        ("22:00-06:00", 1320, 1800, "22:00-次日06:00"),
        ("00:00-24:00", 0, 1440, "00:00-24:00"),
        ("18:00 - 24:00", 1080, 1440, "18:00-24:00"),
    ],
)
def test_interval_parsing(text: str, start: int, end: int, label: str) -> None:
    interval = WorkInterval.parse(text)
    assert (interval.start_minute, interval.end_minute) == (start, end)
    assert interval.label() == label


@pytest.mark.parametrize("text", ["9-12", "25:00-26:00", "09:60-10:00", "10:00-10:00", "10:00-24:30"])
def test_bad_interval_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        WorkInterval.parse(text)


def _schedule(weekly: str, extra: str = "") -> str:
    return f'timezone = "Asia/Shanghai"\n{extra}\n[weekly]\n{weekly}\n'


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        (_schedule("mon = []"), 3, "没有任何工作时段"),
        ("[weekly]\nsat = []\n", 1, "没有任何工作时段"),
        (_schedule('mon = ["09:00-12:00"]\nmonday = ["09:00-12:00"]'), 5, '未知字段 "monday"'),
        (_schedule('mon = ["09:00-12:00", "11:00-13:00"]'), 4, "重叠"),
        (_schedule('mon = ["22:00-06:00"]\ntue = ["05:00-09:00"]'), 4, "跨夜时段"),
        (_schedule('mon = ["9点到12点"]'), 4, "格式应为"),
        ('timezone = "Asia/Beijing"\n[weekly]\nmon = ["09:00-12:00"]\n', 1, "未知时区"),
        (
            _schedule('mon = ["09:00-12:00"]')
            + "[calendar]\nholidays = [2026-10-01]\nmakeup_workdays = [2026-10-01]\n",
            7,
            "同时是节假日和调休上班日",
        ),
        (_schedule('mon = ["09:00-12:00"]') + '[calendar]\nholidays = ["十一"]\n', 6, '"十一" 不是日期'),
        (_schedule('mon = ["09:00-12:00"]') + '[calendar]\nmakeup_uses = "monday"\n', 6, "应为 mon"),
        ('[weekly]\nmon = ["09:00-12:00"\n', 2, "TOML 语法错误"),
    ],
)
def test_schedule_errors_name_file_line_and_reason(text: str, line: int, fragment: str) -> None:
    with pytest.raises(DataFileError) as info:
        parse_business_hours(text, "hours.toml")
    assert info.value.line == line
    assert fragment in str(info.value)
    assert str(info.value).startswith(f"工作时间 hours.toml 第 {line} 行")


def test_schedule_built_in_code_is_validated_too() -> None:
    with pytest.raises(ValueError, match="没有任何工作时段"):
        BusinessSchedule(weekly=((),) * 7)
    with pytest.raises(ValueError, match="未知时区"):
        BusinessSchedule(weekly=((WorkInterval(540, 600),),) * 7, timezone="Mars/Olympus")


NIGHT = parse_business_hours(
    _schedule('mon = ["22:00-06:00"]\ntue = ["06:00-14:00", "22:00-06:00"]\nwed = ["22:00-06:00"]'),
    "night.toml",
)


def test_night_shift_belongs_to_its_start_day() -> None:
    intervals = working_intervals_from(NIGHT, sh(2026, 11, 23, 0, 0))  # a Monday
    assert next(intervals) == (sh(2026, 11, 23, 22), sh(2026, 11, 24, 6))
    assert next(intervals) == (sh(2026, 11, 24, 6), sh(2026, 11, 24, 14))
    assert next(intervals) == (sh(2026, 11, 24, 22), sh(2026, 11, 25, 6))
    assert next(intervals) == (sh(2026, 11, 25, 22), sh(2026, 11, 26, 6))
    assert next(intervals) == (sh(2026, 11, 30, 22), sh(2026, 12, 1, 6))


def test_makeup_day_overlapping_a_night_shift_counts_once() -> None:
    text = (
        _schedule('mon = ["00:00-08:00"]\nfri = ["22:00-06:00"]')
        + '[calendar]\nmakeup_workdays = [2026-11-28]\nmakeup_uses = "mon"\n'
    )
    schedule = parse_business_hours(text, "overlap.toml")
    intervals = working_intervals_from(schedule, sh(2026, 11, 27, 12))  # Friday noon
    assert next(intervals) == (sh(2026, 11, 27, 22), sh(2026, 11, 28, 6))
    assert next(intervals) == (sh(2026, 11, 28, 6), sh(2026, 11, 28, 8))  # Saturday make-up, clipped
    assert next(intervals) == (sh(2026, 11, 30, 0), sh(2026, 11, 30, 8))


def test_always_open_schedule_yields_finite_pieces() -> None:
    text = _schedule(
        "\n".join(f'{d} = ["00:00-24:00"]' for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"))
    )
    intervals = working_intervals_from(parse_business_hours(text, "24x7.toml"), sh(2026, 11, 23, 10))
    assert next(intervals) == (sh(2026, 11, 23, 0), sh(2026, 11, 24, 0))
    assert next(intervals) == (sh(2026, 11, 24, 0), sh(2026, 11, 25, 0))


def test_interval_in_progress_is_returned_whole() -> None:
    first = next(working_intervals_from(NIGHT, sh(2026, 11, 26, 3)))  # Thursday 03:00, Wed night shift
    assert first == (sh(2026, 11, 25, 22), sh(2026, 11, 26, 6))


def test_holiday_cancels_the_night_shift_starting_that_day() -> None:
    text = _schedule('mon = ["22:00-06:00"]\ntue = ["22:00-06:00"]') + "[calendar]\nholidays = [2026-11-23]\n"
    schedule = parse_business_hours(text, "h.toml")
    first = next(working_intervals_from(schedule, sh(2026, 11, 23, 0)))
    assert first == (sh(2026, 11, 24, 22), sh(2026, 11, 25, 6))


def test_is_working_time_at_boundaries() -> None:
    assert is_working_time(NIGHT, sh(2026, 11, 23, 22))
    assert is_working_time(NIGHT, sh(2026, 11, 24, 13, 59))
    assert not is_working_time(NIGHT, sh(2026, 11, 24, 14))
    assert not is_working_time(NIGHT, sh(2026, 11, 23, 21, 59))


def test_dst_gap_shortens_a_shift_in_berlin() -> None:
    text = 'timezone = "Europe/Berlin"\n[weekly]\nsun = ["00:00-06:00"]\n'
    schedule = parse_business_hours(text, "berlin.toml")
    berlin = ZoneInfo("Europe/Berlin")
    start, end = next(working_intervals_from(schedule, datetime(2026, 3, 29, tzinfo=berlin)))
    assert (end - start).total_seconds() == 5 * 3600
    start, end = next(working_intervals_from(schedule, datetime(2026, 10, 25, tzinfo=berlin)))
    assert (end - start).total_seconds() == 7 * 3600

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dyy_desk.core.business_hours import BusinessSchedule, is_working_time, parse_business_hours
from dyy_desk.core.deadlines import (
    DeadlineState,
    DueSoonPolicy,
    add_business_hours,
    add_calendar_hours,
    business_hours_between,
    business_time_between,
    deadline_state,
    format_duration,
    remaining,
)

SH = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
OFFICE = """
[weekly]
mon = ["09:00-12:00", "13:00-18:00"]
tue = ["09:00-12:00", "13:00-18:00"]
wed = ["09:00-12:00", "13:00-18:00"]
thu = ["09:00-12:00", "13:00-18:00"]
fri = ["09:00-12:00", "13:00-18:00"]
[calendar]
holidays = [2026-10-01, 2026-10-02, 2026-10-05, 2026-10-06, 2026-10-07]
makeup_workdays = [2026-10-10]
"""
NIGHT_AND_DAY = """
[weekly]
mon = ["08:00-12:00", "22:00-06:00"]
tue = ["08:00-12:00", "22:00-06:00"]
wed = ["08:00-12:00", "22:00-06:00"]
thu = ["08:00-12:00", "22:00-06:00"]
fri = ["08:00-12:00", "22:00-06:00"]
sat = ["10:00-16:00"]
"""
ALWAYS = "[weekly]\n" + "\n".join(
    f'{d} = ["00:00-24:00"]' for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
)


def schedule(body: str, tz: str = "Asia/Shanghai") -> BusinessSchedule:
    return parse_business_hours(f'timezone = "{tz}"\n{body}', "test.toml")


SH_OFFICE = schedule(OFFICE)


def local(zone: ZoneInfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=zone).astimezone(UTC)


# --- explicit examples -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        (local(SH, 2026, 11, 20, 17), 2, local(SH, 2026, 11, 23, 10)),  # Friday 17:00 → Monday 10:00
        (local(SH, 2026, 11, 23, 11), 2, local(SH, 2026, 11, 23, 14)),  # across lunch
        (local(SH, 2026, 11, 23, 12, 30), 1, local(SH, 2026, 11, 23, 14)),  # starts in lunch
        (local(SH, 2026, 11, 23, 16), 2, local(SH, 2026, 11, 23, 18)),  # ends exactly at closing
        (local(SH, 2026, 11, 21, 15), 0.5, local(SH, 2026, 11, 23, 9, 30)),  # Saturday start
        (local(SH, 2026, 9, 30, 17), 2, local(SH, 2026, 10, 8, 10)),  # National Day holidays
        (local(SH, 2026, 10, 9, 17), 2, local(SH, 2026, 10, 10, 10)),  # Saturday make-up day
        (local(SH, 2026, 1, 30, 17), 2, local(SH, 2026, 2, 2, 10)),  # month end
        (local(SH, 2026, 12, 31, 17), 9, local(SH, 2027, 1, 1, 18)),  # year end, no 2027 holidays set
        (local(SH, 2026, 11, 23, 9), 0, local(SH, 2026, 11, 23, 9)),
    ],
)
def test_add_business_hours_office(start: datetime, hours: float, expected: datetime) -> None:
    result = add_business_hours(start, hours, SH_OFFICE)
    assert result == expected
    assert result.tzinfo is UTC


def test_night_shift_across_midnight() -> None:
    sched = schedule(NIGHT_AND_DAY)
    # Tuesday 23:00 in the night shift + 3 h → Wednesday 02:00
    assert add_business_hours(local(SH, 2026, 11, 24, 23), 3, sched) == local(SH, 2026, 11, 25, 2)
    # Friday 05:00 (Thursday's night shift) + 6 h: 1 h to 06:00, 4 h 08–12, 1 h from 22:00
    assert add_business_hours(local(SH, 2026, 11, 27, 5), 6, sched) == local(SH, 2026, 11, 27, 23)
    # Friday's night shift runs into Saturday; Saturday's own day shift follows
    assert add_business_hours(local(SH, 2026, 11, 27, 22), 10, sched) == local(SH, 2026, 11, 28, 12)
    assert business_hours_between(local(SH, 2026, 11, 27, 22), local(SH, 2026, 11, 30, 9), sched) == 15


def test_business_hours_in_berlin_across_the_spring_dst_change() -> None:
    sched = schedule(OFFICE.split("[calendar]")[0], "Europe/Berlin")
    friday = local(BERLIN, 2026, 3, 27, 17)  # CET (+1)
    monday = add_business_hours(friday, 2, sched)
    assert monday == local(BERLIN, 2026, 3, 30, 10)  # CEST (+2)
    assert monday == datetime(2026, 3, 30, 8, tzinfo=UTC)


def test_calendar_hours_are_elapsed_time_across_dst() -> None:
    start = local(BERLIN, 2026, 3, 28, 12)
    assert add_calendar_hours(start, 24).astimezone(BERLIN).hour == 13
    start = local(NEW_YORK, 2026, 10, 31, 12)
    assert add_calendar_hours(start, 24).astimezone(NEW_YORK).hour == 11
    # A whole-day shift on the spring night holds 23 real hours, on the autumn night 25
    always = schedule(ALWAYS, "America/New_York")
    spring = local(NEW_YORK, 2026, 3, 8, 0)
    assert business_hours_between(spring, local(NEW_YORK, 2026, 3, 9, 0), always) == 23
    autumn = local(NEW_YORK, 2026, 11, 1, 0)
    assert business_hours_between(autumn, local(NEW_YORK, 2026, 11, 2, 0), always) == 25


def test_between_is_negative_when_reversed_and_zero_over_a_weekend() -> None:
    friday, monday = local(SH, 2026, 11, 20, 18), local(SH, 2026, 11, 23, 9)
    assert business_hours_between(friday, monday, SH_OFFICE) == 0
    a, b = local(SH, 2026, 11, 23, 11), local(SH, 2026, 11, 23, 14)
    assert business_hours_between(a, b, SH_OFFICE) == 2
    assert business_hours_between(b, a, SH_OFFICE) == -2


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf")])
def test_bad_hours_are_refused(bad: float) -> None:
    with pytest.raises(ValueError):
        add_business_hours(local(SH, 2026, 11, 23, 9), bad, SH_OFFICE)
    with pytest.raises(ValueError):
        add_calendar_hours(local(SH, 2026, 11, 23, 9), bad)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="时区"):
        add_calendar_hours(datetime(2026, 11, 23, 9), 1)
    with pytest.raises(ValueError, match="时区"):
        remaining(datetime(2026, 11, 23, 9), datetime(2026, 11, 23, 9, tzinfo=UTC))


# --- properties --------------------------------------------------------------------------------

SCHEDULES = [
    SH_OFFICE,
    schedule(NIGHT_AND_DAY),
    schedule(OFFICE, "Europe/Berlin"),
    schedule(NIGHT_AND_DAY, "America/New_York"),
    schedule('[weekly]\nsun = ["01:30-03:30"]\nwed = ["02:00-02:45"]', "Europe/Berlin"),  # DST-night shifts
]
starts = st.datetimes(min_value=datetime(2025, 12, 1), max_value=datetime(2027, 2, 1), timezones=st.just(UTC))
hours = st.integers(min_value=0, max_value=200 * 60).map(lambda m: m / 60)


@settings(max_examples=200, deadline=None)
@given(sched=st.sampled_from(SCHEDULES), start=starts, h=hours)
def test_add_then_between_round_trips(sched: BusinessSchedule, start: datetime, h: float) -> None:
    end = add_business_hours(start, h, sched)
    assert end >= start
    assert business_time_between(start, end, sched) == timedelta(hours=h)


@settings(max_examples=150, deadline=None)
@given(sched=st.sampled_from(SCHEDULES), start=starts, h1=hours, h2=hours)
def test_add_is_monotonic_in_hours(sched: BusinessSchedule, start: datetime, h1: float, h2: float) -> None:
    low, high = sorted((h1, h2))
    assert add_business_hours(start, low, sched) <= add_business_hours(start, high, sched)


@settings(max_examples=200, deadline=None)
@given(sched=st.sampled_from(SCHEDULES), start=starts, h=hours.filter(bool))
def test_result_lies_in_working_time_or_at_a_shift_end(
    sched: BusinessSchedule, start: datetime, h: float
) -> None:
    end = add_business_hours(start, h, sched)
    assert is_working_time(sched, end - timedelta(microseconds=1))


def _wall_clock_working(sched: BusinessSchedule, instant: datetime) -> bool:
    """Independent oracle for a zone without DST: compare local wall-clock minutes with the shifts."""
    wall = instant.astimezone(sched.zone).replace(tzinfo=None)
    for back in (0, 1):
        day = wall.date() - timedelta(days=back)
        minute = (wall - datetime(day.year, day.month, day.day)) / timedelta(minutes=1)
        if any(s.start_minute <= minute < s.end_minute for s in sched.shifts_on(day)):
            return True
    return False


@settings(max_examples=200, deadline=None)
@given(sched=st.sampled_from(SCHEDULES[:2]), instant=starts)
def test_working_time_matches_wall_clock_oracle(sched: BusinessSchedule, instant: datetime) -> None:
    assert is_working_time(sched, instant) == _wall_clock_working(sched, instant)


@settings(max_examples=150, deadline=None)
@given(sched=st.sampled_from(SCHEDULES), a=starts, b=starts, c=starts)
def test_between_is_additive_and_bounded(
    sched: BusinessSchedule, a: datetime, b: datetime, c: datetime
) -> None:
    ab, bc = business_time_between(a, b, sched), business_time_between(b, c, sched)
    assert ab + bc == business_time_between(a, c, sched)
    assert abs(ab) <= abs(b - a)


@settings(max_examples=200, deadline=None)
@given(start=starts, h=hours)
def test_calendar_hours_exact(start: datetime, h: float) -> None:
    end = add_calendar_hours(start.astimezone(BERLIN), h)
    assert end.tzinfo is UTC
    assert end - start == timedelta(hours=h)


@settings(max_examples=100, deadline=None)
@given(start=starts, h=hours)
def test_always_open_schedule_equals_calendar_time(start: datetime, h: float) -> None:
    always = schedule(ALWAYS, "Europe/Berlin")
    assert add_business_hours(start, h, always) == add_calendar_hours(start, h)


# --- states and formatting ---------------------------------------------------------------------

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("window_hours", "now_hours", "expected"),
    [
        (48, 35.9, DeadlineState.NORMAL),  # 25 % of 48 h = 12 h before the deadline
        (48, 36, DeadlineState.DUE_SOON),
        (48, 47.99, DeadlineState.DUE_SOON),
        (48, 48, DeadlineState.OVERDUE),
        (48, 60, DeadlineState.OVERDUE),
        (4, 1.9, DeadlineState.NORMAL),  # short window: the last 2 h win over 25 % (1 h)
        (4, 2, DeadlineState.DUE_SOON),
        (1, 0, DeadlineState.DUE_SOON),  # window shorter than 2 h: due soon at once
    ],
)
def test_default_due_soon_policy(window_hours: float, now_hours: float, expected: DeadlineState) -> None:
    deadline = T0 + timedelta(hours=window_hours)
    now = T0 + timedelta(hours=now_hours)
    assert deadline_state(deadline, now, window_start=T0) is expected


def test_due_soon_without_window_start_uses_minimum_lead_and_custom_policy() -> None:
    deadline = T0 + timedelta(hours=100)
    assert deadline_state(deadline, T0 + timedelta(hours=97.9)) is DeadlineState.NORMAL
    assert deadline_state(deadline, T0 + timedelta(hours=98)) is DeadlineState.DUE_SOON
    half = DueSoonPolicy(fraction=0.5, min_lead=timedelta(0))
    assert (
        deadline_state(deadline, T0 + timedelta(hours=49), window_start=T0, policy=half)
        is DeadlineState.NORMAL
    )
    assert (
        deadline_state(deadline, T0 + timedelta(hours=50), window_start=T0, policy=half)
        is DeadlineState.DUE_SOON
    )


@pytest.mark.parametrize("kwargs", [{"fraction": 1.5}, {"fraction": -0.1}, {"min_lead": timedelta(hours=-1)}])
def test_bad_policy_is_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        DueSoonPolicy(**kwargs)  # type: ignore[arg-type]


def test_remaining_is_signed() -> None:
    assert remaining(T0 + timedelta(minutes=90), T0) == timedelta(minutes=90)
    assert remaining(T0, T0 + timedelta(minutes=35)) == -timedelta(minutes=35)


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(hours=1, minutes=52), "1:52"),
        (timedelta(hours=1, minutes=52, seconds=59), "1:52"),
        (timedelta(minutes=5), "0:05"),
        (timedelta(0), "0:00"),
        (timedelta(hours=23, minutes=59), "23:59"),
        (timedelta(hours=24), "1天"),
        (timedelta(days=2, hours=3, minutes=40), "2天3小时"),
        (-timedelta(minutes=35, seconds=20), "超时 0:35"),
        (-timedelta(days=1, hours=2), "超时 1天2小时"),
    ],
)
def test_format_duration(delta: timedelta, text: str) -> None:
    assert format_duration(delta) == text


def test_holiday_list_only_covers_listed_dates() -> None:
    assert SH_OFFICE.shifts_on(date(2026, 10, 8)) == SH_OFFICE.weekly[3]

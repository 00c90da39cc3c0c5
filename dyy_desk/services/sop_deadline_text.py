"""Deadlines as agents copy them from a platform's after-sales page.

Two shapes occur: an absolute local time ("2026-11-24 18:30", "2026/11/24 18:30:00", "11月24日 18:30",
"11-24 18:30") and a countdown ("剩余1天3小时", "还剩 5小时12分", "02:15:30"). A countdown is counted from
the moment it is entered, so it is only as exact as the platform's own rounding.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo

from dyy_desk.services.errors import ServiceError

_ABSOLUTE = re.compile(
    r"^(?:(?P<y>\d{4})\s*[-/.年]\s*)?(?P<mo>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*(?:日\s*|T|\s+)"
    r"(?P<h>\d{1,2})\s*[:：时点]\s*(?P<mi>\d{1,2})\s*分?(?:\s*[:：]\s*(?P<s>\d{1,2})\s*秒?)?$"
)
_UNITS = {
    "天": 86400,
    "日": 86400,
    "小时": 3600,
    "时": 3600,
    "h": 3600,
    "分钟": 60,
    "分": 60,
    "m": 60,
    "秒": 1,
    "s": 1,
}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(天|日|小时|时|分钟|分|秒|h|m|s)", re.IGNORECASE)
_CLOCK_COUNTDOWN = re.compile(r"^(?:(\d+)\s*天\s*)?(\d{1,3}):(\d{2})(?::(\d{2}))?$")
_PREFIX = re.compile(r"^(剩余|还剩|剩|倒计时|截止|超时时间|处理时限|时限)[:：]?\s*")
_SUFFIX = re.compile(r"\s*(后超时|后自动.*|内处理|后)$")


def parse_deadline_text(text: str, *, now: datetime, zone: tzinfo | None = None) -> datetime:
    """The UTC instant a pasted platform deadline means; ServiceError says what was not understood.

    `zone` is the agent's local time zone (None: the computer's).
    """
    raw = text.strip()
    if not raw:
        raise ServiceError("请粘贴平台显示的截止时间，例如 2026-11-24 18:30 或 剩余1天3小时")
    cleaned = _SUFFIX.sub("", _PREFIX.sub("", raw.replace("\u3000", " "))).strip()
    local_now = now.astimezone(zone) if zone is not None else now.astimezone()
    if m := _ABSOLUTE.match(cleaned):
        year = int(m["y"]) if m["y"] else local_now.year
        try:
            wall = datetime(year, int(m["mo"]), int(m["d"]), int(m["h"]), int(m["mi"]), int(m["s"] or 0))
        except ValueError:
            raise ServiceError(f"“{raw}” 不是有效的日期时间") from None
        # naive .astimezone(): the computer's zone with its DST rule for that date
        local = wall.replace(tzinfo=zone) if zone is not None else wall.astimezone()
        result = local.astimezone(UTC)
        if not m["y"] and result < now - timedelta(days=180):
            result = result.replace(year=result.year + 1)  # "01-03 10:00" pasted in December
        return result
    if m := _CLOCK_COUNTDOWN.match(cleaned):
        days, hours, minutes, seconds = (int(g) if g else 0 for g in m.groups())
        return now + timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    parts = _PART.findall(cleaned)
    if parts and not _PART.sub("", cleaned).strip(" ,，"):
        total = sum(float(value) * _UNITS[unit.lower()] for value, unit in parts)
        if total <= 0:
            raise ServiceError("剩余时间必须大于 0")
        return now + timedelta(seconds=total)
    raise ServiceError(
        f"看不懂“{raw}”。请粘贴平台显示的截止时间（如 2026-11-24 18:30）或倒计时（如 剩余1天3小时）"
    )

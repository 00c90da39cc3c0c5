"""Times as agents read them: local 24-hour clock, relative where it helps (5分钟前)."""

from __future__ import annotations

from datetime import datetime, timedelta


def format_local(instant: datetime | None, *, now: datetime | None = None) -> str:
    """Local time; the date is dropped for today and the year for this year."""
    if instant is None:
        return ""
    local = instant.astimezone()
    if now is not None:
        today = now.astimezone().date()
        if local.date() == today:
            return f"{local:%H:%M}"
        if local.year == today.year:
            return f"{local:%m-%d %H:%M}"
    return f"{local:%Y-%m-%d %H:%M}"


def format_relative(instant: datetime, *, now: datetime) -> str:
    delta = now - instant
    if delta < timedelta(minutes=1):
        return "刚刚"
    if delta < timedelta(hours=1):
        return f"{int(delta.total_seconds() // 60)}分钟前"
    if delta < timedelta(days=1):
        return f"{int(delta.total_seconds() // 3600)}小时前"
    if delta < timedelta(days=30):
        return f"{delta.days}天前"
    return format_local(instant)

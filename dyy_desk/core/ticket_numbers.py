"""Human ticket numbers (T20261123-0042): per local day, so agents can read them out on the phone."""

from __future__ import annotations

import re
from datetime import date

_PATTERN = re.compile(r"^T(\d{8})-(\d{4,})$")


def format_ticket_number(day: date, sequence: int) -> str:
    if sequence < 1:
        raise ValueError("ticket sequence starts at 1")
    return f"T{day:%Y%m%d}-{sequence:04d}"


def parse_ticket_number(number: str) -> tuple[str, int] | None:
    match = _PATTERN.match(number)
    if not match:
        return None
    return match.group(1), int(match.group(2))


def short_number(number: str) -> str:
    """T20261123-0042 → T…0042 for narrow columns."""
    parsed = parse_ticket_number(number)
    return f"T…{parsed[1]:04d}" if parsed else number

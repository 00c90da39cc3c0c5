"""Hybrid logical clock: versions that follow wall time yet never go backwards or collide.

Machines exchange bundles late and out of order and their wall clocks disagree, so a plain timestamp
cannot order writes. An HLC keeps the wall time in milliseconds, a counter for writes within (or
behind) the same millisecond, and the origin machine id as the final tie-break, which makes the
order total. The string form has fixed-width numeric parts, so comparing strings compares versions;
the database can index and compare the text column directly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

WALL_DIGITS = 15  # milliseconds since the Unix epoch; 15 digits last until the year 33658
COUNTER_DIGITS = 6
MAX_WALL_MS = 10**WALL_DIGITS - 1
MAX_COUNTER = 10**COUNTER_DIGITS - 1
ORIGIN_PATTERN = r"[0-9a-z][0-9a-z_-]{0,63}"

_ORIGIN_RE = re.compile(ORIGIN_PATTERN)
HLC_RE = re.compile(rf"(\d{{{WALL_DIGITS}}})-(\d{{{COUNTER_DIGITS}}})-({ORIGIN_PATTERN})")


def check_origin(origin: str) -> str:
    """Origin ids are lower-case ASCII so that byte order, code-point order and SQLite order agree."""
    if not _ORIGIN_RE.fullmatch(origin):
        raise ValueError(f"invalid origin machine id {origin!r}: expected {ORIGIN_PATTERN}")
    return origin


@dataclass(frozen=True, order=True)
class Hlc:
    """One version. Field order is the comparison order: wall time, counter, origin."""

    wall_ms: int
    counter: int
    origin: str

    def __post_init__(self) -> None:
        if not 0 <= self.wall_ms <= MAX_WALL_MS:
            raise ValueError(f"HLC wall time out of range: {self.wall_ms}")
        if not 0 <= self.counter <= MAX_COUNTER:
            raise ValueError(f"HLC counter out of range: {self.counter}")
        check_origin(self.origin)

    def encode(self) -> str:
        return f"{self.wall_ms:0{WALL_DIGITS}d}-{self.counter:0{COUNTER_DIGITS}d}-{self.origin}"

    def __str__(self) -> str:
        return self.encode()

    @classmethod
    def parse(cls, text: str) -> Hlc:
        match = HLC_RE.fullmatch(text)
        if match is None:
            raise ValueError(f"not an HLC version: {text!r}")
        return cls(int(match[1]), int(match[2]), match[3])


def is_version(text: object) -> bool:
    return isinstance(text, str) and HLC_RE.fullmatch(text) is not None


def origin_of(version: str) -> str:
    return Hlc.parse(version).origin


def wall_ms_of(now: datetime) -> int:
    if now.tzinfo is None:
        raise ValueError("the HLC needs an aware datetime")
    return int(now.timestamp() * 1000)


class HybridClock:
    """The clock of one machine. Not thread-safe: the single database worker owns it.

    The caller persists `last` (one text value per machine) so versions stay monotonic across restarts,
    and calls `receive` with the newest version of every imported bundle so that later local edits
    are ordered after everything this machine has seen.
    """

    def __init__(self, origin: str, last: Hlc | None = None) -> None:
        self.origin = check_origin(origin)
        if last is not None and last.origin != origin:
            # A clock restored from another machine's state would still be monotonic; keep the time.
            last = Hlc(last.wall_ms, last.counter, origin)
        self._last = last

    @property
    def last(self) -> Hlc | None:
        return self._last

    def tick(self, now: datetime) -> Hlc:
        """A new version for a local write, strictly after every version issued or received so far."""
        wall = wall_ms_of(now)
        last = self._last
        if last is None or wall > last.wall_ms:
            return self._set(wall, 0)
        return self._set(last.wall_ms, last.counter + 1)

    def receive(self, remote: Hlc, now: datetime) -> Hlc:
        """Merge a version seen in an imported bundle; returns the clock's new position."""
        wall = wall_ms_of(now)
        last = self._last or Hlc(0, 0, self.origin)
        top = max(wall, last.wall_ms, remote.wall_ms)
        if top == last.wall_ms == remote.wall_ms:
            counter = max(last.counter, remote.counter) + 1
        elif top == last.wall_ms:
            counter = last.counter + 1
        elif top == remote.wall_ms:
            counter = remote.counter + 1
        else:
            counter = 0
        return self._set(top, counter)

    def _set(self, wall: int, counter: int) -> Hlc:
        if counter > MAX_COUNTER:  # a million writes in one millisecond: borrow the next millisecond
            wall, counter = wall + 1, 0
        self._last = Hlc(wall, counter, self.origin)
        return self._last

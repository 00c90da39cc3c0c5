"""Which bundles of which colleague never arrived.

Every all-changes bundle of a machine carries the next sequence number (1, 2, 3 …). The import
screen keeps the numbers it has seen per origin; a hole means changes may be missing even though
everything imported merged cleanly. Bundles after the newest one seen cannot be known about.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class SequenceGap:
    origin: str
    first: int
    last: int

    def message(self, machine_name: str) -> str:
        numbers = f"{self.first}" if self.first == self.last else f"{self.first} 至 {self.last}"
        return f"缺少来自 {machine_name} 的电脑的第 {numbers} 号数据包"


def find_gaps(seen: Mapping[str, Collection[int]]) -> list[SequenceGap]:
    """Missing runs in 1..max(seen) per origin; bundles after the newest seen are unknowable."""
    gaps = []
    for origin in sorted(seen):
        numbers = set(seen[origin])
        run_start: int | None = None
        for n in range(1, max(numbers, default=0) + 1):
            if n not in numbers:
                run_start = n if run_start is None else run_start
            elif run_start is not None:
                gaps.append(SequenceGap(origin, run_start, n - 1))
                run_start = None
    return gaps


def gap_messages(seen: Mapping[str, Collection[int]], names: Mapping[str, str]) -> list[str]:
    return [gap.message(names.get(gap.origin, f"编号 {gap.origin[:8]}")) for gap in find_gaps(seen)]

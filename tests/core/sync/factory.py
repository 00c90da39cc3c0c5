"""Small builders shared by the sync tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from dyy_desk.core.sync.hlc import Hlc, HybridClock

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def rid(n: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"dyy-test-{n}"))


class Machine:
    """A clock whose wall time the test moves by hand."""

    def __init__(self, origin: str, skew_s: float = 0) -> None:
        self.clock = HybridClock(origin)
        self.now = T0 + timedelta(seconds=skew_s)

    def tick(self) -> Hlc:
        self.now += timedelta(milliseconds=1)
        return self.clock.tick(self.now)

"""Wall time per phase of the latest export and import in this process (for `scripts/bench_sync.py`).

Phases are timed coarsely (per table, per block, per chunk) so measuring costs next to nothing.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from contextlib import contextmanager


class Phases:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def add(self, name: str, seconds: float) -> None:
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds

    @contextmanager
    def timed(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - start)


# "export" / "import" → the Phases of the latest run
LATEST: dict[str, Phases] = {}


def start(kind: str) -> Phases:
    phases = LATEST[kind] = Phases()
    return phases


@contextmanager
def bulk_gc() -> Iterator[None]:
    """Exports and imports allocate millions of short-lived containers; every few thousand of them
    the cyclic collector would also walk all the program's long-lived objects. Freezing those for
    the duration keeps collections small (nothing is left uncollected: `unfreeze` hands them back).
    Does nothing if something else has frozen objects already."""
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()

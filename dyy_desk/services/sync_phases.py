"""Wall and CPU time per phase of the latest export and import in this process (for
`scripts/bench_sync.py`).

On a shared machine wall time mostly measures the neighbours; the CPU time of the thread that ran
a phase (`time.thread_time`) is what a change to the code moves. Phases are timed coarsely (per
table, per block, per chunk) so measuring costs next to nothing.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from contextlib import contextmanager

# (perf_counter, thread_time) when a phase began
Mark = tuple[float, float]


def mark() -> Mark:
    return time.perf_counter(), time.thread_time()


class Phases:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    def add(self, name: str, since: Mark) -> None:
        """Charge the wall and thread CPU time since `since` (taken on this thread) to `name`."""
        wall, cpu = time.perf_counter() - since[0], time.thread_time() - since[1]
        self.seconds[name] = self.seconds.get(name, 0.0) + wall
        self.cpu[name] = self.cpu.get(name, 0.0) + cpu

    def add_rest(self, name: str, since: Mark, prefixes: tuple[str, ...]) -> None:
        """Charge to `name` the time since `since` not already charged to phases named `prefixes…`
        (work interleaved with those phases on this thread)."""
        wall, cpu = time.perf_counter() - since[0], time.thread_time() - since[1]
        self.seconds[name] = wall - sum(v for k, v in self.seconds.items() if k.startswith(prefixes))
        self.cpu[name] = cpu - sum(v for k, v in self.cpu.items() if k.startswith(prefixes))

    @contextmanager
    def timed(self, name: str) -> Iterator[None]:
        start = mark()
        try:
            yield
        finally:
            self.add(name, start)


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

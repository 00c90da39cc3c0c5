"""Objects the GUI made are freed on the GUI thread, never in a worker (Qt crashes at random when a
closed panel's wrapper is destroyed in a background thread)."""

from __future__ import annotations

import gc
import threading
from typing import Any

from dyy_desk.ui.gui_thread_gc import GuiThreadGarbageCollector, collect_on_gui_thread
from dyy_desk.ui.tasks import TaskRunner


class _Tracked:
    """Records the thread that finalised it."""

    freed_in: list[str]

    def __init__(self, freed_in: list[str]) -> None:
        self.freed_in = freed_in
        self.cycle: Any = self

    def __del__(self) -> None:
        self.freed_in.append(threading.current_thread().name)


def test_cycles_made_on_the_gui_thread_are_collected_there_not_in_a_busy_worker(qtbot: Any) -> None:
    runner = TaskRunner()
    collector = collect_on_gui_thread()
    assert isinstance(collector, GuiThreadGarbageCollector)
    assert collect_on_gui_thread() is collector  # one per application
    assert not gc.isenabled()
    gc.collect()
    freed_in: list[str] = []
    _Tracked(freed_in)  # garbage only a cycle collection can free

    def allocate(_ctx: Any) -> int:
        return len([[i] for i in range(200_000)])  # far past every generation threshold

    with qtbot.waitSignal(runner._relay.finished, timeout=10_000):
        runner.run_cpu(allocate)
    runner.wait_idle()
    assert freed_in == []
    for _ in range(200):  # gen-2 counts build up only after many young collections
        collector.check()
        if freed_in:
            break
    gc.collect()
    assert freed_in == [threading.main_thread().name]


def test_a_finished_task_lets_go_of_its_callable_on_the_gui_thread(qtbot: Any) -> None:
    runner = TaskRunner()
    freed_in: list[str] = []
    results: list[int] = []
    gate = threading.Event()

    def make_task() -> Any:
        held = _Tracked(freed_in)
        held.cycle = None  # refcounting alone frees it, the moment the last reference goes

        def task(_ctx: Any) -> int:
            gate.wait(5)
            return 7 if held else 0

        return task

    runner.run_db(make_task(), on_done=results.append)
    gate.set()
    runner.wait_idle()
    assert freed_in == []  # the worker has finished but parked the callable for the GUI thread
    qtbot.waitUntil(lambda: results == [7], timeout=5_000)
    assert freed_in == [threading.main_thread().name]


def test_progress_and_errors_reach_their_own_callbacks(qtbot: Any) -> None:
    runner = TaskRunner()
    progress: list[tuple[int, int, str]] = []
    errors: list[BaseException] = []

    def work(ctx: Any) -> None:
        ctx.progress(1, 2, "一半")
        raise ValueError("坏数据")

    runner.run_db(work, on_error=errors.append, on_progress=lambda *p: progress.append(p))
    qtbot.waitUntil(lambda: bool(errors), timeout=5_000)
    assert progress == [(1, 2, "一半")]
    assert isinstance(errors[0], ValueError) and str(errors[0]) == "坏数据"

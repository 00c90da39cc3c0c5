"""Background work for the GUI: one worker for the agent's database work, one for maintenance,
and a pool for CPU work.

Threading contract: the callable runs in a worker and must not touch widgets; `on_done` / `on_error`
/ `on_progress` run on the GUI thread (queued signal). The agent's database tasks (`run_db`) run one at a
time, in order, so a read queued after a write sees it. Maintenance (`run_background`: rule passes,
deadline scans) has its own single thread so a multi-second pass never delays a filter the agent typed;
its rare writes wait for SQLite's lock (WAL, busy timeout) rather than overlapping.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable
from typing import Any, NamedTuple

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from dyy_desk.ui.gui_thread_gc import collect_on_gui_thread

_log = logging.getLogger(__name__)


class Cancelled(Exception):
    """Raised inside a task when the user pressed 取消; the task must leave no partial state."""


class TaskContext:
    """Handed to a task: report progress, check for cancellation."""

    def __init__(self, relay: _Relay | None = None, task_id: int = 0) -> None:
        self._relay = relay
        self._task_id = task_id
        self._cancel = threading.Event()

    def progress(self, value: int, maximum: int, label: str = "") -> None:
        if self._relay is not None:
            self._relay.progress.emit(self._task_id, value, maximum, label)

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check(self) -> None:
        if self._cancel.is_set():
            raise Cancelled()


class _Relay(QObject):
    """One per runner, created on the GUI thread and living as long as the runner; its signals are
    connected to the runner's slots, so Qt queues every callback onto the GUI thread.

    Lifetime rule: a worker never holds the last reference to anything. A finished job parks its
    callable and its outcome in `parked` and lets go of them before it signals, so the GUI thread is
    the one that frees them (a closure over a closed panel must not be destroyed in a worker)."""

    finished = Signal(int)
    progress = Signal(int, int, int, str)

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._parked: dict[int, tuple[bool, Any, Any]] = {}

    def park(self, task_id: int, ok: bool, outcome: Any, fn: Any) -> None:
        with self._lock:
            self._parked[task_id] = (ok, outcome, fn)

    def unpark(self, task_id: int) -> tuple[bool, Any, Any]:
        with self._lock:
            return self._parked.pop(task_id)


class _Job(QRunnable):
    def __init__(
        self, fn: Callable[[TaskContext], Any], relay: _Relay, context: TaskContext, task_id: int
    ) -> None:
        super().__init__()
        self._fn: Callable[[TaskContext], Any] | None = fn
        self._relay = relay
        self._context: TaskContext | None = context
        self._task_id = task_id

    def run(self) -> None:
        fn, context = self._fn, self._context
        self._fn = self._context = None
        assert fn is not None and context is not None
        try:
            outcome, ok = fn(context), True
        except BaseException as exc:  # delivered to the GUI thread, which decides what the user sees
            if not isinstance(exc, Cancelled):
                _log.exception("background task failed")
            outcome, ok = exc, False
        self._relay.park(self._task_id, ok, outcome, fn)
        del fn, context, outcome
        try:
            self._relay.finished.emit(self._task_id)
        except RuntimeError:  # the window closed while this ran: nobody is waiting for it
            _log.debug("result dropped: receiver gone")


class TaskRunner(QObject):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        collect_on_gui_thread()
        self._db_pool = QThreadPool(self)
        self._db_pool.setMaxThreadCount(1)
        self._background_pool = QThreadPool(self)
        self._background_pool.setMaxThreadCount(1)
        self._cpu_pool = QThreadPool.globalInstance()
        self._relay = _Relay(self)
        self._relay.finished.connect(self._deliver)
        self._relay.progress.connect(self._deliver_progress)
        self._callbacks: dict[int, _Callbacks] = {}
        self._ids = itertools.count(1)
        self._closed = False

    def run_db(
        self,
        fn: Callable[[TaskContext], Any],
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        on_progress: Callable[[int, int, str], None] | None = None,
    ) -> TaskContext:
        return self._submit(self._db_pool, fn, on_done, on_error, on_progress)

    def run_background(
        self,
        fn: Callable[[TaskContext], Any],
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> TaskContext:
        return self._submit(self._background_pool, fn, on_done, on_error, None)

    def run_cpu(
        self,
        fn: Callable[[TaskContext], Any],
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> TaskContext:
        return self._submit(self._cpu_pool, fn, on_done, on_error, None)

    def _submit(
        self,
        pool: QThreadPool,
        fn: Callable[[TaskContext], Any],
        on_done: Callable[[Any], None] | None,
        on_error: Callable[[BaseException], None] | None,
        on_progress: Callable[[int, int, str], None] | None,
    ) -> TaskContext:
        if self._closed:  # after shutdown nothing new starts; callers get a cancelled context
            context = TaskContext()
            context.cancel()
            return context
        task_id = next(self._ids)
        self._callbacks[task_id] = _Callbacks(on_done, on_error or _log_only, on_progress)
        context = TaskContext(self._relay, task_id)
        pool.start(_Job(fn, self._relay, context, task_id))
        return context

    @Slot(int)
    def _deliver(self, task_id: int) -> None:
        ok, outcome, _fn = self._relay.unpark(task_id)
        callbacks = self._callbacks.pop(task_id)
        if ok:
            if callbacks.on_done is not None:
                callbacks.on_done(outcome)
        else:
            callbacks.on_error(outcome)

    @Slot(int, int, int, str)
    def _deliver_progress(self, task_id: int, value: int, maximum: int, label: str) -> None:
        callbacks = self._callbacks.get(task_id)
        if callbacks is not None and callbacks.on_progress is not None:
            callbacks.on_progress(value, maximum, label)

    def shutdown(self, msecs: int = 30000) -> bool:
        """Refuse new work and wait for what is running; called when the window closes."""
        self._closed = True
        return self.wait_idle(msecs)

    def wait_idle(self, msecs: int = 30000) -> bool:
        """For shutdown and tests: block until queued work is done."""
        return all(pool.waitForDone(msecs) for pool in (self._db_pool, self._background_pool, self._cpu_pool))


class _Callbacks(NamedTuple):
    on_done: Callable[[Any], None] | None
    on_error: Callable[[BaseException], None]
    on_progress: Callable[[int, int, str], None] | None


def _log_only(exc: BaseException) -> None:
    if not isinstance(exc, Cancelled):
        _log.error("unhandled background error: %s", exc)

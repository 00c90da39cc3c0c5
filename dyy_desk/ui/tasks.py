"""Background work for the GUI: one worker for the agent's database work, one for maintenance,
and a pool for CPU work.

Threading contract: the callable runs in a worker and must not touch widgets; `on_done` / `on_error`
/ `on_progress` run on the GUI thread (queued signal). The agent's database tasks (`run_db`) run one at a
time, in order, so a read queued after a write sees it. Maintenance (`run_background`: rule passes,
deadline scans) has its own single thread so a multi-second pass never delays a filter the agent typed;
its rare writes wait for SQLite's lock (WAL, busy timeout) rather than overlapping.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

_log = logging.getLogger(__name__)


class Cancelled(Exception):
    """Raised inside a task when the user pressed 取消; the task must leave no partial state."""


class TaskContext:
    """Handed to a task: report progress, check for cancellation."""

    def __init__(self, relay: _Relay) -> None:
        self._relay = relay
        self._cancel = threading.Event()

    def progress(self, value: int, maximum: int, label: str = "") -> None:
        self._relay.progress.emit(value, maximum, label)

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check(self) -> None:
        if self._cancel.is_set():
            raise Cancelled()


class _Relay(QObject):
    """Created on the GUI thread; its signals are connected to its own slots, so Qt queues every
    callback onto the GUI thread (a plain lambda would run in the worker that emits)."""

    done = Signal(object)
    failed = Signal(object)
    progress = Signal(int, int, str)

    def __init__(
        self,
        on_done: Callable[[Any], None],
        on_error: Callable[[BaseException], None],
        on_progress: Callable[[int, int, str], None] | None,
    ) -> None:
        super().__init__()
        self._on_done = on_done
        self._on_error = on_error
        self._on_progress = on_progress
        self.done.connect(self._deliver_done)
        self.failed.connect(self._deliver_failed)
        self.progress.connect(self._deliver_progress)

    @Slot(object)
    def _deliver_done(self, result: Any) -> None:
        self._on_done(result)

    @Slot(object)
    def _deliver_failed(self, exc: BaseException) -> None:
        self._on_error(exc)

    @Slot(int, int, str)
    def _deliver_progress(self, value: int, maximum: int, label: str) -> None:
        if self._on_progress is not None:
            self._on_progress(value, maximum, label)


class _Job(QRunnable):
    def __init__(self, fn: Callable[[TaskContext], Any], relay: _Relay, context: TaskContext) -> None:
        super().__init__()
        self._fn = fn
        self._relay = relay
        self._context = context

    def run(self) -> None:
        try:
            result = self._fn(self._context)
        except BaseException as exc:  # delivered to the GUI thread, which decides what the user sees
            if not isinstance(exc, Cancelled):
                _log.exception("background task failed")
            try:
                self._relay.failed.emit(exc)
            except RuntimeError:
                _log.debug("error dropped: receiver gone")
        else:
            try:
                self._relay.done.emit(result)
            except RuntimeError:  # the window closed while this ran: nobody is waiting for it
                _log.debug("result dropped: receiver gone")


class TaskRunner(QObject):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._db_pool = QThreadPool(self)
        self._db_pool.setMaxThreadCount(1)
        self._background_pool = QThreadPool(self)
        self._background_pool.setMaxThreadCount(1)
        self._cpu_pool = QThreadPool.globalInstance()
        self._relays: set[_Relay] = set()
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
            context = TaskContext(_Relay(lambda _r: None, _log_only, None))
            context.cancel()
            return context

        def finished(callback: Callable[[Any], None] | None, value: Any) -> None:
            self._relays.discard(relay)
            if callback is not None:
                callback(value)

        relay = _Relay(
            lambda result: finished(on_done, result),
            lambda exc: finished(on_error or _log_only, exc),
            on_progress,
        )
        self._relays.add(relay)  # kept alive until its result is delivered
        context = TaskContext(relay)
        pool.start(_Job(fn, relay, context))
        return context

    def shutdown(self, msecs: int = 30000) -> bool:
        """Refuse new work and wait for what is running; called when the window closes."""
        self._closed = True
        return self.wait_idle(msecs)

    def wait_idle(self, msecs: int = 30000) -> bool:
        """For shutdown and tests: block until queued work is done."""
        return all(pool.waitForDone(msecs) for pool in (self._db_pool, self._background_pool, self._cpu_pool))


def _log_only(exc: BaseException) -> None:
    if not isinstance(exc, Cancelled):
        _log.error("unhandled background error: %s", exc)

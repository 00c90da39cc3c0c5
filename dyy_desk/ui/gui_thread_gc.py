"""Cyclic garbage is collected on the GUI thread only.

Python runs its cycle collector in whichever thread happens to allocate. When a cycle holds a Qt
object (a closed dialog and the lambdas connected to it, a task runner and its thread pools),
collecting it in a worker destroys that object off the GUI thread, and Qt crashes at random. So once
background work can start, automatic collection is switched off and a GUI-thread timer collects
instead, by the same generation thresholds Python would use. Full collections are spaced so that they
take at most about 1 % of the time, which keeps a large workspace from stuttering every minute.
"""

from __future__ import annotations

import gc
import time

from PySide6.QtCore import QCoreApplication, QObject, QTimer

_CHECK_MS = 500
_FULL_DUTY = 100  # a full collection that took d seconds waits at least 100·d before the next one


class GuiThreadGarbageCollector(QObject):
    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self._next_full_at = 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(_CHECK_MS)
        self._timer.timeout.connect(self.check)
        self._timer.start()
        gc.disable()

    def check(self) -> None:
        counts, thresholds = gc.get_count(), gc.get_threshold()
        if counts[0] <= thresholds[0]:
            return
        generation = 0
        if counts[1] > thresholds[1]:
            generation = 1
            if counts[2] > thresholds[2] and time.monotonic() >= self._next_full_at:
                generation = 2
        started = time.monotonic()
        gc.collect(generation)
        if generation == 2:
            ended = time.monotonic()
            self._next_full_at = ended + _FULL_DUTY * (ended - started)


def collect_on_gui_thread() -> GuiThreadGarbageCollector | None:
    """Install the collector once per application (called on the GUI thread before any worker starts).
    Without a Qt application there is no event loop to run it, and Python's own collector stays on."""
    app = QCoreApplication.instance()
    if app is None:
        return None
    existing = app.findChild(GuiThreadGarbageCollector)
    if isinstance(existing, GuiThreadGarbageCollector):
        return existing
    return GuiThreadGarbageCollector(app)

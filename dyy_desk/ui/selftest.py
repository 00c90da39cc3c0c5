"""`dyy-desk selftest`: drive the real main window offscreen through load → filter → open a ticket."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from dyy_desk.ui.main_window import MainWindow

STEP_TIMEOUT_MS = 15_000


class SelfTestFailed(RuntimeError):
    pass


def _wait_for(signal: object, trigger: Callable[[], None], what: str) -> list[object]:
    loop = QEventLoop()
    received: list[object] = []
    fired = False

    def on_signal(*args: object) -> None:
        nonlocal fired
        fired = True
        received.extend(args)
        loop.quit()

    signal.connect(on_signal)  # type: ignore[attr-defined]
    timer = QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(loop.quit)
    timer.start(STEP_TIMEOUT_MS)
    trigger()
    if not fired:
        loop.exec()
    signal.disconnect(on_signal)  # type: ignore[attr-defined]
    if not fired:
        raise SelfTestFailed(f"超时：{what}")
    return received


def run_selftest(window: MainWindow, report: Callable[[str], None]) -> None:
    _wait_for(window.ready, window.show, "工单列表首次加载")
    total = window.queue.model.rowCount()
    report(f"ok 工单列表已加载：{total} 个工单")
    if total == 0:
        report("ok 空白工作区：没有工单可打开")
        return
    first = window.queue.model.ticket_row(0)
    if first is None:
        raise SelfTestFailed("无法读取第一行工单")
    count = _wait_for(
        window.queue.ids_loaded, lambda: window.queue.search_edit.setText(first.number), "按工单号筛选"
    )
    if int(str(count[0])) < 1 or window.queue.model.ticket_id(0) != first.id:
        raise SelfTestFailed(f"筛选 {first.number} 没有找到该工单")
    report(f"ok 筛选 {first.number}：{count[0]} 个结果")
    detail = _wait_for(window.detail.detail_loaded, lambda: window.queue.table.selectRow(0), "打开工单详情")
    loaded = detail[0]
    if getattr(getattr(loaded, "row", None), "id", None) != first.id:
        raise SelfTestFailed("打开的工单详情不是所选工单")
    report(f"ok 打开工单详情：{first.number}，时间线 {len(getattr(loaded, 'events', ()))} 条")
    window.queue.search_edit.clear()
    QApplication.processEvents()

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from dyy_desk.infra.settings import Settings


@pytest.fixture
def window(qtbot: Any, demo_workspace: Any) -> Iterator[Any]:
    from PySide6.QtWidgets import QApplication

    from dyy_desk.ui.main_window import MainWindow
    from dyy_desk.ui.theme import apply_theme

    apply_theme(QApplication.instance())  # type: ignore[arg-type]
    main = MainWindow(workspace=demo_workspace, settings=Settings())
    qtbot.addWidget(main)
    with qtbot.waitSignal(main.ready, timeout=10_000):
        main.resize(1366, 768)
        main.show()
    # Normally 2 s after `ready`; tests start from a settled window. The library's search index (jieba)
    # is left to the library tests, which load it themselves.
    main.maintenance.escalations.start()
    main.maintenance.notifier.start()
    settle(main)
    yield main
    main.runner.wait_idle()


def settle(main: Any) -> None:
    """Run background work to the end, delivering each result (which may queue more work)."""
    from PySide6.QtWidgets import QApplication

    for _ in range(20):
        main.runner.wait_idle()
        QApplication.processEvents()
        if main.runner.wait_idle(0):
            QApplication.processEvents()
            if main.runner.wait_idle(0):
                return

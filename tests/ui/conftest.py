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
    yield main
    main.runner.wait_idle()

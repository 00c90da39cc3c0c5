"""A navigation area that builds its panel the first time it is shown.

The library, escalation and QA panels (and the services behind them) cost about half a second to
import and build; an agent who starts the app to answer the queue should not wait for them.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QVBoxLayout, QWidget


class LazyArea(QWidget):
    def __init__(self, build: Callable[[], QWidget]) -> None:
        super().__init__()
        self._build: Callable[[], QWidget] | None = build
        self._panel: QWidget | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)

    @property
    def is_built(self) -> bool:
        return self._panel is not None

    def panel(self) -> QWidget:
        """The real panel, built now if nobody has opened the area yet."""
        if self._panel is None:
            assert self._build is not None
            self._panel = self._build()
            self._build = None
            self.layout().addWidget(self._panel)
        return self._panel

    def showEvent(self, event: QShowEvent) -> None:
        self.panel()
        super().showEvent(event)

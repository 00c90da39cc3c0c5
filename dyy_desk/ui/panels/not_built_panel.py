"""An area that is planned but not built yet says so plainly instead of showing a fake screen."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from dyy_desk.core.i18n import _


class NotBuiltPanel(QWidget):
    def __init__(self, title: str, description: str) -> None:
        super().__init__()
        label = QLabel(
            _(
                "<h2>{title}</h2><p>{description}</p><p style='color:#666'>此功能尚在开发中，暂不可用。</p>"
            ).format(title=title, description=description)
        )
        label.setObjectName("emptyState")
        label.setWordWrap(True)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.addWidget(label)

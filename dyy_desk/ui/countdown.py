"""Colours for countdown chips (green on track, amber due soon, red overdue)."""

from __future__ import annotations

from PySide6.QtGui import QColor

from dyy_desk.core.due_chip import ChipState

CHIP_COLOURS: dict[ChipState, QColor] = {
    ChipState.ON_TRACK: QColor("#d8f0dc"),
    ChipState.DUE_SOON: QColor("#ffe7b3"),
    ChipState.OVERDUE: QColor("#ffcdd2"),
}

"""Fonts and style: the platform's CJK UI font, sizes in points so 150 %/200 % scaling stays right."""

from __future__ import annotations

from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication

CJK_FONTS = (
    "Microsoft YaHei UI",
    "Microsoft YaHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
)

STYLE = """
QLabel#detailTitle { font-size: 13pt; font-weight: 600; }
QLabel#errorLabel { color: #c62828; }
QLabel#mutedLabel { color: #666666; }
QLabel#emptyState { color: #555555; font-size: 11pt; }
QLabel#headerBadge { padding: 2px 8px; border-radius: 8px; background: #ffe7b3; }
QPushButton#headerSearch { text-align: left; padding: 4px 10px; color: #777777; background: #ffffff;
    border: 1px solid #c8c8c8; border-radius: 4px; min-width: 12em; max-width: 32em; }
QPushButton#headerSearch:hover, QPushButton#headerSearch:focus { border-color: #3b78e7; }
QListView#navigation { font-size: 11pt; border: none; background: #f4f5f7; }
QListView#navigation::item { padding: 8px 10px; }
QListView#navigation::item:selected { background: #dbe8ff; color: #0b3d91; }
QTableView { gridline-color: #e6e6e6; }
"""


def pick_cjk_family() -> str | None:
    families = set(QFontDatabase.families())
    return next((name for name in CJK_FONTS if name in families), None)


def apply_theme(app: QApplication) -> None:
    family = pick_cjk_family()
    font = QFont(family) if family else app.font()
    font.setPointSizeF(max(app.font().pointSizeF(), 10.0))
    app.setFont(font)
    app.setStyleSheet(STYLE)

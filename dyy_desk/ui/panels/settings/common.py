"""Pieces every 设置 page shares: how a page is built, errors in plain words, opening a folder."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from dyy_desk.core.i18n import _
from dyy_desk.core.types import Role, UserRow
from dyy_desk.services.errors import ServiceError

USER_ERRORS = (ServiceError, PermissionError, ValueError)
MANAGERS = frozenset({Role.SUPERVISOR, Role.ADMIN})


def error_text(exc: BaseException) -> str:
    """A service's own message, or a plain apology: the traceback is already in the log."""
    if isinstance(exc, USER_ERRORS):
        return str(exc)
    return _("操作失败，未做任何改动。详情已写入日志（关于 → 打开日志文件夹）。")


def is_manager(user: UserRow | None) -> bool:
    return user is not None and user.role in MANAGERS


def label(text: str = "", *, name: str = "", wrap: bool = True) -> QLabel:
    widget = QLabel(text)
    widget.setWordWrap(wrap)
    if name:
        widget.setObjectName(name)
    return widget


def page_layout(page: QWidget, title: str, blurb: str) -> QVBoxLayout:
    """Title, one muted sentence of why, then whatever the page adds."""
    layout = QVBoxLayout(page)
    layout.addWidget(label(title, name="detailTitle"))
    layout.addWidget(label(blurb, name="mutedLabel"))
    return layout


def open_folder(path: Path) -> bool:
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))


def file_size(path: Path) -> int:
    """0 for a file that is gone: a backup may be pruned between listing and sizing."""
    try:
        return path.stat().st_size
    except OSError:
        return 0


def format_size(size: int) -> str:
    if size < 1024:
        return _("{n} 字节").format(n=size)
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    if size < 1024**3:
        return f"{size / 1024 / 1024:.1f} MB"
    return f"{size / 1024**3:.2f} GB"

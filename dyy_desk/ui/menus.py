"""Menus and shortcuts built from the action registry, so 帮助 → 快捷键 can never drift from them."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu

from dyy_desk.core.i18n import _
from dyy_desk.ui.actions import ACTIONS, NAV_SHORTCUT_PREFIX


def build_menus(
    window: QMainWindow,
    handlers: dict[str, Callable[[], object]],
    *,
    fill_sync_menu: Callable[[QMenu], None],
    on_about: Callable[[], None],
    areas: int,
    show_area: Callable[[int], None],
) -> dict[str, QAction]:
    bar = window.menuBar()
    menus = {"工单": bar.addMenu(_("工单(&T)")), "视图": bar.addMenu(_("视图(&V)"))}
    fill_sync_menu(bar.addMenu(_("同步(&S)")))
    menus["通用"] = bar.addMenu(_("帮助(&H)"))
    actions: dict[str, QAction] = {}
    for spec in ACTIONS:
        handler = handlers.get(spec.key)
        if handler is None:
            continue  # listed for 快捷键 only; a widget owns the key (Ctrl+Enter in the note editor)
        action = QAction(_(spec.text), window)
        action.setShortcut(QKeySequence(spec.shortcut))
        action.triggered.connect(handler)
        menus[spec.group].addAction(action)
        actions[spec.key] = action
    about = QAction(_("关于 DYY Desk"), window)
    about.triggered.connect(on_about)
    menus["通用"].addAction(about)
    for row in range(areas):
        nav_action = QAction(window)
        nav_action.setShortcut(QKeySequence(f"{NAV_SHORTCUT_PREFIX}{row + 1}"))
        nav_action.triggered.connect(lambda _=False, r=row: show_area(r))
        window.addAction(nav_action)
    return actions

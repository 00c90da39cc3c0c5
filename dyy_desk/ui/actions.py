"""Every command with a shortcut is declared once here; menus and 帮助 → 快捷键 read this list."""

from __future__ import annotations

from dataclasses import dataclass

from dyy_desk.core.i18n import N_


@dataclass(frozen=True)
class ActionSpec:
    key: str
    text: str
    shortcut: str
    group: str


ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("new_ticket", N_("新建工单"), "Ctrl+N", N_("工单")),
    ActionSpec("focus_search", N_("搜索工单"), "Ctrl+F", N_("工单")),
    ActionSpec("refresh", N_("刷新列表"), "F5", N_("工单")),
    ActionSpec("next_ticket", N_("下一个工单"), "Alt+Down", N_("工单")),
    ActionSpec("prev_ticket", N_("上一个工单"), "Alt+Up", N_("工单")),
    ActionSpec("focus_note", N_("写备注"), "Ctrl+E", N_("工单")),
    ActionSpec("add_note", N_("添加备注（在备注框中）"), "Ctrl+Return", N_("工单")),
    ActionSpec("change_status", N_("改状态"), "Ctrl+Shift+S", N_("工单")),
    ActionSpec("assign_me", N_("分配给我"), "Ctrl+Shift+A", N_("工单")),
    ActionSpec("escalate", N_("升级当前工单…"), "Ctrl+Shift+E", N_("工单")),
    ActionSpec("handover", N_("交接班清单…"), "Ctrl+Shift+H", N_("工单")),
    ActionSpec("view_mine", N_("视图：我的工单"), "Ctrl+1", N_("视图")),
    ActionSpec("view_unassigned", N_("视图：未分配"), "Ctrl+2", N_("视图")),
    ActionSpec("view_due_soon", N_("视图：即将超时"), "Ctrl+3", N_("视图")),
    ActionSpec("view_overdue", N_("视图：已超时"), "Ctrl+4", N_("视图")),
    ActionSpec("view_escalated", N_("视图：已升级"), "Ctrl+5", N_("视图")),
    ActionSpec("view_all", N_("视图：全部"), "Ctrl+6", N_("视图")),
    ActionSpec("library_search", N_("搜索知识库与话术"), "Ctrl+K", N_("通用")),
    ActionSpec("compact_window", N_("小窗模式"), "Ctrl+Shift+M", N_("视图")),
    ActionSpec("switch_user", N_("切换当前用户"), "Ctrl+Shift+U", N_("通用")),
    ActionSpec("shortcuts", N_("快捷键一览"), "F1", N_("通用")),
    ActionSpec("quit", N_("退出"), "Ctrl+Q", N_("通用")),
)

NAV_SHORTCUT_PREFIX = "Alt+"  # Alt+1 … Alt+7 switch between the areas in the left navigation


def spec(key: str) -> ActionSpec:
    for action in ACTIONS:
        if action.key == key:
            return action
    raise KeyError(key)

"""Every command with a shortcut is declared once here; menus and 帮助 → 快捷键 read this list."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ActionSpec:
    key: str
    text: str
    shortcut: str
    group: str


ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("new_ticket", "新建工单", "Ctrl+N", "工单"),
    ActionSpec("focus_search", "搜索工单", "Ctrl+F", "工单"),
    ActionSpec("refresh", "刷新列表", "F5", "工单"),
    ActionSpec("next_ticket", "下一个工单", "Alt+Down", "工单"),
    ActionSpec("prev_ticket", "上一个工单", "Alt+Up", "工单"),
    ActionSpec("focus_note", "写备注", "Ctrl+E", "工单"),
    ActionSpec("add_note", "添加备注（在备注框中）", "Ctrl+Return", "工单"),
    ActionSpec("change_status", "改状态", "Ctrl+Shift+S", "工单"),
    ActionSpec("assign_me", "分配给我", "Ctrl+Shift+A", "工单"),
    ActionSpec("escalate", "升级当前工单…", "Ctrl+Shift+E", "工单"),
    ActionSpec("handover", "交接班清单…", "Ctrl+Shift+H", "工单"),
    ActionSpec("view_mine", "视图：我的工单", "Ctrl+1", "视图"),
    ActionSpec("view_unassigned", "视图：未分配", "Ctrl+2", "视图"),
    ActionSpec("view_due_soon", "视图：即将超时", "Ctrl+3", "视图"),
    ActionSpec("view_overdue", "视图：已超时", "Ctrl+4", "视图"),
    ActionSpec("view_escalated", "视图：已升级", "Ctrl+5", "视图"),
    ActionSpec("view_all", "视图：全部", "Ctrl+6", "视图"),
    ActionSpec("library_search", "搜索知识库与话术", "Ctrl+K", "通用"),
    ActionSpec("compact_window", "小窗模式", "Ctrl+Shift+M", "视图"),
    ActionSpec("switch_user", "切换当前用户", "Ctrl+Shift+U", "通用"),
    ActionSpec("shortcuts", "快捷键一览", "F1", "通用"),
    ActionSpec("quit", "退出", "Ctrl+Q", "通用"),
)

NAV_SHORTCUT_PREFIX = "Alt+"  # Alt+1 … Alt+7 switch between the areas in the left navigation


def spec(key: str) -> ActionSpec:
    for action in ACTIONS:
        if action.key == key:
            return action
    raise KeyError(key)

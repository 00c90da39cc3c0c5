"""An empty workspace has nobody to work as: ask for the first user before the window opens."""

from __future__ import annotations

from PySide6.QtWidgets import QInputDialog

from dyy_desk.core.types import Role
from dyy_desk.infra.settings import Settings
from dyy_desk.services.errors import ServiceError
from dyy_desk.services.workspace import Workspace


def ensure_current_user(workspace: Workspace, settings: Settings) -> bool:
    if workspace.directory.users():
        return True
    prompt = "这是一个空白工作区。请输入您的姓名（将作为主管账号）："
    while True:
        name, ok = QInputDialog.getText(None, "欢迎使用 DYY Desk", prompt)
        if not ok:
            return False
        try:
            user, _changes = workspace.directory.create_user(name=name, role=Role.SUPERVISOR)
        except ServiceError as exc:
            prompt = f"{exc}。请重新输入您的姓名："
            continue
        settings.current_user_id = user.id
        return True

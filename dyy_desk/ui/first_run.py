"""First start of the installed app: welcome, choose demo or empty, pick or create the current user.

The composition root (app.py) asks `needs_welcome(paths)` before opening the data folder. When it is
True, `run_welcome` shows the welcome dialog, which opens (and seeds) the workspace only once the user
has chosen, through the opener app.py passes in, so a locked or damaged folder is explained there.
`ensure_current_user` covers a workspace that exists but has nobody to work as (e.g. `init --empty`).
"""

from __future__ import annotations

from PySide6.QtWidgets import QDialog

from dyy_desk.infra.paths import DataPaths
from dyy_desk.infra.settings import Settings, save_settings
from dyy_desk.services.workspace import Workspace
from dyy_desk.ui.dialogs.welcome_dialog import WelcomeDialog, WorkspaceOpener


def needs_welcome(paths: DataPaths) -> bool:
    """No workspace in this data folder yet (no database file, or an empty one)."""
    db = paths.db_path
    return not db.exists() or db.stat().st_size == 0


def run_welcome(open_workspace: WorkspaceOpener, settings: Settings) -> Workspace | None:
    """Welcome → seed choice → current user. Returns the open workspace, or None if the user quit
    (a workspace opened before quitting is closed again; what was seeded stays for the next start)."""
    dialog = WelcomeDialog(open_workspace=open_workspace)
    accepted = dialog.exec() == QDialog.DialogCode.Accepted
    workspace = dialog.workspace
    if not accepted or workspace is None or dialog.user is None:
        if workspace is not None:
            workspace.close()
        return None
    _remember(workspace, settings, dialog.user.id)
    return workspace


def ensure_current_user(workspace: Workspace, settings: Settings) -> bool:
    """True when someone can work: the workspace has users, or the user just created the first one."""
    if workspace.directory.users():
        return True
    dialog = WelcomeDialog(workspace=workspace)
    if dialog.exec() != QDialog.DialogCode.Accepted or dialog.user is None:
        return False
    _remember(workspace, settings, dialog.user.id)
    return True


def _remember(workspace: Workspace, settings: Settings, user_id: str) -> None:
    settings.current_user_id = user_id
    save_settings(workspace.paths.config_dir, settings)

"""Switching the current user: supervisors and admins prove who they are first.

`confirm_switch` is what the main window's user combo calls before `set_user`. An agent needs no
password. A supervisor/admin with a password types it (wrong ones are audited and throttled by the
service); one without a password yet sets one now, so a profile is never used unprotected.

Threading contract: runs on the GUI thread inside a modal dialog; the service call is short (one
scrypt, one small transaction) and SQLite's busy timeout orders it with the database worker.
"""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QWidget

from dyy_desk.core.i18n import _
from dyy_desk.core.types import ROLE_LABELS, UserRow
from dyy_desk.services.auth_service import AuthService
from dyy_desk.services.errors import ServiceError
from dyy_desk.ui.dialogs.password_dialog import PasswordDialog, PasswordEntry


def _who(user: UserRow) -> str:
    return f"{_(ROLE_LABELS[user.role])}「{user.name}」"


def switch_dialog(parent: QWidget | None, auth: AuthService, user: UserRow) -> PasswordDialog | None:
    """The dialog `confirm_switch` shows, or None when `user` needs no password (tests drive it)."""
    if not auth.needs_password(user):
        return None
    if auth.has_password(user_id=user.id):

        def verify(entry: PasswordEntry) -> str | None:
            try:
                auth.authenticate(user_id=user.id, password=entry.current)
            except (ServiceError, PermissionError) as exc:
                return str(exc)
            return None

        return PasswordDialog(
            title=_("切换用户"),
            prompt=_("切换到{who}需要输入密码。").format(who=_who(user)),
            submit=verify,
            parent=parent,
        )

    def first_set(entry: PasswordEntry) -> str | None:
        try:
            auth.set_password(actor_id=user.id, user_id=user.id, new_password=entry.new)
        except (ServiceError, PermissionError) as exc:
            return str(exc)
        return None

    return PasswordDialog(
        title=_("设置密码"),
        prompt=_(
            "{who}还没有设置密码。主管和管理员账号必须有密码，请现在设置（以后切换到该账号时需要输入）。"
        ).format(who=_who(user)),
        submit=first_set,
        ask_current=False,
        ask_new=True,
        parent=parent,
    )


def confirm_switch(parent: QWidget | None, auth: AuthService, user: UserRow) -> bool:
    """True when the window may switch to `user` now."""
    dialog = switch_dialog(parent, auth, user)
    return dialog is None or dialog.exec() == QDialog.DialogCode.Accepted


def change_password_dialog(
    parent: QWidget | None, auth: AuthService, actor: UserRow, target: UserRow
) -> PasswordDialog:
    """修改密码: the user themself types the old one; an admin resetting someone else does not."""
    own = actor.id == target.id and auth.has_password(user_id=target.id)

    def save(entry: PasswordEntry) -> str | None:
        try:
            auth.set_password(
                actor_id=actor.id,
                user_id=target.id,
                new_password=entry.new,
                old_password=entry.current or None,
            )
        except (ServiceError, PermissionError) as exc:
            return str(exc)
        return None

    return PasswordDialog(
        title=_("修改密码"),
        prompt=_("修改{who}的密码。").format(who=_who(target)),
        submit=save,
        ask_current=own,
        ask_new=True,
        parent=parent,
    )


def change_password(parent: QWidget | None, auth: AuthService, actor: UserRow, target: UserRow) -> bool:
    return change_password_dialog(parent, auth, actor, target).exec() == QDialog.DialogCode.Accepted

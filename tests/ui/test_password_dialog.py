"""The password dialog and the user-switch rule: supervisors and admins type their password."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialog

from dyy_desk.core.clock import FakeClock
from dyy_desk.core.types import Role
from dyy_desk.services.audit import last_entries
from dyy_desk.services.auth_service import AuthService, ScryptParams
from dyy_desk.ui.dialogs.password_dialog import PasswordDialog, PasswordEntry
from dyy_desk.ui.user_switch import change_password, confirm_switch, switch_dialog


@pytest.fixture
def auth(empty_workspace: Any, clock: FakeClock) -> AuthService:
    return AuthService(engine=empty_workspace.engine, clock=clock, params=ScryptParams(n=2**10, r=8, p=1))


def test_verify_mode_shows_errors_and_accepts(qtbot: Any) -> None:
    seen: list[PasswordEntry] = []

    def submit(entry: PasswordEntry) -> str | None:
        seen.append(entry)
        return None if entry.current == "good-pw" else "密码不正确"

    dialog = PasswordDialog(title="t", prompt="p", submit=submit)
    qtbot.addWidget(dialog)
    dialog.try_accept()
    assert dialog.error_label.text() == "请输入密码" and not seen
    qtbot.keyClicks(dialog.current_edit, "bad-pw")
    dialog.try_accept()
    assert dialog.error_label.text() == "密码不正确" and dialog.current_edit.text() == ""
    assert dialog.result() != QDialog.DialogCode.Accepted
    assert dialog.current_edit.echoMode() == dialog.current_edit.EchoMode.Password
    qtbot.keyClicks(dialog.current_edit, "good-pw")
    dialog.try_accept()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert seen[-1] == PasswordEntry(current="good-pw", new="")


def test_new_password_mode_checks_length_and_repeat(qtbot: Any) -> None:
    seen: list[PasswordEntry] = []
    dialog = PasswordDialog(
        title="t", prompt="p", submit=lambda e: seen.append(e), ask_current=False, ask_new=True
    )
    qtbot.addWidget(dialog)
    dialog.new_edit.setText("abc")
    dialog.try_accept()
    assert "至少 6 位" in dialog.error_label.text()
    dialog.new_edit.setText("abcdef")
    dialog.repeat_edit.setText("abcdeg")
    dialog.try_accept()
    assert "不一致" in dialog.error_label.text() and not seen
    dialog.repeat_edit.setText("abcdef")
    dialog.try_accept()
    assert seen == [PasswordEntry(current="", new="abcdef")]
    assert dialog.result() == QDialog.DialogCode.Accepted


def test_switch_rules(qtbot: Any, empty_workspace: Any, auth: AuthService) -> None:
    agent, _ = empty_workspace.directory.create_user(name="李娜", role=Role.AGENT)
    sup, _ = empty_workspace.directory.create_user(name="赵敏", role=Role.SUPERVISOR)
    assert switch_dialog(None, auth, agent) is None
    assert confirm_switch(None, auth, agent)

    first = switch_dialog(None, auth, sup)
    assert first is not None and first.windowTitle() == "设置密码"
    qtbot.addWidget(first)
    first.new_edit.setText("zhaomin-pw")
    first.repeat_edit.setText("zhaomin-pw")
    first.try_accept()
    assert first.result() == QDialog.DialogCode.Accepted and auth.has_password(user_id=sup.id)

    verify = switch_dialog(None, auth, sup)
    assert verify is not None and verify.windowTitle() == "切换用户"
    qtbot.addWidget(verify)
    verify.current_edit.setText("nope-nope")
    verify.try_accept()
    assert "密码不正确" in verify.error_label.text() and verify.result() != QDialog.DialogCode.Accepted
    verify.current_edit.setText("zhaomin-pw")
    verify.try_accept()
    assert verify.result() == QDialog.DialogCode.Accepted
    with empty_workspace.engine.connect() as conn:
        assert [e.action for e in last_entries(conn)] == ["user_created"] * 2 + [
            "password_first_set",
            "auth_failed",
            "auth_ok",
        ]


def _answer_modal(password: str | None) -> None:
    """Type into whichever modal dialog is open next, then press OK (or cancel with None)."""

    def act() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, PasswordDialog)
        if password is None:
            dialog.reject()
        else:
            dialog.current_edit.setText(password)
            dialog.try_accept()

    QTimer.singleShot(0, act)


def test_confirm_switch_runs_the_modal_dialog(qtbot: Any, empty_workspace: Any, auth: AuthService) -> None:
    sup, _ = empty_workspace.directory.create_user(name="赵敏", role=Role.SUPERVISOR)
    auth.set_password(actor_id=sup.id, user_id=sup.id, new_password="zhaomin-pw")
    _answer_modal(None)
    assert not confirm_switch(None, auth, sup)
    _answer_modal("zhaomin-pw")
    assert confirm_switch(None, auth, sup)


def test_change_password_asks_for_the_old_one(qtbot: Any, empty_workspace: Any, auth: AuthService) -> None:
    sup, _ = empty_workspace.directory.create_user(name="赵敏", role=Role.SUPERVISOR)
    auth.set_password(actor_id=sup.id, user_id=sup.id, new_password="zhaomin-pw")

    def act() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, PasswordDialog) and dialog.current_edit.isVisibleTo(dialog)
        dialog.current_edit.setText("zhaomin-pw")
        dialog.new_edit.setText("second-pw")
        dialog.repeat_edit.setText("second-pw")
        dialog.try_accept()

    QTimer.singleShot(0, act)
    assert change_password(None, auth, sup, sup)
    assert auth.authenticate(user_id=sup.id, password="second-pw") == sup

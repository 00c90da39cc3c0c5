"""The 设置 area offscreen: what each role sees and may do, the schedule import with its errors,
machine settings saved through the callable, backups taken off the GUI thread, and the sync buttons."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from dyy_desk.core.changes import Changes
from dyy_desk.core.types import Role, UserRow
from dyy_desk.infra.settings import Settings

NIGHT = '[weekly]\nmon = ["22:00-06:00"]\n[calendar]\nholidays = [2026-12-25, 2026-12-26, 2027-01-01]\n'
BAD = '[weekly]\nmon = ["09:00-12:00"]\ntue = ["25:00-26:00"]\n'


class Harness:
    def __init__(self, workspace: Any, qtbot: Any) -> None:
        from dyy_desk.ui.signals import AppSignals
        from dyy_desk.ui.tasks import TaskRunner

        self.workspace, self.qtbot = workspace, qtbot
        self.signals = AppSignals()
        self.runner = TaskRunner()
        self.settings = Settings(sync_folder="", sync_interval_minutes=15)
        self.saved: list[Settings] = []
        self.opened: list[str] = []
        self.changes: list[tuple[Changes, object]] = []
        self.signals.operation_did_execute.connect(lambda c, i: self.changes.append((c, i)))
        self.people = {u.name: u for u in workspace.directory.users()}

    def build(self, user: UserRow | None) -> Any:
        from dyy_desk.ui.panels.settings_panel import SettingsPanel

        self.signals.user_changed.emit(user)
        panel = SettingsPanel(
            workspace=self.workspace,
            settings=self.settings,
            runner=self.runner,
            signals=self.signals,
            save_settings=self.saved.append,
            open_sync_settings=lambda: self.opened.append("sync"),
            open_team_key=lambda: self.opened.append("team"),
        )
        self.qtbot.addWidget(panel)
        panel.resize(1200, 700)
        panel.show()
        self.settle()
        return panel

    def settle(self) -> None:
        for _ in range(4):
            self.runner.wait_idle()
            self.qtbot.wait(10)


@pytest.fixture
def h(qtbot: Any, tickets_only_workspace: Any) -> Iterator[Harness]:
    harness = Harness(tickets_only_workspace, qtbot)  # the demo users, no SOP service built yet
    yield harness
    harness.runner.wait_idle()


def _names(panel: Any) -> list[str]:
    model = panel.users.model
    return [model.index(r, 0).data() for r in range(model.rowCount())]


def _row(panel: Any, name: str) -> list[str]:
    model = panel.users.model
    for r in range(model.rowCount()):
        if model.index(r, 0).data().startswith(name):
            return [model.index(r, c).data() for c in range(3)]
    raise AssertionError(name)


def test_opening_the_area_touches_no_lazy_service_until_a_page_needs_it(h: Harness) -> None:
    panel = h.build(h.people["李娜"])
    assert not {"sop", "backups", "auth", "sync"} & set(h.workspace._built)
    panel.select(panel.hours)
    h.settle()
    assert "sop" in h.workspace._built and "backups" not in h.workspace._built


def test_an_agent_sees_the_users_but_no_management_buttons(h: Harness) -> None:
    panel = h.build(h.people["李娜"])
    page = panel.users
    assert _names(panel) == ["赵敏", "李娜（我）", "王强", "陈晓雨"]
    assert _row(panel, "赵敏") == ["赵敏", "主管", "未设置"] and _row(panel, "王强")[2] == "不需要"
    assert not page.add_button.isVisibleTo(panel) and not page.role_button.isVisibleTo(panel)
    assert page.read_only_note.isVisibleTo(panel)
    page.add_user()
    assert page.dialog is None


def test_a_supervisor_adds_a_user_and_a_taken_name_keeps_the_dialog_open(h: Harness) -> None:
    from dyy_desk.ui.panels.settings.user_dialog import UserDialog

    panel = h.build(h.people["赵敏"])
    page = panel.users
    assert page.add_button.isVisibleTo(panel) and not page.read_only_note.isVisibleTo(panel)
    page.add_user()
    dialog = page.dialog
    assert isinstance(dialog, UserDialog)
    roles = [Role(dialog.role_combo.itemData(i)) for i in range(dialog.role_combo.count())]
    assert roles == [Role.AGENT, Role.SUPERVISOR]  # never more than the supervisor has
    dialog.name_edit.setText("王强")
    dialog.try_accept()
    h.settle()
    assert dialog.isVisible() and "已有名为「王强」" in dialog.error_label.text()
    dialog.name_edit.setText("孙丽")
    dialog.try_accept()
    h.settle()
    assert not dialog.isVisible() and page.dialog is None
    assert "孙丽" in _names(panel) and page.selected() is not None and page.selected().user.name == "孙丽"
    assert page.message.text() == "已添加：客服「孙丽」"
    assert h.changes[-1][0].users and h.changes[-1][1] is page


def test_a_supervisor_promotes_an_agent_but_not_themselves(h: Harness) -> None:
    panel = h.build(h.people["赵敏"])
    page = panel.users
    page.select(h.people["赵敏"].id)
    assert not page.role_button.isEnabled()
    assert page.password_button.isEnabled() and page.password_button.text() == "设置密码…"
    page.select(h.people["李娜"].id)
    assert page.role_button.isEnabled() and not page.password_button.isEnabled()
    page.change_role()
    dialog = page.dialog
    assert dialog is not None and dialog.name_edit.isReadOnly() and dialog.role() is Role.AGENT
    dialog.role_combo.setCurrentIndex(1)
    dialog.try_accept()
    h.settle()
    assert _row(panel, "李娜") == ["李娜", "主管", "未设置"]
    # 李娜 is a supervisor now: another supervisor may not reset her password
    page.select(h.people["李娜"].id)
    assert not page.password_button.isEnabled() and "只有管理员" in page.password_button.toolTip()


def test_an_admin_sets_a_supervisors_password_through_the_password_dialog(h: Harness) -> None:
    from dyy_desk.ui.dialogs.password_dialog import PasswordDialog

    admin, _ = h.workspace.directory.create_user(name="王总", role=Role.ADMIN)
    panel = h.build(admin)
    page = panel.users
    page.select(h.people["赵敏"].id)
    assert page.password_button.isEnabled() and page.password_button.text() == "设置密码…"
    page.set_password()
    h.settle()
    dialog = page.dialog
    assert isinstance(dialog, PasswordDialog)
    assert not dialog.current_edit.isVisibleTo(dialog)  # an admin resetting someone needs no old password
    dialog.new_edit.setText("zhaomin-pw")
    dialog.repeat_edit.setText("zhaomin-pw")
    dialog.try_accept()
    h.settle()
    assert _row(panel, "赵敏")[2] == "已设置" and page.password_button.text() == "重置密码…"
    assert h.workspace.auth.authenticate(user_id=h.people["赵敏"].id, password="zhaomin-pw").name == "赵敏"


def test_switching_user_changes_what_the_pages_offer(h: Harness) -> None:
    panel = h.build(h.people["赵敏"])
    assert panel.users.add_button.isVisibleTo(panel) and panel.hours.import_button.isVisibleTo(panel.hours)
    h.signals.user_changed.emit(h.people["王强"])
    h.settle()
    assert not panel.users.add_button.isVisibleTo(panel) and not panel.hours.import_button.isVisibleTo(
        panel.hours
    )
    assert "王强（我）" in _names(panel) and not panel.backup.keep_spin.isEnabled()


def test_hours_page_shows_the_schedule_and_imports_a_file(h: Harness, tmp_path: Path) -> None:
    from dyy_desk.ui.panels.settings.hours_page import date_ranges

    panel = h.build(h.people["赵敏"])
    panel.select(panel.hours)
    h.settle()
    page = panel.hours
    assert page.day_labels[0].text() == "09:00-12:00、13:30-18:30" and page.day_labels[6].text() == "休息"
    assert page.source_label.text() == "当前使用程序自带的默认设置。"
    assert "[weekly]" in page.text_view.toPlainText()
    bad = tmp_path / "排班.toml"
    bad.write_text(BAD, encoding="utf-8")
    page.import_file(bad)
    h.settle()
    assert "排班.toml 第 3 行" in page.error_label.text() and "weekly.tue" in page.error_label.text()
    assert page.day_labels[1].text() == "09:00-12:00、13:30-18:30"  # unchanged
    good = tmp_path / "night.toml"
    good.write_text(NIGHT, encoding="utf-8")
    page.import_file(good)
    h.settle()
    assert page.error_label.text() == "" and page.message.text().startswith("已导入 night.toml")
    assert page.day_labels[0].text() == "22:00-次日06:00" and page.day_labels[1].text() == "休息"
    assert "「赵敏」" in page.source_label.text()
    assert page.holiday_label.text() == "今后 3 天：2026-12-25 至 12-26、2027-01-01"
    assert h.changes[-1][0].sop and h.changes[-1][1] is page
    assert date_ranges([date(2026, 12, 31), date(2027, 1, 1)]) == "2026-12-31 至 2027-01-01"


def test_an_agent_who_reaches_the_import_is_refused_by_the_service(h: Harness, tmp_path: Path) -> None:
    panel = h.build(h.people["李娜"])
    panel.select(panel.hours)
    h.settle()
    assert not panel.hours.import_button.isVisibleTo(panel.hours) and panel.hours.agent_note.isVisibleTo(
        panel.hours
    )
    good = tmp_path / "night.toml"
    good.write_text(NIGHT, encoding="utf-8")
    panel.hours.import_file(good)
    h.settle()
    assert "客服「李娜」无权" in panel.hours.error_label.text()
    assert panel.hours.day_labels[0].text() == "09:00-12:00、13:30-18:30"


def test_reminder_threshold_is_saved_through_the_callable(h: Harness) -> None:
    panel = h.build(h.people["李娜"])
    panel.select(panel.reminders)
    assert panel.reminders.hours_spin.value() == 2.0
    panel.reminders.hours_spin.setValue(3.5)
    panel.reminders.save()
    assert h.settings.due_soon_hours == 3.5 and h.saved == [h.settings]
    assert "3.5 小时" in panel.reminders.message.text()


def test_sync_page_shows_the_settings_and_opens_the_controllers_dialogs(h: Harness) -> None:
    panel = h.build(h.people["李娜"])
    panel.select(panel.sync)
    h.settle()
    page = panel.sync
    assert page.folder_label.text() == "未设置（不自动同步）" and page.interval_label.text() == "关闭"
    assert (
        page.team_label.text().startswith("尚未加入团队") and page.last_label.text() == "导出 从未；导入 从未"
    )
    page.settings_button.click()
    page.team_button.click()
    assert h.opened == ["sync", "team"]
    h.settings.sync_folder = "/srv/同步"  # what the sync settings dialog does to the shared settings
    panel.select(panel.about)
    panel.select(panel.sync)
    h.settle()
    assert page.folder_label.text() == "/srv/同步" and page.interval_label.text() == "每 15 分钟"


def test_backup_now_runs_off_the_gui_thread_and_lists_the_copy(h: Harness, monkeypatch: Any) -> None:
    from dyy_desk.services.backup_service import BackupService

    threads: list[bool] = []
    real = BackupService.backup_now

    def spy(self: BackupService) -> Path:
        threads.append(threading.current_thread() is threading.main_thread())
        return real(self)

    monkeypatch.setattr(BackupService, "backup_now", spy)
    panel = h.build(h.people["赵敏"])
    panel.select(panel.backup)
    h.settle()
    page = panel.backup
    assert page.model.rowCount() == 0 and "还没有备份" in page.message.text()
    assert not page.copy_button.isEnabled() and "备份文件路径" in page.command_edit.text()
    page.backup_now()
    h.settle()
    assert threads == [False]
    assert page.model.rowCount() == 1 and page.model.index(0, 1).data() == "手动"
    assert page.message.text().startswith("已备份到 dyy_desk-")
    page.table.selectRow(0)
    command = page.command_edit.text()
    assert command.startswith("dyy-desk --data-dir ") and " restore " in command
    assert command.endswith(page.model.index(0, 3).data()) and page.copy_button.isEnabled()
    page.keep_spin.setValue(30)
    page.save_keep_days()
    assert h.settings.backup_keep_days == 30 and h.saved == [h.settings]


def test_about_shows_version_and_sizes_and_opens_folders(h: Harness, monkeypatch: Any) -> None:
    from PySide6.QtGui import QDesktopServices

    from dyy_desk import __version__

    opened: list[str] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()) or True)
    panel = h.build(h.people["李娜"])
    panel.select(panel.about)
    h.settle()
    page = panel.about
    assert page.size_label.text().endswith("MB")
    assert any(label.text() == __version__ for label in page.findChildren(type(page.size_label)))
    page.data_button.click()
    page.log_button.click()
    assert opened == [str(h.workspace.paths.data_dir), str(h.workspace.paths.log_dir)]

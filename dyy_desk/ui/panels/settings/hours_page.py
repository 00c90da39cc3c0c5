"""工作时间与节假日: the schedule SOP deadlines count in, and importing a new one (supervisors).

Left, the schedule in words (weekly shifts, upcoming holidays and make-up working days); right, the
file itself, to copy as the starting point of the next edit. A refused file is shown with the
service's message, which names the file, the line and the field.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from dyy_desk.core.changes import Changes
from dyy_desk.core.i18n import N_, _
from dyy_desk.core.timefmt import format_local
from dyy_desk.core.types import UserRow
from dyy_desk.services.business_hours_admin import ScheduleView, import_schedule_file, read_schedule
from dyy_desk.services.workspace import Workspace
from dyy_desk.ui.panels.settings.common import error_text, is_manager, label, page_layout
from dyy_desk.ui.signals import AppSignals
from dyy_desk.ui.tasks import TaskRunner

WEEKDAYS = (N_("周一"), N_("周二"), N_("周三"), N_("周四"), N_("周五"), N_("周六"), N_("周日"))


def date_ranges(days: list[date]) -> str:
    """`2026-10-01 至 10-07、2026-12-25`: consecutive days as one range, so a holiday list stays short."""
    runs = []
    ordered = sorted(days)
    for _key, group in itertools.groupby(enumerate(ordered), key=lambda p: p[1] - timedelta(days=p[0])):
        run = [d for _i, d in group]
        first, last = run[0], run[-1]
        if first == last:
            runs.append(first.isoformat())
        else:
            end = last.strftime("%m-%d") if last.year == first.year else last.isoformat()
            runs.append(_("{start} 至 {end}").format(start=first.isoformat(), end=end))
    return "、".join(runs)


class HoursPage(QWidget):
    def __init__(
        self,
        *,
        workspace: Workspace,
        runner: TaskRunner,
        signals: AppSignals,
        user: UserRow | None,
        now: Callable[[], datetime],
    ) -> None:
        super().__init__()
        self._workspace, self._runner, self._signals = workspace, runner, signals
        self._user, self._now = user, now
        self.view: ScheduleView | None = None
        layout = page_layout(
            self,
            _("工作时间与节假日"),
            _("SOP 中按“工作时间”计时的时限（如内部处理时效）按此计算；平台规则的时效按自然时间，不受影响。"),
        )
        self.source_label = label(_("正在读取…"))
        self.form = QFormLayout()
        self.day_labels = [label() for _day in WEEKDAYS]
        for name, day_label in zip(WEEKDAYS, self.day_labels, strict=True):
            self.form.addRow(_(name), day_label)
        self.timezone_label = label()
        self.makeup_label = label()
        self.holiday_label = label()
        self.form.addRow(_("时区"), self.timezone_label)
        self.form.addRow(_("调休上班"), self.makeup_label)
        self.form.addRow(_("节假日"), self.holiday_label)
        summary = QWidget()
        summary_layout = QVBoxLayout(summary)
        summary_layout.setContentsMargins(0, 0, 0, 0)
        summary_layout.addWidget(self.source_label)
        summary_layout.addLayout(self.form)
        summary_layout.addStretch(1)
        self.text_view = QPlainTextEdit()
        self.text_view.setReadOnly(True)
        self.text_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        file_box = QWidget()
        file_layout = QVBoxLayout(file_box)
        file_layout.setContentsMargins(0, 0, 0, 0)
        file_layout.addWidget(label(_("设置文件内容（复制后修改，再导入）"), name="mutedLabel"))
        file_layout.addWidget(self.text_view)
        splitter = QSplitter()
        splitter.addWidget(summary)
        splitter.addWidget(file_box)
        splitter.setSizes([500, 600])  # proportions until the user drags
        splitter.setChildrenCollapsible(False)
        self.import_button = QPushButton(_("导入工作时间文件…"))
        self.import_button.clicked.connect(self.choose_file)
        self.agent_note = label(_("只有主管和管理员可以导入新的工作时间设置。"), name="mutedLabel")
        self.message = label()
        self.error_label = label(name="errorLabel")
        row = QHBoxLayout()
        row.addWidget(self.import_button)
        row.addWidget(self.agent_note)
        row.addStretch(1)
        layout.addWidget(splitter, 1)
        layout.addLayout(row)
        layout.addWidget(self.message)
        layout.addWidget(self.error_label)
        self.set_user(user)

    def set_user(self, user: UserRow | None) -> None:
        self._user = user
        self.import_button.setVisible(is_manager(user))
        self.agent_note.setVisible(not is_manager(user))

    def reload(self) -> None:
        workspace = self._workspace
        self._runner.run_db(lambda _ctx: read_schedule(workspace), self._show, self._show_error)

    def _show(self, view: ScheduleView) -> None:
        self.view = view
        schedule = view.schedule
        if view.updated_at is None:
            self.source_label.setText(_("当前使用程序自带的默认设置。"))
        else:
            self.source_label.setText(
                _("当前设置由「{name}」于 {time} 导入。").format(
                    name=view.updated_by or _("未知用户"), time=format_local(view.updated_at, now=self._now())
                )
            )
        for day_label, shifts in zip(self.day_labels, schedule.weekly, strict=True):
            day_label.setText("、".join(s.label() for s in shifts) if shifts else _("休息"))
        self.timezone_label.setText(schedule.timezone)
        today = self._now().astimezone(schedule.zone).date()  # the team's calendar day
        makeup = view.makeup_from(today)
        self.makeup_label.setText(
            _("{dates}（按{weekday}的时段上班）").format(
                dates=date_ranges(makeup), weekday=_(WEEKDAYS[schedule.makeup_uses])
            )
            if makeup
            else _("今后没有调休上班日")
        )
        holidays = view.holidays_from(today)
        self.holiday_label.setText(
            _("今后 {count} 天：{dates}").format(count=len(holidays), dates=date_ranges(holidays))
            if holidays
            else _("今后没有节假日。请在年底导入下一年的节假日安排。")
        )
        self.text_view.setPlainText(view.text)

    def choose_file(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self, _("导入工作时间设置"), "", _("工作时间设置 (*.toml);;所有文件 (*)")
        )
        if path:
            self.import_file(Path(path))

    def import_file(self, path: Path) -> None:
        actor_id = self._user.id if self._user else None
        workspace = self._workspace
        self.import_button.setEnabled(False)
        self.error_label.clear()
        self.message.setText(_("正在检查 {file}…").format(file=path.name))

        def done(result: tuple[ScheduleView, Changes]) -> None:
            view, changes = result
            self.import_button.setEnabled(True)
            self._show(view)
            self.message.setText(
                _("已导入 {file}。之后按工作时间计算的时限以此为准。").format(file=path.name)
            )
            self._signals.operation_did_execute.emit(changes, self)

        self._runner.run_db(
            lambda _ctx: import_schedule_file(workspace, actor_id=actor_id, path=path), done, self._show_error
        )

    def _show_error(self, exc: BaseException) -> None:
        self.import_button.setEnabled(True)
        self.message.clear()
        self.error_label.setText(error_text(exc))

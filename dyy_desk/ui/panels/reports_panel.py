"""报表: the work report of a period (今天 / 最近7天 / 最近30天 / custom days), optionally for one client,
per agent and per client, with XLSX/CSV export.

The service decides what the person may see (an agent: their own line only); the panel only hides the
client table that would stay empty. Reads run in the database lane, the file is written on the CPU pool;
callbacks only paint. A change elsewhere marks the report stale; it is read again when next shown, and at
once (at most one read in flight, one queued) while on screen.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from dyy_desk.core.changes import Changes
from dyy_desk.core.i18n import _
from dyy_desk.core.report_metrics import PERIOD_LABELS, PeriodKind, WorkReport
from dyy_desk.core.timefmt import format_local
from dyy_desk.core.types import ClientRow, Role, UserRow
from dyy_desk.services.errors import ServiceError
from dyy_desk.services.report_export import write_work_report
from dyy_desk.services.report_service import ReportService
from dyy_desk.ui.models.report_models import AgentReportModel, ClientReportModel
from dyy_desk.ui.signals import AppSignals
from dyy_desk.ui.tasks import Cancelled, TaskContext, TaskRunner
from dyy_desk.ui.widgets.row_table import row_table

USER_ERRORS = (ServiceError, PermissionError, ValueError)


def _boxed(title: str, widget: QWidget) -> QGroupBox:
    box = QGroupBox(title)
    QVBoxLayout(box).addWidget(widget)
    return box


class ReportsPanel(QWidget):
    loaded = Signal()  # a report was painted: tests wait on it
    exported = Signal(str)  # the path written

    def __init__(
        self,
        *,
        reports: ReportService,
        runner: TaskRunner,
        signals: AppSignals,
        clock_now: Callable[[], datetime],
    ) -> None:
        super().__init__()
        self._reports = reports
        self._runner = runner
        self._signals = signals
        self._now = clock_now
        self.user: UserRow | None = None
        self.report: WorkReport | None = None
        self._stale = True
        self._busy = False
        self._queued = False
        self._clients_loaded = False

        self.period_combo = QComboBox()
        for kind in PeriodKind:
            self.period_combo.addItem(_(PERIOD_LABELS[kind]), kind)
        self.period_combo.setCurrentIndex(1)  # 最近7天: the weekly report a supervisor writes
        today = clock_now().astimezone().date()
        self.first_edit = self._date_edit(today)
        self.last_edit = self._date_edit(today)
        self.client_combo = QComboBox()
        self.client_combo.addItem(_("全部品牌方"), None)
        self.client_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.refresh_button = QPushButton(_("刷新"))
        self.export_button = QPushButton(_("导出…"))
        self.export_button.setEnabled(False)
        self.progress_bar = QProgressBar()
        self.progress_bar.setTextVisible(False)
        self.progress_bar.setMaximumWidth(160)
        self.progress_bar.hide()
        self.cancel_button = QPushButton(_("取消"))
        self.cancel_button.hide()
        self.cancel_button.clicked.connect(self.cancel)
        self._task: TaskContext | None = None
        bar = QHBoxLayout()
        bar.addWidget(QLabel(_("时段")))
        bar.addWidget(self.period_combo)
        bar.addWidget(self.first_edit)
        bar.addWidget(QLabel(_("至")))
        bar.addWidget(self.last_edit)
        bar.addSpacing(12)
        bar.addWidget(QLabel(_("品牌方")))
        bar.addWidget(self.client_combo)
        bar.addStretch(1)
        bar.addWidget(self.progress_bar)
        bar.addWidget(self.cancel_button)
        bar.addWidget(self.refresh_button)
        bar.addWidget(self.export_button)

        self.status_label = QLabel()
        self.status_label.setObjectName("mutedLabel")
        self.status_label.setWordWrap(True)
        self.agent_model = AgentReportModel()
        self.client_model = ClientReportModel()
        self.agent_table = row_table(self.agent_model, stretch=len(self.agent_model.columns) - 1)
        self.client_table = row_table(self.client_model, stretch=6)
        self.client_box = _boxed(_("按品牌方（时段内新建的工单）"), self.client_table)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(_boxed(_("按客服"), self.agent_table))
        self.splitter.addWidget(self.client_box)
        self.splitter.setChildrenCollapsible(False)
        hint = QLabel(
            _(
                "已处理＝时段内解决或关闭；首响、解决时长从工单创建算起；工单按当前处理人统计。"
                "把鼠标停在列标题上可看每一列的算法。"
            )
        )
        hint.setObjectName("mutedLabel")
        hint.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.status_label)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(hint)

        self.period_combo.currentIndexChanged.connect(self._on_period)
        self.first_edit.dateChanged.connect(lambda _d: self.reload())
        self.last_edit.dateChanged.connect(lambda _d: self.reload())
        self.client_combo.currentIndexChanged.connect(lambda _i: self.reload())
        self.refresh_button.clicked.connect(self.reload)
        self.export_button.clicked.connect(self._ask_export)
        signals.user_changed.connect(self.set_user)
        signals.operation_did_execute.connect(self._on_changes)
        self._on_period()
        self.set_user(signals.current_user)

    def _date_edit(self, day: date) -> QDateEdit:
        edit = QDateEdit(QDate(day.year, day.month, day.day))
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
        return edit

    # --- inputs --------------------------------------------------------------------------------
    def set_user(self, user: object) -> None:
        self.user = user if isinstance(user, UserRow) else None
        manager = self.user is not None and self.user.role is not Role.AGENT
        self.client_box.setVisible(manager)
        self._stale = True
        if self.isVisible():
            self.reload()

    def period_kind(self) -> PeriodKind:
        return PeriodKind(self.period_combo.currentData())  # Qt hands the enum back as a plain str

    def _on_period(self) -> None:
        custom = self.period_kind() is PeriodKind.CUSTOM
        self.first_edit.setEnabled(custom)
        self.last_edit.setEnabled(custom)
        self.reload()

    def _on_changes(self, changes: Changes, _initiator: object) -> None:
        if changes.tickets or changes.sop or changes.escalations or changes.qa or changes.users:
            self._stale = True
            if self.isVisible():
                self.reload()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._clients_loaded:
            self._clients_loaded = True
            reports = self._reports
            self._runner.run_db(lambda _ctx: reports.clients(), on_done=self._show_clients)
        if self._stale:
            self.reload()

    def _show_clients(self, clients: list[ClientRow]) -> None:
        for client in clients:
            self.client_combo.addItem(client.name, client.id)

    # --- the report ----------------------------------------------------------------------------
    def reload(self) -> None:
        if not self.isVisible():
            self._stale = True
            return
        if self.user is None:
            self.status_label.setText(_("请先在右上角选择当前用户，再查看报表。"))
            return
        if self._busy:
            self._queued = True
            return
        self._stale = False
        self._busy = True
        kind = self.period_kind()
        first, last = _day(self.first_edit), _day(self.last_edit)
        client_id: str | None = self.client_combo.currentData()
        actor_id, reports = self.user.id, self._reports
        self.refresh_button.setEnabled(False)
        self.status_label.setText(_("正在统计…"))

        def read(ctx: TaskContext) -> WorkReport:
            def progress(done: int, total: int, label: str) -> None:
                ctx.check()  # 取消 stops between steps; a report writes nothing, so nothing is left half-done
                ctx.progress(done, total, label)

            period = reports.period(kind, first_day=first, last_day=last)
            return reports.report(actor_id=actor_id, period=period, client_id=client_id, progress=progress)

        self.progress_bar.setValue(0)
        self.progress_bar.show()
        self.cancel_button.show()
        self._task = self._runner.run_db(
            read, on_done=self._show, on_error=self._failed, on_progress=self._on_progress
        )

    def cancel(self) -> None:
        if self._task is not None and self._busy:
            self._queued = False
            self._task.cancel()

    def _on_progress(self, done: int, total: int, label: str) -> None:
        self.progress_bar.setMaximum(total)
        self.progress_bar.setValue(done)
        self.status_label.setText(_("正在统计：{step}…").format(step=label))

    def _show(self, report: WorkReport) -> None:
        self._finish()
        self.report = report
        self.agent_model.set_lines(report.agents, report.total)
        self.client_model.set_lines(report.clients)
        self.export_button.setEnabled(True)
        scope = self.client_combo.currentText() if report.client_id else _("全部品牌方")
        note = "" if report.total is not None else _("（客服只能看到自己的统计）")
        self.status_label.setText(
            _("{period} · {scope} · 统计于 {time}{note}").format(
                period=report.period.label,
                scope=scope,
                time=format_local(report.generated_at, now=self._now()),
                note=note,
            )
        )
        self.loaded.emit()

    def _failed(self, exc: BaseException) -> None:
        self._finish()
        if isinstance(exc, Cancelled):
            self.status_label.setText(_("已取消统计。表中仍是上一次的结果，可随时点「刷新」重新统计。"))
        elif isinstance(exc, USER_ERRORS):
            self.status_label.setText(_("无法生成报表：{error}").format(error=exc))
        else:
            self.status_label.setText(
                _("生成报表时出错，已显示的内容保持不变。详情已写入日志，请点「刷新」重试。")
            )

    def _finish(self) -> None:
        self._busy = False
        self.refresh_button.setEnabled(True)
        self.progress_bar.hide()
        self.cancel_button.hide()
        if self._queued:
            self._queued = False
            self.reload()

    # --- export --------------------------------------------------------------------------------
    def _ask_export(self) -> None:
        if self.report is None:
            return
        suggested = (
            f"工作报表_{self.report.period.first_day:%Y%m%d}-{self.report.period.last_day:%Y%m%d}.xlsx"
        )
        path, _filter = QFileDialog.getSaveFileName(
            self, _("导出报表"), str(Path.home() / suggested), _("Excel 工作簿 (*.xlsx);;CSV 文件 (*.csv)")
        )
        if path:
            self.export_to(Path(path))

    def export_to(self, path: Path) -> None:
        report = self.report
        if report is None:
            return
        client = self.client_combo.currentText() if report.client_id else None
        self.status_label.setText(_("正在导出…"))
        self._runner.run_cpu(
            lambda _ctx: write_work_report(report, path, client_name=client),
            on_done=self._exported,
            on_error=self._export_failed,
        )

    def _export_failed(self, exc: BaseException) -> None:
        if isinstance(exc, USER_ERRORS):
            self.status_label.setText(_("未导出：{error}").format(error=exc))
        else:
            self.status_label.setText(_("导出时出错，未写入文件。详情已写入日志。"))

    def _exported(self, path: Path) -> None:
        self.status_label.setText(_("已导出到 {path}").format(path=path))
        self.exported.emit(str(path))


def _day(edit: QDateEdit) -> date:
    picked = edit.date()
    return date(picked.year(), picked.month(), picked.day())

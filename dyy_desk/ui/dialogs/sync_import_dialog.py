"""导入数据包… : check a bundle in the worker (the same pass as the import, always rolled back), show
per table what it would add, change or leave, the conflicts (buyer phone and address masked) and
missing bundles; then apply it with progress.

取消 during 检查 or 应用 sets the task's cancel flag; the service rolls its one transaction back, so a
cancelled import has written nothing. Closing the dialog while applying means 取消.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dyy_desk.core.i18n import N_, _
from dyy_desk.core.sync.errors import BundleError
from dyy_desk.core.sync.merge import Conflict
from dyy_desk.core.sync.records import canonical_json
from dyy_desk.services.errors import ServiceError
from dyy_desk.services.escalation_service import EscalationService
from dyy_desk.services.sync_export import SyncCancelled
from dyy_desk.services.sync_registry import spec_for
from dyy_desk.services.sync_report import ImportReport
from dyy_desk.services.sync_team import SyncService
from dyy_desk.services.tickets import TicketService
from dyy_desk.ui.signals import AppSignals
from dyy_desk.ui.tasks import TaskContext, TaskRunner

TABLE_COLUMNS = (N_("表"), N_("新增"), N_("修改"), N_("冲突"), N_("未变"))


def masked_value(table: str, field: str, value: object) -> str:
    """A conflict's value as text, with buyers' personal data masked the way exports mask it."""
    spec = spec_for(table)
    masker = spec.personal.get(field) if spec else None
    if masker is not None and isinstance(value, str):
        value = masker(value) or ""
    text = value if isinstance(value, str) else canonical_json(value)  # type: ignore[arg-type]
    return text if len(text) <= 40 else text[:39] + "…"


def conflict_line(conflict: Conflict, names: dict[str, str]) -> str:
    spec = spec_for(conflict.table)
    label = spec.label if spec and spec.label else conflict.table
    kept = names.get(conflict.kept_origin, conflict.kept_origin[:6])
    lost = names.get(conflict.discarded_origin, conflict.discarded_origin[:6])
    return _(
        "{label} {record_id} 字段 {field}：保留“{masked_value}”（{kept}），舍弃“{masked_value2}”（{lost}）"
    ).format(
        label=label,
        record_id=conflict.record_id[:8],
        field=conflict.field,
        masked_value=masked_value(conflict.table, conflict.field, conflict.kept),
        kept=kept,
        masked_value2=masked_value(conflict.table, conflict.field, conflict.discarded),
        lost=lost,
    )


def failure_text(exc: BaseException, verb: str = N_("导入")) -> str:
    """What happened and what was kept; the stack trace is in the log (the task runner wrote it)."""
    verb = _(verb)
    if isinstance(exc, BundleError):
        return _("已拒绝{verb}：{message}\n本机数据未做任何改动。").format(verb=verb, message=exc.message)
    if isinstance(exc, SyncCancelled):
        return _("已取消，本机数据未做任何改动。")
    if isinstance(exc, ServiceError | OSError):
        return _("无法{verb}：{exc}\n本机数据未做任何改动。").format(verb=verb, exc=exc)
    return _("{verb}时出现意外错误，详情已写入日志。本机数据未做任何改动。").format(verb=verb)


class SyncImportDialog(QDialog):
    preview_ready = Signal(object)  # ImportReport, or None when the file was refused
    applied = Signal(object)  # ImportReport
    failed = Signal(str)

    def __init__(
        self,
        *,
        path: Path,
        sync: SyncService,
        tickets: TicketService,
        escalations: EscalationService,
        runner: TaskRunner,
        signals: AppSignals,
        initiator: object = None,
        actor_id: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("导入数据包 {name}").format(name=path.name))
        self._path, self._sync, self._tickets, self._escalations = path, sync, tickets, escalations
        self._runner, self._signals, self._initiator = runner, signals, initiator
        self._actor_id = actor_id  # who the audit log names for this import
        self.report: ImportReport | None = None
        self._task: TaskContext | None = None
        self._applying = False
        self.summary_label = QLabel(_("正在检查数据包…"))
        self.summary_label.setWordWrap(True)
        self.table = QTableWidget(0, len(TABLE_COLUMNS))
        self.table.setHorizontalHeaderLabels([_(c) for c in TABLE_COLUMNS])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setPlaceholderText(_("没有冲突，也没有缺少的数据包。"))
        self.progress = QProgressBar()
        self.buttons = QDialogButtonBox()
        self.apply_button = QPushButton(_("应用"))
        self.apply_button.setEnabled(False)
        self.apply_button.clicked.connect(self.apply)
        self.cancel_button = QPushButton(_("取消"))
        self.cancel_button.clicked.connect(self.cancel)
        self.buttons.addButton(self.apply_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton(self.cancel_button, QDialogButtonBox.ButtonRole.RejectRole)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.table)
        layout.addWidget(QLabel(_("冲突与提示（买家手机号、地址已打码）：")))
        layout.addWidget(self.details)
        layout.addWidget(self.progress)
        layout.addWidget(self.buttons)
        self.resize(640, 520)
        self._task = runner.run_db(
            lambda ctx: sync.preview(path=path, progress=ctx.progress, cancel=lambda: ctx.cancelled),
            on_done=self._show_preview,
            on_error=self._preview_failed,
            on_progress=self._on_progress,
        )

    # --- preview -----------------------------------------------------------------------------
    def _show_preview(self, report: ImportReport) -> None:
        self._task = None
        self.report = report
        self.progress.setValue(self.progress.maximum())
        number = (
            _("第 {sequence} 号数据包").format(sequence=report.sequence) if report.sequence else _("数据包")
        )
        lines = [
            _("来自 {origin_name} 的电脑的{number}。").format(origin_name=report.origin_name, number=number)
        ]
        if report.masked:
            lines.append(_("此数据包中的买家手机号、地址已打码，不会覆盖本机的真实信息。"))
        lines.append(_("没有需要导入的改动。") if report.is_noop else _("确认无误后点“应用”。"))
        self.summary_label.setText("\n".join(lines))
        self.table.setRowCount(len(report.tables))
        for row, t in enumerate(report.tables):
            for column, value in enumerate((t.label, t.new, t.changed, t.conflicting, t.unchanged)):
                self.table.setItem(row, column, QTableWidgetItem(str(value)))
        names = self._names()
        detail = [conflict_line(c, names) for c in report.conflicts]
        if report.conflict_count > len(report.conflicts):
            detail.append(
                _("……共 {conflict_count} 处冲突，只列出前 {count} 处").format(
                    conflict_count=report.conflict_count, count=len(report.conflicts)
                )
            )
        if report.conflict_count:
            detail.insert(
                0,
                _("冲突 {conflict_count} 处（两台电脑同时修改了同一字段，按最后修改保留）：").format(
                    conflict_count=report.conflict_count
                ),
            )
        detail += [_("缺少数据包：{name}").format(name=g) for g in report.gaps]
        detail += [_("警告：{warning}").format(warning=w) for w in report.warnings]
        self.details.setPlainText("\n".join(detail))
        self.apply_button.setEnabled(not report.is_noop)
        self.preview_ready.emit(report)

    def _names(self) -> dict[str, str]:
        try:
            return self._sync.peer_names()  # one small read; the preview has finished
        except ServiceError:
            return {}

    def _preview_failed(self, exc: BaseException) -> None:
        self._task = None
        self.summary_label.setText(failure_text(exc))
        self.summary_label.setObjectName("errorLabel")
        self.progress.hide()
        self.cancel_button.setText(_("关闭"))
        self.cancel_button.setEnabled(True)
        self.preview_ready.emit(None)

    # --- apply -------------------------------------------------------------------------------
    def apply(self) -> None:
        if self.report is None or self._applying:
            return
        self._applying = True
        self.apply_button.setEnabled(False)
        self.summary_label.setText(_("正在导入…（取消将不写入任何内容）"))
        self.progress.setValue(0)
        self.progress.show()
        path, sync, tickets, escalations = self._path, self._sync, self._tickets, self._escalations
        actor_id = self._actor_id

        def work(ctx: TaskContext) -> ImportReport:
            report = sync.apply(
                path=path,
                progress=ctx.progress,
                cancel=lambda: ctx.cancelled,
                on_tickets_changed=tickets.invalidate_queue,
                actor_id=actor_id,
            )
            escalations.invalidate()
            return report

        self._task = self._runner.run_db(
            work, on_done=self._applied, on_error=self._apply_failed, on_progress=self._on_progress
        )

    def _applied(self, report: ImportReport) -> None:
        self._task = None
        self._applying = False
        self.report = report
        self.applied.emit(report)
        self._signals.operation_did_execute.emit(report.changes, self._initiator)
        self.accept()

    def _apply_failed(self, exc: BaseException) -> None:
        self._task = None
        self._applying = False
        text = failure_text(exc)
        self.summary_label.setText(text)
        self.progress.hide()
        self.cancel_button.setText(_("关闭"))
        self.cancel_button.setEnabled(True)
        self.failed.emit(text)

    def _on_progress(self, value: int, maximum: int, label: str) -> None:
        self.progress.setMaximum(max(maximum, 1))
        self.progress.setValue(value)
        self.progress.setFormat(f"{label} %p%")

    def cancel(self) -> None:
        """取消: stop the running check or import (it rolls back); otherwise close."""
        if self._task is not None:
            self._task.cancel()
            self.cancel_button.setEnabled(False)
            self.summary_label.setText(_("正在取消…"))
            return
        self.reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._task is not None:
            self._task.cancel()
        super().closeEvent(event)

    def reject(self) -> None:
        if self._task is not None:
            self._task.cancel()
            return  # closes when the worker has rolled back (see _apply_failed / _preview_failed)
        super().reject()

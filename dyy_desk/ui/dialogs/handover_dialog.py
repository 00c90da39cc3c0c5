"""交接班: deadlines falling due in the next N hours (default 4), to hand over at the end of a shift."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import QModelIndex, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QDialog,
    QDoubleSpinBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from dyy_desk.core.i18n import _
from dyy_desk.services.sop_service import SopService
from dyy_desk.services.sop_views import DeadlineItem
from dyy_desk.ui.models.sop_models import HandoverModel, handover_text
from dyy_desk.ui.signals import AppSignals
from dyy_desk.ui.tasks import TaskRunner


class HandoverDialog(QDialog):
    loaded = Signal(int)  # number of deadlines listed
    ticket_chosen = Signal(str)

    def __init__(
        self,
        *,
        sop: SopService,
        runner: TaskRunner,
        signals: AppSignals,
        clock_now: Callable[[], datetime],
        hours: float = 4,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("交接班 · 即将到期的处理时限"))
        self._sop = sop
        self._runner = runner
        self._now = clock_now
        self.hours_spin = QDoubleSpinBox()
        self.hours_spin.setRange(0.5, 72)
        self.hours_spin.setSingleStep(1)
        self.hours_spin.setDecimals(1)
        self.hours_spin.setSuffix(_(" 小时内"))
        self.hours_spin.setValue(hours)
        self.summary = QLabel()
        self.model = HandoverModel(clock_now)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.copy_button = QPushButton(_("复制交接清单"))
        self.refresh_button = QPushButton(_("刷新"))
        close = QPushButton(_("关闭"))
        top = QHBoxLayout()
        top.addWidget(QLabel(_("列出")))
        top.addWidget(self.hours_spin)
        top.addWidget(QLabel(_("到期及已超时的步骤")))
        top.addStretch(1)
        top.addWidget(self.refresh_button)
        bottom = QHBoxLayout()
        bottom.addWidget(self.summary, 1)
        bottom.addWidget(self.copy_button)
        bottom.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addLayout(bottom)
        self.hours_spin.valueChanged.connect(lambda _v: self.reload())
        self.refresh_button.clicked.connect(self.reload)
        self.copy_button.clicked.connect(self.copy)
        close.clicked.connect(self.accept)
        self.table.doubleClicked.connect(self._choose)
        signals.tick.connect(self.model.tick)
        self._items: list[DeadlineItem] = []
        self.reload()

    def reload(self) -> None:
        hours, now = self.hours_spin.value(), self._now()
        self._runner.run_db(lambda _ctx: self._sop.handover(now=now, hours=hours), on_done=self._apply)

    def _apply(self, items: list[DeadlineItem]) -> None:
        self._items = items
        self.model.set_items(items)
        self.summary.setText(
            _("共 {count} 项；双击一行打开工单").format(count=len(items))
            if items
            else _("接下来这段时间没有到期的处理时限。")
        )
        self.loaded.emit(len(items))

    def text(self) -> str:
        return handover_text(self._items, self._now(), self.hours_spin.value())

    def copy(self) -> None:
        QApplication.clipboard().setText(self.text())
        self.summary.setText(_("已复制，可粘贴到交接群或交接本"))

    def _choose(self, index: QModelIndex) -> None:
        self.ticket_chosen.emit(self.model.item(index.row()).ticket_id)

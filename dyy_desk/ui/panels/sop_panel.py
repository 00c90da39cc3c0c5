"""SOP: the after-sales board (every running checklist, soonest loss first, live countdowns) and the
templates and working hours in force (read-only here; supervisors change them from the command line).

Every read runs in the TaskRunner's database lane; callbacks only paint. The board is read again when
an operation touched tickets or checklists, and only while the area is on screen (otherwise when it is
next shown); between reads the window tick repaints countdowns and re-applies the time filters.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import QEvent, QModelIndex, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent, QShowEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from dyy_desk.core.changes import Changes
from dyy_desk.core.i18n import _
from dyy_desk.core.types import Role, UserRow
from dyy_desk.services.sop_board import BoardRow, ScheduleView, SopBoard, TemplateRow
from dyy_desk.services.sop_service import SopService
from dyy_desk.ui.models.sop_board_models import (
    BOARD_FILTER_LABELS,
    BoardFilter,
    SopBoardModel,
    SopTemplateModel,
)
from dyy_desk.ui.signals import AppSignals
from dyy_desk.ui.tasks import TaskRunner
from dyy_desk.ui.widgets.row_table import empty_label, row_table

_ENTER_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


class SopPanel(QWidget):
    loaded = Signal(str)  # "board" or "templates": tests wait on it

    def __init__(
        self,
        *,
        sop: SopService,
        runner: TaskRunner,
        signals: AppSignals,
        clock_now: Callable[[], datetime],
    ) -> None:
        super().__init__()
        self._board = SopBoard.of(sop)
        self._runner = runner
        self._signals = signals
        self._now = clock_now
        self.user: UserRow | None = None
        self._loading = False
        self._pending = False  # changes arrived while a read ran: read once more when it ends
        self._stale = True  # the board needs a read when next shown
        self._templates_stale = True  # read when the templates tab is next looked at

        self.model = SopBoardModel(clock_now)
        self.table = row_table(self.model, stretch=7)
        self.table.installEventFilter(self)
        self.filter_buttons: dict[BoardFilter, QPushButton] = {}
        self._filter_group = QButtonGroup(self)
        self._filter_group.setExclusive(True)
        bar = QHBoxLayout()
        for wanted in BoardFilter:
            button = QPushButton(_(BOARD_FILTER_LABELS[wanted]))
            button.setCheckable(True)
            button.clicked.connect(lambda _c=False, f=wanted: self.set_filter(f))
            self._filter_group.addButton(button)
            self.filter_buttons[wanted] = button
            bar.addWidget(button)
        bar.addStretch(1)
        self.status_label = QLabel()
        self.status_label.setObjectName("mutedLabel")
        bar.addWidget(self.status_label)
        self.refresh_button = QPushButton(_("刷新"))
        self.refresh_button.clicked.connect(self.reload)
        bar.addWidget(self.refresh_button)

        self.empty_label = empty_label("")
        self.board_stack = QStackedWidget()
        self.board_stack.addWidget(self.empty_label)
        self.board_stack.addWidget(self.table)
        hint = QLabel(_("按最先造成损失的步骤排序；双击或按 Enter 在工单列表中打开该工单。"))
        hint.setObjectName("mutedLabel")
        board_tab = QWidget()
        board_layout = QVBoxLayout(board_tab)
        board_layout.addLayout(bar)
        board_layout.addWidget(self.board_stack, 1)
        board_layout.addWidget(hint)

        self.tabs = QTabWidget()
        self.tabs.addTab(board_tab, _("进行中的处理清单"))
        self.tabs.addTab(self._templates_tab(), _("模板与工作时间"))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs)

        self.model.modelAboutToBeReset.connect(self._remember_selection)
        self.model.modelReset.connect(self._after_reset)
        self._selected_ticket: str | None = None
        self.table.doubleClicked.connect(self._open)
        self.tabs.currentChanged.connect(self._on_tab)
        signals.tick.connect(self._tick)
        signals.user_changed.connect(self.set_user)
        signals.operation_did_execute.connect(self._on_changes)
        self.set_user(signals.current_user)

    # --- templates tab -----------------------------------------------------------------------
    def _templates_tab(self) -> QWidget:
        note = QLabel(
            _(
                "此处只读。主管修改模板或工作时间请用命令行："
                "<code>dyy-desk sop import-template 模板.toml</code>"
                "（导入新版本，进行中的清单仍按原版本计时）；"
                "<code>dyy-desk sop set-business-hours 工作时间.toml</code>。"
            )
        )
        note.setWordWrap(True)
        note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.template_model = SopTemplateModel()
        self.template_table = row_table(self.template_model, stretch=1)
        self.schedule_label = QLabel()
        self.schedule_label.setWordWrap(True)
        self.schedule_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.schedule_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        hours = QGroupBox(_("工作时间（按工作时间计时的步骤用）"))
        QVBoxLayout(hours).addWidget(self.schedule_label)
        body = QHBoxLayout()
        body.addWidget(self.template_table, 3)
        body.addWidget(hours, 1)
        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.addWidget(note)
        layout.addLayout(body, 1)
        return tab

    def load_templates(self) -> None:
        now = self._now()
        board = self._board
        self._runner.run_db(
            lambda _ctx: (board.templates(now=now), board.schedule_view(now=now)),
            on_done=self._show_templates,
            on_error=lambda exc: self.schedule_label.setText(_("无法读取模板：{error}").format(error=exc)),
        )

    def _show_templates(self, result: tuple[list[TemplateRow], ScheduleView]) -> None:
        templates, schedule = result
        self._templates_stale = False
        self.template_model.set_rows(templates)
        self.schedule_label.setText(_schedule_html(schedule))
        self.loaded.emit("templates")

    def _on_tab(self, index: int) -> None:
        if index == 1 and self._templates_stale:
            self.load_templates()

    # --- board -------------------------------------------------------------------------------
    def set_user(self, user: object) -> None:
        """A different person at the keyboard starts from their own view: agents 我的, managers 全部."""
        self.user = user if isinstance(user, UserRow) else None
        self.model.set_user_id(self.user.id if self.user else None)
        agent = self.user is not None and self.user.role is Role.AGENT
        self.set_filter(BoardFilter.MINE if agent else BoardFilter.ALL)

    def set_filter(self, wanted: BoardFilter) -> None:
        self.filter_buttons[wanted].setChecked(True)
        self.model.set_filter(wanted)
        self._show_counts()

    def reload(self) -> None:
        """On the agent's lane: the person asked (shown the area, pressed 刷新) and is waiting."""
        self._read(self._runner.run_db)

    def _read(self, lane: Callable[..., object]) -> None:
        if self._loading:
            self._pending = True
            return
        self._stale = False
        self._loading = True
        now, board = self._now(), self._board
        self.status_label.setText(_("正在读取…"))
        lane(lambda _ctx: board.board(now=now), self._apply, self._failed)

    def _apply(self, rows: list[BoardRow]) -> None:
        self._loading = False
        self.model.set_rows(rows)
        self._show_counts()
        self.loaded.emit("board")
        self._read_pending()

    def _failed(self, exc: BaseException) -> None:
        self._loading = False
        self.status_label.setText(
            _("读取处理清单失败：{error}。已显示的内容保持不变，请点「刷新」重试。").format(error=exc)
        )
        self._read_pending()

    def _read_pending(self) -> None:
        if self._pending:
            self._pending = False
            self._read(self._runner.run_background)

    def _on_changes(self, changes: Changes, _initiator: object) -> None:
        if changes.sop or changes.tickets or changes.users:
            self._stale = True
            if self.isVisible():
                # maintenance lane: a teammate's edit never delays the filter this agent just typed
                self._read(self._runner.run_background)
        if changes.sop:
            self._templates_stale = True
            if self.isVisible() and self.tabs.currentIndex() == 1:
                self.load_templates()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self.reload()
        else:  # the tick only repaints while shown: catch up with the clock at once
            self._tick()

    def _tick(self) -> None:
        if self.isVisible():
            self.model.tick()
            self._show_counts()

    def _show_counts(self) -> None:
        counts = self.model.counts()
        for wanted, button in self.filter_buttons.items():
            button.setText(f"{_(BOARD_FILTER_LABELS[wanted])} ({counts[wanted]})")
        if not self._loading:
            self.status_label.setText(
                _("共 {total} 个进行中的处理清单").format(total=self.model.total())
                if self.model.total()
                else ""
            )
        self._show_empty()

    def _show_empty(self) -> None:
        if self.model.rowCount():
            self.board_stack.setCurrentIndex(1)
            return
        if self._loading and not self.model.total():
            text = _("正在读取处理清单…")
        elif not self.model.total():
            text = _(
                "目前没有进行中的处理清单。\n在工单详情里点「开始处理清单」后，"
                "退货、换货、仅退款等售后的每一步时限都会显示在这里。"
            )
        else:
            text = {
                BoardFilter.DUE_SOON: _("没有即将超时的步骤。"),
                BoardFilter.OVERDUE: _("没有已超时的步骤。"),
                BoardFilter.MINE: _("没有分配给你的进行中处理清单。点「全部」查看团队的清单。"),
                BoardFilter.ALL: "",
            }[self.model.filter]
        self.empty_label.setText(text)
        self.board_stack.setCurrentIndex(0)

    # --- opening a ticket --------------------------------------------------------------------
    def _remember_selection(self) -> None:
        current = self.table.currentIndex()
        self._selected_ticket = self.model.row_at(current.row()).ticket_id if current.isValid() else None

    def _after_reset(self) -> None:
        self._show_empty()
        if self._selected_ticket is None:
            return
        for n, row in enumerate(self.model.rows()):
            if row.ticket_id == self._selected_ticket:
                self.table.selectRow(n)
                return

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.table
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in _ENTER_KEYS
        ):
            self._open(self.table.currentIndex())
            return True
        return super().eventFilter(watched, event)

    def _open(self, index: QModelIndex) -> None:
        if index.isValid():
            self._signals.ticket_selected.emit(self.model.row_at(index.row()).ticket_id)


def _schedule_html(view: ScheduleView) -> str:
    days = "".join(
        f"<tr><td>{d.label}</td><td>{'、'.join(d.shifts) if d.shifts else _('休息')}</td></tr>"
        for d in view.weekly
    )
    holidays = "、".join(f"{d:%m-%d}" for d in view.holidays[:12]) or _("无")
    if len(view.holidays) > 12:
        holidays += _(" 等 {count} 天").format(count=len(view.holidays))
    makeup = "、".join(f"{d:%m-%d}" for d in view.makeup_workdays) or _("无")
    return _(
        "<p>时区：{timezone}</p><table cellspacing='4'>{days}</table>"
        "<p>接下来的节假日：{holidays}</p><p>调休上班：{makeup}（按{uses}的时段）</p>"
        "<p style='color:#666'>平台规则的时效多按自然时间计算，不受工作时间影响。</p>"
    ).format(timezone=view.timezone, days=days, holidays=holidays, makeup=makeup, uses=view.makeup_uses)

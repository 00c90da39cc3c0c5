"""升级: the supervisors' board (by level or by first-response deadline, live countdown, client/shop
filter), the selected escalation's detail with its lifecycle, and 我发起的升级 for the agent who raised
one. Every service call runs in the TaskRunner; callbacks only paint."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from dyy_desk.core.changes import Changes
from dyy_desk.core.escalation_lifecycle import EscalationTransitionError
from dyy_desk.core.escalation_model import ESCALATION_STATUS_LABELS, LEVEL_LABELS, EscalationLevel, PostMortem
from dyy_desk.core.i18n import _
from dyy_desk.core.timefmt import format_local
from dyy_desk.core.types import UserRow
from dyy_desk.services.errors import ServiceError
from dyy_desk.services.escalation_access import MANAGERS
from dyy_desk.services.escalation_service import EscalationService
from dyy_desk.services.escalation_views import (
    BoardFilter,
    BoardScope,
    BoardSort,
    EscalationDetail,
    EscalationOp,
    EscalationRow,
)
from dyy_desk.services.tickets import TicketService
from dyy_desk.ui.models.escalation_models import (
    EscalationBoardModel,
    EscalationTableModel,
    countdown_text,
    level_badge,
)
from dyy_desk.ui.signals import AppSignals
from dyy_desk.ui.tasks import TaskRunner
from dyy_desk.ui.widgets.row_table import row_table, with_empty_state

USER_ERRORS = (ServiceError, PermissionError, EscalationTransitionError, ValueError)
BOARD_PAGE = 100  # escalations read per page of the board (Qt asks for the next as the agent scrolls)
_STEP_OPS = (EscalationOp.ACKNOWLEDGE, EscalationOp.START, EscalationOp.RESOLVE, EscalationOp.CLOSE)


class EscalationPanel(QWidget):
    loaded = Signal(str)  # "board", "mine", "detail", "people": tests wait on it
    message = Signal(str)  # every user-facing error or confirmation, also shown in the status line

    def __init__(
        self,
        *,
        escalations: EscalationService,
        tickets: TicketService,
        runner: TaskRunner,
        signals: AppSignals,
        clock_now: Callable[[], datetime],
    ) -> None:
        super().__init__()
        self._service = escalations
        self._tickets = tickets
        self._runner = runner
        self._signals = signals
        self._now = clock_now
        self.user: UserRow | None = None
        self.detail: EscalationDetail | None = None

        self.board = EscalationBoardModel(clock_now)
        self.board.more_wanted.connect(self._fetch_more)
        self._board_filter = BoardFilter()
        self._shops: tuple[tuple[str, str, str], ...] = ()
        self.mine = EscalationTableModel(clock_now)
        self.mine.set_sort(BoardSort.DUE)
        self.board_view = row_table(self.board, stretch=3)
        self.mine_view = row_table(self.mine, stretch=3)

        self.sort_combo = QComboBox()
        self.sort_combo.addItem(_("按级别"), BoardSort.LEVEL)
        self.sort_combo.addItem(_("按首次响应截止"), BoardSort.DUE)
        self.client_combo = QComboBox()
        self.shop_combo = QComboBox()
        for combo in (self.client_combo, self.shop_combo):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.refresh_button = QPushButton(_("刷新"))
        self.status_label = QLabel()
        self.status_label.setObjectName("mutedLabel")
        self.status_label.setWordWrap(True)
        bar = QHBoxLayout()
        bar.addWidget(QLabel(_("排序")))
        bar.addWidget(self.sort_combo)
        bar.addWidget(QLabel(_("客户")))
        bar.addWidget(self.client_combo)
        bar.addWidget(QLabel(_("店铺")))
        bar.addWidget(self.shop_combo)
        bar.addStretch(1)
        bar.addWidget(self.refresh_button)

        self.tabs = QTabWidget()
        self.tabs.addTab(
            with_empty_state(
                self.board_view,
                _(
                    "目前没有待处理的升级。\n"
                    "差评集中、同一问题重复投诉、平台介入、信息泄露或 SOP 步骤超时时，"
                    "系统会自动升级到这里；客服也可以在工单详情里手动升级。"
                ),
            ),
            _("升级看板"),
        )
        self.tabs.addTab(
            with_empty_state(
                self.mine_view,
                _("你还没有手动升级过工单。\n在工单详情里点「升级」，主管的处理进展会显示在这里。"),
            ),
            _("我发起的升级"),
        )
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.tabs)
        self.splitter.addWidget(self._detail_pane())
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.status_label)

        self.sort_combo.currentIndexChanged.connect(self._apply_filter)
        self.client_combo.currentIndexChanged.connect(self._on_client)
        self.shop_combo.currentIndexChanged.connect(self._apply_filter)
        self.refresh_button.clicked.connect(self.reload)
        for view in (self.board_view, self.mine_view):
            view.selectionModel().selectionChanged.connect(
                lambda _s, _d, v=view: self._on_select(v)  # type: ignore[misc]
            )
        self.message.connect(self.status_label.setText)
        signals.user_changed.connect(self.set_user)
        signals.operation_did_execute.connect(self._on_changes)
        signals.tick.connect(self._tick)
        self._show_detail(None)

    # --- detail pane -------------------------------------------------------------------------------
    def _detail_pane(self) -> QWidget:
        self.title_label = QLabel()
        self.title_label.setWordWrap(True)
        self.title_label.setTextFormat(Qt.TextFormat.PlainText)
        self.reason_label = QLabel()
        self.reason_label.setWordWrap(True)
        # Model/view: an escalation's evidence and history grow with it (a crisis gathers many tickets).
        self.evidence_model = QStandardItemModel(self)
        self.evidence_list = _list_view(self.evidence_model)
        self.evidence_list.setToolTip(_("单击打开该工单"))
        self.history_model = QStandardItemModel(self)
        self.history_list = _list_view(self.history_model)
        self.pm_edits = {key: QLineEdit() for key in ("cause", "impact", "actions", "prevention")}
        self.pm_button = QPushButton(_("保存复盘"))
        self.fu_satisfied = QComboBox()
        self.fu_satisfied.addItem(_("满意"), True)
        self.fu_satisfied.addItem(_("不满意"), False)
        self.fu_note = QLineEdit()
        self.fu_note.setPlaceholderText(_("回访说明，例如：电话回访，买家已收到补发"))
        self.fu_button = QPushButton(_("保存回访"))
        pm_page, pm_form = QWidget(), QFormLayout()
        for key, label in (
            ("cause", _("原因")),
            ("impact", _("影响")),
            ("actions", _("已采取措施")),
            ("prevention", _("预防措施")),
        ):
            pm_form.addRow(label, self.pm_edits[key])
        pm_form.addRow("", self.pm_button)
        pm_page.setLayout(pm_form)
        fu_page, fu_form = QWidget(), QFormLayout()
        fu_form.addRow(_("结果"), self.fu_satisfied)
        fu_form.addRow(_("说明"), self.fu_note)
        fu_form.addRow("", self.fu_button)
        fu_page.setLayout(fu_form)
        self.detail_tabs = QTabWidget()
        self.detail_tabs.addTab(self.evidence_list, _("证据工单"))
        self.detail_tabs.addTab(self.history_list, _("处理记录"))
        self.detail_tabs.addTab(pm_page, _("复盘"))
        self.detail_tabs.addTab(fu_page, _("回访"))

        self.owner_combo = QComboBox()
        self.ack_button = QPushButton(_("响应"))
        self.ack_button.setToolTip(_("接手这条升级，并指定负责人"))
        self.start_button = QPushButton(_("开始处理"))
        self.resolve_button = QPushButton(_("标记解决"))
        self.close_button = QPushButton(_("关闭"))
        self.reopen_button = QPushButton(_("重新处理"))
        self.level_combo = QComboBox()
        for level in EscalationLevel:
            self.level_combo.addItem(f"{level.code} {_(LEVEL_LABELS[level])}", level)
        self.level_button = QPushButton(_("调整级别"))
        self.note_edit = QLineEdit()
        self.note_edit.setPlaceholderText(_("原因 / 说明（调整级别、重新处理时必填）"))
        self.refusal_label = QLabel()
        self.refusal_label.setObjectName("errorLabel")
        self.refusal_label.setWordWrap(True)
        grid = QGridLayout()
        grid.addWidget(QLabel(_("负责人")), 0, 0)
        grid.addWidget(self.owner_combo, 0, 1)
        grid.addWidget(self.ack_button, 0, 2)
        grid.addWidget(self.start_button, 0, 3)
        grid.addWidget(self.resolve_button, 1, 2)
        grid.addWidget(self.close_button, 1, 3)
        grid.addWidget(QLabel(_("级别")), 1, 0)
        grid.addWidget(self.level_combo, 1, 1)
        grid.addWidget(self.note_edit, 2, 0, 1, 2)
        grid.addWidget(self.level_button, 2, 2)
        grid.addWidget(self.reopen_button, 2, 3)
        grid.setColumnStretch(1, 1)
        self._buttons: dict[EscalationOp, QPushButton] = {
            EscalationOp.ACKNOWLEDGE: self.ack_button,
            EscalationOp.START: self.start_button,
            EscalationOp.RESOLVE: self.resolve_button,
            EscalationOp.CLOSE: self.close_button,
            EscalationOp.REOPEN: self.reopen_button,
            EscalationOp.CHANGE_LEVEL: self.level_button,
            EscalationOp.POST_MORTEM: self.pm_button,
            EscalationOp.FOLLOW_UP: self.fu_button,
        }
        self.ack_button.clicked.connect(self.acknowledge)
        self.start_button.clicked.connect(
            lambda: self._write(lambda s, e, a: s.start(escalation_id=e, actor_id=a))
        )
        self.resolve_button.clicked.connect(self.resolve_selected)
        self.close_button.clicked.connect(self.close_selected)
        self.reopen_button.clicked.connect(self.reopen_selected)
        self.level_button.clicked.connect(self.change_level)
        self.pm_button.clicked.connect(self.save_post_mortem)
        self.fu_button.clicked.connect(self.save_follow_up)
        self.evidence_list.clicked.connect(self._open_ticket)
        self.evidence_list.activated.connect(self._open_ticket)

        pane = QWidget()
        layout = QVBoxLayout(pane)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title_label)
        layout.addWidget(self.reason_label)
        layout.addWidget(self.detail_tabs, 1)
        layout.addLayout(grid)
        layout.addWidget(self.refusal_label)
        return pane

    # --- loading -----------------------------------------------------------------------------------
    def set_user(self, user: UserRow | None) -> None:
        self.user = user
        if user is not None:
            self.tabs.setCurrentIndex(0 if user.role in MANAGERS else 1)
        self.reload()
        self._runner.run_db(lambda _ctx: self._service.people(), on_done=self._show_people)

    def reload(self) -> None:
        self._runner.run_db(
            lambda _ctx: self._service.board_scope(), on_done=self._fill_filters, on_error=self._error
        )
        self._load_board()
        user_id = self.user.id if self.user else None
        if user_id:
            self._runner.run_db(
                lambda _ctx: self._service.raised_by_me(actor_id=user_id),
                on_done=self._show_mine,
                on_error=self._error,
            )
        else:
            self._show_mine([])
        if self.detail is not None:
            self.load_detail(self.detail.row.id)

    def _load_board(self) -> None:
        board = self._board_filter
        self._runner.run_db(
            lambda _ctx: self._service.board_page(board=board, limit=BOARD_PAGE),
            on_done=lambda page: self._show_board(board, page),
            on_error=self._error,
        )

    def _show_board(self, board: BoardFilter, page: tuple[list[EscalationRow], int]) -> None:
        if board != self._board_filter:
            return  # the sort or filter changed while this page was read; its own page follows
        rows, total = page
        self.board.reset_page(rows, total)
        self._reselect(self.board_view, self.board)
        self.loaded.emit("board")

    def _fetch_more(self, generation: int, offset: int) -> None:
        board = self._board_filter
        self._runner.run_db(
            lambda _ctx: self._service.board_page(board=board, offset=offset, limit=BOARD_PAGE),
            on_done=lambda page: self.board.append_page(generation, offset, page[0], page[1]),
            on_error=self._error,
        )

    def _show_mine(self, rows: list[EscalationRow]) -> None:
        self.mine.set_rows(rows)
        self._reselect(self.mine_view, self.mine)
        self.loaded.emit("mine")

    def _show_people(self, people: list[UserRow]) -> None:
        self.owner_combo.clear()
        for person in people:
            self.owner_combo.addItem(person.name, person.id)
        if self.user is not None:
            self.owner_combo.setCurrentIndex(max(0, self.owner_combo.findData(self.user.id)))
        self.loaded.emit("people")

    def _reselect(self, view: QTableView, model: EscalationTableModel) -> None:
        if self.detail is not None and (row := model.row_of(self.detail.row.id)) >= 0:
            view.selectionModel().blockSignals(True)
            view.selectRow(row)
            view.selectionModel().blockSignals(False)

    def _fill_filters(self, scope: BoardScope) -> None:
        current = self.client_combo.currentData()
        self.client_combo.blockSignals(True)
        self.client_combo.clear()
        self.client_combo.addItem(_("全部客户"), None)
        for name, client_id in scope.clients:
            self.client_combo.addItem(name, client_id)
        self.client_combo.setCurrentIndex(max(0, self.client_combo.findData(current)))
        self.client_combo.blockSignals(False)
        self._shops = scope.shops
        self._fill_shops()

    def _fill_shops(self) -> None:
        client_id = self.client_combo.currentData()
        current = self.shop_combo.currentData()
        self.shop_combo.blockSignals(True)
        self.shop_combo.clear()
        self.shop_combo.addItem(_("全部店铺"), None)
        for name, shop_id, owner in self._shops:
            if not client_id or owner == client_id:
                self.shop_combo.addItem(name, shop_id)
        self.shop_combo.setCurrentIndex(max(0, self.shop_combo.findData(current)))
        self.shop_combo.blockSignals(False)
        self._apply_filter()

    def _on_client(self, _index: int) -> None:
        self._fill_shops()

    def _apply_filter(self, _index: int = 0) -> None:
        board = replace(
            self._board_filter,
            sort=BoardSort(self.sort_combo.currentData()),
            client_id=self.client_combo.currentData(),
            shop_id=self.shop_combo.currentData(),
        )
        if board != self._board_filter:
            self._board_filter = board
            self._load_board()

    def _on_select(self, view: QTableView) -> None:
        model = view.model()
        assert isinstance(model, EscalationTableModel)
        rows = view.selectionModel().selectedRows()
        row = model.row_at(rows[0].row()) if rows else None
        if row is not None:
            self.load_detail(row.id)

    def load_detail(self, escalation_id: str) -> None:
        user_id = self.user.id if self.user else None
        self._runner.run_db(
            lambda _ctx: self._service.detail(escalation_id=escalation_id, actor_id=user_id),
            on_done=self._show_detail,
            on_error=self._error,
        )

    def _show_detail(self, detail: EscalationDetail | None) -> None:
        self.detail = detail
        if detail is None:
            self.title_label.setText(_("在左侧选择一条升级，查看证据、处理记录并推进处理。"))
            self.reason_label.clear()
            self.evidence_model.clear()
            self.history_model.clear()
            for button in self._buttons.values():
                button.setEnabled(False)
            self.refusal_label.clear()
            return
        esc, now = detail.row.escalation, self._now()
        self._render_title()
        source = _("规则：{rule_name}").format(rule_name=detail.row.rule_name)
        if detail.row.raised_by_name:
            source += _("（{raised_by_name} 发起）").format(raised_by_name=detail.row.raised_by_name)
        self.reason_label.setText(f"{source}\n{esc.reason}")
        self.evidence_model.clear()
        for t in detail.row.tickets:
            step = _(" · 步骤 {step_id}").format(step_id=t.step_id) if t.step_id else ""
            item = QStandardItem(f"{t.number}  {t.subject}  {t.client_name} · {t.shop_name}{step}")
            item.setData(t.ticket_id, Qt.ItemDataRole.UserRole)
            item.setToolTip(
                _("发生于 {time}，单击打开工单").format(time=format_local(t.evidence_at, now=now))
            )
            self.evidence_model.appendRow(item)
        self.history_model.clear()
        for h in detail.history:
            who = h.actor_name or _("系统")
            self.history_model.appendRow(QStandardItem(f"{format_local(h.at, now=now)}  {who}：{h.text}"))
        pm = esc.post_mortem
        for key, edit in self.pm_edits.items():
            edit.setText(getattr(pm, key) if pm else "")
        self.fu_note.setText(esc.follow_up.note if esc.follow_up else "")
        if esc.follow_up:
            self.fu_satisfied.setCurrentIndex(0 if esc.follow_up.satisfied else 1)
        self.level_combo.setCurrentIndex(int(esc.level) - 1)
        messages: list[str] = []
        for op, button in self._buttons.items():
            refusal = detail.refusals.get(op)
            button.setEnabled(refusal is None)
            button.setToolTip(refusal or "")
            # the next lifecycle step's reason (a role, or L3's 复盘 + 回访) is shown, not only hovered
            shown = refusal and not refusal.startswith(("升级不能从", "升级已关闭"))
            if op in _STEP_OPS and shown and refusal not in messages:
                messages.append(refusal)
        self.refusal_label.setText("\n".join(messages))
        self.loaded.emit("detail")

    def _render_title(self) -> None:
        if self.detail is None:
            return
        row = self.detail.row
        esc = row.escalation
        now = self._now()
        owner = _(" · 负责人 {owner_name}").format(owner_name=row.owner_name) if row.owner_name else ""
        due = format_local(esc.first_response_due, now=now)
        self.title_label.setText(
            _("【{level_badge}】{status}{owner}\n首次响应：{countdown_text}（截止 {due}）").format(
                level_badge=level_badge(esc.level),
                status=_(ESCALATION_STATUS_LABELS[esc.status]),
                owner=owner,
                countdown_text=countdown_text(row, now),
                due=due,
            )
        )

    def _tick(self) -> None:
        """Once a second: repaint countdowns from the clock only, no database query."""
        if self.isVisible() or self.board.rowCount():
            self.board.tick()
            self.mine.tick()
            self._render_title()

    def _open_ticket(self, index: QModelIndex) -> None:
        self._signals.ticket_selected.emit(index.data(Qt.ItemDataRole.UserRole))

    # --- writes ------------------------------------------------------------------------------------
    def _write(self, call: Callable[[EscalationService, str, str], Any]) -> None:
        if self.detail is None or self.user is None:
            self.message.emit(_("请先选择当前用户和一条升级"))
            return
        escalation_id, actor_id = self.detail.row.id, self.user.id
        self._runner.run_db(
            lambda _ctx: call(self._service, escalation_id, actor_id),
            on_done=self._written,
            on_error=self._error,
        )

    def acknowledge(self) -> None:
        owner = self.owner_combo.currentData()
        self._write(lambda s, e, a: s.acknowledge(escalation_id=e, actor_id=a, owner_id=owner or a))

    def resolve_selected(self) -> None:
        note = self.note_edit.text()
        self._write(lambda s, e, a: s.resolve(escalation_id=e, actor_id=a, note=note))

    def reopen_selected(self) -> None:
        reason = self.note_edit.text()
        self._write(lambda s, e, a: s.reopen(escalation_id=e, actor_id=a, reason=reason))

    def close_selected(self) -> None:
        self._write(lambda s, e, a: s.close(escalation_id=e, actor_id=a))

    def change_level(self) -> None:
        level, reason = EscalationLevel(self.level_combo.currentData()), self.note_edit.text()
        self._write(lambda s, e, a: s.change_level(escalation_id=e, actor_id=a, level=level, reason=reason))

    def save_post_mortem(self) -> None:
        pm = PostMortem(**{key: edit.text() for key, edit in self.pm_edits.items()})
        self._write(lambda s, e, a: s.record_post_mortem(escalation_id=e, actor_id=a, post_mortem=pm))

    def save_follow_up(self) -> None:
        satisfied, note = bool(self.fu_satisfied.currentData()), self.fu_note.text()
        self._write(
            lambda s, e, a: s.record_follow_up(escalation_id=e, actor_id=a, satisfied=satisfied, note=note)
        )

    def _written(self, result: tuple[EscalationRow, Changes]) -> None:
        row, changes = result
        self.note_edit.clear()
        self.message.emit(
            _("已保存：{level_badge} {status}").format(
                level_badge=level_badge(row.level),
                status=_(ESCALATION_STATUS_LABELS[row.escalation.status]),
            )
        )
        self._signals.operation_did_execute.emit(changes, self)

    def _error(self, exc: BaseException) -> None:
        self.message.emit(str(exc) if isinstance(exc, USER_ERRORS) else _("操作失败，详情已写入日志"))

    def _on_changes(self, changes: Changes, _initiator: object) -> None:
        if changes.escalations:
            self.reload()


def _list_view(model: QStandardItemModel) -> QListView:
    view = QListView()
    view.setModel(model)
    view.setWordWrap(True)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    return view

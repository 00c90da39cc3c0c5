"""质检: supervisors plan, draw, score, re-review appeals, calibrate and export reports; an agent sees
their own results and may appeal (`qa_agent_page`). Every service call runs in the TaskRunner;
callbacks only paint."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from dyy_desk.core.changes import Changes
from dyy_desk.core.i18n import _
from dyy_desk.core.qa_access import QA_MANAGERS
from dyy_desk.core.qa_review import DECISION_LABELS, AppealDecision, ReviewState
from dyy_desk.core.qa_scorecard import Scorecard
from dyy_desk.core.types import TicketDetail, UserRow
from dyy_desk.services.errors import ServiceError
from dyy_desk.services.qa_service import QAService
from dyy_desk.services.qa_views import ReviewRow
from dyy_desk.services.tickets import TicketService
from dyy_desk.ui.dialogs.qa_plan_dialog import PlanDialog
from dyy_desk.ui.models.qa_models import (
    CalibrationModel,
    ReportModel,
    ReviewsModel,
    RowsModel,
    SampleItemsModel,
)
from dyy_desk.ui.panels.qa_agent_page import QAAgentPage
from dyy_desk.ui.panels.qa_html import state_text, timeline_html
from dyy_desk.ui.signals import AppSignals
from dyy_desk.ui.tasks import TaskRunner
from dyy_desk.ui.widgets.qa_scorecard_form import ScorecardForm
from dyy_desk.ui.widgets.row_table import row_table, with_empty_state

USER_ERRORS = (ServiceError, PermissionError, ValueError)


def _selected(view: QTableView, model: RowsModel[Any]) -> Any:
    rows = view.selectionModel().selectedRows()
    return model.row_at(rows[0].row()) if rows else None


class QAPanel(QWidget):
    loaded = Signal(str)  # "supervisor", "agent", "review", "export": tests wait on it
    message = Signal(str)  # every user-facing error or confirmation, also shown in the status line

    def __init__(
        self, *, qa: QAService, tickets: TicketService, runner: TaskRunner, signals: AppSignals
    ) -> None:
        super().__init__()
        self._qa = qa
        self._tickets = tickets
        self._runner = runner
        self._signals = signals
        self.user: UserRow | None = None
        self.review: ReviewRow | None = None
        self._re_review = False
        self.dialog: PlanDialog | None = None

        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.status_label.setObjectName("mutedLabel")
        self.samples = SampleItemsModel()
        self.appeals = ReviewsModel()
        self.calibrations = CalibrationModel()
        self.report = ReportModel()
        self.form = ScorecardForm()
        self.agent_page = QAAgentPage(
            qa=qa,
            runner=runner,
            on_done=self._done,
            explain=self._explain,
            on_error=lambda exc: self._say(self._explain(exc)),
        )
        self.agent_page.loaded.connect(lambda: self.loaded.emit("agent"))

        self.tabs = QTabWidget()
        self.tabs.addTab(self._samples_tab(), _("抽检"))
        self.tabs.addTab(self._review_tab(), _("评分"))
        self.tabs.addTab(self._appeals_tab(), _("申诉复核"))
        self.tabs.addTab(self._calibration_tab(), _("校准"))
        self.tabs.addTab(self._report_tab(), _("报表"))
        no_user = QLabel(
            _("请先在右上角选择当前用户。\n主管可在这里抽检和评分；客服可查看自己的质检结果并申诉。")
        )
        no_user.setObjectName("emptyState")
        no_user.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.pages = QStackedWidget()
        self.pages.addWidget(no_user)
        self.pages.addWidget(self.tabs)
        self.pages.addWidget(self.agent_page)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.status_label)
        signals.user_changed.connect(self.set_user)
        signals.operation_did_execute.connect(self._on_changes)

    # --- pages -------------------------------------------------------------------------------
    def _samples_tab(self) -> QWidget:
        self.plan_combo = QComboBox()
        self.plan_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.new_plan_button = QPushButton(_("新建计划…"))
        self.draw_button = QPushButton(_("抽取今日样本"))
        self.draw_button.setToolTip(_("按所选计划抽取：按天计划取今天，按周计划取本周已关闭的工单"))
        self.start_button = QPushButton(_("开始质检"))
        self.calibrate_button = QPushButton(_("发起校准"))
        self.calibrate_button.setToolTip(_("请全部主管对选中工单各自评分，比较差异；校准评分不计入客服成绩"))
        self.samples_view = row_table(self.samples)
        bar = QHBoxLayout()
        bar.addWidget(QLabel(_("抽检计划")))
        bar.addWidget(self.plan_combo)
        bar.addWidget(self.new_plan_button)
        bar.addWidget(self.draw_button)
        bar.addStretch(1)
        bar.addWidget(self.calibrate_button)
        bar.addWidget(self.start_button)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addLayout(bar)
        layout.addWidget(
            with_empty_state(
                self.samples_view,
                _(
                    "还没有抽检工单。\n先「新建计划…」，再点「抽取今日样本」：系统会从已关闭的工单中按计划抽取，\n"
                    "已升级、有投诉、超平台时限的工单总会被抽中。"
                ),
            ),
            1,
        )
        self.new_plan_button.clicked.connect(self.open_plan_dialog)
        self.draw_button.clicked.connect(self.draw_today)
        self.start_button.clicked.connect(self._start_selected)
        self.samples_view.doubleClicked.connect(lambda _i: self._start_selected())
        self.calibrate_button.clicked.connect(self._calibrate_selected)
        return page

    def _review_tab(self) -> QWidget:
        self.review_title = QLabel(_("在「抽检」页选择一张抽中的工单，点「开始质检」开始评分。"))
        self.review_title.setObjectName("emptyState")
        self.review_title.setWordWrap(True)
        self.timeline = QTextBrowser()
        self.review_error = QLabel()
        self.review_error.setObjectName("errorLabel")
        self.review_error.setWordWrap(True)
        self.save_button = QPushButton(_("保存草稿"))
        self.submit_button = QPushButton(_("提交"))
        for button in (self.save_button, self.submit_button):
            button.setEnabled(False)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(QLabel(_("工单时间线")))
        left_layout.addWidget(self.timeline, 1)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.form, 1)
        right_layout.addWidget(self.review_error)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.submit_button)
        right_layout.addLayout(buttons)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(self.review_title)
        layout.addWidget(splitter, 1)
        self.save_button.clicked.connect(self.save_draft)
        self.submit_button.clicked.connect(self.submit_review)
        return page

    def _appeals_tab(self) -> QWidget:
        self.appeals_view = row_table(self.appeals)
        self.appeal_detail = QLabel()
        self.appeal_detail.setWordWrap(True)
        self.decision_comment = QLineEdit()
        self.decision_comment.setPlaceholderText(_("复核结论说明（必填）"))
        self.accept_button = QPushButton(_(DECISION_LABELS[AppealDecision.ACCEPT]))
        self.reject_button = QPushButton(_(DECISION_LABELS[AppealDecision.REJECT]))
        self.partial_button = QPushButton(_("部分成立（在评分页改分）"))
        bar = QHBoxLayout()
        bar.addWidget(self.decision_comment, 1)
        for button in (self.accept_button, self.reject_button, self.partial_button):
            bar.addWidget(button)
        page = QWidget()
        layout = QVBoxLayout(page)
        empty = _("没有待复核的申诉。客服申诉后会出现在这里，由原质检员以外的主管复核，复核后结果定稿锁定。")
        layout.addWidget(with_empty_state(self.appeals_view, empty), 1)
        layout.addWidget(self.appeal_detail)
        layout.addLayout(bar)
        self.appeals_view.selectionModel().selectionChanged.connect(lambda *_: self._show_appeal())
        self.accept_button.clicked.connect(lambda: self.decide(AppealDecision.ACCEPT))
        self.reject_button.clicked.connect(lambda: self.decide(AppealDecision.REJECT))
        self.partial_button.clicked.connect(self._partial)
        return page

    def _calibration_tab(self) -> QWidget:
        self.calibration_view = row_table(self.calibrations)
        self.calibration_score_button = QPushButton(_("我来评分"))
        bar = QHBoxLayout()
        note = QLabel(_("校准评分只用于比较主管之间的尺度差异，不计入客服成绩和报表。"))
        note.setObjectName("mutedLabel")
        bar.addWidget(note, 1)
        bar.addWidget(self.calibration_score_button)
        page = QWidget()
        layout = QVBoxLayout(page)
        empty = _("还没有校准会话。在「抽检」页选中一张工单，点「发起校准」，请各位主管分别评分。")
        layout.addWidget(with_empty_state(self.calibration_view, empty), 1)
        layout.addLayout(bar)
        self.calibration_score_button.clicked.connect(self._score_calibration)
        return page

    def _report_tab(self) -> QWidget:
        self.report_view = row_table(self.report)
        self.report_note = QLabel()
        self.report_note.setObjectName("mutedLabel")
        self.export_xlsx_button = QPushButton(_("导出 Excel"))
        self.export_csv_button = QPushButton(_("导出 CSV"))
        bar = QHBoxLayout()
        bar.addWidget(self.report_note, 1)
        bar.addWidget(self.export_xlsx_button)
        bar.addWidget(self.export_csv_button)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(self.report_view, 1)
        layout.addLayout(bar)
        self.export_xlsx_button.clicked.connect(lambda: self._ask_export(".xlsx"))
        self.export_csv_button.clicked.connect(lambda: self._ask_export(".csv"))
        return page

    # --- loading -----------------------------------------------------------------------------
    def set_user(self, user: UserRow | None) -> None:
        self.user = user
        self.review = None
        if user is None:
            self.pages.setCurrentIndex(0)
            return
        self.pages.setCurrentIndex(1 if user.role in QA_MANAGERS else 2)
        self.reload()

    def reload(self) -> None:
        user = self.user
        if user is None:
            return
        if user.role in QA_MANAGERS:
            qa = self._qa
            self._run(
                lambda: (
                    qa.plans(actor_id=user.id),
                    qa.sample_items(actor_id=user.id),
                    qa.pending_appeals(actor_id=user.id),
                    qa.calibrations(actor_id=user.id),
                    qa.report(actor_id=user.id),
                ),
                self._apply_supervisor,
            )
        else:
            self.agent_page.load(user.id)

    def _apply_supervisor(self, result: tuple[Any, ...]) -> None:
        plans, items, appeals, calibrations, report = result
        current = self.plan_combo.currentData()
        self.plan_combo.clear()
        for row in plans:
            self.plan_combo.addItem(row.plan.name, row.plan.id)
        if not plans:
            self.plan_combo.addItem(_("（还没有计划）"), None)
        self.plan_combo.setCurrentIndex(max(0, self.plan_combo.findData(current)))
        self.draw_button.setEnabled(bool(plans))
        self.samples.set_rows(items)
        self.appeals.set_rows(appeals)
        self.calibrations.set_rows(calibrations)
        self.report.set_report(report)
        excluded = report.report.calibration_excluded
        self.report_note.setText(
            _("计入 {reviews} 条已提交质检（草稿不计）").format(reviews=report.report.reviews)
            + (_("；{excluded} 条校准评分不计入").format(excluded=excluded) if excluded else "")
        )
        self.tabs.setTabText(
            2, _("申诉复核 ({count})").format(count=len(appeals)) if appeals else _("申诉复核")
        )
        self.loaded.emit("supervisor")

    def _on_changes(self, changes: Changes, initiator: object) -> None:
        if changes.qa and initiator is not self:
            self.reload()

    # --- supervisor actions ------------------------------------------------------------------
    def open_plan_dialog(self) -> None:
        user = self.user
        if user is None:
            return

        def show(people: tuple[Any, Any, Any]) -> None:
            agents, _managers, clients = people
            self.dialog = PlanDialog(clients=clients, agents=agents, on_submit=self._create_plan, parent=self)
            self.dialog.open()

        self._run(lambda: self._qa.people(actor_id=user.id), show)

    def _create_plan(self, values: dict[str, Any]) -> None:
        user = self.user
        dialog = self.dialog
        if user is None or dialog is None:
            return

        def done(result: Any) -> None:
            dialog.accept()
            self._done(result[1], _("已创建抽检计划「{name}」").format(name=result[0].plan.name))

        self._runner.run_db(
            lambda _ctx: self._qa.create_plan(actor_id=user.id, **values),
            on_done=done,
            on_error=lambda exc: dialog.show_error(self._explain(exc)),
        )

    def draw_today(self) -> None:
        user, plan_id = self.user, self.plan_combo.currentData()
        if user is None or not plan_id:
            self._say(_("请先新建抽检计划"))
            return
        self._run(
            lambda: self._qa.draw(actor_id=user.id, plan_id=plan_id),
            lambda result: self._done(
                result[1],
                _("已抽取 {window_label}：候选 {candidates} 张，抽中 {picked} 张").format(
                    window_label=result[0].window_label,
                    candidates=result[0].candidates,
                    picked=result[0].picked,
                ),
            ),
        )

    def _start_selected(self) -> None:
        item = _selected(self.samples_view, self.samples)
        if item is None:
            self._say(_("请先在列表中选择一张抽中的工单"))
            return
        self.open_review(lambda actor: self._qa.start_review(actor_id=actor, ticket_id=item.ticket_id))

    def open_review(
        self, start: Callable[[str], tuple[ReviewRow, Changes]], *, re_review: bool = False
    ) -> None:
        user = self.user
        if user is None:
            return

        def work() -> tuple[ReviewRow, Changes, Scorecard, TicketDetail]:
            row, changes = start(user.id)
            card = self._qa.scorecard(
                scorecard_id=row.review.scorecard_id, version=row.review.scorecard_version
            )
            return row, changes, card, self._tickets.detail(ticket_id=row.review.ticket_id)

        self._run(work, lambda result: self._show_review(*result, re_review=re_review))

    def _show_review(
        self, row: ReviewRow, changes: Changes, card: Scorecard, detail: TicketDetail, *, re_review: bool
    ) -> None:
        self.review = row
        self._re_review = re_review
        review = row.review
        user_id = self.user.id if self.user else None
        editable = (review.state is ReviewState.DRAFT and review.reviewer_id == user_id) or re_review
        self.form.set_card(card, review, editable=editable)
        kind = _("校准评分") if review.session_id else _("质检")
        self.review_title.setText(
            _(
                "{kind} · {ticket_number} · 客服 {agent_name} · {client_name} · "
                "质检员 {reviewer_name} · {state_text}"
            ).format(
                kind=kind,
                ticket_number=row.ticket_number,
                agent_name=row.agent_name,
                client_name=row.client_name,
                reviewer_name=row.reviewer_name,
                state_text=state_text(review.state),
            )
        )
        self.review_error.clear()
        self.save_button.setEnabled(editable and not re_review)
        self.submit_button.setEnabled(editable)
        self.submit_button.setText(_("提交复核（部分成立）") if re_review else _("提交"))
        self.timeline.setHtml(timeline_html(detail))
        self.tabs.setCurrentIndex(1)
        if changes.qa:
            self._signals.operation_did_execute.emit(changes, self)
            self.reload()
        self.loaded.emit("review")

    def save_draft(self) -> None:
        self._mark(lambda user_id, review_id, d, f: self._qa.save_draft(
            actor_id=user_id, review_id=review_id, deductions=d, fatal_hits=f
        ), _("草稿已保存"))  # fmt: skip

    def submit_review(self) -> None:
        if self._re_review:
            comment = self.decision_comment.text()
            self._mark(lambda user_id, review_id, d, f: self._qa.re_review(
                actor_id=user_id, review_id=review_id, decision=AppealDecision.PARTIAL, comment=comment,
                deductions=d, fatal_hits=f,
            ), _("复核完成：部分成立，结果已定稿"))  # fmt: skip
            return
        self._mark(lambda user_id, review_id, d, f: self._qa.submit(
            actor_id=user_id, review_id=review_id, deductions=d, fatal_hits=f
        ), _("已提交质检结果"))  # fmt: skip

    def _mark(self, act: Callable[[str, str, Any, Any], tuple[ReviewRow, Changes]], done_text: str) -> None:
        user, row = self.user, self.review
        if user is None or row is None:
            return
        deductions, hits = self.form.marks()
        self.review_error.clear()

        def done(result: tuple[ReviewRow, Changes]) -> None:
            self._re_review = False
            self.review = result[0]
            self._show_after_mark(result[0])
            self._done(result[1], done_text)

        self._runner.run_db(
            lambda _ctx: act(user.id, row.review.id, deductions, hits),
            on_done=done,
            on_error=lambda exc: self._review_failed(exc),
        )

    def _show_after_mark(self, row: ReviewRow) -> None:
        draft = row.review.state is ReviewState.DRAFT
        self.save_button.setEnabled(draft)
        self.submit_button.setEnabled(draft)
        self.submit_button.setText(_("提交"))
        self.review_title.setText(
            _("{ticket_number} · 客服 {agent_name} · 得分 {score} · {state_text}").format(
                ticket_number=row.ticket_number,
                agent_name=row.agent_name,
                score=row.review.score,
                state_text=state_text(row.review.state),
            )
        )

    def _review_failed(self, exc: BaseException) -> None:
        self.review_error.setText(self._explain(exc))
        self.message.emit(self.review_error.text())

    def _show_appeal(self) -> None:
        row = _selected(self.appeals_view, self.appeals)
        if row is None or row.review.appeal is None:
            self.appeal_detail.clear()
            return
        appeal = row.review.appeal
        self.appeal_detail.setText(
            _(
                "{ticket_number} · 客服 {agent_name} · 原得分 {score}（质检员 {reviewer_name}）\n"
                "申诉理由：{reason}"
            ).format(
                ticket_number=row.ticket_number,
                agent_name=row.agent_name,
                score=row.review.score,
                reviewer_name=row.reviewer_name,
                reason=appeal.reason,
            )
            + (
                _("\n申诉项目：{items}").format(items="、".join(appeal.contested))
                if appeal.contested
                else _("\n申诉整条质检")
            )
        )

    def decide(self, decision: AppealDecision) -> None:
        user, row = self.user, _selected(self.appeals_view, self.appeals)
        if user is None or row is None:
            self._say(_("请先选择一条待复核的申诉"))
            return
        comment = self.decision_comment.text()
        self._run(
            lambda: self._qa.re_review(
                actor_id=user.id, review_id=row.review.id, decision=decision, comment=comment
            ),
            lambda result: self._done(
                result[1],
                _("复核完成：{decision}，结果已定稿").format(decision=_(DECISION_LABELS[decision])),
            ),
        )

    def _partial(self) -> None:
        row = _selected(self.appeals_view, self.appeals)
        if row is None:
            self._say(_("请先选择一条待复核的申诉"))
            return
        if not self.decision_comment.text().strip():
            self._say(_("请先填写复核结论说明，再到评分页修改扣分"))
            return
        self.open_review(
            lambda actor: (self._qa.review(actor_id=actor, review_id=row.review.id), Changes()),
            re_review=True,
        )

    def _calibrate_selected(self) -> None:
        user, item = self.user, _selected(self.samples_view, self.samples)
        if user is None or item is None:
            self._say(_("请先在列表中选择要校准的工单"))
            return

        def work() -> tuple[Any, Changes]:
            _agents, managers, _clients = self._qa.people(actor_id=user.id)
            return self._qa.open_calibration(
                actor_id=user.id, ticket_id=item.ticket_id, reviewer_ids=[m.id for m in managers]
            )

        self._run(
            work,
            lambda result: self._done(
                result[1],
                _("已对 {ticket_number} 发起校准，请各位主管评分").format(ticket_number=item.ticket_number),
            ),
        )

    def _score_calibration(self) -> None:
        row = _selected(self.calibration_view, self.calibrations)
        if row is None:
            self._say(_("请先选择一个校准会话"))
            return
        self.open_review(
            lambda actor: self._qa.start_calibration_review(actor_id=actor, session_id=row.session.id)
        )

    def _ask_export(self, suffix: str) -> None:
        kind = _("Excel 工作簿 (*.xlsx)") if suffix == ".xlsx" else _("CSV 文件 (*.csv)")
        name, _filter = QFileDialog.getSaveFileName(
            self, _("导出质检报表"), str(Path.home() / _("质检报表{suffix}").format(suffix=suffix)), kind
        )
        if name:
            self.export_report(Path(name) if Path(name).suffix else Path(name + suffix))

    def export_report(self, path: Path) -> None:
        user = self.user
        if user is None:
            return

        def done(written: Path) -> None:
            self._say(_("已导出：{written}").format(written=written))
            self.loaded.emit("export")

        self._run(lambda: self._qa.export_report(actor_id=user.id, path=path), done)

    # --- plumbing ----------------------------------------------------------------------------
    def _run(self, work: Callable[[], Any], on_done: Callable[[Any], None]) -> None:
        self._runner.run_db(
            lambda _ctx: work(), on_done=on_done, on_error=lambda exc: self._say(self._explain(exc))
        )

    def _done(self, changes: Changes, text: str) -> None:
        self._say(text)
        self._signals.operation_did_execute.emit(changes, self)
        self.reload()

    def _say(self, text: str) -> None:
        self.status_label.setText(text)
        self.message.emit(text)

    @staticmethod
    def _explain(exc: BaseException) -> str:
        if isinstance(exc, USER_ERRORS):
            return str(exc)
        return _("操作失败，数据未改动。详情已写入日志。")


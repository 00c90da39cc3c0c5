"""质检 as an agent sees it: their own submitted results with every deduction explained, and one
appeal per result. Service calls run in the TaskRunner; callbacks only paint."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSplitter, QTextBrowser, QVBoxLayout, QWidget

from dyy_desk.core.changes import Changes
from dyy_desk.core.i18n import _
from dyy_desk.core.qa_review import ReviewState
from dyy_desk.services.qa_service import QAService
from dyy_desk.services.qa_views import ReviewRow
from dyy_desk.ui.dialogs.qa_appeal_dialog import AppealDialog
from dyy_desk.ui.models.qa_models import ReviewsModel
from dyy_desk.ui.panels.qa_html import result_html
from dyy_desk.ui.tasks import TaskRunner
from dyy_desk.ui.widgets.row_table import row_table, with_empty_state

AgentResults = tuple[list[ReviewRow], dict[str, str]]


class QAAgentPage(QWidget):
    loaded = Signal()

    def __init__(
        self,
        *,
        qa: QAService,
        runner: TaskRunner,
        on_done: Callable[[Changes, str], None],
        explain: Callable[[BaseException], str],
        on_error: Callable[[BaseException], None],
    ) -> None:
        super().__init__()
        self._qa = qa
        self._runner = runner
        self._on_done = on_done
        self._explain = explain
        self._on_error = on_error
        self._user_id: str | None = None
        self._item_names: dict[str, str] = {}
        self.dialog: AppealDialog | None = None
        self.results = ReviewsModel()
        self.results_view = row_table(self.results)
        self.result_detail = QTextBrowser()
        self.appeal_button = QPushButton(_("申诉…"))
        self.appeal_button.setEnabled(False)
        bar = QHBoxLayout()
        hint = QLabel(_("对已提交的质检结果可申诉一次，需填写理由；复核由另一位主管完成。"))
        hint.setObjectName("mutedLabel")
        bar.addWidget(hint, 1)
        bar.addWidget(self.appeal_button)
        splitter = QSplitter(Qt.Orientation.Vertical)
        empty = _("还没有已提交的质检结果。主管完成质检后，你的得分和扣分说明会显示在这里。")
        splitter.addWidget(with_empty_state(self.results_view, empty))
        splitter.addWidget(self.result_detail)
        layout = QVBoxLayout(self)
        title = QLabel(_("我的质检结果"))
        title.setObjectName("detailTitle")
        layout.addWidget(title)
        layout.addWidget(splitter, 1)
        layout.addLayout(bar)
        self.results_view.selectionModel().selectionChanged.connect(lambda *_: self._show_result())
        self.appeal_button.clicked.connect(self.open_appeal_dialog)

    def load(self, user_id: str) -> None:
        self._user_id = user_id
        self._runner.run_db(lambda _ctx: self._results(user_id), on_done=self._apply, on_error=self._on_error)

    def _results(self, user_id: str) -> AgentResults:
        """Worker side: the agent's results plus the item names of the scorecard versions they used."""
        rows = self._qa.results(actor_id=user_id)
        names: dict[str, str] = {}
        for key in {(r.review.scorecard_id, r.review.scorecard_version) for r in rows}:
            card = self._qa.scorecard(scorecard_id=key[0], version=key[1])
            names.update({i.id: i.name for i in card.items} | {f.id: f.name for f in card.fatal_items})
        return rows, names

    def _apply(self, result: AgentResults) -> None:
        rows, self._item_names = result
        self.results.set_rows(rows)
        self._show_result()
        self.loaded.emit()

    def _selected(self) -> ReviewRow | None:
        rows = self.results_view.selectionModel().selectedRows()
        return self.results.row_at(rows[0].row()) if rows else None

    def _show_result(self) -> None:
        row = self._selected()
        self.appeal_button.setEnabled(
            row is not None and row.review.state is ReviewState.SUBMITTED and row.review.appeal is None
        )
        self.result_detail.setHtml(
            result_html(row, self._item_names) if row else _("<p>选择一条结果查看扣分说明。</p>")
        )

    def open_appeal_dialog(self) -> None:
        row = self._selected()
        if row is None:
            return
        names = self._item_names
        marks = [
            (
                d.item_id,
                _("{item}：扣 {points} 分 · {comment}").format(
                    item=names.get(d.item_id, d.item_id), points=d.points, comment=d.comment
                ),
            )
            for d in row.review.deductions
        ]
        marks += [
            (
                h.fatal_id,
                _("致命项 {item} · {comment}").format(
                    item=names.get(h.fatal_id, h.fatal_id), comment=h.comment
                ),
            )
            for h in row.review.fatal_hits
        ]
        self.dialog = AppealDialog(marks=marks, on_submit=lambda r, c: self._appeal(row, r, c), parent=self)
        self.dialog.open()

    def _appeal(self, row: ReviewRow, reason: str, contested: list[str]) -> None:
        user_id, dialog = self._user_id, self.dialog
        if user_id is None or dialog is None:
            return

        def done(result: tuple[ReviewRow, Changes]) -> None:
            dialog.accept()
            self._on_done(result[1], _("申诉已提交，等待另一位主管复核"))

        self._runner.run_db(
            lambda _ctx: self._qa.appeal(
                actor_id=user_id, review_id=row.review.id, reason=reason, contested=contested
            ),
            on_done=done,
            on_error=lambda exc: dialog.show_error(self._explain(exc)),
        )

"""Table models for the QA panel. Rows are frozen service DTOs delivered by the TaskRunner; the
models only format them (GUI thread, no database access)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from dyy_desk.core.i18n import N_, _
from dyy_desk.core.qa_calibration import Spread
from dyy_desk.core.qa_review import DECISION_LABELS, STATE_LABELS, QAReview
from dyy_desk.core.qa_sampling import PICK_REASON_LABELS
from dyy_desk.core.timefmt import format_local
from dyy_desk.core.types import CATEGORY_LABELS
from dyy_desk.services.qa_export import SUMMARY_HEADER, summary_rows
from dyy_desk.services.qa_views import CalibrationRow, ReportView, ReviewRow, SampleItemRow

_Index = QModelIndex | QPersistentModelIndex
R = TypeVar("R")
FAIL = QColor("#c62828")
PASS = QColor("#2e7d32")


class RowsModel(QAbstractTableModel, Generic[R]):
    """A read-only table over a list of rows; each column is (header, formatter)."""

    def __init__(self, columns: Sequence[tuple[str, Callable[[R], str]]]) -> None:
        super().__init__()
        self._columns = list(columns)
        self._rows: list[R] = []

    def set_rows(self, rows: Sequence[R]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row_at(self, row: int) -> R | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def rows(self) -> list[R]:
        return list(self._rows)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._columns)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return _(self._columns[section][0])
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        row = self.row_at(index.row()) if index.isValid() else None
        if row is None:
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self._columns[index.column()][1](row)
        if role == Qt.ItemDataRole.ForegroundRole:
            return self.foreground(row, index.column())
        return None

    def foreground(self, row: R, column: int) -> QBrush | None:
        return None


def _score(review: QAReview | None) -> str:
    if review is None:
        return ""
    verdict = _("合格") if review.passed else (_("致命项 0 分") if review.fatal_hits else _("不合格"))
    return f"{review.score}（{verdict}）"


def _score_brush(review: QAReview | None) -> QBrush | None:
    if review is None:
        return None
    return QBrush(PASS if review.passed else FAIL)


class SampleItemsModel(RowsModel[SampleItemRow]):
    SCORE_COLUMN = 7

    def __init__(self) -> None:
        super().__init__(
            [
                (N_("工单号"), lambda r: r.ticket_number),
                (N_("客服"), lambda r: r.agent_name),
                (N_("品牌方"), lambda r: r.client_name),
                (N_("类型"), lambda r: _(CATEGORY_LABELS[r.category])),
                (N_("抽中原因"), lambda r: "、".join(_(PICK_REASON_LABELS[x]) for x in r.reasons)),
                (N_("周期"), lambda r: r.window_label),
                (N_("质检状态"), lambda r: _(STATE_LABELS[r.review.state]) if r.review else _("待质检")),
                (N_("得分"), lambda r: _score(r.review)),
                (N_("标题"), lambda r: r.subject),
            ]
        )

    def foreground(self, row: SampleItemRow, column: int) -> QBrush | None:
        return _score_brush(row.review) if column == self.SCORE_COLUMN else None


class ReviewsModel(RowsModel[ReviewRow]):
    SCORE_COLUMN = 3

    def __init__(self) -> None:
        super().__init__(
            [
                (N_("工单号"), lambda r: r.ticket_number),
                (N_("客服"), lambda r: r.agent_name),
                (N_("质检员"), lambda r: r.reviewer_name),
                (N_("得分"), lambda r: _score(r.review)),
                (N_("状态"), lambda r: _(STATE_LABELS[r.review.state])),
                (N_("提交时间"), lambda r: format_local(r.review.submitted_at)),
                (N_("申诉"), _appeal_text),
                (N_("品牌方"), lambda r: r.client_name),
            ]
        )

    def foreground(self, row: ReviewRow, column: int) -> QBrush | None:
        return _score_brush(row.review) if column == self.SCORE_COLUMN else None


def _appeal_text(row: ReviewRow) -> str:
    review = row.review
    if review.re_review is not None:
        return _(DECISION_LABELS[review.re_review.decision])
    if review.appeal is not None:
        return _("待复核：{reason}").format(reason=review.appeal.reason)
    return ""


def _spread(spread: Spread | None) -> str:
    if spread is None:
        return "—"
    return _("{min:g}–{max:g}（均值 {mean:.1f}，标准差 {stdev:.1f}）").format(
        min=spread.min, max=spread.max, mean=spread.mean, stdev=spread.stdev
    )


class CalibrationModel(RowsModel[CalibrationRow]):
    def __init__(self) -> None:
        super().__init__(
            [
                (N_("工单号"), lambda r: r.ticket_number),
                (N_("评分人"), lambda r: "、".join(r.reviewer_names)),
                (N_("已提交"), lambda r: f"{r.submitted}/{len(r.reviewer_names)}"),
                (N_("总分差异"), lambda r: _spread(r.result.total if r.result else None)),
                (N_("分歧最大的评分项"), _widest_item),
                (N_("发起时间"), lambda r: format_local(r.session.created_at)),
            ]
        )


def _widest_item(row: CalibrationRow) -> str:
    if row.result is None:
        return _("至少 2 人提交后显示")
    items = sorted(row.result.items, key=lambda i: (-(i.spread.max - i.spread.min), i.item_id))
    if not items or items[0].spread.max == items[0].spread.min:
        return _("各项扣分一致")
    top = items[0]
    return _("{name}：扣 {min:g}–{max:g} 分").format(name=top.name, min=top.spread.min, max=top.spread.max)


class ReportModel(RowsModel[tuple[str, str, int, float, float, float, str]]):
    def __init__(self) -> None:
        super().__init__(
            [
                (SUMMARY_HEADER[0], lambda r: r[0]),
                (SUMMARY_HEADER[1], lambda r: r[1]),
                (SUMMARY_HEADER[2], lambda r: str(r[2])),
                (SUMMARY_HEADER[3], lambda r: f"{r[3]:.1f}"),
                (SUMMARY_HEADER[4], lambda r: f"{r[4]:.1%}"),
                (SUMMARY_HEADER[5], lambda r: f"{r[5]:.1%}"),
                (SUMMARY_HEADER[6], lambda r: r[6]),
            ]
        )

    def set_report(self, view: ReportView) -> None:
        self.set_rows(list(summary_rows(view)))

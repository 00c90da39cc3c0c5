"""Tables of the 报表 area: one line per agent (with the team total last) and one per client."""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont

from dyy_desk.core.deadlines import format_duration
from dyy_desk.core.i18n import N_, _
from dyy_desk.core.report_metrics import AgentLine, ClientLine
from dyy_desk.core.types import CATEGORY_LABELS

_Index = QModelIndex | QPersistentModelIndex
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
DASH = "—"
L = TypeVar("L", AgentLine, ClientLine)
AGENT_COLUMNS = (
    N_("客服"),
    N_("已处理"),
    N_("当前未结"),
    N_("首响中位"),
    N_("首响 P90"),
    N_("解决中位"),
    N_("SOP 超时步骤"),
    N_("发起升级"),
    N_("质检均分"),
)
AGENT_TIPS = (
    "",
    N_("时段内解决或关闭的工单（按当前处理人）"),
    N_("现在仍未解决的工单，与所选时段无关"),
    N_("时段内新建的工单，从创建到首次响应的中位时长"),
    N_("90% 的工单在这个时长内得到首次响应"),
    N_("时段内处理完的工单，从创建到解决的中位时长"),
    N_("截止时间落在时段内、到期时仍未完成的 SOP 步骤数"),
    N_("时段内由该客服手动发起的升级"),
    N_("时段内提交的常规质检（不含草稿和校准）"),
)
CLIENT_COLUMNS = (
    N_("品牌方"),
    N_("新建工单"),
    N_("已解决"),
    N_("差评"),
    N_("质量投诉"),
    N_("平台介入"),
    N_("分类构成"),
)


def duration_text(seconds: float | None) -> str:
    return format_duration(timedelta(seconds=seconds)) if seconds is not None else DASH


class _LineModel(QAbstractTableModel, Generic[L]):
    columns: ClassVar[tuple[str, ...]] = ()
    tips: ClassVar[tuple[str, ...]] = ()

    def __init__(self) -> None:
        super().__init__()
        self._lines: list[L] = []

    def line(self, row: int) -> L:
        return self._lines[row]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._lines)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self.columns)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return _(self.columns[section])
        if role == Qt.ItemDataRole.ToolTipRole and section < len(self.tips) and self.tips[section]:
            return _(self.tips[section])
        return None


class AgentReportModel(_LineModel[AgentLine]):
    columns = AGENT_COLUMNS
    tips = AGENT_TIPS

    def __init__(self) -> None:
        super().__init__()
        self._total_row = -1

    def set_lines(self, lines: tuple[AgentLine, ...], total: AgentLine | None) -> None:
        self.beginResetModel()
        self._lines = [*lines, total] if total is not None else list(lines)
        self._total_row = len(lines) if total is not None else -1
        self.endResetModel()

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        a = self._lines[index.row()]
        if role == Qt.ItemDataRole.FontRole and index.row() == self._total_row:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column():
            return _RIGHT
        if role == Qt.ItemDataRole.ToolTipRole and index.column() in (3, 4, 5):
            stats = a.resolution if index.column() == 5 else a.first_response
            return _("共 {count} 单计入").format(count=stats.count)
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        qa = DASH
        if a.qa_average is not None:
            qa = _("{average:.1f}（{count} 单）").format(average=a.qa_average, count=a.qa_reviews)
        return [
            _name(a, index.row() == self._total_row),
            str(a.handled),
            str(a.open_now),
            duration_text(a.first_response.median),
            duration_text(a.first_response.p90),
            duration_text(a.resolution.median),
            str(a.overdue_steps),
            str(a.escalations),
            qa,
        ][index.column()]


class ClientReportModel(_LineModel[ClientLine]):
    columns = CLIENT_COLUMNS

    def set_lines(self, lines: tuple[ClientLine, ...]) -> None:
        self.beginResetModel()
        self._lines = list(lines)
        self.endResetModel()

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        c = self._lines[index.row()]
        mix = "、".join(f"{_(CATEGORY_LABELS[cat])} {n}" for cat, n in c.by_category)
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == 6:
            return mix
        if role == Qt.ItemDataRole.TextAlignmentRole and 0 < index.column() < 6:
            return _RIGHT
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        return [
            c.client_name,
            str(c.new_tickets),
            str(c.resolved),
            str(c.negative_reviews),
            str(c.quality_complaints),
            str(c.platform_interventions),
            mix or DASH,
        ][index.column()]


def _name(line: AgentLine, total: bool) -> str:
    if total:
        return _("全部")
    return line.agent_name if line.agent_id is not None else _("未分配")

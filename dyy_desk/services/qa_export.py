"""QA report files: XLSX (openpyxl, one sheet per view) or CSV (UTF-8 with BOM so Excel detects it).

The file is written next to the target and moved into place, so a failed export never leaves half a
file where the user expects a report.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dyy_desk.core.qa_report import DeductionStat
from dyy_desk.core.timefmt import format_local
from dyy_desk.services.qa_views import ReportView
from dyy_desk.services.table_export import write_table_export

SUMMARY_HEADER = ("维度", "名称", "质检数", "平均分", "合格率", "致命率", "主要扣分项")


def summary_rows(view: ReportView) -> Iterator[tuple[str, str, int, float, float, float, str]]:
    """Overall, per agent, per client and per week, as one table (the CSV and the first sheet)."""
    r = view.report
    yield ("整体", "全部", r.reviews, r.average, r.pass_rate, r.fatal_rate, _top(r.top_deductions))
    for a in r.agents:
        name = view.agent_names.get(a.agent_id, a.agent_id)
        yield ("客服", name, a.reviews, a.average, a.pass_rate, a.fatal_rate, _top(a.top_deductions))
    for c in r.clients:
        yield (
            "品牌方",
            view.client_names.get(c.client_id, c.client_id),
            c.reviews,
            c.average,
            c.pass_rate,
            c.fatal_rate,
            "",
        )
    for w in r.weekly:
        yield ("周", w.week, w.reviews, w.average, w.pass_rate, w.fatal_rate, "")


def write_report(view: ReportView, path: Path) -> Path:
    return write_table_export(
        path,
        prefix=".qa-export-",
        write_csv=lambda tmp: _write_csv(view, tmp),
        write_xlsx=lambda tmp: _write_xlsx(view, tmp),
    )


def _write_csv(view: ReportView, path: Path) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(SUMMARY_HEADER)
        for dim, name, count, avg, pass_rate, fatal_rate, top in summary_rows(view):
            writer.writerow((dim, name, count, f"{avg:.1f}", _pct(pass_rate), _pct(fatal_rate), top))


def _write_xlsx(view: ReportView, path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet: Any = book.active
    sheet.title = "汇总"
    sheet.append([f"质检报表（生成于 {format_local(view.generated_at)}）"])
    sheet.append(list(SUMMARY_HEADER))
    for row in summary_rows(view):
        sheet.append(list(row))
        sheet.cell(sheet.max_row, 4).number_format = "0.0"
        sheet.cell(sheet.max_row, 5).number_format = "0.0%"
        sheet.cell(sheet.max_row, 6).number_format = "0.0%"
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for column, width in zip("ABCDEFG", (8, 16, 8, 8, 8, 8, 40), strict=True):
        sheet.column_dimensions[column].width = width
    trend = book.create_sheet("客服周趋势")
    trend.append(["客服", "周", "质检数", "平均分", "合格率", "致命率"])
    for agent in view.report.agents:
        for w in agent.weekly:
            name = view.agent_names.get(agent.agent_id, agent.agent_id)
            trend.append([name, w.week, w.reviews, round(w.average, 1), w.pass_rate, w.fatal_rate])
    items = book.create_sheet("扣分项")
    items.append(["评分项", "次数", "扣分合计"])
    for stat in view.report.top_deductions:
        items.append([stat.name, stat.times, stat.points])
    book.save(path)


def _top(stats: tuple[DeductionStat, ...]) -> str:
    return "、".join(f"{s.name}（{s.times}次 -{s.points}）" for s in stats[:3])


def _pct(rate: float) -> str:
    return f"{rate * 100:.1f}%"

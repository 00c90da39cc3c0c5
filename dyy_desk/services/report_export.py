"""Work report files: XLSX (one sheet per view) or CSV (UTF-8 with BOM so Excel detects it).

Durations go out as numbers (minutes for first response, hours for resolution) so a supervisor can chart
them; an empty cell means there was nothing to measure. Like the QA export, the file is written next to
the target and moved into place, so a failed export never leaves half a file behind.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dyy_desk.core.report_metrics import AgentLine, ClientLine, WorkReport
from dyy_desk.core.timefmt import format_local
from dyy_desk.core.types import CATEGORY_LABELS
from dyy_desk.services.table_export import write_table_export

AGENT_HEADER = (
    "客服",
    "已处理",
    "当前未结",
    "首响中位(分钟)",
    "首响P90(分钟)",
    "解决中位(小时)",
    "SOP超时步骤",
    "发起升级",
    "质检数",
    "质检均分",
)
CLIENT_HEADER = ("品牌方", "新建工单", "已解决", "差评", "质量投诉", "平台介入", "分类构成")
Cell = str | int | float | None


def agent_rows(report: WorkReport) -> Iterator[tuple[Cell, ...]]:
    lines = report.agents + ((report.total,) if report.total is not None else ())
    for line in lines:
        yield _agent_row(line)


def client_rows(report: WorkReport) -> Iterator[tuple[Cell, ...]]:
    for line in report.clients:
        yield _client_row(line)


def _agent_row(a: AgentLine) -> tuple[Cell, ...]:
    return (
        a.agent_name,
        a.handled,
        a.open_now,
        _scaled(a.first_response.median, 60),
        _scaled(a.first_response.p90, 60),
        _scaled(a.resolution.median, 3600),
        a.overdue_steps,
        a.escalations,
        a.qa_reviews,
        round(a.qa_average, 1) if a.qa_average is not None else None,
    )


def _client_row(c: ClientLine) -> tuple[Cell, ...]:
    mix = "、".join(f"{CATEGORY_LABELS[cat]} {n}" for cat, n in c.by_category)
    return (
        c.client_name,
        c.new_tickets,
        c.resolved,
        c.negative_reviews,
        c.quality_complaints,
        c.platform_interventions,
        mix,
    )


def _scaled(seconds: float | None, unit: int) -> float | None:
    return round(seconds / unit, 1) if seconds is not None else None


def write_work_report(report: WorkReport, path: Path, *, client_name: str | None = None) -> Path:
    title = _title(report, client_name)
    return write_table_export(
        path,
        prefix=".report-export-",
        write_csv=lambda tmp: _write_csv(report, tmp, title),
        write_xlsx=lambda tmp: _write_xlsx(report, tmp, title),
    )


def _title(report: WorkReport, client_name: str | None) -> str:
    scope = f"（{client_name}）" if client_name else ""
    return f"工作报表 {report.period.label}{scope}，生成于 {format_local(report.generated_at)}"


def _write_csv(report: WorkReport, path: Path, title: str) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow((title,))
        writer.writerow(AGENT_HEADER)
        writer.writerows(_blank(r) for r in agent_rows(report))
        if report.clients:
            writer.writerow(())
            writer.writerow(CLIENT_HEADER)
            writer.writerows(_blank(r) for r in client_rows(report))


def _blank(row: tuple[Cell, ...]) -> tuple[str | int | float, ...]:
    return tuple("" if cell is None else cell for cell in row)


def _write_xlsx(report: WorkReport, path: Path, title: str) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet: Any = book.active
    sheet.title = "客服"
    _fill(sheet, title, AGENT_HEADER, agent_rows(report), (10, 8, 8, 14, 14, 14, 12, 8, 8, 8))
    if report.total is not None:
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
    if report.clients:
        _fill(book.create_sheet("品牌方"), title, CLIENT_HEADER, client_rows(report), (12, 8, 8, 6, 8, 8, 60))
    book.save(path)


def _fill(
    sheet: Any, title: str, header: tuple[str, ...], rows: Iterator[tuple[Cell, ...]], widths: tuple[int, ...]
) -> None:
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    sheet.append([title])
    sheet.append(list(header))
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(list(row))
    for n, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(n)].width = width

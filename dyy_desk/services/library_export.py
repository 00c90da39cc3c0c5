"""Write the library back in the spreadsheet formats it is imported from (CSV UTF-8 with BOM; XLSX).

The file is written next to its destination and moved into place, so a failed export never leaves a
half-written file where the user expects a good one.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import Connection, or_, select

from dyy_desk.core.library_rows import LibraryKind, LibraryRow, cells_to_csv, rows_to_cells
from dyy_desk.services.errors import ServiceError
from dyy_desk.services.library_store import client_names, faq_row, faq_t, script_row, script_t


def library_rows(conn: Connection, *, kind: LibraryKind, client_id: str | None = None) -> list[LibraryRow]:
    """Live entries in external-id order; with `client_id`, generic entries plus that client's."""
    table = faq_t if kind is LibraryKind.FAQ else script_t
    stmt = select(table).where(table.c.deleted.is_(False))
    if client_id is not None:
        stmt = stmt.where(or_(table.c.client_id.is_(None), table.c.client_id == client_id))
    names = client_names(conn)
    convert = faq_row if kind is LibraryKind.FAQ else script_row
    return [
        convert(r, names.get(r["client_id"]) if r["client_id"] else None)
        for r in conn.execute(stmt.order_by(table.c.external_id)).mappings()
    ]


def write_library_file(path: Path, kind: LibraryKind, rows: Sequence[LibraryRow]) -> None:
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise ServiceError(f"只能导出为 .csv 或 .xlsx 文件：{path.name}")
    cells = rows_to_cells(kind, rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=".export-", suffix=suffix)
    os.close(handle)
    temp = Path(temp_name)
    try:
        if suffix == ".csv":
            temp.write_bytes(cells_to_csv(cells).encode("utf-8-sig"))
        else:
            _write_xlsx(temp, kind, cells)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def _write_xlsx(path: Path, kind: LibraryKind, cells: list[list[str]]) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "知识库" if kind is LibraryKind.FAQ else "话术"
    for row in cells:
        sheet.append(row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    widths = {"id": 12, "question": 36, "title": 24, "answer": 60, "body": 60, "similar_questions": 40}
    for index, name in enumerate(cells[0], start=1):
        sheet.column_dimensions[sheet.cell(1, index).column_letter].width = widths.get(name, 14)
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"
    book.save(path)

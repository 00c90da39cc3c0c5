"""Reading a team's library file and planning what importing it changes (new / updated / unchanged).

The plan is computed again inside the writing transaction, so an import applies to the database as it
is at that moment even if someone edited the library after the preview was shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, insert, select, update

from dyy_desk.core.ids import new_id
from dyy_desk.core.library_rows import (
    FaqRow,
    LibraryFileError,
    LibraryKind,
    LibraryRow,
    ParsedLibrary,
    RawRow,
    RawTable,
    RowIssue,
    ScriptRow,
    decode_bytes,
    parse_csv,
)
from dyy_desk.db.repos.tables import clients
from dyy_desk.services.library_store import faq_content, faq_t, new_external_id, script_content, script_t
from dyy_desk.services.library_views import Cancelled, PlannedRow, Progress, RowStatus

_BATCH = 200


class ImportCancelled(RuntimeError):
    """Raised inside the import transaction so it rolls back; nothing was written."""


def read_library_file(path: Path, *, sheet: str | None = None) -> tuple[RawTable, tuple[str, ...]]:
    """(table, notes). CSV (UTF-8, UTF-8 with BOM or GB18030) or XLSX (first sheet unless named)."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path, sheet)
    if suffix == ".xls":
        raise LibraryFileError(
            [RowIssue(path.name, 0, "", "不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx 或 CSV")]
        )
    return parse_csv(decode_bytes(path.read_bytes(), path.name), path.name), ()


def _read_xlsx(path: Path, sheet: str | None) -> tuple[RawTable, tuple[str, ...]]:
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    try:
        book = load_workbook(path, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or non-XLSX file
        raise LibraryFileError([RowIssue(path.name, 0, "", f"无法读取 XLSX 文件（{exc}）")]) from exc
    if sheet is not None and sheet not in book.sheetnames:
        raise LibraryFileError(
            [RowIssue(path.name, 0, "", f"没有名为「{sheet}」的工作表（有：{'、'.join(book.sheetnames)}）")]
        )
    chosen = book[sheet] if sheet is not None else book.worksheets[0]
    source = f"{path.name}「{chosen.title}」"
    others = [name for name in book.sheetnames if name != chosen.title]
    notes = (f"只读取工作表「{chosen.title}」，已忽略：{'、'.join(others)}",) if others else ()
    rows = [
        RawRow(index, tuple(_cell_text(v) for v in values))
        for index, values in enumerate(chosen.iter_rows(values_only=True), start=1)
        if any(_cell_text(v).strip() for v in values)
    ]
    book.close()
    if not rows:
        raise LibraryFileError([RowIssue(source, 0, "", "工作表为空")])
    header = rows[0]
    issues = []
    for merged in sorted(chosen.merged_cells.ranges, key=lambda r: (r.min_row, r.min_col)):
        col = merged.min_col
        name = header.cells[col - 1].strip() if col - 1 < len(header.cells) else ""
        issues.append(
            RowIssue(
                source,
                merged.min_row,
                name or get_column_letter(col),
                f"单元格 {merged.coord} 是合并单元格：请取消合并，并在每一行填写完整内容",
            )
        )
    return RawTable(source, header.line, header.cells, tuple(rows[1:]), tuple(issues)), notes


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


@dataclass
class ImportPlan:
    planned: list[PlannedRow] = field(default_factory=list)
    issues: list[RowIssue] = field(default_factory=list)
    clients_to_create: dict[str, str] = field(default_factory=dict)  # name → new id
    # (status, parsed row, existing row id or None, external id, column values)
    writes: list[tuple[RowStatus, LibraryRow, str | None, str, dict[str, Any]]] = field(default_factory=list)


def plan_import(conn: Connection, parsed: ParsedLibrary, *, source: str) -> ImportPlan:
    plan = ImportPlan(issues=list(parsed.issues))
    client_rows = conn.execute(select(clients.c.id, clients.c.name, clients.c.deleted)).all()
    client_ids = {r.name: r.id for r in client_rows if not r.deleted}
    deleted_clients = {r.name for r in client_rows if r.deleted}
    faq = parsed.kind is LibraryKind.FAQ
    table = faq_t if faq else script_t
    existing = {r["external_id"]: r for r in conn.execute(select(table)).mappings()}
    title_key = "question" if faq else "title"
    by_title = {(r["client_id"], r[title_key]): r for r in existing.values() if not r["deleted"]}
    shortcuts = {
        (r["client_id"], r["shortcut"]): r["external_id"]
        for r in existing.values()
        if not faq and not r["deleted"] and r["shortcut"]
    }
    in_file = {row.external_id for row in parsed.rows if row.external_id}
    taken = set(existing)
    for row in parsed.rows:
        client_id = None
        if row.client:
            if row.client in deleted_clients and row.client not in client_ids:
                plan.issues.append(
                    RowIssue(source, row.line, "client", f"客户「{row.client}」已被删除，请先恢复或改名")
                )
                continue
            client_id = client_ids.get(row.client) or plan.clients_to_create.setdefault(row.client, new_id())
        values = faq_content(row, client_id) if isinstance(row, FaqRow) else script_content(row, client_id)
        title = row.question if isinstance(row, FaqRow) else row.title
        current: Mapping[Any, Any] | None = (
            existing.get(row.external_id) if row.external_id else by_title.get((client_id, title))
        )
        external_id = row.external_id or (current["external_id"] if current else _fresh_id(faq, taken))
        taken.add(external_id)
        if isinstance(row, ScriptRow) and row.shortcut:
            holder = shortcuts.get((client_id, row.shortcut))
            if holder is not None and holder != external_id and holder not in in_file:
                plan.issues.append(
                    RowIssue(
                        source, row.line, "shortcut", f"快捷编码「{row.shortcut}」已被话术 {holder} 使用"
                    )
                )
                continue
        if current is None:
            status = RowStatus.NEW
        elif all(current[k] == v for k, v in values.items()):
            status = RowStatus.UNCHANGED
        else:
            status = RowStatus.UPDATED
        plan.planned.append(PlannedRow(row.line, external_id, title, status))
        plan.writes.append((status, row, current["id"] if current else None, external_id, values))
    return plan


def _fresh_id(faq: bool, taken: set[str]) -> str:
    while True:
        candidate = new_external_id("FAQ" if faq else "S")
        if candidate not in taken:
            return candidate


def apply_plan(
    conn: Connection,
    plan: ImportPlan,
    kind: LibraryKind,
    *,
    now: datetime,
    user_id: str | None,
    origin: str,
    progress: Progress | None,
    cancel: Cancelled | None,
) -> list[str]:
    """Write the plan; returns the ids of the entries written. Raises ImportCancelled to roll back."""
    sync = {"origin": origin, "version": "", "deleted": False}
    if plan.clients_to_create:
        conn.execute(
            insert(clients),
            [
                {"id": cid, "name": name, "created_at": now} | sync
                for name, cid in plan.clients_to_create.items()
            ],
        )
    table = faq_t if kind is LibraryKind.FAQ else script_t
    stamp = {"updated_at": now, "updated_by": user_id, "origin": origin}
    touched: list[str] = []
    changes = [w for w in plan.writes if w[0] is not RowStatus.UNCHANGED]
    for start in range(0, len(changes), _BATCH):
        if cancel is not None and cancel():
            raise ImportCancelled("导入已取消，没有写入任何内容")
        if progress is not None:
            progress(start, len(changes), "正在导入")
        new_rows = []
        for status, _row, current_id, external_id, values in changes[start : start + _BATCH]:
            if status is RowStatus.NEW:
                entry_id = new_id()
                new_rows.append(
                    values
                    | stamp
                    | {"id": entry_id, "external_id": external_id, "created_at": now, "version": ""}
                )
            else:
                assert current_id is not None
                entry_id = current_id
                conn.execute(update(table).where(table.c.id == current_id).values(values | stamp))
            touched.append(entry_id)
        if new_rows:
            conn.execute(insert(table), new_rows)
    if cancel is not None and cancel():
        raise ImportCancelled("导入已取消，没有写入任何内容")
    if progress is not None:
        progress(len(changes), len(changes), "导入完成")
    return touched

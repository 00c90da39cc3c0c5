"""Export a bundle: stamp local edits, pick the rows of the scope, stream them into an encrypted file.

Scopes: all changes made on this machine since its last numbered bundle (`all-changes`), one client
in full (`client:<id>`: its shops, buyers, tickets, timelines, plus the team's shared tables), or the
library tables only. Everything happens in one transaction, and the file is written before it
commits: a failed or cancelled export leaves neither a file nor an advanced sequence number.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, func, literal_column, or_, select

from dyy_desk.core.sync.manifest import (
    FORMAT_VERSION,
    Manifest,
    Scope,
    ScopeKind,
    check_manifest_fields,
    manifest_to_json,
)
from dyy_desk.core.sync.records import RecordKind, canonical_json
from dyy_desk.db.repos.tables import clients
from dyy_desk.services import sync_phases
from dyy_desk.services.audit import append_audit
from dyy_desk.services.errors import ServiceError
from dyy_desk.services.sync_lines import LineBuilder, driver_rows
from dyy_desk.services.sync_registry import SCHEMA_VERSION, TableSpec, specs
from dyy_desk.services.sync_stamp import BATCH, Stamped, StampedRows, finish_stamping, sync_joined
from dyy_desk.services.sync_state import MachineState, large_page_cache, load_state, save_state
from dyy_desk.services.sync_stream import BundleWriter, write_encrypted

Progress = Callable[[int, int, str], None]
CancelCheck = Callable[[], bool]


class SyncCancelled(ServiceError):
    def __init__(self) -> None:
        super().__init__("已取消，未做任何改动。")


@dataclass(frozen=True)
class ExportResult:
    path: Path
    scope: str
    sequence: int
    masked: bool
    counts: dict[str, int]
    size_bytes: int

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def not_joined_error() -> ServiceError:
    return ServiceError("本机还没有加入团队：请先运行“dyy-desk team-key create”或“dyy-desk team-key join”。")


def export_bundle(
    *,
    engine: Engine,
    machine_id: str,
    key: bytes,
    out: Path,
    now: datetime,
    client_name: str | None = None,
    library_only: bool = False,
    mask_personal_data: bool = False,
    progress: Progress | None = None,
    cancel: CancelCheck | None = None,
    actor_id: str | None = None,
) -> ExportResult:
    """Write the bundle and record it (sequence number, audit entry) in one transaction."""
    if client_name is not None and library_only:
        raise ServiceError("“只导出知识库”和“只导出一个品牌方”不能同时使用。")
    phases = sync_phases.start("export")
    with sync_phases.bulk_gc(), engine.begin() as conn:
        conn.exec_driver_sql("BEGIN IMMEDIATE")  # stamping and reading see one snapshot
        with large_page_cache(conn):
            result = _export(
                conn,
                machine_id,
                key,
                out,
                now,
                client_name,
                library_only,
                mask_personal_data,
                progress,
                cancel,
                phases,
            )
            append_audit(
                conn,
                at=now,
                actor_id=actor_id,
                action="sync_export",
                target=f"bundle:{out.name}",
                details={
                    "scope": result.scope,
                    "sequence": result.sequence,
                    "masked": result.masked,
                    "records": result.counts,
                    "bytes": result.size_bytes,
                },
            )
        commit_start = sync_phases.mark()
    phases.add("commit", commit_start)
    return result


def _export(
    conn: Connection,
    machine_id: str,
    key: bytes,
    out: Path,
    now: datetime,
    client_name: str | None,
    library_only: bool,
    mask_personal_data: bool,
    progress: Progress | None,
    cancel: CancelCheck | None,
    phases: sync_phases.Phases,
) -> ExportResult:
    state = load_state(conn, machine_id)
    if state.team_id is None:
        raise not_joined_error()
    if client_name is not None:
        client_id = _client_id(conn, client_name)
        scope = Scope(ScopeKind.CLIENT, client_id, mask_personal_data)
    else:
        kind = ScopeKind.LIBRARY_ONLY if library_only else ScopeKind.ALL_CHANGES
        scope = Scope(kind, None, mask_personal_data)
    chosen = [s for s in specs() if not (scope.kind is ScopeKind.LIBRARY_ONLY and not s.library)]
    names = {s.name for s in chosen}
    with phases.timed("count rows"):
        # every mutable row is visited (stamped), the chosen timeline rows are written
        selects = {
            s.name: _append_only_select(s, state, scope) for s in chosen if s.kind is RecordKind.APPEND_ONLY
        }
        total = sum(_count(conn, select(s.table)) for s in specs() if s.kind is RecordKind.MUTABLE)
        total += sum(_count(conn, q) for q in selects.values())
    progress_at = _Progress(progress, cancel, total)
    stamped = 0
    with BundleWriter(phases=phases) as writer:
        # Tables in name order: the bundle's order. Mutable tables are stamped and written in one
        # pass; the ones outside the scope are stamped all the same (stamping covers every table).
        for spec in sorted(specs(), key=lambda s: s.name):
            start = sync_phases.mark()
            if spec.kind is RecordKind.MUTABLE:
                chosen_here = spec.name in names
                stamped += _write_mutable(conn, writer, spec, state, scope, chosen_here, now, progress_at)
                phases.add(f"stamp + write lines: {spec.name}", start)
            elif spec.name in selects:
                _write_append_only(conn, writer, spec, selects[spec.name], state, scope, progress_at)
                phases.add(f"read + write lines: {spec.name}", start)
        finish_stamping(state, stamped)
        progress_at.tick("正在加密", check=True)
        sequence = 0
        if scope.kind is ScopeKind.ALL_CHANGES:
            sequence = state.next_sequence
            state.next_sequence += 1
            state.exported_seq = state.local_seq
            for spec in chosen:
                if spec.kind is RecordKind.APPEND_ONLY:
                    top = conn.execute(
                        select(func.max(literal_column("rowid"))).select_from(spec.table)
                    ).scalar()
                    state.marks[spec.name] = int(top or 0)
        tables = writer.tables()
        manifest = Manifest(
            FORMAT_VERSION,
            SCHEMA_VERSION,
            state.team_id,
            state.origin,
            state.name,
            sequence,
            now,
            scope,
            tables,
        )
        check_manifest_fields(manifest)
        line_bytes = canonical_json(manifest_to_json(manifest)).encode("utf-8")
        with phases.timed("encrypt + write file"):
            size = write_encrypted(out, writer.finish(line_bytes), key)
        save_state(conn, state, last_export_at=now.isoformat())
        progress_at.done = total
        progress_at.tick("完成", check=False)
    return ExportResult(
        out, scope.encode(), sequence, scope.masked, {t: s.count for t, s in tables.items()}, size
    )


def _client_id(conn: Connection, name: str) -> str:
    found = conn.execute(
        select(clients.c.id).where(clients.c.name == name.strip(), clients.c.deleted.is_(False))
    ).scalar()
    if found is None:
        names = "、".join(conn.execute(select(clients.c.name).where(clients.c.deleted.is_(False))).scalars())
        raise ServiceError(f"找不到品牌方“{name}”。现有品牌方：{names or '（无）'}")
    return str(found)


def _count(conn: Connection, query: Any) -> int:
    return int(conn.execute(select(func.count()).select_from(query.subquery())).scalar_one())


def _append_only_select(spec: TableSpec, state: MachineState, scope: Scope) -> Any:
    t = spec.table
    query = select(t)
    if scope.kind is ScopeKind.ALL_CHANGES:
        # Own timeline entries appended since the last numbered bundle; rowids only grow because
        # timeline rows are never deleted. Imported entries are their origin's to publish.
        query = query.where(
            literal_column("rowid") > state.marks.get(spec.name, 0),
            or_(t.c.origin == state.machine_id, t.c.origin == ""),
        )
    if scope.kind is ScopeKind.CLIENT and spec.client_rule is not None:
        assert scope.client_id is not None
        query = query.where(spec.client_rule(scope.client_id))
    return query.order_by(t.c.id)


def _write_mutable(
    conn: Connection,
    writer: BundleWriter,
    spec: TableSpec,
    state: MachineState,
    scope: Scope,
    chosen: bool,
    now: datetime,
    progress: _Progress,
) -> int:
    """Stamp the table and write the lines of its rows in the scope; returns the rows stamped.

    In the scope: for all-changes, rows stamped now or since the last numbered bundle; for a client,
    its rows (tables without a client rule are the team's, sent whole); for library-only, all rows.
    """
    query = sync_joined(spec)
    in_client = scope.kind is ScopeKind.CLIENT and spec.client_rule is not None
    if in_client:
        assert scope.client_id is not None and spec.client_rule is not None
        query = query.add_columns(spec.client_rule(scope.client_id).label("_in"))
    label = f"正在导出{spec.label or spec.name}"
    rows = StampedRows(conn, spec, state, now, query)
    builder: LineBuilder | None = None
    all_changes = scope.kind is ScopeKind.ALL_CHANGES
    exported = state.exported_seq
    table = spec.name
    stamped = 0
    for page in rows:
        stamped += sum(meta is not None for _, meta, _ in page)
        progress.done += len(page)
        progress.tick(label, check=True)
        if not chosen:
            continue
        if builder is None:
            columns = rows.columns
            builder = LineBuilder(spec, columns, mask=scope.masked, origin=state.origin, dialect=conn.dialect)
            id_at, seq_at, in_at = (
                builder.id_at,
                columns.index("_seq"),
                columns.index("_in") if in_client else -1,
            )
        picked = [
            (row, meta, first)
            for row, meta, first in page
            if not (in_client and not row[in_at])
            and not (all_changes and meta is None and row[seq_at] <= exported)
        ]
        writer.add_lines(table, [row[id_at] for row, _, _ in picked], _mutable_lines(builder, picked))
    return stamped


def _mutable_lines(builder: LineBuilder, picked: list[Stamped]) -> list[bytes]:
    """The lines of one page's rows in the scope; a page of rows all stamped for the first time
    (a first export) is written column by column."""
    versions = [first for _, _, first in picked if first is not None]
    if len(versions) == len(picked):
        return builder.first_lines([row for row, _, _ in picked], versions)
    return [
        (
            builder.first_line(row, first)
            if first is not None
            else builder.meta_line(row, meta or row[builder.meta_at])
        ).encode()
        for row, meta, first in picked
    ]


def _write_append_only(
    conn: Connection,
    writer: BundleWriter,
    spec: TableSpec,
    query: Any,
    state: MachineState,
    scope: Scope,
    progress: _Progress,
) -> None:
    label = f"正在导出{spec.label or spec.name}"
    with driver_rows(conn, query) as (columns, cursor):
        builder = LineBuilder(spec, columns, mask=scope.masked, origin=state.origin, dialect=conn.dialect)
        ids = itemgetter(builder.id_at)
        while page := cursor.fetchmany(BATCH):
            writer.add_lines(spec.name, list(map(ids, page)), builder.append_only_lines(page))
            progress.done += len(page)
            progress.tick(label, check=True)


class _Progress:
    """Rows done out of the total, reported with a cancel check between batches."""

    def __init__(self, report: Progress | None, cancel: CancelCheck | None, total: int) -> None:
        self.report, self.cancel, self.total = report, cancel, total
        self.done = 0

    def tick(self, label: str, *, check: bool) -> None:
        if check and self.cancel is not None and self.cancel():
            raise SyncCancelled()
        if self.report is not None:
            self.report(min(self.done, self.total), self.total, label)

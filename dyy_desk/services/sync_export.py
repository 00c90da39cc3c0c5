"""Export a bundle: stamp local edits, pick the rows of the scope, stream them into an encrypted file.

Scopes: all changes made on this machine since its last numbered bundle (`all-changes`), one client
in full (`client:<id>`: its shops, buyers, tickets, timelines, plus the team's shared tables), or the
library tables only. Everything happens in one transaction, and the file is written before it
commits: a failed or cancelled export leaves neither a file nor an advanced sequence number.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
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
from dyy_desk.services.sync_lines import LineBuilder, raw_select
from dyy_desk.services.sync_registry import SCHEMA_VERSION, TableSpec, specs
from dyy_desk.services.sync_rows import BATCH, stamp_local_edits, sync_joined
from dyy_desk.services.sync_state import MachineState, large_page_cache, load_state, save_state, sync_row
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
        commit_start = time.perf_counter()
    phases.add("commit", time.perf_counter() - commit_start)
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
    with phases.timed("stamp local edits"):
        stamp_all(conn, state, now)
    if client_name is not None:
        client_id = _client_id(conn, client_name)
        scope = Scope(ScopeKind.CLIENT, client_id, mask_personal_data)
    else:
        kind = ScopeKind.LIBRARY_ONLY if library_only else ScopeKind.ALL_CHANGES
        scope = Scope(kind, None, mask_personal_data)
    chosen = [s for s in specs() if not (scope.kind is ScopeKind.LIBRARY_ONLY and not s.library)]
    selects = [(s, _select(conn, s, state, scope)) for s in sorted(chosen, key=lambda s: s.name)]
    with phases.timed("count rows"):
        total = sum(
            conn.execute(select(func.count()).select_from(q.subquery())).scalar_one() for _, q in selects
        )
    with BundleWriter(phases=phases) as writer:
        done = 0
        for spec, query in selects:
            label = f"正在导出{spec.label or spec.name}"
            start = time.perf_counter()
            result = conn.execute(raw_select(query)).yield_per(BATCH)
            builder = LineBuilder(
                spec, list(result.keys()), mask=scope.masked, origin=state.origin, dialect=conn.dialect
            )
            line, id_at, add, table = builder.line, builder.id_at, writer.add, spec.name
            for row in result:
                add(table, row[id_at], line(row).encode("utf-8"))
                done += 1
                if done % BATCH == 0:
                    _tick(progress, cancel, done, total, label)
            phases.add(f"read + write lines: {spec.name}", time.perf_counter() - start)
        _tick(progress, cancel, done, total, "正在加密")
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
        _tick(progress, None, total, total, "完成")
    return ExportResult(
        out, scope.encode(), sequence, scope.masked, {t: s.count for t, s in tables.items()}, size
    )


def stamp_all(conn: Connection, state: MachineState, now: datetime) -> int:
    """Version every local edit of every syncing table (bumps the local change counter once)."""
    stamped = sum(stamp_local_edits(conn, spec, state, now) for spec in specs())
    if stamped:
        state.local_seq += 1
    return stamped


def _client_id(conn: Connection, name: str) -> str:
    found = conn.execute(
        select(clients.c.id).where(clients.c.name == name.strip(), clients.c.deleted.is_(False))
    ).scalar()
    if found is None:
        names = "、".join(conn.execute(select(clients.c.name).where(clients.c.deleted.is_(False))).scalars())
        raise ServiceError(f"找不到品牌方“{name}”。现有品牌方：{names or '（无）'}")
    return str(found)


def _select(conn: Connection, spec: TableSpec, state: MachineState, scope: Scope) -> Any:
    t = spec.table
    if spec.kind is RecordKind.MUTABLE:
        query = sync_joined(spec)
        if scope.kind is ScopeKind.ALL_CHANGES:
            query = query.where(sync_row.c.local_seq > state.exported_seq)
    else:
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


def _tick(progress: Progress | None, cancel: CancelCheck | None, done: int, total: int, label: str) -> None:
    if cancel is not None and cancel():
        raise SyncCancelled()
    if progress is not None:
        progress(done, total, label)

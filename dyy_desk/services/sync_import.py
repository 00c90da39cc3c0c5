"""Import a bundle: decrypt, decode, validate, merge and apply — all or nothing.

The file is read as a stream in one pass inside one transaction: every record is checked (shape,
order, table checksums and counts, limits, required fields, enum values, parents present here or in
the bundle, unique values) and merged chunk by chunk with `plan_merge`. Any refusal, or a cancel,
rolls the transaction back, so the database is exactly as before; a preview runs the same pass and
always rolls back. Timeline events (append-only) merge as a union by id.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, closing
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, Engine

from dyy_desk.core.sync.errors import BundleError, Refusal
from dyy_desk.core.sync.manifest import Bundle, Manifest, manifest_from_json, validate_bundle
from dyy_desk.services import sync_phases
from dyy_desk.services.audit import append_audit
from dyy_desk.services.sync_bulk import BULK_ROWS
from dyy_desk.services.sync_export import CancelCheck, Progress, not_joined_error
from dyy_desk.services.sync_import_feed import Importer
from dyy_desk.services.sync_import_rules import loads
from dyy_desk.services.sync_registry import SCHEMA_VERSION, table_names
from dyy_desk.services.sync_report import ImportReport
from dyy_desk.services.sync_stamp import stamp_all
from dyy_desk.services.sync_state import gaps_after, large_page_cache, load_state
from dyy_desk.services.sync_stream import STREAM_LIMITS, iter_lines, read_plaintext


def preview_import(
    *,
    engine: Engine,
    machine_id: str,
    key: bytes,
    path: Path,
    now: datetime,
    progress: Progress | None = None,
    cancel: CancelCheck | None = None,
) -> ImportReport:
    """What importing would do; the database is left exactly as it was."""
    return _run(engine, machine_id, key, path, now, write=False, progress=progress, cancel=cancel)


def apply_import(
    *,
    engine: Engine,
    machine_id: str,
    key: bytes,
    path: Path,
    now: datetime,
    progress: Progress | None = None,
    cancel: CancelCheck | None = None,
    on_tickets_changed: Callable[[], None] | None = None,
    actor_id: str | None = None,
) -> ImportReport:
    """Import in one transaction. `on_tickets_changed` (e.g. `workspace.tickets.invalidate_queue`) is
    called after the commit if tickets or their timelines changed; the report's `changes` says the same."""
    report = _run(
        engine, machine_id, key, path, now, write=True, progress=progress, cancel=cancel, actor_id=actor_id
    )
    if report.changes.tickets and on_tickets_changed is not None:
        on_tickets_changed()
    return report


def _run(
    engine: Engine,
    machine_id: str,
    key: bytes,
    path: Path,
    now: datetime,
    *,
    write: bool,
    progress: Progress | None,
    cancel: CancelCheck | None,
    actor_id: str | None = None,
) -> ImportReport:
    phases = sync_phases.start("import")
    with phases.timed("read + decrypt file"):
        plaintext = read_plaintext(path, key)
    lines = iter_lines(plaintext, phases=phases)
    with (
        closing(lines),  # stops the inflating thread however this ends
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="bundle-sha256") as hasher,
        sync_phases.bulk_gc(),
        engine.connect() as conn,
    ):
        manifest = _manifest(next(lines, None))
        # A big import checks its foreign keys once at the end (`Importer.finish`) instead of per row:
        # SQLite looks up the parent of every row inserted, and while any child waits for a parent
        # later in the file (users come after the timeline), every parent inserted scans its child
        # tables. The setting belongs to the connection and cannot change inside a transaction.
        own_keys = write and sum(s.count for s in manifest.tables.values()) >= BULK_ROWS
        keys_before = _foreign_keys(conn, False) if own_keys else None
        trans = conn.begin()
        cache: AbstractContextManager[None] | None = None
        try:
            # One snapshot and the write lock from the start; pysqlite would otherwise begin only at
            # the first write. Foreign keys are checked at commit: parents may come later in the file.
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
            cache = large_page_cache(conn)
            cache.__enter__()
            state = load_state(conn, machine_id)
            if state.team_id is None:
                raise not_joined_error()
            _check_manifest(manifest, state.team_id)
            with phases.timed("stamp local edits"):
                stamp_all(conn, state, now)  # local edits get versions before they meet incoming ones
            importer = Importer(
                conn,
                state,
                manifest,
                hasher,
                write=write,
                progress=progress,
                cancel=cancel,
                phases=phases,
                bulk_rows=BULK_ROWS,
                check_foreign_keys=own_keys,
            )
            start = sync_phases.mark()
            feed = importer.feed
            for number, line in enumerate(lines, start=1):
                feed(number, line)
            with phases.timed("parents + last tables"):
                importer.finish()
            phases.add_rest("parse + check lines", start, ("merge + write", "split", "parents", "rebuild"))
            gaps = gaps_after(
                conn, origin=manifest.origin, name=manifest.origin_name, sequence=manifest.sequence
            )
            report = importer.report(applied=write, gaps=gaps, now=now)
            if write:
                importer.after_apply(now)
                append_audit(
                    conn,
                    at=now,
                    actor_id=actor_id,
                    action="sync_import",
                    target=f"bundle:{path.name}",
                    details=audit_details(report),
                )
                with phases.timed("commit"):
                    trans.commit()
            else:
                trans.rollback()
        except BaseException:
            if trans.is_active:
                trans.rollback()
            raise
        finally:
            if cache is not None:
                cache.__exit__(None, None, None)  # back to the usual size, after commit or rollback
            if keys_before is not None:
                _foreign_keys(conn, keys_before)
    return report


def _foreign_keys(conn: Connection, on: bool) -> bool:
    """Switch SQLite's foreign key enforcement for this connection (outside a transaction);
    returns the previous setting."""
    before = bool(conn.exec_driver_sql("PRAGMA foreign_keys").scalar())
    conn.exec_driver_sql(f"PRAGMA foreign_keys = {'ON' if on else 'OFF'}")
    conn.commit()  # ends SQLAlchemy's implicit transaction; SQLite had none open
    return before


def audit_details(report: ImportReport) -> dict[str, object]:
    """What the audit log keeps of an applied import: whose bundle, and how much it changed."""
    return {
        "origin": report.origin,
        "origin_name": report.origin_name,
        "sequence": report.sequence,
        "scope": report.scope,
        "masked": report.masked,
        "tables": {
            t.table: {"new": t.new, "changed": t.changed, "conflicting": t.conflicting} for t in report.tables
        },
        "conflicts": report.conflict_count,
    }


def _manifest(line: bytes | None) -> Manifest:
    if line is None:
        raise BundleError(Refusal.DAMAGED, "数据包不完整，可能还没有传完或在传输中被截断，请让对方重新发送。")
    try:
        return manifest_from_json(loads(line))
    except ValueError as exc:
        raise BundleError(Refusal.MALFORMED, f"数据包清单格式不正确：{exc}") from None


def _check_manifest(manifest: Manifest, team_id: str) -> None:
    # format, schema and team checks of the core, without the per-table part (done while streaming)
    validate_bundle(
        Bundle(replace(manifest, tables={}), ()), team_id=team_id, max_schema_version=SCHEMA_VERSION
    )
    if len(manifest.tables) > STREAM_LIMITS.max_tables:
        raise BundleError(
            Refusal.TOO_LARGE,
            f"数据包包含 {len(manifest.tables)} 张表，超过上限 {STREAM_LIMITS.max_tables}。",
        )
    for table in sorted(manifest.tables):
        if table not in table_names():
            raise BundleError(Refusal.MALFORMED, f"数据包包含本程序不认识的表“{table}”。", table=table)

"""Import a bundle: decrypt, decode, validate, merge and apply — all or nothing.

The file is read as a stream in one pass inside one transaction: every record is checked (shape,
order, table checksums and counts, limits, required fields, enum values, parents present here or in
the bundle, unique values) and merged chunk by chunk with `plan_merge`. Any refusal, or a cancel,
rolls the transaction back, so the database is exactly as before; a preview runs the same pass and
always rolls back. Timeline events (append-only) merge as a union by id.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import defaultdict, deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, closing
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Dialect, Engine, and_, bindparam, insert, select, update

from dyy_desk.core.changes import Changes
from dyy_desk.core.sync.errors import BundleError, Refusal
from dyy_desk.core.sync.hlc import Hlc
from dyy_desk.core.sync.manifest import (
    Bundle,
    Manifest,
    clock_skew_warning,
    manifest_from_json,
    validate_bundle,
)
from dyy_desk.core.sync.merge import Conflict, Outcome, plan_merge
from dyy_desk.core.sync.records import (
    ParsedRecord,
    RecordKind,
    match_append_only,
    parse_mutable_line,
    parse_record_json,
)
from dyy_desk.core.ticket_numbers import parse_ticket_number
from dyy_desk.db.repos.tables import ticket_counters
from dyy_desk.services import sync_phases
from dyy_desk.services.audit import append_audit
from dyy_desk.services.sync_bulk import BULK_ROWS, DbConverter, DeferredIndexes, db_converter, is_empty
from dyy_desk.services.sync_export import CancelCheck, Progress, SyncCancelled, not_joined_error, stamp_all
from dyy_desk.services.sync_registry import SCHEMA_VERSION, TableSpec, converter, spec_for, specs, table_names
from dyy_desk.services.sync_report import MAX_LISTED_CONFLICTS, ImportReport, TableReport
from dyy_desk.services.sync_rows import (
    chunks,
    encode_meta,
    insert_rows,
    load_local,
    parsed_row,
    row_from_record,
    write_meta,
)
from dyy_desk.services.sync_state import (
    MachineState,
    gaps_after,
    large_page_cache,
    load_state,
    record_peer,
    save_state,
)
from dyy_desk.services.sync_stream import STREAM_LIMITS, iter_lines, read_plaintext

CHUNK = 1000
_HASH_BLOCK = 512  # lines hashed per call
_HASHES_AHEAD = 8  # blocks waiting for the hashing thread
_EMPTY_SHA = hashlib.sha256().hexdigest()


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
            importer = _Importer(
                conn,
                state,
                manifest,
                hasher,
                write=write,
                progress=progress,
                cancel=cancel,
                phases=phases,
            )
            start = time.perf_counter()
            feed = importer.feed
            for number, line in enumerate(lines, start=1):
                feed(number, line)
            with phases.timed("parents + last tables"):
                importer.finish()
            rest = (
                time.perf_counter()
                - start
                - sum(
                    v
                    for k, v in phases.seconds.items()
                    if k.startswith(("merge + write", "split", "parents", "rebuild"))
                )
            )
            phases.add("parse + check lines", rest)
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
    return report


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
        return manifest_from_json(_loads(line))
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


def _loads(line: bytes) -> object:
    def reject(name: str) -> object:
        raise ValueError(f"{name} is not allowed")

    try:
        return json.loads(line, parse_constant=reject)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise ValueError(f"not JSON ({type(exc).__name__})") from None


def _refuse(spec: TableSpec, record_id: str, reason: str) -> BundleError:
    return BundleError(
        Refusal.MALFORMED,
        f"数据包中“{spec.label}”表的记录 {record_id} 不符合要求：{reason}，不能导入。",
        table=spec.name,
    )


class _Rules:
    """A table's import checks, laid out once per table instead of once per record."""

    def __init__(self, spec: TableSpec, dialect: Dialect) -> None:
        self.spec = spec
        self.known = frozenset(f.name for f in spec.fields)
        self.fields = [
            (
                f,
                converter(f),
                not f.nullable and not f.has_default,
                spec.enums.get(f.name),
                spec.parents.get(f.name),
                f.name in spec.unique,
            )
            for f in spec.fields
        ]
        self.ids: set[str] | None = None  # ids in the bundle, kept for tables that are parents
        # all fields, sorted: the fields of an append-only line as exporters write it
        self.line_names = tuple(sorted(self.known)) if spec.kind is RecordKind.APPEND_ONLY else None
        # all fields, sorted: the fields of a mutable line as exporters write it
        self.mutable_names = tuple(sorted(self.known)) if spec.kind is RecordKind.MUTABLE else None
        # the usual line's fields, in line order: driver value, enum values, parent table
        self.fast: list[tuple[str, DbConverter, frozenset[str] | None, str | None]] | None = None
        self.insert_sql = ""
        if self.line_names is not None and not spec.unique and not spec.personal:
            by_name = {f.name: f for f in spec.fields}
            self.fast = [
                (
                    name,
                    db_converter(by_name[name], spec.table.c[name], dialect),
                    spec.enums.get(name),
                    spec.parents.get(name),
                )
                for name in self.line_names
            ]
            names = ", ".join(f'"{name}"' for name in ("id", *self.line_names))
            marks = ", ".join("?" for _ in range(len(self.line_names) + 1))
            self.insert_sql = f'INSERT INTO "{spec.name}" ({names}) VALUES ({marks})'


@dataclass
class _TableRun:
    spec: TableSpec
    rules: _Rules
    digest: Any = field(default_factory=hashlib.sha256)
    lines: list[bytes] = field(default_factory=list)  # not yet hashed
    count: int = 0
    outcomes: dict[Outcome, int] = field(default_factory=lambda: dict.fromkeys(Outcome, 0))
    written: int = 0
    empty: bool = False  # the table had no rows when the import began
    deferred: DeferredIndexes | None = None

    hashing: deque[Future[None]] = field(default_factory=deque)

    def hash_lines(self, hasher: ThreadPoolExecutor) -> None:
        """Hash the collected lines on the hashing thread (one thread: blocks stay in order)."""
        if self.lines:
            self.hashing.append(hasher.submit(self.digest.update, b"\n".join(self.lines) + b"\n"))
            self.lines = []
            while len(self.hashing) > _HASHES_AHEAD:
                self.hashing.popleft().result()

    def hexdigest(self) -> str:
        while self.hashing:
            self.hashing.popleft().result()
        return str(self.digest.hexdigest())


class _Importer:
    def __init__(
        self,
        conn: Connection,
        state: MachineState,
        manifest: Manifest,
        hasher: ThreadPoolExecutor,
        *,
        write: bool,
        progress: Progress | None,
        cancel: CancelCheck | None,
        phases: sync_phases.Phases,
    ) -> None:
        self.conn, self.state, self.manifest, self.write = conn, state, manifest, write
        self.hasher = hasher
        self.progress, self.cancel, self.phases = progress, cancel, phases
        self.total = sum(s.count for s in manifest.tables.values())
        self.done = 0
        self.last: tuple[str, str] | None = None
        self.runs: dict[str, _TableRun] = {}
        self.current: _TableRun | None = None
        self.chunk: list[tuple[ParsedRecord, dict[str, object]]] = []
        self.fast_rows: list[tuple[object, ...]] = []  # usual append-only lines as driver values
        self.conflicts: list[Conflict] = []
        self.conflict_count = 0
        self.max_version = ""
        parent_tables = {p for s in specs() for p in s.parents.values()}
        self.bundle_ids: dict[str, set[str]] = {t: set() for t in parent_tables}
        self.refs: dict[str, set[str]] = defaultdict(set)
        self.unique_seen: dict[tuple[str, str], dict[object, str]] = defaultdict(dict)
        self.ticket_days: dict[str, int] = {}

    # --- streaming ---------------------------------------------------------------------------
    def feed(self, number: int, line: bytes) -> None:
        if len(line) > STREAM_LIMITS.max_record_bytes:
            raise BundleError(
                Refusal.TOO_LARGE,
                f"数据包第 {number} 条记录有 {len(line)} 字节，"
                f"超过单条上限 {STREAM_LIMITS.max_record_bytes} 字节。",
            )
        run = self.current
        if run is not None and run.rules.fast is not None and run.rules.line_names is not None:
            # the usual timeline line, read without the JSON decoder (same result: see the function)
            try:
                matched = match_append_only(line.decode("utf-8"), run.spec.name, run.rules.line_names)
            except UnicodeDecodeError:
                matched = None
            if matched is not None:
                self._feed_usual(run, line, *matched)
                return
        record = None
        if run is not None and run.rules.mutable_names is not None:
            # a row at one version, read without the JSON decoder (same result: see the function)
            record = parse_mutable_line(line, run.spec.name, run.rules.mutable_names)
        if record is None:
            try:
                record = parse_record_json(_loads(line))
            except ValueError as exc:
                raise BundleError(Refusal.MALFORMED, f"数据包第 {number} 条记录格式不正确：{exc}") from None
        key = (record.table, record.id)
        if self.last is not None and key <= self.last:
            raise BundleError(Refusal.MALFORMED, "数据包中的记录顺序不正确或有重复的记录，文件可能已被改动。")
        self.last = key
        if self.current is None or self.current.spec.name != record.table:
            self._end_table()
            spec = spec_for(record.table)
            if spec is None:
                raise BundleError(Refusal.MALFORMED, f"数据包包含本程序不认识的表“{record.table}”。")
            if record.table not in self.manifest.tables:
                raise BundleError(
                    Refusal.CHECKSUM,
                    f"数据包中“{record.table}”表未登记在清单中，文件可能已被改动。",
                    table=record.table,
                )
            self.current = self.runs[record.table] = self._start_table(spec)
        run = self.current
        self._count(run, line)
        values = self._check(run.rules, record)
        if record.version > self.max_version:
            self.max_version = record.version
        self.chunk.append((record, values))
        if len(self.chunk) >= CHUNK:
            self._flush()

    def _start_table(self, spec: TableSpec) -> _TableRun:
        rules = _Rules(spec, self.conn.dialect)
        rules.ids = self.bundle_ids.get(spec.name)
        run = _TableRun(spec, rules, empty=is_empty(self.conn, spec.table))
        if self.write and run.empty and self.manifest.tables[spec.name].count >= BULK_ROWS:
            run.deferred = DeferredIndexes(self.conn, spec.table)
        return run

    def _count(self, run: _TableRun, line: bytes) -> None:
        run.lines.append(line)
        if len(run.lines) >= _HASH_BLOCK:
            run.hash_lines(self.hasher)
        run.count += 1
        if run.count > STREAM_LIMITS.max_records_per_table:
            raise BundleError(
                Refusal.TOO_LARGE,
                f"数据包中“{run.spec.name}”表的记录超过上限 {STREAM_LIMITS.max_records_per_table} 条。",
                table=run.spec.name,
            )

    def _feed_usual(
        self, run: _TableRun, line: bytes, version: str, record_id: str, values: list[object]
    ) -> None:
        """`feed` for a usual append-only line of the current table: the same checks, a driver row."""
        assert self.last is not None and run.rules.fast is not None
        if record_id <= self.last[1]:
            raise BundleError(Refusal.MALFORMED, "数据包中的记录顺序不正确或有重复的记录，文件可能已被改动。")
        self.last = (run.spec.name, record_id)
        self._count(run, line)
        row: list[object] = [record_id]
        refs = self.refs
        for value, (name, convert, allowed, parent) in zip(values, run.rules.fast, strict=True):
            try:
                row.append(convert(value))  # type: ignore[arg-type]  # a plain JSON scalar
            except ValueError as exc:
                raise _refuse(run.spec, record_id, str(exc)) from None
            if allowed is not None and value not in allowed:
                raise _refuse(run.spec, record_id, f"字段“{name}”的值“{value}”无效")
            if parent is not None and value is not None:
                refs[parent].add(str(value))
        if run.rules.ids is not None:
            run.rules.ids.add(record_id)
        if version > self.max_version:
            self.max_version = version
        self.fast_rows.append(tuple(row))
        if len(self.fast_rows) >= CHUNK:
            self._flush()

    def _check(self, rules: _Rules, record: ParsedRecord) -> dict[str, object]:
        """The record's database values (each converted once), or a refusal naming the problem."""
        spec = rules.spec
        if record.kind is not spec.kind:
            raise _refuse(spec, record.id, f"记录类型应为 {spec.kind.value}")
        given = record.fields
        for name, state in given.items():
            if name not in rules.known:
                raise _refuse(spec, record.id, f"有本程序不认识的字段“{name}”（请先升级 DYY Desk）")
            if state["masked"] is True and name not in spec.personal:
                raise _refuse(spec, record.id, f"字段“{name}”不能打码")
        values: dict[str, object] = {}
        deleted = record.deleted["value"] is True
        for f, convert, required, allowed, parent, unique in rules.fields:
            found = given.get(f.name)
            if found is None:
                if required:
                    raise _refuse(spec, record.id, f"缺少必填字段“{f.name}”")
                continue
            try:
                value = convert(found["value"])
            except ValueError as exc:
                raise _refuse(spec, record.id, str(exc)) from None
            values[f.name] = value
            if allowed is not None and value not in allowed:
                raise _refuse(spec, record.id, f"字段“{f.name}”的值“{value}”无效")
            if parent is not None and value is not None:
                self.refs[parent].add(str(value))
            if unique and not deleted:
                seen = self.unique_seen[(spec.name, f.name)]
                if seen.setdefault(value, record.id) != record.id:
                    raise _refuse(spec, record.id, f"字段“{f.name}”的值“{value}”与数据包中另一条记录重复")
        if rules.ids is not None:
            rules.ids.add(record.id)
        return values

    def _end_table(self) -> None:
        self._flush()
        run = self.current
        if run is None:
            return
        if run.deferred is not None:
            with self.phases.timed(f"rebuild indexes: {run.spec.name}"):
                run.deferred.restore()
        run.hash_lines(self.hasher)
        summary = self.manifest.tables[run.spec.name]
        name = run.spec.name
        if run.count != summary.count:
            raise BundleError(
                Refusal.CHECKSUM,
                f"数据包中“{name}”表应有 {summary.count} 条记录，实际只有 {run.count} 条，文件可能已损坏。",
                table=name,
            )
        if run.hexdigest() != summary.sha256:
            raise BundleError(
                Refusal.CHECKSUM, f"数据包中“{name}”表的校验和不一致，文件可能已损坏或被改动。", table=name
            )

    def finish(self) -> None:
        self._end_table()
        self.current = None
        for table, summary in self.manifest.tables.items():
            if table not in self.runs and (summary.count != 0 or summary.sha256 != _EMPTY_SHA):
                raise BundleError(
                    Refusal.CHECKSUM,
                    f"数据包中“{table}”表应有 {summary.count} 条记录，实际只有 0 条，文件可能已损坏。",
                    table=table,
                )
        self._check_parents()

    def _check_parents(self) -> None:
        for parent, ids in self.refs.items():
            spec = spec_for(parent)
            assert spec is not None
            missing = sorted(ids - self.bundle_ids.get(parent, set()))
            for part in chunks(missing):
                present = set(
                    self.conn.execute(select(spec.table.c.id).where(spec.table.c.id.in_(part))).scalars()
                )
                absent = [i for i in part if i not in present]
                if absent:
                    raise BundleError(
                        Refusal.MALFORMED,
                        f"数据包引用了本机和数据包中都没有的{spec.label}（{absent[0]}"
                        f"{' 等 ' + str(len(absent)) + ' 条' if len(absent) > 1 else ''}），"
                        "请先导入对方更早的数据包或该品牌方的完整数据包。",
                        table=parent,
                    )

    # --- merge and write ---------------------------------------------------------------------
    def _flush(self) -> None:
        if not (self.chunk or self.fast_rows) or self.current is None:
            return
        run, records, usual = self.current, self.chunk, self.fast_rows
        spec = run.spec
        self.chunk, self.fast_rows = [], []
        start = time.perf_counter()
        if spec.kind is RecordKind.APPEND_ONLY:
            self._append(run, records, usual)
        else:
            self._merge(spec, records)
        self.phases.add(f"merge + write: {spec.name}", time.perf_counter() - start)
        self.done += len(records) + len(usual)
        if self.cancel is not None and self.cancel():
            raise SyncCancelled()
        if self.progress is not None:
            self.progress(self.done, self.total, f"正在{'导入' if self.write else '检查'}{spec.label}")

    def _append(
        self,
        run: _TableRun,
        records: list[tuple[ParsedRecord, dict[str, object]]],
        usual: list[tuple[object, ...]],
    ) -> None:
        # Append-only records are a union by id: no record objects, no merge, just the new rows.
        # Into a table that was empty, every record is new (ids in a bundle never repeat).
        t = run.spec.table
        existing: set[str] = set()
        if not run.empty:
            ids = [r.id for r, _ in records] + [row[0] for row in usual]
            existing = set(self.conn.execute(select(t.c.id).where(t.c.id.in_(ids))).scalars())
        new = [(r, values) for r, values in records if r.id not in existing]
        new_rows = [row for row in usual if row[0] not in existing] if existing else usual
        added = len(new) + len(new_rows)
        run.outcomes[Outcome.NEW] += added
        run.outcomes[Outcome.UNCHANGED] += len(records) + len(usual) - added
        if self.write and new:
            insert_rows(self.conn, t, [{"id": r.id, **values} for r, values in new])
        if self.write and new_rows:
            self.conn.exec_driver_sql(run.rules.insert_sql, new_rows)
        if self.write:
            run.written += added

    def _merge(self, spec: TableSpec, parsed: list[tuple[ParsedRecord, dict[str, object]]]) -> None:
        run = self.runs[spec.name]
        local = {} if run.empty else load_local(self.conn, spec, [p.id for p, _ in parsed])
        rows: list[tuple[str, dict[str, Any], str, int]] = []  # id, values, meta text, row hash
        # A record with no local row is new and written as it came: no merge, no record object.
        for p, values in parsed:
            if p.id not in local:
                rows.append((p.id, *parsed_row(spec, p, values)))
        run.outcomes[Outcome.NEW] += len(rows)
        others = [p.to_record() for p, _ in parsed if p.id in local]
        if others:
            plan = plan_merge({(spec.name, i): r for i, r in local.items()}, others)
            for outcome in plan.outcomes.values():
                run.outcomes[outcome] += 1
            self.conflict_count += len(plan.conflicts)
            room = MAX_LISTED_CONFLICTS - len(self.conflicts)
            if room > 0:
                self.conflicts.extend(plan.conflicts[:room])
            for merged in plan.writes:
                values, meta, h = row_from_record(spec, merged)
                rows.append((merged.id, values, encode_meta(meta), h))
            rows.sort(key=lambda row: row[0])
        self._check_unique(spec, [(rid, values) for rid, values, _, _ in rows])
        if spec.name == "ticket":
            for _, values, _, _ in rows:
                number = parse_ticket_number(str(values.get("number", "")))
                if number and number[1] > self.ticket_days.get(number[0], 0):
                    self.ticket_days[number[0]] = number[1]
        if not self.write or not rows:
            return
        t = spec.table
        new_rows = [row for row in rows if row[0] not in local]
        old_rows = [row for row in rows if row[0] in local]
        if new_rows:
            insert_rows(self.conn, t, [{"id": rid, **v} for rid, v, _, _ in new_rows])
            self.conn.exec_driver_sql(
                "INSERT INTO sync_row (table_name, id, row_hash, meta, local_seq) VALUES (?, ?, ?, ?, 0)",
                [(spec.name, rid, h, meta) for rid, _, meta, h in new_rows],
            )
        if old_rows:
            by_keys: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
            for rid, v, _, _ in old_rows:
                by_keys[tuple(sorted(v))].append({"_id": rid, **v})
            for keys, batch in by_keys.items():
                stmt = update(t).where(t.c.id == bindparam("_id")).values({k: bindparam(k) for k in keys})
                self.conn.execute(stmt, batch)
            write_meta(self.conn, [(spec.name, rid, h, meta, None) for rid, _, meta, h in old_rows])
        run.written += len(rows)

    def _check_unique(self, spec: TableSpec, rows: Sequence[tuple[str, dict[str, Any]]]) -> None:
        t = spec.table
        for name in spec.unique:
            wanted = {v[name]: rid for rid, v in rows if v.get(name) is not None}
            if not wanted:
                continue
            column = t.c[name]
            clash = self.conn.execute(
                select(t.c.id, column).where(
                    and_(column.in_(list(wanted)), t.c.id.not_in(list(wanted.values())))
                )
            ).first()
            if clash is not None and wanted.get(clash[1]) not in (None, clash[0]):
                raise _refuse(
                    spec,
                    wanted[clash[1]],
                    f"{spec.label}的“{name}”为“{clash[1]}”，与本机已有的另一条记录重复（两台电脑各自新建了同名或同号的记录）",
                )

    # --- after the pass ----------------------------------------------------------------------
    def after_apply(self, now: datetime) -> None:
        for day, last in self.ticket_days.items():
            current = self.conn.execute(
                select(ticket_counters.c.last).where(ticket_counters.c.day == day)
            ).scalar()
            if current is None:
                self.conn.execute(insert(ticket_counters).values(day=day, last=last))
            elif current < last:
                self.conn.execute(
                    update(ticket_counters).where(ticket_counters.c.day == day).values(last=last)
                )
        if self.max_version:
            self.state.clock.receive(Hlc.parse(self.max_version), now)
        m = self.manifest
        record_peer(self.conn, origin=m.origin, name=m.origin_name, sequence=m.sequence, now=now)
        save_state(self.conn, self.state, last_import_at=now.isoformat())

    def report(self, *, applied: bool, gaps: list[str], now: datetime) -> ImportReport:
        m = self.manifest
        tables = []
        touched = Changes()
        for name, run in self.runs.items():
            o = run.outcomes
            tables.append(
                TableReport(
                    name,
                    run.spec.label or name,
                    o[Outcome.NEW],
                    o[Outcome.CHANGED],
                    o[Outcome.CONFLICTING],
                    o[Outcome.UNCHANGED],
                )
            )
            if applied and run.written:
                touched = touched | _changes_for(run.spec.area)
        warnings = []
        skew = clock_skew_warning(m, now)
        if skew:
            warnings.append(skew)
        if m.origin == self.state.origin:
            warnings.append("这是本机自己导出的数据包。")
        return ImportReport(
            applied=applied,
            origin=m.origin,
            origin_name=m.origin_name,
            sequence=m.sequence,
            scope=m.scope.encode(),
            masked=m.scope.masked,
            tables=tuple(tables),
            conflicts=tuple(self.conflicts),
            conflict_count=self.conflict_count,
            gaps=tuple(gaps),
            warnings=tuple(warnings),
            changes=touched,
        )


def _changes_for(area: str) -> Changes:
    flags: dict[str, bool] = {area: True}
    return Changes(**flags)  # type: ignore[arg-type]

"""The read side of an import: every line of the bundle checked as it streams past.

Lines must come in (table, id) order, each table's lines must match the manifest's count and
SHA-256 (hashed on a worker thread in blocks), no record may exceed the size limits, and every
referenced parent must exist here or in the bundle (checked at the end, when all ids are known).
Checked records are handed to `Applier` a chunk at a time. The usual lines are read without the
JSON decoder (`core.sync.records.match_mutable` / `match_append_only`, same result).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from dyy_desk.core.changes import Changes
from dyy_desk.core.sync.errors import BundleError, Refusal
from dyy_desk.core.sync.hlc import Hlc
from dyy_desk.core.sync.manifest import Manifest, clock_skew_warning
from dyy_desk.core.sync.merge import Outcome
from dyy_desk.core.sync.records import (
    RecordKind,
    match_append_only,
    match_mutable,
    parse_mutable_line,
    parse_record_json,
)
from dyy_desk.services import sync_phases
from dyy_desk.services.sync_bulk import BULK_ROWS, DeferredIndexes, is_empty
from dyy_desk.services.sync_export import CancelCheck, Progress, SyncCancelled
from dyy_desk.services.sync_import_apply import Applier, Checked
from dyy_desk.services.sync_import_rules import TableRules, TableRun, loads
from dyy_desk.services.sync_registry import TableSpec, spec_for, specs
from dyy_desk.services.sync_report import ImportReport, TableReport
from dyy_desk.services.sync_rows import chunks
from dyy_desk.services.sync_state import MachineState, record_peer, save_state
from dyy_desk.services.sync_stream import STREAM_LIMITS

CHUNK = 1000  # records merged and written at a time
_HASH_BLOCK = 512  # lines hashed per call
_EMPTY_SHA = hashlib.sha256().hexdigest()
_OUT_OF_ORDER = "数据包中的记录顺序不正确或有重复的记录，文件可能已被改动。"


class Importer:
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
        bulk_rows: int = BULK_ROWS,
        check_foreign_keys: bool = False,
    ) -> None:
        self.conn, self.state, self.manifest, self.write = conn, state, manifest, write
        self.hasher = hasher
        self.progress, self.cancel, self.phases = progress, cancel, phases
        self.bulk_rows = bulk_rows
        self.check_foreign_keys = check_foreign_keys  # enforcement is off: check them in `finish`
        self.applier = Applier(conn, write=write)
        self.total = sum(s.count for s in manifest.tables.values())
        self.done = 0
        self.last: tuple[str, str] | None = None
        self.runs: dict[str, TableRun] = {}
        self.current: TableRun | None = None
        self.chunk: list[Checked] = []
        self.usual: list[Any] = []  # usual lines, checked (see `Applier.apply`)
        self.max_version = ""
        parent_tables = {p for s in specs() for p in s.parents.values()}
        self.bundle_ids: dict[str, set[str]] = {t: set() for t in parent_tables}
        self.refs: defaultdict[str, set[str]] = defaultdict(set)

    # --- streaming ---------------------------------------------------------------------------
    def feed(self, number: int, line: bytes) -> None:
        if len(line) > STREAM_LIMITS.max_record_bytes:
            raise BundleError(
                Refusal.TOO_LARGE,
                f"数据包第 {number} 条记录有 {len(line)} 字节，"
                f"超过单条上限 {STREAM_LIMITS.max_record_bytes} 字节。",
            )
        run = self.current
        if run is not None and run.rules.fast and self._feed_usual(run, line):
            return
        record = None
        if run is not None and run.spec.kind is RecordKind.MUTABLE and not run.rules.fast:
            # a row at one version, read without the JSON decoder (same result: see the function)
            record = parse_mutable_line(line, run.spec.name, run.rules.names)
        if record is None:
            try:
                record = parse_record_json(loads(line))
            except ValueError as exc:
                raise BundleError(Refusal.MALFORMED, f"数据包第 {number} 条记录格式不正确：{exc}") from None
        key = (record.table, record.id)
        if self.last is not None and key <= self.last:
            raise BundleError(Refusal.MALFORMED, _OUT_OF_ORDER)
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
        values = run.rules.check(record)
        if record.version > self.max_version:
            self.max_version = record.version
        self.chunk.append((record, values))
        if len(self.chunk) >= CHUNK:
            self._flush()

    def _feed_usual(self, run: TableRun, line: bytes) -> bool:
        """`feed` for a usual line of the current table (same checks, no record object); False if
        the line is not one (the general path then reads it)."""
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            return False
        item: Any
        if run.spec.kind is RecordKind.APPEND_ONLY:
            found = match_append_only(text, run.spec.name, run.rules.names)
            if found is None:
                return False
            version, record_id, values = found
            self._in_order(run, record_id, line)
            item = (record_id, *run.rules.check_usual(record_id, values))
        else:
            matched = match_mutable(text, run.spec.name, run.rules.names)
            if matched is None:
                return False
            deleted, version, record_id, values = matched
            self._in_order(run, record_id, line)
            item = (record_id, version, deleted, values, run.rules.check_usual(record_id, values))
        if version > self.max_version:
            self.max_version = version
        self.usual.append(item)
        if len(self.usual) >= CHUNK:
            self._flush()
        return True

    def _in_order(self, run: TableRun, record_id: str, line: bytes) -> None:
        assert self.last is not None  # the current table has had a line
        if record_id <= self.last[1]:
            raise BundleError(Refusal.MALFORMED, _OUT_OF_ORDER)
        self.last = (run.spec.name, record_id)
        self._count(run, line)

    def _start_table(self, spec: TableSpec) -> TableRun:
        rules = TableRules(spec, self.conn.dialect, self.refs)
        rules.ids = self.bundle_ids.get(spec.name)
        run = TableRun(spec, rules, empty=is_empty(self.conn, spec.table))
        if self.write and run.empty and self.manifest.tables[spec.name].count >= self.bulk_rows:
            run.deferred = DeferredIndexes(self.conn, spec.table)
        return run

    def _count(self, run: TableRun, line: bytes) -> None:
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
        if self.check_foreign_keys:
            self._check_foreign_keys()

    def _check_foreign_keys(self) -> None:
        """`PRAGMA foreign_key_check` of the tables written: what SQLite would have refused at commit
        (the parents check above names the usual cases; this covers every constraint of the schema)."""
        for run in self.runs.values():
            if not run.written:
                continue
            quoted = self.conn.dialect.identifier_preparer.quote(run.spec.name)
            broken = self.conn.exec_driver_sql(f"PRAGMA foreign_key_check({quoted})").first()
            if broken is not None:
                raise BundleError(
                    Refusal.MALFORMED,
                    f"数据包中“{run.spec.label}”表的记录引用了本机和数据包中都没有的“{broken[2]}”记录，"
                    "请先导入对方更早的数据包或该品牌方的完整数据包。",
                    table=run.spec.name,
                )

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

    def _flush(self) -> None:
        if not (self.chunk or self.usual) or self.current is None:
            return
        run, records, usual = self.current, self.chunk, self.usual
        self.chunk, self.usual = [], []
        start = sync_phases.mark()
        self.applier.apply(run, records, usual)
        self.phases.add(f"merge + write: {run.spec.name}", start)
        self.done += len(records) + len(usual)
        if self.cancel is not None and self.cancel():
            raise SyncCancelled()
        if self.progress is not None:
            self.progress(self.done, self.total, f"正在{'导入' if self.write else '检查'}{run.spec.label}")

    # --- after the pass ----------------------------------------------------------------------
    def after_apply(self, now: datetime) -> None:
        self.applier.update_ticket_counters()
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
            conflicts=tuple(self.applier.conflicts),
            conflict_count=self.applier.conflict_count,
            gaps=tuple(gaps),
            warnings=tuple(warnings),
            changes=touched,
        )


def _changes_for(area: str) -> Changes:
    flags: dict[str, bool] = {area: True}
    return Changes(**flags)  # type: ignore[arg-type]

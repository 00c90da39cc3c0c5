"""The write side of an import: merge each chunk of records with the local rows and store the result.

Timeline records (append-only) are a union by id: new ones are inserted, nothing else happens.
Mutable records with no local row are new and stored as they came; the others go through
`core.sync.merge.plan_merge`, which also lists the conflicts. The usual lines of a table (one
version, nothing masked) arrive as values already checked (`TableRules.check_usual`) and become
driver rows with the same values, metadata and hashes the general path stores (tested).
With `write=False` (a preview) everything is counted and nothing written.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, and_, bindparam, insert, select, update

from dyy_desk.core.sync.hlc import COUNTER_DIGITS, WALL_DIGITS
from dyy_desk.core.sync.merge import Conflict, Outcome, plan_merge
from dyy_desk.core.sync.records import ParsedRecord, RecordKind, single_version_record
from dyy_desk.core.ticket_numbers import parse_ticket_number
from dyy_desk.db.repos.tables import ticket_counters
from dyy_desk.services.sync_import_rules import TableRun, refuse
from dyy_desk.services.sync_meta import encode_meta, first_meta, row_hash_of_reprs
from dyy_desk.services.sync_report import MAX_LISTED_CONFLICTS
from dyy_desk.services.sync_rows import insert_rows, load_local, parsed_row, row_from_record
from dyy_desk.services.sync_stamp import write_meta

_ORIGIN_AT = WALL_DIGITS + COUNTER_DIGITS + 2  # where the origin starts in a version's text
_SYNC_ROW_SQL = "INSERT INTO sync_row (table_name, id, row_hash, meta, local_seq) VALUES (?, ?, ?, ?, 0)"

# A record checked as it came: (record, its database values by field)
Checked = tuple[ParsedRecord, dict[str, object]]
# A usual mutable line, checked: (id, version, deleted, line values, Python values), in line order
UsualRow = tuple[str, str, bool, list[object], list[object]]


class Applier:
    def __init__(self, conn: Connection, *, write: bool) -> None:
        self.conn, self.write = conn, write
        self.conflicts: list[Conflict] = []
        self.conflict_count = 0
        self.ticket_days: dict[str, int] = {}  # day → highest ticket number seen in the bundle

    def apply(self, run: TableRun, records: list[Checked], usual: list[Any]) -> None:
        """One chunk of a table: `usual` holds driver rows (timeline) or `UsualRow`s (mutable)."""
        if run.spec.kind is RecordKind.APPEND_ONLY:
            self._append(run, records, usual)
            return
        if usual:
            existing = set() if run.empty else self._existing(run, [u[0] for u in usual])
            if existing:
                names = run.rules.names
                records = records + [
                    (
                        single_version_record(
                            run.spec.name, rid, RecordKind.MUTABLE, names, v, values, deleted
                        ),
                        dict(zip(names, converted, strict=True)),
                    )
                    for rid, v, deleted, values, converted in usual
                    if rid in existing
                ]
                usual = [u for u in usual if u[0] not in existing]
            self._insert_usual(run, usual)
        if records:
            self._merge(run, records)

    def _existing(self, run: TableRun, ids: list[str]) -> set[str]:
        t = run.spec.table
        return set(self.conn.execute(select(t.c.id).where(t.c.id.in_(ids))).scalars())

    def _append(self, run: TableRun, records: list[Checked], usual: list[tuple[object, ...]]) -> None:
        # Append-only records are a union by id: no record objects, no merge, just the new rows.
        # Into a table that was empty, every record is new (ids in a bundle never repeat).
        existing: set[str] = set()
        if not run.empty:
            existing = self._existing(run, [r.id for r, _ in records] + [str(row[0]) for row in usual])
        new = [(r, values) for r, values in records if r.id not in existing]
        new_rows = [row for row in usual if row[0] not in existing] if existing else usual
        added = len(new) + len(new_rows)
        run.outcomes[Outcome.NEW] += added
        run.outcomes[Outcome.UNCHANGED] += len(records) + len(usual) - added
        if not self.write:
            return
        if new:
            insert_rows(self.conn, run.spec.table, [{"id": r.id, **values} for r, values in new])
        if new_rows:
            self.conn.exec_driver_sql(run.rules.insert_sql, new_rows)
        run.written += added

    def _insert_usual(self, run: TableRun, usual: list[UsualRow]) -> None:
        """New rows from usual lines: `parsed_row` and `insert_rows` of the general path, by hand."""
        rules, name = run.rules, str(run.spec.name)  # plain str: sqlite3 is slow on subclasses
        run.outcomes[Outcome.NEW] += len(usual)
        if name == "ticket":
            at = rules.names.index("number")
            self._note_numbers(str(u[4][at]) for u in usual)
        if not self.write or not usual:
            return
        rows: list[tuple[object, ...]] = []
        metas: list[tuple[str, str, int, str]] = []
        to_columns, keys, slots, bind_deleted = (
            rules.to_columns,
            rules.keys,
            rules.driver_slots,
            rules.bind_deleted,
        )
        for rid, version, deleted, values, converted in usual:
            texts = list(map(repr, to_columns(converted)))  # hashes go in column order
            crcs = list(map(zlib.crc32, map(str.encode, texts)))
            texts.append(repr(deleted))
            metas.append((name, rid, row_hash_of_reprs(texts), first_meta(keys, version, crcs, deleted)))
            driver = converted.copy()
            for i, to_driver in slots:
                driver[i] = to_driver(values[i])  # type: ignore[arg-type]  # a plain JSON scalar
            rows.append((rid, *driver, bind_deleted(deleted), version, version[_ORIGIN_AT:]))
        self.conn.exec_driver_sql(rules.insert_sql, rows)
        self.conn.exec_driver_sql(_SYNC_ROW_SQL, metas)
        run.written += len(rows)

    def _merge(self, run: TableRun, parsed: list[Checked]) -> None:
        spec = run.spec
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
        self._check_unique(run, [(rid, values) for rid, values, _, _ in rows])
        if spec.name == "ticket":
            self._note_numbers(str(values.get("number", "")) for _, values, _, _ in rows)
        if not self.write or not rows:
            return
        t = spec.table
        new_rows = [row for row in rows if row[0] not in local]
        old_rows = [row for row in rows if row[0] in local]
        if new_rows:
            insert_rows(self.conn, t, [{"id": rid, **v} for rid, v, _, _ in new_rows])
            self.conn.exec_driver_sql(
                _SYNC_ROW_SQL, [(spec.name, rid, h, meta) for rid, _, meta, h in new_rows]
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

    def _note_numbers(self, numbers: Any) -> None:
        for text in numbers:
            number = parse_ticket_number(text)
            if number and number[1] > self.ticket_days.get(number[0], 0):
                self.ticket_days[number[0]] = number[1]

    def _check_unique(self, run: TableRun, rows: Sequence[tuple[str, dict[str, Any]]]) -> None:
        spec = run.spec
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
                raise refuse(
                    spec,
                    wanted[clash[1]],
                    f"{spec.label}的“{name}”为“{clash[1]}”，与本机已有的另一条记录重复（两台电脑各自新建了同名或同号的记录）",
                )

    def update_ticket_counters(self) -> None:
        """Numbers issued later on this machine continue after the imported ones of the same day."""
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

"""The checks an import makes on each record of a table, laid out once per table, and the table's
running tallies (count, checksum, outcomes) while its lines stream.

Every record is refused unless its fields are known, required ones present, values convertible to
the column's type and within its enum, personal fields the only masked ones, and unique values
unique within the bundle; parents are collected here and looked up at the end of the file. The
usual lines (one version, nothing masked: `core.sync.records.match_mutable` / `match_append_only`)
skip the record objects and become driver rows directly, with exactly the same checks.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict, deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from operator import call
from typing import Any

from sqlalchemy import Dialect

from dyy_desk.core.sync.errors import BundleError, Refusal
from dyy_desk.core.sync.merge import Outcome
from dyy_desk.core.sync.records import ParsedRecord, RecordKind
from dyy_desk.services.sync_bulk import DeferredIndexes, db_converter
from dyy_desk.services.sync_lines import getter
from dyy_desk.services.sync_meta import meta_keys
from dyy_desk.services.sync_registry import TableSpec, converter

HASHES_AHEAD = 8  # blocks of lines waiting for the hashing thread


def loads(line: bytes) -> object:
    """`json.loads` that refuses NaN and Infinity; raises ValueError."""

    def reject(name: str) -> object:
        raise ValueError(f"{name} is not allowed")

    try:
        return json.loads(line, parse_constant=reject)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise ValueError(f"not JSON ({type(exc).__name__})") from None


def refuse(spec: TableSpec, record_id: str, reason: str) -> BundleError:
    return BundleError(
        Refusal.MALFORMED,
        f"数据包中“{spec.label}”表的记录 {record_id} 不符合要求：{reason}，不能导入。",
        table=spec.name,
    )


class TableRules:
    """A table's import checks. `refs` (parent table → referenced ids) is shared by all tables."""

    def __init__(self, spec: TableSpec, dialect: Dialect, refs: defaultdict[str, set[str]]) -> None:
        self.spec = spec
        self.refs = refs
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
        self.unique_seen: dict[str, dict[object, str]] = defaultdict(dict)
        # every field, sorted: the fields of a usual line as exporters write it
        self.names = tuple(sorted(self.known))
        by_name = {f.name: f for f in spec.fields}
        # Per field of a usual line, in line order: what `check` does for it.
        self.enum_checks = [(i, n, spec.enums[n]) for i, n in enumerate(self.names) if n in spec.enums]
        self.parent_refs = [(i, refs[spec.parents[n]]) for i, n in enumerate(self.names) if n in spec.parents]
        # Usual lines are read fast unless a value must be checked against other records (unique).
        self.fast = not spec.unique
        self.insert_sql = ""
        # what `check_usual` turns each value of a usual line into
        self.usual_converters: list[Callable[[Any], object]]
        if spec.kind is RecordKind.APPEND_ONLY:
            # driver values straight from the line (`sync_bulk.db_converter`)
            self.usual_converters = [db_converter(by_name[n], spec.table.c[n], dialect) for n in self.names]
            self.fast = self.fast and not spec.personal
            self.insert_sql = _insert_sql(spec.name, ("id", *self.names))
        else:
            # Python values (for hashes) from the line, then driver values; hashes and metadata go
            # in column order (`sync_meta`), the line has its fields in name order.
            self.usual_converters = [converter(by_name[n]) for n in self.names]
            column_order = [f.name for f in spec.fields]
            self.to_columns = getter([self.names.index(n) for n in column_order])
            self.keys = meta_keys(column_order)
            # fields whose driver value differs from the Python value: from the line's value
            self.driver_slots = [
                (i, db_converter(by_name[n], spec.table.c[n], dialect))
                for i, n in enumerate(self.names)
                if spec.table.c[n].type.dialect_impl(dialect).bind_processor(dialect) is not None
            ]
            deleted = spec.table.c.deleted.type.dialect_impl(dialect).bind_processor(dialect)
            self.bind_deleted = deleted if deleted is not None else bool
            self.insert_sql = _insert_sql(spec.name, ("id", *self.names, "deleted", "version", "origin"))

    def check(self, record: ParsedRecord) -> dict[str, object]:
        """The record's database values (each converted once), or a refusal naming the problem."""
        spec = self.spec
        if record.kind is not spec.kind:
            raise refuse(spec, record.id, f"记录类型应为 {spec.kind.value}")
        given = record.fields
        for name, state in given.items():
            if name not in self.known:
                raise refuse(spec, record.id, f"有本程序不认识的字段“{name}”（请先升级 DYY Desk）")
            if state["masked"] is True and name not in spec.personal:
                raise refuse(spec, record.id, f"字段“{name}”不能打码")
        values: dict[str, object] = {}
        deleted = record.deleted["value"] is True
        for f, convert, required, allowed, parent, unique in self.fields:
            found = given.get(f.name)
            if found is None:
                if required:
                    raise refuse(spec, record.id, f"缺少必填字段“{f.name}”")
                continue
            try:
                value = convert(found["value"])
            except ValueError as exc:
                raise refuse(spec, record.id, str(exc)) from None
            values[f.name] = value
            if allowed is not None and value not in allowed:
                raise refuse(spec, record.id, f"字段“{f.name}”的值“{value}”无效")
            if parent is not None and value is not None:
                self.refs[parent].add(str(value))
            if unique and not deleted:
                seen = self.unique_seen[f.name]
                if seen.setdefault(value, record.id) != record.id:
                    raise refuse(spec, record.id, f"字段“{f.name}”的值“{value}”与数据包中另一条记录重复")
        if self.ids is not None:
            self.ids.add(record.id)
        return values

    def check_usual(self, record_id: str, values: list[object]) -> list[object]:
        """`check` for the values of a usual line (in `names` order): the converted values, the
        driver values for a timeline line, Python values for a mutable one."""
        try:
            converted = list(map(_apply, self.usual_converters, values))
        except ValueError as exc:
            raise refuse(self.spec, record_id, str(exc)) from None
        for i, name, allowed in self.enum_checks:
            if values[i] not in allowed:
                raise refuse(self.spec, record_id, f"字段“{name}”的值“{values[i]}”无效")
        for i, ids in self.parent_refs:
            value = values[i]
            if value is not None:
                ids.add(str(value))
        if self.ids is not None:
            self.ids.add(record_id)
        return converted


# `converter(value)` for each pair, mapped in C (values of a line are plain JSON scalars)
_apply: Callable[[Callable[[Any], object], object], object] = call


def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    names = ", ".join(f'"{name}"' for name in columns)
    marks = ", ".join("?" for _ in columns)
    return f'INSERT INTO "{table}" ({names}) VALUES ({marks})'


@dataclass
class TableRun:
    """One table of the bundle while it streams: its rules, checksum, count and outcomes."""

    spec: TableSpec
    rules: TableRules
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
            self.lines.append(b"")  # the last line's newline, without copying the block again
            self.hashing.append(hasher.submit(self.digest.update, b"\n".join(self.lines)))
            self.lines = []
            while len(self.hashing) > HASHES_AHEAD:
                self.hashing.popleft().result()

    def hexdigest(self) -> str:
        while self.hashing:
            self.hashing.popleft().result()
        return str(self.digest.hexdigest())

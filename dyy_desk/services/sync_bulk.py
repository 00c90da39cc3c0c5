"""Bulk paths of an import: timeline rows straight to driver values, big inserts into empty tables.

A usual timeline line (`core.sync.records.match_append_only`) becomes one tuple of driver values:
no record object, no field dictionaries, and a bundle instant (`2026-11-23T09:00:00.000000Z`) is
re-spelled as the stored text instead of becoming a datetime and being printed back. Every value
equals what the general path stores (`from_json`, then the column's bind processor; tested).

Into a table that was empty when the import began, tens of thousands of rows go in faster if its
secondary indexes are built once afterwards (SQLite sorts then) rather than updated row by row.
The indexes are dropped and re-created inside the import's one transaction, so a refusal, a cancel
or a crash leaves them exactly as they were. Unique indexes stay: they are constraints.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Column, Connection, Dialect, Table, literal, select

from dyy_desk.core.sync.records import JsonValue
from dyy_desk.services.sync_registry import ColumnKind, FieldSpec, converter

BULK_ROWS = 10_000  # at least this many incoming rows into an empty table: rebuild its indexes after
_BUNDLE_INSTANT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z")

DbConverter = Callable[[JsonValue], object]


def db_converter(spec: FieldSpec, column: Column[object], dialect: Dialect) -> DbConverter:
    """The driver value for a bundle value: the column's bind processor applied to `from_json`'s
    result; raises ValueError like `from_json`."""
    convert = converter(spec)
    bind = column.type.dialect_impl(dialect).bind_processor(dialect)
    general: DbConverter = convert if bind is None else (lambda value: bind(convert(value)))
    if spec.kind is not ColumnKind.INSTANT:
        return general

    def instant(value: JsonValue) -> object:
        if type(value) is str and _BUNDLE_INSTANT.fullmatch(value):
            try:
                datetime.fromisoformat(value[:-1])  # a real date and time, or the general error
            except ValueError:
                return general(value)
            return value[:10] + " " + value[11:26]
        return general(value)

    return instant


def is_empty(conn: Connection, table: Table) -> bool:
    return conn.execute(select(literal(1)).select_from(table).limit(1)).first() is None


class DeferredIndexes:
    """Drop a table's non-unique secondary indexes now; `restore` builds them again (SQLite only)."""

    def __init__(self, conn: Connection, table: Table) -> None:
        self._conn = conn
        self._sql: list[str] = []
        if conn.dialect.name != "sqlite":
            return
        rows = conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
            (table.name,),
        ).fetchall()
        for name, sql in rows:
            if re.match(r"\s*CREATE\s+INDEX\s", sql, re.IGNORECASE):  # not UNIQUE, not partial-unique
                conn.exec_driver_sql(f'DROP INDEX "{name}"')
                self._sql.append(sql)

    def restore(self) -> None:
        for sql in self._sql:
            self._conn.exec_driver_sql(sql)
        self._sql.clear()

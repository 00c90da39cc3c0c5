"""Bundle lines written straight from the database's own values, without the generic JSON encoder.

Exports read rows with every column's SQLAlchemy result processing switched off (`raw_select`):
turning 1.7 million stored instants into aware datetimes only to print them back as text was most
of the cost of reading. A stored instant (`2026-11-23 09:00:00.000000`) is re-spelled as the
bundle's `2026-11-23T09:00:00.000000Z`; a stored value in any other shape goes through the column's
own processor first, so the text is always what `to_json` gives for the processed value.
`LineBuilder.line(row)` is byte for byte `canonical_json(record_json(…))` or
`canonical_json(append_only_json(…))` of the processed row (tested).
"""

from __future__ import annotations

import json
import json.encoder
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Boolean, Column, Dialect, Integer, Select, String, Table, type_coerce

from dyy_desk.core.sync.hlc import COUNTER_DIGITS, MAX_WALL_MS, WALL_DIGITS, Hlc, wall_ms_of
from dyy_desk.core.sync.records import RecordKind, json_scalar
from dyy_desk.db.types import UTCDateTime
from dyy_desk.services.sync_registry import ColumnKind, TableSpec, instant_text, to_json

_encode: Callable[[str], str] = json.encoder.encode_basestring  # json.dumps(…, ensure_ascii=False)
_STORED_INSTANT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}")
_DELETED_TRUE = ',"masked":false,"value":true,"version":'
_DELETED_FALSE = ',"masked":false,"value":false,"version":'


def raw_column(column: Column[Any]) -> Any:
    """The column as the driver returns it: instants as stored text, booleans as 0/1."""
    if isinstance(column.type, UTCDateTime):
        return type_coerce(column, String()).label(column.name)
    if isinstance(column.type, Boolean):
        return type_coerce(column, Integer()).label(column.name)
    return column


def raw_select(query: Select[Any]) -> Select[Any]:
    """`query` with the same rows and column names, minus the per-value result processing."""
    return query.with_only_columns(
        *[raw_column(c) if isinstance(c, Column) else c for c in query.selected_columns],
        maintain_column_froms=True,
    )


class _Stored:
    """Stored instant text → (JSON text, datetime), with the column's processor for odd shapes."""

    def __init__(self, table: Table, name: str, dialect: Dialect) -> None:
        impl = table.c[name].type.dialect_impl(dialect)
        self._process = impl.result_processor(dialect, None)

    def processed(self, value: object) -> object:
        return value if self._process is None else self._process(value)

    def value(self, value: object) -> object:
        if type(value) is str and _STORED_INSTANT.fullmatch(value):
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
        return self.processed(value)

    def json_text(self, value: object) -> str:
        if type(value) is str and _STORED_INSTANT.fullmatch(value):
            return '"' + value[:10] + "T" + value[11:] + 'Z"'
        if value is None:
            return "null"
        processed = self.processed(value)
        if isinstance(processed, datetime):
            return _encode(instant_text(processed))
        return json_scalar(to_json(ColumnKind.INSTANT, processed))

    def wall_ms(self, value: object) -> int:
        """`wall_ms_of` of the processed value (0 when there is none), without building it twice."""
        if type(value) is str and _STORED_INSTANT.fullmatch(value):
            return wall_ms_of(datetime.fromisoformat(value).replace(tzinfo=UTC))
        processed = self.processed(value)
        return wall_ms_of(processed) if isinstance(processed, datetime) else 0


def value_readers(table: Table, names: Sequence[str], dialect: Dialect) -> list[Callable[[object], object]]:
    """Per column of a `raw_select` row, the function giving what SQLAlchemy would have returned
    (a stored instant in the usual shape is parsed directly; anything else by the column's processor)."""
    readers: list[Callable[[object], object]] = []
    for name in names:
        column = table.c[name]
        if isinstance(column.type, UTCDateTime):
            readers.append(_Stored(table, name, dialect).value)
        else:
            process = column.type.dialect_impl(dialect).result_processor(dialect, None)
            readers.append(_same if process is None else process)
    return readers


def _same(value: object) -> object:
    return value


def _text(value: object) -> str:
    if type(value) is str:
        return _encode(value)
    return "null" if value is None else _encode(str(value))


def _boolean(value: object) -> str:
    return "null" if value is None else "true" if value else "false"


def _other(kind: ColumnKind) -> Callable[[object], str]:
    return lambda value: json_scalar(to_json(kind, value))


_PLAIN_TEXT: dict[ColumnKind, Callable[[object], str]] = {ColumnKind.TEXT: _text, ColumnKind.BOOL: _boolean}
_Masker = Callable[[str], str | None]


class LineBuilder:
    """Bundle lines of one table from rows of `raw_select` (columns named as in the table)."""

    def __init__(
        self, spec: TableSpec, columns: Sequence[str], *, mask: bool, origin: str, dialect: Dialect
    ) -> None:
        self.spec, self.origin = spec, origin
        at = list(columns).index
        self.id_at = at("id")
        by_name = {f.name: f for f in spec.fields}
        self._fields: list[
            tuple[str, str, int, Callable[[object], str], Callable[[str], str | None] | None]
        ] = []
        for name in sorted(by_name):
            kind = by_name[name].kind
            json_text: Callable[[object], str]
            if kind is ColumnKind.INSTANT:
                json_text = _Stored(spec.table, name, dialect).json_text
            else:
                json_text = _PLAIN_TEXT.get(kind) or _other(kind)
            masker = spec.personal.get(name) if mask and kind is ColumnKind.TEXT else None
            self._fields.append((name, _encode(name) + ":", at(name), json_text, masker))
        self._tail = ',"kind":' + _encode(spec.kind.value) + ',"table":' + _encode(spec.name) + "}"
        heads = [key + '{"base":null,"masked":false,"value":' for _, key, _, _, _ in self._fields]
        # One %-template per table for a record whose states all share one version, with no base
        # and nothing masked: every timeline line, and most rows until they are edited again.
        self._template = (
            '{"deleted":{"base":null,"masked":false,"value":%s,"version":%s},"fields":{'
            + ",".join(head.replace("%", "%%") + '%s,"version":%s}' for head in heads)
            + '},"id":%s'
            + self._tail.replace("%", "%%")
        )
        self._convert = [(i, json_text) for _, _, i, json_text, _ in self._fields]
        if spec.kind is RecordKind.MUTABLE:
            self._deleted_at = at("deleted")
            self._meta_at = at("_meta")
            self._plain_names = None if any(m for *_, m in self._fields) else [f[0] for f in self._fields]
            self.line: Callable[[Sequence[Any]], str] = self._mutable
        else:
            self._at = _Stored(spec.table, "at", dialect) if "at" in by_name else None
            self._at_index = at("at") if "at" in by_name else -1
            self.line = self._append_only

    def _mutable(self, row: Sequence[Any]) -> str:
        data = json.loads(row[self._meta_at])  # the fields of `decode_meta`, read directly
        versions = [_encode(v) for v in data["v"]]
        metas = data["f"]
        d = data["d"]
        names = self._plain_names
        if (
            len(versions) == 1
            and d[1] < 0
            and names is not None
            and all(metas[name][1] < 0 and not metas[name][2] for name in names)
        ):
            return self._single_version(row, versions[0], "true" if row[self._deleted_at] else "false")
        parts = []
        for name, key, at, json_text, masker in self._fields:
            v, b, m, _ = metas[name]
            value = row[at]
            if masker is not None and not m and isinstance(value, str):
                text, masked = json_scalar(masker(value)), True
            else:
                text, masked = json_text(value), bool(m)
            parts.append(
                key
                + ('{"base":null' if b < 0 else '{"base":' + versions[b])
                + (',"masked":true,"value":' if masked else ',"masked":false,"value":')
                + text
                + ',"version":'
                + versions[v]
                + "}"
            )
        dv, db = d[0], d[1]
        line: str = (
            '{"deleted":{"base":'
            + ("null" if db < 0 else versions[db])
            + (_DELETED_TRUE if row[self._deleted_at] else _DELETED_FALSE)
            + versions[dv]
            + '},"fields":{'
            + ",".join(parts)
            + '},"id":'
            + _encode(row[self.id_at])
            + self._tail
        )
        return line

    def _append_only(self, row: Sequence[Any]) -> str:
        wall = self._at.wall_ms(row[self._at_index]) if self._at is not None else 0
        if 0 <= wall <= MAX_WALL_MS:
            version = f'"{wall:0{WALL_DIGITS}d}-{0:0{COUNTER_DIGITS}d}-{self.origin}"'
        else:
            version = '"' + Hlc(wall, 0, self.origin).encode() + '"'  # raises the clock's error
        return self._single_version(row, version, "false")

    def _single_version(self, row: Sequence[Any], version: str, deleted: str) -> str:
        values: list[str] = [deleted, version]
        for i, json_text in self._convert:
            values.append(json_text(row[i]))
            values.append(version)
        values.append(_encode(row[self.id_at]))
        return self._template % tuple(values)

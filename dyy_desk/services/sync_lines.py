"""Bundle lines written straight from the database's own values, without the generic JSON encoder.

Exports read rows with every column's SQLAlchemy result processing switched off (`raw_select`):
turning 1.7 million stored instants into aware datetimes only to print them back as text was most
of the cost of reading. A stored instant (`2026-11-23 09:00:00.000000`) is re-spelled as the
bundle's `2026-11-23T09:00:00.000000Z`; a stored value in any other shape goes through the column's
own processor first, so the text is always what `to_json` gives for the processed value.
`LineBuilder.line(row)` is byte for byte `canonical_json(record_json(…))` or
`canonical_json(append_only_json(…))` of the processed row (tested). The usual lines of a first
export come a page at a time (`append_only_lines`, `first_lines`), built column by column so that the
loops over the values run in C; they equal the row-by-row lines, encoded (tested).
"""

from __future__ import annotations

import json
import json.encoder
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from itertools import repeat
from operator import call, itemgetter, methodcaller
from typing import Any

from sqlalchemy import Boolean, Column, Connection, Dialect, Integer, Select, String, Table, type_coerce
from sqlalchemy.engine.interfaces import DBAPICursor

from dyy_desk.core.sync.hlc import COUNTER_DIGITS, MAX_WALL_MS, WALL_DIGITS, Hlc, wall_ms_of
from dyy_desk.core.sync.records import RecordKind, json_scalar
from dyy_desk.db.types import UTCDateTime
from dyy_desk.services.sync_meta import first_meta, meta_keys
from dyy_desk.services.sync_registry import ColumnKind, TableSpec, instant_text, to_json

_encode: Callable[[str], str] = json.encoder.encode_basestring  # json.dumps(…, ensure_ascii=False)
STORED_INSTANT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}")
_DELETED_TRUE = ',"masked":false,"value":true,"version":'
_DELETED_FALSE = ',"masked":false,"value":false,"version":'
_from_iso = datetime.fromisoformat


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
        if value is None:  # the processor's answer too
            return None
        if type(value) is str and STORED_INSTANT.fullmatch(value):
            # the offset parsed in: `.replace(tzinfo=UTC)` cost more than the parse (same value)
            return _from_iso(value + "+00:00")
        return self.processed(value)

    def values(self, column: Sequence[object]) -> Sequence[object]:
        """`value` of each value of a column of a page; columns of usual values in C loops."""
        if column.count(None) == len(column):
            return column
        try:
            if all(map(STORED_INSTANT.fullmatch, column)):  # type: ignore[arg-type]  # TypeError if not text
                return list(map(_from_iso, map("%s+00:00".__mod__, column)))
        except TypeError:
            pass
        return list(map(self.value, column))

    def json_text(self, value: object) -> str:
        if value is None:
            return "null"
        if type(value) is str and STORED_INSTANT.fullmatch(value):
            return '"' + value[:10] + "T" + value[11:] + 'Z"'
        processed = self.processed(value)
        if isinstance(processed, datetime):
            return _encode(instant_text(processed))
        return json_scalar(to_json(ColumnKind.INSTANT, processed))

    def wall_ms(self, value: object) -> int:
        """`wall_ms_of` of the processed value (0 when there is none), without building it twice."""
        if type(value) is str and STORED_INSTANT.fullmatch(value):
            return wall_ms_of(datetime.fromisoformat(value).replace(tzinfo=UTC))
        processed = self.processed(value)
        return wall_ms_of(processed) if isinstance(processed, datetime) else 0


_HOURS: dict[str, int] = {}  # "YYYY-MM-DD HH" → microseconds since the epoch
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def stored_wall_ms(value: str) -> int:
    """`wall_ms_of` of a stored instant in the usual shape (`STORED_INSTANT`), without building
    the datetime: timeline events come by the hundred thousand, a few hours apart. The arithmetic
    is `datetime.timestamp`'s (exact microseconds, one true division, times 1000, truncated)."""
    hour = value[:13]
    base = _HOURS.get(hour)
    if base is None:
        base = (datetime.fromisoformat(hour + ":00:00").replace(tzinfo=UTC) - _EPOCH) // _MICROSECOND
        if len(_HOURS) >= 4096:
            _HOURS.clear()
        _HOURS[hour] = base
    minute, second = int(value[14:16]), int(value[17:19])
    if minute > 59 or second > 59:  # not a time: the general path raises as it always did
        return wall_ms_of(datetime.fromisoformat(value).replace(tzinfo=UTC))
    return int((base + (minute * 60 + second) * 1_000_000 + int(value[20:26])) / 1_000_000 * 1000)


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
            readers.append(same if process is None else process)
    return readers


ColumnReader = Callable[[Sequence[object]], Sequence[object]]


def column_readers(table: Table, names: Sequence[str], dialect: Dialect) -> list[ColumnReader | None]:
    """`value_readers` for whole columns of a page of rows (None: the driver's values as they are)."""
    readers: list[ColumnReader | None] = []
    for name, read in zip(names, value_readers(table, names, dialect), strict=True):
        if isinstance(table.c[name].type, UTCDateTime):
            readers.append(_Stored(table, name, dialect).values)
        elif read is same:
            readers.append(None)
        else:
            readers.append(partial(_read_all, read))
    return readers


def _read_all(read: Callable[[object], object], column: Sequence[object]) -> list[object]:
    return list(map(read, column))


def getter(indices: Sequence[int]) -> Callable[[Sequence[Any]], Sequence[Any]]:
    """The items of a row at `indices`, as a tuple (`itemgetter`, also for one index)."""
    if len(indices) == 1:
        index = indices[0]
        return lambda row: (row[index],)
    return itemgetter(*indices)


def same(value: object) -> object:
    """The reader of a column whose driver value is what SQLAlchemy returns."""
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
# What `_boolean` writes for the values a raw row has in a boolean column (KeyError for any other),
# and the deleted flag of a line (`"true" if flag else "false"`) for those values.
_BOOLEANS: dict[object, bytes] = {None: b"null", 0: b"false", 1: b"true"}
_FLAGS: dict[object, bytes] = {0: b"false", 1: b"true"}
_T_FOR_SPACE = methodcaller("replace", " ", "T")


def column_texts(kind: ColumnKind, general: Callable[[object], str], values: Sequence[object]) -> list[bytes]:
    """`general(value).encode()` for each value of one column of a page of rows.

    A column of usual values only (text, 0/1 flags, stored instants of the usual shape) is written
    by loops that run in C, each value exactly as `general` writes it: text by the JSON string
    encoder `general` calls, which raises TypeError for anything but text; flags through a table
    that raises KeyError for any other value; instants re-spelled as `_Stored.json_text` does,
    after every value matched its pattern (None raises TypeError). A column with any other value
    is written by `general`, value by value.
    """
    try:
        if kind is ColumnKind.TEXT:
            return list(map(str.encode, map(_encode, values)))  # type: ignore[arg-type]  # TypeError
        if kind is ColumnKind.BOOL:
            return list(map(_BOOLEANS.__getitem__, values))
        if kind is ColumnKind.INSTANT and all(map(STORED_INSTANT.fullmatch, values)):  # type: ignore[arg-type]
            return list(map(b'"%sZ"'.__mod__, map(str.encode, map(_T_FOR_SPACE, values))))
    except (TypeError, KeyError):
        pass
    return list(map(str.encode, map(general, values)))


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
        # A record whose states all share one version, with no base and nothing masked (every
        # timeline line, and most rows until they are edited again) has a fixed shape: one row is
        # written as one join of [head, value, version] per field; a page of rows column by column
        # (`column_texts`), then each line as one `bytes.join` of the pieces and its values.
        self._heads = [
            ("," if k else "") + key + '{"base":null,"masked":false,"value":'
            for k, (_, key, _, _, _) in enumerate(self._fields)
        ]
        self._texts = [json_text for *_, json_text, _ in self._fields]
        self._columns = [(by_name[name].kind, i, json_text) for name, _, i, json_text, _ in self._fields]
        # the constant pieces around the values of such a line: deleted, version, then per field
        # its value and the version again, then the id
        pieces = ['{"deleted":{"base":null,"masked":false,"value":', ',"version":', '},"fields":{']
        for head in self._heads:
            pieces[-1] += head
            pieces += [',"version":', "}"]
        pieces[-1] += '},"id":'
        pieces.append(self._tail)
        self._pieces = [repeat(piece.encode()) for piece in pieces]
        indices = [i for _, _, i, _, _ in self._fields]
        self._values = getter(indices)
        if spec.kind is RecordKind.MUTABLE:
            self._deleted_at = at("deleted")
            self.meta_at = at("_meta")
            self._plain_names = None if any(m for *_, m in self._fields) else [f[0] for f in self._fields]
            self._keys = meta_keys([f.name for f in spec.fields])
            self._zeros = [0] * len(self._keys)  # CRCs: not part of a line
            self.line: Callable[[Sequence[Any]], str] = self._mutable
        else:
            # Timeline lines: the version comes from `at`, whose text is written in the same step.
            self._at = _Stored(spec.table, "at", dialect) if "at" in by_name else None
            self._at_index = at("at") if "at" in by_name else -1
            self._version = '"%0' + str(WALL_DIGITS) + "d-" + "0" * COUNTER_DIGITS + "-" + origin + '"'
            self._version_bytes = self._version.encode()
            self.line = self._append_only

    def _mutable(self, row: Sequence[Any]) -> str:
        return self.meta_line(row, row[self.meta_at])

    def first_line(self, row: Sequence[Any], version: str) -> str:
        """The line of a row just stamped for the first time (`sync_meta.first_meta`): every state
        at `version`, no base, nothing masked in the database."""
        if self._plain_names is None:  # fields to mask on the way out
            return self.meta_line(
                row, first_meta(self._keys, version, self._zeros, bool(row[self._deleted_at]))
            )
        return self._single_version(row, _encode(version), "true" if row[self._deleted_at] else "false")

    def first_lines(self, rows: Sequence[Sequence[Any]], versions: Sequence[str]) -> list[bytes]:
        """`first_line(row, version).encode()` for each row of a page and its version."""
        if self._plain_names is None or not rows:
            return [
                self.first_line(row, version).encode() for row, version in zip(rows, versions, strict=True)
            ]
        columns = list(zip(*rows, strict=True))
        try:
            deleted = list(map(_FLAGS.__getitem__, columns[self._deleted_at]))
        except KeyError:
            deleted = [b"true" if flag else b"false" for flag in columns[self._deleted_at]]
        return self._single_version_lines(columns, deleted, list(map(str.encode, map(_encode, versions))))

    def append_only_lines(self, rows: Sequence[Sequence[Any]]) -> list[bytes]:
        """`line(row).encode()` for each row of a page of an append-only table."""
        if self._at is None or not rows:
            return [self.line(row).encode() for row in rows]
        columns = list(zip(*rows, strict=True))
        at = columns[self._at_index]
        try:
            usual = all(map(STORED_INSTANT.fullmatch, at))
        except TypeError:  # None or not text: not the usual shape
            usual = False
        if usual:
            walls = list(map(stored_wall_ms, at))
            if min(walls) >= 0 and max(walls) <= MAX_WALL_MS:
                versions = list(map(self._version_bytes.__mod__, walls))
                return self._single_version_lines(columns, [b"false"] * len(rows), versions)
        return [self.line(row).encode() for row in rows]

    def _single_version_lines(
        self, columns: list[tuple[Any, ...]], deleted: list[bytes], versions: list[bytes]
    ) -> list[bytes]:
        """The lines of `_single_version`, UTF-8 encoded, from the page's columns."""
        args: list[list[bytes]] = [deleted, versions]
        for kind, at, json_text in self._columns:
            args += (column_texts(kind, json_text, columns[at]), versions)
        args.append(list(map(str.encode, map(_encode, columns[self.id_at]))))
        parts: list[Iterable[bytes]] = [self._pieces[0]]
        for arg, piece in zip(args, self._pieces[1:], strict=True):
            parts += (arg, piece)
        return list(map(b"".join, zip(*parts, strict=False)))  # as long as the columns: pieces repeat

    def meta_line(self, row: Sequence[Any], meta: str) -> str:
        """The line of a mutable row whose `sync_row` metadata is `meta`."""
        data = json.loads(meta)  # the fields of `decode_meta`, read directly
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
        if self._at is None:
            return self._single_version(row, '"' + Hlc(0, 0, self.origin).encode() + '"', "false")
        value = row[self._at_index]
        if type(value) is str and STORED_INSTANT.fullmatch(value):  # `_Stored.wall_ms`, usual shape
            wall = stored_wall_ms(value)
        else:
            wall = self._at.wall_ms(value)
        if 0 <= wall <= MAX_WALL_MS:
            version = self._version % wall
        else:
            version = '"' + Hlc(wall, 0, self.origin).encode() + '"'  # raises the clock's error
        return self._single_version(row, version, "false")

    def _single_version(self, row: Sequence[Any], version: str, deleted: str) -> str:
        parts = [',"version":' + version + "}"] * (3 * len(self._heads))
        parts[::3] = self._heads
        parts[1::3] = map(call, self._texts, self._values(row))
        return (
            '{"deleted":{"base":null,"masked":false,"value":'
            + deleted
            + ',"version":'
            + version
            + '},"fields":{'
            + "".join(parts)
            + '},"id":'
            + _encode(row[self.id_at])
            + self._tail
        )


@contextmanager
def driver_rows(conn: Connection, query: Select[Any]) -> Iterator[tuple[list[str], DBAPICursor]]:
    """`raw_select(query)` executed, with its column names and the driver's own cursor: rows fetched
    from it are the driver's plain tuples, with no result object built around each one."""
    result = conn.execute(raw_select(query))
    try:
        yield list(result.keys()), result.cursor
    finally:
        result.close()

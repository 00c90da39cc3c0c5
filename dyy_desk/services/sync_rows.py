"""Between database rows and sync records: the general (record object) forms, and driver inserts.

Merging needs `SyncRecord`s: `load_local` builds them from rows and their `sync_row` metadata, and
`row_from_record` turns a merged record back into values, metadata and row hash. `parsed_row` is
the same for a new row read from a bundle, without building the record. `record_json` and
`append_only_json` are the general forms of the bundle lines that `sync_lines.LineBuilder` writes
quickly; tests hold the quick forms equal to them.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, Table, insert

from dyy_desk.core.sync.hlc import Hlc, wall_ms_of
from dyy_desk.core.sync.records import (
    FieldState,
    JsonValue,
    ParsedRecord,
    RecordKind,
    SyncRecord,
)
from dyy_desk.services.sync_meta import (
    KEYS,
    FieldMeta,
    RowMeta,
    ascii_text,
    decode_meta,
    row_hash,
    row_hash_of_reprs,
    value_hash,
)
from dyy_desk.services.sync_registry import TableSpec, from_json, to_json
from dyy_desk.services.sync_stamp import sync_joined


def quoted(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


def record_json(spec: TableSpec, row: Row[Any], meta: RowMeta, *, mask: bool) -> dict[str, JsonValue]:
    """A mutable row as the bundle's record object (see docs/sync-format.md §4)."""
    fields: dict[str, JsonValue] = {}
    mapping = row._mapping
    for f in spec.fields:
        version, base, masked, _ = meta.fields[f.name]
        value = to_json(f.kind, mapping[f.name])
        masker = spec.personal.get(f.name) if mask else None
        if masker is not None and not masked and isinstance(value, str):
            value, masked = masker(value), True
        fields[f.name] = {"value": value, "version": version, "base": base, "masked": masked}
    return {
        "table": spec.name,
        "id": mapping["id"],
        "kind": RecordKind.MUTABLE.value,
        "deleted": {
            "value": bool(mapping["deleted"]),
            "version": meta.deleted[0],
            "base": meta.deleted[1],
            "masked": False,
        },
        "fields": fields,
    }


def append_only_json(spec: TableSpec, row: Row[Any], origin: str) -> dict[str, JsonValue]:
    """Timeline events never change: their version is derived (wall time of `at`, counter 0)."""
    mapping = row._mapping
    at = mapping.get("at")
    wall = wall_ms_of(at) if isinstance(at, datetime) else 0
    version = Hlc(wall, 0, origin).encode()
    fields: dict[str, JsonValue] = {
        f.name: {"value": to_json(f.kind, mapping[f.name]), "version": version, "base": None, "masked": False}
        for f in spec.fields
    }
    return {
        "table": spec.name,
        "id": mapping["id"],
        "kind": RecordKind.APPEND_ONLY.value,
        "deleted": {"value": False, "version": version, "base": None, "masked": False},
        "fields": fields,
    }


def load_local(conn: Connection, spec: TableSpec, ids: Sequence[str]) -> dict[str, SyncRecord]:
    """Local records for the given ids (rows must be stamped first)."""
    found: dict[str, SyncRecord] = {}
    for row in conn.execute(sync_joined(spec).where(spec.table.c.id.in_(ids))):
        if row._meta is None:
            raise RuntimeError(f"{spec.name} {row.id} has no sync metadata; stamp before merging")
        meta = decode_meta(row._meta)
        mapping = row._mapping
        fields = {
            f.name: FieldState(to_json(f.kind, mapping[f.name]), *meta.fields[f.name][:3])
            for f in spec.fields
            if f.name in meta.fields
        }
        deleted = FieldState(bool(mapping["deleted"]), meta.deleted[0], meta.deleted[1])
        found[row.id] = SyncRecord(spec.name, row.id, spec.kind, fields, deleted)
    return found


def row_from_record(spec: TableSpec, record: SyncRecord) -> tuple[dict[str, Any], RowMeta, int]:
    """Database values, field metadata and row hash for a merged record (already validated)."""
    converted = {
        f.name: from_json(f, record.fields[f.name].value) for f in spec.fields if f.name in record.fields
    }
    return row_from_values(spec, record, converted)


def row_from_values(
    spec: TableSpec, record: SyncRecord, converted: dict[str, object]
) -> tuple[dict[str, Any], RowMeta, int]:
    """`row_from_record` for a record whose fields were already converted (`from_json`) once."""
    values: dict[str, Any] = {}
    fields: dict[str, FieldMeta] = {}
    ordered: list[object] = []
    states = record.fields
    for f in spec.fields:
        state = states.get(f.name)
        if state is None:
            continue
        value = converted[f.name]
        values[f.name] = value
        fields[f.name] = (state.version, state.base, state.masked, value_hash(value))
        ordered.append(value)
    deleted = record.deleted.value is True
    version = record.version
    values["deleted"] = deleted
    values["version"] = version
    values["origin"] = Hlc.parse(version).origin
    ordered.append(deleted)
    meta = RowMeta(fields, (record.deleted.version, record.deleted.base, deleted))
    return values, meta, row_hash(ordered)


def parsed_row(
    spec: TableSpec, record: ParsedRecord, converted: dict[str, object]
) -> tuple[dict[str, Any], str, int]:
    """`values, meta, h = row_from_values(spec, record.to_record(), converted)` as
    `(values, encode_meta(meta), h)`, without building the record or a RowMeta: for the new rows of
    an import, which are most of a first one (tested)."""
    values: dict[str, Any] = {}
    parts: list[str] = []
    texts: list[str] = []
    versions: dict[str, int] = {}
    states = record.fields
    for f in spec.fields:
        name = f.name
        state = states.get(name)
        if state is None:
            continue
        value = converted[name]
        values[name] = value
        text = repr(value)
        texts.append(text)
        v = state["version"]
        vi = versions.get(v)  # type: ignore[arg-type]  # checked JSON: text
        if vi is None:
            vi = versions[v] = len(versions)  # type: ignore[index]
        b = state["base"]
        if b is None:
            bi = -1
        else:
            bi = versions.get(b, -2)  # type: ignore[arg-type]
            if bi == -2:
                bi = versions[b] = len(versions)  # type: ignore[index]
        key = KEYS.get(name) or KEYS.setdefault(name, ascii_text(name) + ":[")
        crc = zlib.crc32(text.encode())
        parts.append(f"{key}{vi},{bi},{1 if state['masked'] is True else 0},{crc}]")
    d = record.deleted
    deleted = d["value"] is True
    version = record.version
    values["deleted"] = deleted
    values["version"] = version
    values["origin"] = Hlc.parse(version).origin
    texts.append(repr(deleted))
    dv, db = d["version"], d["base"]
    dvi = versions.get(dv)  # type: ignore[arg-type]
    if dvi is None:
        dvi = versions[dv] = len(versions)  # type: ignore[index]
    if db is None:
        dbi = -1
    else:
        dbi = versions.get(db, -2)  # type: ignore[arg-type]
        if dbi == -2:
            dbi = versions[db] = len(versions)  # type: ignore[index]
    meta = (
        '{"v":['
        + ",".join(map(ascii_text, versions))
        + '],"f":{'
        + ",".join(parts)
        + f'}},"d":[{dvi},{dbi},{1 if deleted else 0}]}}'
    )
    return values, meta, row_hash_of_reprs(texts)


def insert_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """`conn.execute(insert(table), rows)`, with the values bound by the columns' own SQLAlchemy type
    processors and handed to the driver's executemany directly (rows may differ in their keys)."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    dialect = conn.dialect
    for keys, batch in groups.items():
        columns = [table.c[k] for k in keys]
        if any(c.default is not None for c in table.columns if c.name not in keys):
            conn.execute(insert(table), batch)  # SQLAlchemy fills Python-side defaults
            continue
        processors = [c.type.dialect_impl(dialect).bind_processor(dialect) for c in columns]
        plain = [i for i, p in enumerate(processors) if p is None]
        if len(plain) == len(keys):
            params = [tuple([row[k] for k in keys]) for row in batch]
        else:
            convert = [(k, p) for k, p in zip(keys, processors, strict=True)]
            params = [tuple([row[k] if p is None else p(row[k]) for k, p in convert]) for row in batch]
        names = ", ".join(quoted(conn, k) for k in keys)
        marks = ", ".join("?" for _ in keys)
        conn.exec_driver_sql(f"INSERT INTO {quoted(conn, table.name)} ({names}) VALUES ({marks})", params)


def chunks(items: Sequence[str], size: int = 500) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]

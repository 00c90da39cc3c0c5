"""Between database rows and sync records: field versions kept in `sync_row`, local-edit stamping.

The services write plain rows and never think about versions. Before every export and import,
`stamp_local_edits` compares each row with the hashes recorded when it was last stamped or imported;
a field whose value differs was edited on this machine and gets a new version. Its wall-clock part is
the row's `updated_at` where the table has one, so edits keep their real order even when bundles
are made hours later; it is always newer than the versions the row already carries.
"""

from __future__ import annotations

import hashlib
import json
import json.encoder
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, Table, and_, bindparam, insert, select, update

from dyy_desk.core.sync.hlc import Hlc, HybridClock, wall_ms_of
from dyy_desk.core.sync.records import (
    FieldState,
    JsonValue,
    ParsedRecord,
    RecordKind,
    SyncRecord,
)
from dyy_desk.services.sync_lines import raw_select, value_readers
from dyy_desk.services.sync_registry import TableSpec, from_json, to_json
from dyy_desk.services.sync_state import MachineState, sync_row

BATCH = 2000

_ascii: Callable[[str], str] = json.encoder.encode_basestring_ascii  # what json.dumps uses by default
_encode: Callable[[str], str] = json.encoder.encode_basestring  # … and with ensure_ascii=False

# field → (version, base, masked, value hash)
FieldMeta = tuple[str, str | None, bool, int]


@dataclass(frozen=True)
class RowMeta:
    fields: dict[str, FieldMeta]
    deleted: tuple[str, str | None, bool]  # version, base, flag value as recorded

    def max_version(self) -> str:
        return max([self.deleted[0], *(m[0] for m in self.fields.values())])


def value_hash(value: object) -> int:
    return zlib.crc32(repr(value).encode("utf-8"))


def row_hash(values: Sequence[object]) -> int:
    digest = hashlib.blake2b(repr(tuple(values)).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _row_hash_of_reprs(texts: list[str]) -> int:
    """`row_hash(values)` given `[repr(v) for v in values]`: the text of `repr(tuple(values))`."""
    text = "(" + texts[0] + ",)" if len(texts) == 1 else "(" + ", ".join(texts) + ")"
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def encode_meta(meta: RowMeta) -> str:
    """`json.dumps({"v": […], "f": {…}, "d": […]}, separators=(",", ":"))`, written by hand (tested)."""
    versions: dict[str, int] = {}
    parts = []
    for name, (v, b, m, h) in meta.fields.items():
        vi = versions.get(v)
        if vi is None:
            vi = versions[v] = len(versions)
        if b is None:
            bi = -1
        else:
            bi = versions.get(b, -2)
            if bi == -2:
                bi = versions[b] = len(versions)
        key = _KEYS.get(name) or _KEYS.setdefault(name, _ascii(name) + ":[")
        parts.append(f"{key}{vi},{bi},{1 if m else 0},{int(h)}]")
    dv, db, flag = meta.deleted
    dvi = versions.get(dv)
    if dvi is None:
        dvi = versions[dv] = len(versions)
    if db is None:
        dbi = -1
    else:
        dbi = versions.get(db, -2)
        if dbi == -2:
            dbi = versions[db] = len(versions)
    return (
        '{"v":['
        + ",".join(map(_ascii, versions))
        + '],"f":{'
        + ",".join(parts)
        + f'}},"d":[{dvi},{dbi},{1 if flag else 0}]}}'
    )


_KEYS: dict[str, str] = {}  # field name → its JSON key text (column names: a small, fixed set)


def encode_meta_reference(meta: RowMeta) -> str:
    """The generic form of `encode_meta`, kept for the test that proves them equal."""
    versions: dict[str, int] = {}

    def ref(version: str | None) -> int:
        return -1 if version is None else versions.setdefault(version, len(versions))

    fields = {name: [ref(v), ref(b), int(m), h] for name, (v, b, m, h) in meta.fields.items()}
    deleted = [ref(meta.deleted[0]), ref(meta.deleted[1]), int(meta.deleted[2])]
    return json.dumps({"v": list(versions), "f": fields, "d": deleted}, separators=(",", ":"))


def decode_meta(text: str) -> RowMeta:
    data = json.loads(text)
    versions: list[str] = data["v"]

    def get(i: int) -> str | None:
        return None if i < 0 else versions[i]

    fields = {name: (versions[v], get(b), bool(m), h) for name, (v, b, m, h) in data["f"].items()}
    d = data["d"]
    return RowMeta(fields, (versions[d[0]], get(d[1]), bool(d[2])))


def sync_joined(spec: TableSpec) -> Any:
    t = spec.table
    return select(t, sync_row.c.row_hash.label("_hash"), sync_row.c.meta.label("_meta")).select_from(
        t.outerjoin(sync_row, and_(sync_row.c.table_name == spec.name, sync_row.c.id == t.c.id))
    )


def _pages(conn: Connection, spec: TableSpec) -> Iterator[Row[Any]]:
    """All rows in id pages, each page fully read before the caller writes (no open cursor)."""
    last = ""
    while True:
        page = conn.execute(
            raw_select(sync_joined(spec).where(spec.table.c.id > last).order_by(spec.table.c.id).limit(BATCH))
        ).fetchall()
        if not page:
            return
        yield from page
        last = page[-1].id


def _positions(row: Row[Any], names: Sequence[str]) -> list[int]:
    fields = list(row._fields)
    return [fields.index(name) for name in names]


def stamp_local_edits(conn: Connection, spec: TableSpec, state: MachineState, now: datetime) -> int:
    """Give every locally edited field of `spec` a new version; returns the number of rows stamped.

    Stamped rows get `local_seq = state.local_seq + 1`; the caller bumps the counter if any changed.
    """
    if spec.kind is not RecordKind.MUTABLE:
        return 0
    seq = state.local_seq + 1
    names = [f.name for f in spec.fields]
    inserts: list[tuple[str, str, int, str, int]] = []
    updates: list[tuple[str, str, int, str, int | None]] = []
    table_updates: list[tuple[str, str, str]] = []
    stamped = 0
    where: list[int] = []
    readers = value_readers(spec.table, names, conn.dialect)  # rows come raw: see sync_lines
    edited_at = names.index(spec.edited_at) if spec.edited_at else -1
    keys = [_ascii(name) + ":[" for name in names]
    for row in _pages(conn, spec):
        if not where:
            where = _positions(row, [*names, "deleted", "_hash", "_meta", "id"])
        *field_at, deleted_at, hash_at, meta_at, id_at = where
        values: list[object] = [read(row[i]) for read, i in zip(readers, field_at, strict=True)]
        values.append(bool(row[deleted_at]))
        texts = [repr(v) for v in values]  # row_hash(values) and value_hash(v) from one repr each
        hashed = _row_hash_of_reprs(texts)
        old_hash, old_meta = row[hash_at], row[meta_at]
        if old_hash is not None and old_hash == hashed and old_meta is not None:
            continue
        meta = decode_meta(old_meta) if old_meta is not None else None
        version = _new_version(values[edited_at] if edited_at >= 0 else None, meta, state.clock, now)
        row_id = row[id_at]
        if meta is None:  # never stamped (all rows, the first time): every field at this version
            crcs = [zlib.crc32(text.encode("utf-8")) for text in texts[:-1]]
            text = _first_meta(keys, version, crcs, bool(values[-1]))
            inserts.append((spec.name, row_id, hashed, text, seq))
            table_updates.append((version, state.origin, row_id))
            stamped += 1
            if len(table_updates) >= BATCH:
                _flush_stamps(conn, spec, inserts, updates, table_updates)
            continue
        fields: dict[str, FieldMeta] = {}
        changed = False
        old_fields = meta.fields if meta else {}
        for name, text in zip(names, texts, strict=False):
            h = zlib.crc32(text.encode("utf-8"))
            old = old_fields.get(name)
            if old is not None and old[3] == h:
                fields[name] = old
            else:
                fields[name] = (version, old[0] if old else None, False, h)
                changed = True
        deleted_now = bool(values[-1])
        old_deleted = meta.deleted if meta else None
        if old_deleted is None:
            deleted: tuple[str, str | None, bool] = (version, None, deleted_now)
        elif deleted_now != old_deleted[2] or (changed and not deleted_now):
            # an edit also writes "not deleted" at its version, so it beats an older delete
            deleted = (version, old_deleted[0], deleted_now)
        else:
            deleted = old_deleted
        new_meta = RowMeta(fields, deleted)
        top = new_meta.max_version()
        entry = (spec.name, row_id, hashed, encode_meta(new_meta), seq)
        if meta:
            updates.append(entry)
        else:
            inserts.append(entry)
        table_updates.append((top, Hlc.parse(top).origin, row_id))
        stamped += 1
        if len(table_updates) >= BATCH:
            _flush_stamps(conn, spec, inserts, updates, table_updates)
    _flush_stamps(conn, spec, inserts, updates, table_updates)
    return stamped


def _first_meta(keys: list[str], version: str, crcs: list[int], deleted: bool) -> str:
    """`encode_meta` of a row stamped for the first time: every field and the deleted flag at
    `version`, no base, not masked (tested through the import, which builds it the general way)."""
    return (
        '{"v":['
        + _ascii(version)
        + '],"f":{'
        + ",".join([f"{key}0,-1,0,{crc}]" for key, crc in zip(keys, crcs, strict=True)])
        + ('},"d":[0,-1,1]}' if deleted else '},"d":[0,-1,0]}')
    )


def _new_version(edited: object, meta: RowMeta | None, clock: HybridClock, now: datetime) -> str:
    """A version for an edit made at `edited` (the row's edited-at instant, if it has one)."""
    if not isinstance(edited, datetime):
        return clock.tick(now).encode()
    floor = Hlc.parse(meta.max_version()) if meta else None
    version = HybridClock(clock.origin, floor).tick(edited)
    if clock.last is None or version > clock.last:
        clock.receive(version, edited)  # keep the machine clock ahead of every version it issued
    return version.encode()


def quoted(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


def _flush_stamps(
    conn: Connection,
    spec: TableSpec,
    inserts: list[tuple[str, str, int, str, int]],
    updates: list[tuple[str, str, int, str, int | None]],
    table_updates: list[tuple[str, str, str]],
) -> None:
    # Plain text, integers and ids only: the driver's executemany needs no SQLAlchemy type handling.
    if inserts:
        conn.exec_driver_sql(
            "INSERT INTO sync_row (table_name, id, row_hash, meta, local_seq) VALUES (?, ?, ?, ?, ?)", inserts
        )
    if updates:
        write_meta(conn, updates)
    if table_updates:
        conn.exec_driver_sql(
            f"UPDATE {quoted(conn, spec.name)} SET version = ?, origin = ? WHERE id = ?", table_updates
        )
    inserts.clear()
    updates.clear()
    table_updates.clear()


def write_meta(conn: Connection, rows: Sequence[tuple[str, str, int, str, int | None]]) -> None:
    """Update existing sync_row entries; `local_seq` None keeps the stored one."""
    keep = [r for r in rows if r[4] is None]
    bump = [r for r in rows if r[4] is not None]
    cond = and_(sync_row.c.table_name == bindparam("_t"), sync_row.c.id == bindparam("_i"))
    if keep:
        conn.execute(
            update(sync_row).where(cond).values(row_hash=bindparam("_h"), meta=bindparam("_m")),
            [{"_t": t, "_i": i, "_h": h, "_m": m} for t, i, h, m, _ in keep],
        )
    if bump:
        conn.execute(
            update(sync_row)
            .where(cond)
            .values(row_hash=bindparam("_h"), meta=bindparam("_m"), local_seq=bindparam("_s")),
            [{"_t": t, "_i": i, "_h": h, "_m": m, "_s": s} for t, i, h, m, s in bump],
        )


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
        key = _KEYS.get(name) or _KEYS.setdefault(name, _ascii(name) + ":[")
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
        + ",".join(map(_ascii, versions))
        + '],"f":{'
        + ",".join(parts)
        + f'}},"d":[{dvi},{dbi},{1 if deleted else 0}]}}'
    )
    return values, meta, _row_hash_of_reprs(texts)


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

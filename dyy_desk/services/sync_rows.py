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
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, and_, bindparam, insert, select, update

from dyy_desk.core.sync.hlc import Hlc, HybridClock, wall_ms_of
from dyy_desk.core.sync.records import FieldState, JsonValue, RecordKind, SyncRecord
from dyy_desk.services.sync_registry import TableSpec, from_json, to_json
from dyy_desk.services.sync_state import MachineState, sync_row

BATCH = 2000

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


def encode_meta(meta: RowMeta) -> str:
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
            sync_joined(spec).where(spec.table.c.id > last).order_by(spec.table.c.id).limit(BATCH)
        ).fetchall()
        if not page:
            return
        yield from page
        last = page[-1].id


def db_values(spec: TableSpec, row: Row[Any]) -> list[object]:
    return [row._mapping[f.name] for f in spec.fields] + [bool(row._mapping["deleted"])]


def stamp_local_edits(conn: Connection, spec: TableSpec, state: MachineState, now: datetime) -> int:
    """Give every locally edited field of `spec` a new version; returns the number of rows stamped.

    Stamped rows get `local_seq = state.local_seq + 1`; the caller bumps the counter if any changed.
    """
    if spec.kind is not RecordKind.MUTABLE:
        return 0
    seq = state.local_seq + 1
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    table_updates: list[dict[str, Any]] = []
    stamped = 0
    for row in _pages(conn, spec):
        values = db_values(spec, row)
        hashed = row_hash(values)
        if row._hash is not None and row._hash == hashed and row._meta is not None:
            continue
        meta = decode_meta(row._meta) if row._meta is not None else None
        version = _new_version(spec, row, meta, state.clock, now)
        fields: dict[str, FieldMeta] = {}
        changed = False
        for f, value in zip(spec.fields, values, strict=False):
            h = value_hash(value)
            old = meta.fields.get(f.name) if meta else None
            if old is not None and old[3] == h:
                fields[f.name] = old
            else:
                fields[f.name] = (version, old[0] if old else None, False, h)
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
        entry = {"t": spec.name, "i": row.id, "h": hashed, "m": encode_meta(new_meta), "s": seq}
        (updates if meta else inserts).append(entry)
        table_updates.append({"_id": row.id, "version": top, "origin": Hlc.parse(top).origin})
        stamped += 1
        if len(table_updates) >= BATCH:
            _flush_stamps(conn, spec, inserts, updates, table_updates)
    _flush_stamps(conn, spec, inserts, updates, table_updates)
    return stamped


def _new_version(
    spec: TableSpec, row: Row[Any], meta: RowMeta | None, clock: HybridClock, now: datetime
) -> str:
    edited = row._mapping[spec.edited_at] if spec.edited_at else None
    if not isinstance(edited, datetime):
        return clock.tick(now).encode()
    floor = Hlc.parse(meta.max_version()) if meta else None
    version = HybridClock(clock.origin, floor).tick(edited)
    if clock.last is None or version > clock.last:
        clock.receive(version, edited)  # keep the machine clock ahead of every version it issued
    return version.encode()


def _flush_stamps(
    conn: Connection,
    spec: TableSpec,
    inserts: list[dict[str, Any]],
    updates: list[dict[str, Any]],
    table_updates: list[dict[str, Any]],
) -> None:
    if inserts:
        conn.execute(
            insert(sync_row),
            [
                {"table_name": e["t"], "id": e["i"], "row_hash": e["h"], "meta": e["m"], "local_seq": e["s"]}
                for e in inserts
            ],
        )
    if updates:
        write_meta(conn, [(e["t"], e["i"], e["h"], e["m"], e["s"]) for e in updates])
    if table_updates:
        t = spec.table
        conn.execute(
            update(t)
            .where(t.c.id == bindparam("_id"))
            .values(version=bindparam("version"), origin=bindparam("origin")),
            table_updates,
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
    values: dict[str, Any] = {}
    fields: dict[str, FieldMeta] = {}
    ordered: list[object] = []
    for f in spec.fields:
        state = record.fields.get(f.name)
        if state is None:
            continue
        value = from_json(f, state.value)
        values[f.name] = value
        fields[f.name] = (state.version, state.base, state.masked, value_hash(value))
        ordered.append(value)
    values["deleted"] = record.is_deleted
    values["version"] = record.version
    values["origin"] = record.origin
    ordered.append(record.is_deleted)
    meta = RowMeta(fields, (record.deleted.version, record.deleted.base, record.is_deleted))
    return values, meta, row_hash(ordered)


def chunks(items: Sequence[str], size: int = 500) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]

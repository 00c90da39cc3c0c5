"""Local-edit stamping: give every field edited on this machine a new version before rows travel.

The services write plain rows and never think about versions. Before every export and import, each
row is compared with the hashes recorded in `sync_row` when it was last stamped or imported; a field
whose value differs was edited on this machine and gets a new version. Its wall-clock part is the
row's `updated_at` where the table has one, so edits keep their real order even when bundles are
made hours later; it is always newer than the versions the row already carries.

`stamped_rows` hands every row on as it is stamped, so an export writes the bundle line of a row in
the same pass instead of reading all the rows a second time.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, and_, bindparam, select, update

from dyy_desk.core.sync.hlc import Hlc, HybridClock
from dyy_desk.core.sync.records import RecordKind
from dyy_desk.services.sync_lines import getter, raw_select, same, value_readers
from dyy_desk.services.sync_meta import (
    FieldMeta,
    RowMeta,
    decode_meta,
    encode_meta,
    first_meta,
    meta_keys,
    row_hash_of_reprs,
)
from dyy_desk.services.sync_registry import TableSpec, specs
from dyy_desk.services.sync_state import MachineState, sync_row

BATCH = 2000  # rows per page read, and per batch of writes

# (raw row, its new meta text or None if nothing changed, the version if stamped for the first time)
Stamped = tuple[Row[Any], str | None, str | None]


def sync_joined(spec: TableSpec) -> Any:
    """The table's rows with their `sync_row` entry: `_hash`, `_meta`, `_seq` (None if never stamped)."""
    t = spec.table
    return select(
        t,
        sync_row.c.row_hash.label("_hash"),
        sync_row.c.meta.label("_meta"),
        sync_row.c.local_seq.label("_seq"),
    ).select_from(t.outerjoin(sync_row, and_(sync_row.c.table_name == spec.name, sync_row.c.id == t.c.id)))


def stamp_all(conn: Connection, state: MachineState, now: datetime) -> int:
    """Version every local edit of every syncing table (bumps the local change counter once)."""
    stamped = 0
    for spec in specs():
        for _, meta, _ in stamped_rows(conn, spec, state, now):
            if meta is not None:
                stamped += 1
    finish_stamping(state, stamped)
    return stamped


def finish_stamping(state: MachineState, stamped: int) -> None:
    """After a stamping run over every table: one more local change if any row was stamped."""
    if stamped:
        state.local_seq += 1


def stamped_rows(
    conn: Connection, spec: TableSpec, state: MachineState, now: datetime, query: Any = None
) -> Iterator[Stamped]:
    """Every row of a mutable table, in id order, after stamping it.

    Stamped rows get `local_seq = state.local_seq + 1`; the caller calls `finish_stamping` once all
    tables are done. `query` (default `sync_joined(spec)`) may add columns for the caller. Rows come
    a page at a time, each page read whole and its stamps written before the next one is read (no
    cursor stays open across writes), so the caller must not keep the transaction busy otherwise.
    """
    if spec.kind is not RecordKind.MUTABLE:
        return
    seq = state.local_seq + 1
    names = [f.name for f in spec.fields]
    readers = value_readers(spec.table, names, conn.dialect)  # rows come raw: see sync_lines
    edited_at = names.index(spec.edited_at) if spec.edited_at else -1
    keys = meta_keys(names)
    writes = _Writes(conn, spec)
    base = raw_select(sync_joined(spec) if query is None else query)
    t = spec.table
    last = ""
    get: Any = None  # the field values of a raw row, as stored
    convert: list[tuple[int, Callable[[object], object]]] = []  # fields the driver returns differently
    while True:
        page = conn.execute(base.where(t.c.id > last).order_by(t.c.id).limit(BATCH)).fetchall()
        if not page:
            break
        if get is None:
            columns = list(page[0]._fields)
            get = getter([columns.index(name) for name in names])
            convert = [(k, read) for k, read in enumerate(readers) if read is not same]
            deleted_at, hash_at, meta_at, id_at = (
                columns.index(n) for n in ("deleted", "_hash", "_meta", "id")
            )
        for row in page:
            values: list[object] = list(get(row))
            for k, read in convert:
                values[k] = read(values[k])
            values.append(bool(row[deleted_at]))
            texts = list(map(repr, values))  # row_hash(values) and value_hash(v) from one repr each
            hashed = row_hash_of_reprs(texts)
            old_hash, old_meta = row[hash_at], row[meta_at]
            if old_hash is not None and old_hash == hashed and old_meta is not None:
                yield row, None, None
                continue
            meta = decode_meta(old_meta) if old_meta is not None else None
            version = _new_version(values[edited_at] if edited_at >= 0 else None, meta, state.clock, now)
            row_id = row[id_at]
            if meta is None:  # never stamped (all rows, the first time): every field at this version
                crcs = list(map(zlib.crc32, map(str.encode, texts[:-1])))  # value_hash of each field
                text = first_meta(keys, version, crcs, bool(values[-1]))
                writes.inserts.append((spec.name, row_id, hashed, text, seq))
                writes.table.append((version, state.origin, row_id))
                yield row, text, version
                continue
            new_meta = _edited(meta, names, texts, version, bool(values[-1]))
            text = encode_meta(new_meta)
            top = new_meta.max_version()
            writes.updates.append((spec.name, row_id, hashed, text, seq))
            writes.table.append((top, Hlc.parse(top).origin, row_id))
            yield row, text, None
        last = page[-1][id_at]
        writes.flush()
    writes.flush()


def _edited(meta: RowMeta, names: list[str], texts: list[str], version: str, deleted_now: bool) -> RowMeta:
    """The row's metadata after a local edit: changed fields (and maybe the flag) at `version`."""
    fields: dict[str, FieldMeta] = {}
    changed = False
    old_fields = meta.fields
    for name, text in zip(names, texts, strict=False):
        h = zlib.crc32(text.encode("utf-8"))
        old = old_fields.get(name)
        if old is not None and old[3] == h:
            fields[name] = old
        else:
            fields[name] = (version, old[0] if old else None, False, h)
            changed = True
    old_deleted = meta.deleted
    if deleted_now != old_deleted[2] or (changed and not deleted_now):
        # an edit also writes "not deleted" at its version, so it beats an older delete
        deleted: tuple[str, str | None, bool] = (version, old_deleted[0], deleted_now)
    else:
        deleted = old_deleted
    return RowMeta(fields, deleted)


def _new_version(edited: object, meta: RowMeta | None, clock: HybridClock, now: datetime) -> str:
    """A version for an edit made at `edited` (the row's edited-at instant, if it has one)."""
    if not isinstance(edited, datetime):
        return clock.tick(now).encode()
    floor = Hlc.parse(meta.max_version()) if meta else None
    version = HybridClock(clock.origin, floor).tick(edited)
    if clock.last is None or version > clock.last:
        clock.receive(version, edited)  # keep the machine clock ahead of every version it issued
    return version.encode()


class _Writes:
    """Stamps waiting to be written: new `sync_row` entries, changed ones, the table's own columns."""

    def __init__(self, conn: Connection, spec: TableSpec) -> None:
        self.conn = conn
        self.inserts: list[tuple[str, str, int, str, int]] = []
        self.updates: list[tuple[str, str, int, str, int | None]] = []
        self.table: list[tuple[str, str, str]] = []
        quoted = conn.dialect.identifier_preparer.quote(spec.name)
        self.table_sql = f"UPDATE {quoted} SET version = ?, origin = ? WHERE id = ?"

    def flush(self) -> None:
        # Plain text, integers and ids only: the driver's executemany needs no SQLAlchemy type handling.
        if self.inserts:
            self.conn.exec_driver_sql(
                "INSERT INTO sync_row (table_name, id, row_hash, meta, local_seq) VALUES (?, ?, ?, ?, ?)",
                self.inserts,
            )
        if self.updates:
            write_meta(self.conn, self.updates)
        if self.table:
            self.conn.exec_driver_sql(self.table_sql, self.table)
        self.inserts.clear()
        self.updates.clear()
        self.table.clear()


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

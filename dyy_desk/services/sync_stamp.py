"""Local-edit stamping: give every field edited on this machine a new version before rows travel.

The services write plain rows and never think about versions. Before every export and import, each
row is compared with the hashes recorded in `sync_row` when it was last stamped or imported; a field
whose value differs was edited on this machine and gets a new version. Its wall-clock part is the
row's `updated_at` where the table has one, so edits keep their real order even when bundles are
made hours later; it is always newer than the versions the row already carries.

`StampedRows` hands every row on as it is stamped, so an export writes the bundle line of a row in
the same pass instead of reading all the rows a second time.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Sequence
from datetime import datetime
from itertools import repeat
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, and_, bindparam, select, update

from dyy_desk.core.sync.hlc import COUNTER_DIGITS, MAX_WALL_MS, WALL_DIGITS, Hlc, HybridClock
from dyy_desk.core.sync.records import RecordKind
from dyy_desk.services.sync_lines import (
    STORED_INSTANT,
    column_readers,
    driver_rows,
    getter,
    same,
    stored_wall_ms,
    value_readers,
)
from dyy_desk.services.sync_meta import (
    FieldMeta,
    RowMeta,
    decode_meta,
    encode_meta,
    first_meta,
    first_metas,
    meta_keys,
    row_hash_of_reprs,
    row_hashes_of_reprs,
)
from dyy_desk.services.sync_registry import TableSpec, specs
from dyy_desk.services.sync_state import MachineState, sync_row

BATCH = 2000  # rows per page read, and per batch of writes

# (raw row, its new meta text or None if nothing changed, the version if stamped for the first time)
Stamped = tuple[Sequence[Any], str | None, str | None]


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
        for page in StampedRows(conn, spec, state, now):
            stamped += sum(meta is not None for _, meta, _ in page)
    finish_stamping(state, stamped)
    return stamped


def finish_stamping(state: MachineState, stamped: int) -> None:
    """After a stamping run over every table: one more local change if any row was stamped."""
    if stamped:
        state.local_seq += 1


class StampedRows:
    """Every row of a mutable table, in id order, after stamping it: a page of rows of a driver
    cursor at a time.

    Stamped rows get `local_seq = state.local_seq + 1`; the caller calls `finish_stamping` once all
    tables are done. `query` (default `sync_joined(spec)`) may add columns for the caller; their
    names are `columns` once the first row has come. Rows come a page at a time, each page read
    whole and its stamps written before the next one is read (no cursor stays open across writes),
    so the caller must not keep the transaction busy otherwise.
    """

    def __init__(
        self, conn: Connection, spec: TableSpec, state: MachineState, now: datetime, query: Any = None
    ) -> None:
        self.conn, self.spec, self.state, self.now = conn, spec, state, now
        self.query = sync_joined(spec) if query is None else query
        self.columns: list[str] = []

    def __iter__(self) -> Iterator[list[Stamped]]:
        if self.spec.kind is not RecordKind.MUTABLE:
            return
        t = self.spec.table
        pages: _Pages | None = None
        last = ""
        while True:
            query = self.query.where(t.c.id > last).order_by(t.c.id).limit(BATCH)
            with driver_rows(self.conn, query) as (columns, cursor):
                page = cursor.fetchall()
            if not page:
                break
            if pages is None:
                self.columns = columns
                pages = _Pages(self, columns)
            yield pages.stamp(page)
            last = page[-1][pages.id_at]


class _Pages:
    """Stamps the pages of one table, row by row or, for a page of rows none of which was stamped
    before (every row of a first export), column by column: values, reprs, hashes, CRCs and
    `first_meta` texts each from one loop in C over a column, equal to what the rows give."""

    def __init__(self, rows: StampedRows, columns: list[str]) -> None:
        spec, conn, self.state, self.now = rows.spec, rows.conn, rows.state, rows.now
        # a plain str: the driver binds it directly (SQLAlchemy's `quoted_name` is a str subclass,
        # which sqlite3 first offers to its adapters, an attribute look-up per row)
        self.name = str(spec.name)
        self.names = [f.name for f in spec.fields]
        self.seq = self.state.local_seq + 1
        self.keys = meta_keys(self.names)
        self.writes = _Writes(conn, spec)
        self.clock = _FirstVersions(self.state.clock, self.state.origin)
        self.fields = [columns.index(name) for name in self.names]
        self.get = getter(self.fields)  # the field values of a raw row, as stored
        self.readers = column_readers(spec.table, self.names, conn.dialect)  # rows come raw: see sync_lines
        readers = value_readers(spec.table, self.names, conn.dialect)
        self.convert = [(k, read) for k, read in enumerate(readers) if read is not same]
        self.id_at, self.deleted_at, self.hash_at, self.meta_at = (
            columns.index(n) for n in ("id", "deleted", "_hash", "_meta")
        )
        self.meta_of = itemgetter(self.meta_at)
        self.edited_at = self.names.index(spec.edited_at) if spec.edited_at else -1
        self.stored_edited_at = columns.index(spec.edited_at) if spec.edited_at else -1

    def stamp(self, page: Sequence[Any]) -> list[Stamped]:
        """Stamp the page's rows and write their stamps."""
        if list(map(self.meta_of, page)).count(None) == len(page):
            done = self._first(page)
        else:
            done = list(map(self._row, page))
        self.clock.settle()
        self.writes.flush()
        return done

    def _first(self, page: Sequence[Any]) -> list[Stamped]:
        columns = list(zip(*page, strict=True))
        values: list[Sequence[object]] = [
            columns[at] if read is None else read(columns[at])
            for at, read in zip(self.fields, self.readers, strict=True)
        ]
        deleted = list(map(bool, columns[self.deleted_at]))
        texts = [list(map(repr, column)) for column in values]
        hashes = row_hashes_of_reprs([*texts, list(map(repr, deleted))])
        if self.edited_at < 0:
            versions = [self.clock.general(None, None, self.now) for _ in page]
        else:
            stored, edited = columns[self.stored_edited_at], values[self.edited_at]
            versions = list(map(self.clock.first, stored, edited, repeat(self.now)))
        crcs = [list(map(zlib.crc32, map(str.encode, column))) for column in texts]  # value_hash
        metas = first_metas(self.keys, versions, crcs, deleted)
        ids = columns[self.id_at]
        self.writes.inserts += zip(repeat(self.name), ids, hashes, metas, repeat(self.seq))
        self.writes.table += zip(versions, repeat(self.state.origin), ids)
        return list(zip(page, metas, versions, strict=True))

    def _row(self, row: Sequence[Any]) -> Stamped:
        values: list[object] = list(self.get(row))
        for k, read in self.convert:
            values[k] = read(values[k])
        values.append(bool(row[self.deleted_at]))
        texts = list(map(repr, values))  # row_hash(values) and value_hash(v) from one repr each
        hashed = row_hash_of_reprs(texts)
        old_hash, old_meta = row[self.hash_at], row[self.meta_at]
        if old_hash is not None and old_hash == hashed and old_meta is not None:
            return row, None, None
        row_id, edited_at = row[self.id_at], self.edited_at
        edited = values[edited_at] if edited_at >= 0 else None
        if old_meta is None:  # never stamped: every field at this version
            stored = row[self.stored_edited_at] if edited_at >= 0 else None
            version = self.clock.first(stored, edited, self.now)
            crcs = list(map(zlib.crc32, map(str.encode, texts[:-1])))  # value_hash of each field
            text = first_meta(self.keys, version, crcs, bool(values[-1]))
            self.writes.inserts.append((self.name, row_id, hashed, text, self.seq))
            self.writes.table.append((version, self.state.origin, row_id))
            return row, text, version
        meta = decode_meta(old_meta)
        version = self.clock.general(edited, meta, self.now)
        new_meta = _edited(meta, self.names, texts, version, bool(values[-1]))
        text = encode_meta(new_meta)
        top = new_meta.max_version()
        self.writes.updates.append((self.name, row_id, hashed, text, self.seq))
        self.writes.table.append((top, Hlc.parse(top).origin, row_id))
        return row, text, None


class _FirstVersions:
    """`_new_version` for the rows being stamped, quick for the usual first stamp.

    A row stamped for the first time whose edited-at column holds a stored instant of the usual
    shape gets version (its wall time, 0, this origin): what `_new_version` gives it, written
    from the stored text. `_new_version` then moves the machine clock to just after that version
    if it is newer; each such move only depends on the newest version so far, so the clock is
    moved once for all of them (`settle`), before any other use of it and at the end of each page.
    """

    def __init__(self, clock: HybridClock, origin: str) -> None:
        self.clock = clock
        self.text = "%0" + str(WALL_DIGITS) + "d-" + "0" * COUNTER_DIGITS + "-" + origin.replace("%", "%%")
        self.origin = origin
        self.top = -1  # the newest wall time issued since the last `settle`, and its instant
        self.top_at: object = None

    def first(self, stored: object, edited: object, now: datetime) -> str:
        """The version of a row never stamped: `stored` is its edited-at column as stored,
        `edited` the same read as a datetime (None for tables without one)."""
        if type(stored) is str and STORED_INSTANT.fullmatch(stored):
            wall = stored_wall_ms(stored)
            if 0 <= wall <= MAX_WALL_MS:
                if wall > self.top:
                    self.top, self.top_at = wall, edited
                return self.text % wall
        return self.general(edited, None, now)

    def general(self, edited: object, meta: RowMeta | None, now: datetime) -> str:
        self.settle()
        return _new_version(edited, meta, self.clock, now)

    def settle(self) -> None:
        if self.top < 0:
            return
        assert isinstance(self.top_at, datetime)  # `edited` of a row with a stored instant
        version = Hlc(self.top, 0, self.origin)
        if self.clock.last is None or version > self.clock.last:
            self.clock.receive(version, self.top_at)
        self.top, self.top_at = -1, None


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

"""An export's page-at-a-time paths against the row-at-a-time ones they replace in a first export.

* `LineBuilder.append_only_lines` / `first_lines` are, byte for byte, the encoded `line` /
  `first_line` of each row, also for values of unusual types and instants of unusual shapes
  (those columns are written value by value);
* stamping a page of never-stamped rows column by column gives the same stamps, lines, writes and
  machine clock as stamping it row by row.
"""

from __future__ import annotations

import copy
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine

from dyy_desk.core.clock import FakeClock
from dyy_desk.services.sync_lines import LineBuilder, driver_rows, value_readers
from dyy_desk.services.sync_registry import ColumnKind, TableSpec, spec_for
from dyy_desk.services.sync_stamp import StampedRows, _new_version, _Pages, sync_joined
from dyy_desk.services.sync_state import load_state
from dyy_desk.services.workspace import Seed
from tests.conftest import START
from tests.services.test_sync_support import memory_keyring, open_machine

__all__ = ["memory_keyring"]

DIALECT = create_engine("sqlite://").dialect
ORIGIN = "0123456789abcdef"

_MOMENTS = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1))
INSTANTS = st.one_of(
    st.none(),
    _MOMENTS.map(lambda d: d.strftime("%Y-%m-%d %H:%M:%S.%f")),  # the usual stored shape
    _MOMENTS.map(lambda d: d.strftime("%Y-%m-%d %H:%M:%S")),  # another one the processor reads
)
TEXTS = st.one_of(st.none(), st.text(max_size=6), st.integers(-3, 3))
FLAGS = st.sampled_from([None, 0, 1, 2, True, False])


def _spec(name: str) -> TableSpec:
    spec = spec_for(name)
    assert spec is not None
    return spec


def _rows(spec: TableSpec, columns: list[str], usual: bool) -> st.SearchStrategy[list[tuple[Any, ...]]]:
    """Raw rows: any value of its kind in every column; `usual` keeps to the values rows usually hold."""
    kinds = {f.name: f.kind for f in spec.fields}
    per_column: list[st.SearchStrategy[Any]] = []
    for name in columns:
        kind = kinds.get(name)
        if name == "id":
            per_column.append(st.uuids().map(str))
        elif name == "deleted" or kind is ColumnKind.BOOL:
            per_column.append(st.sampled_from([0, 1]) if usual else FLAGS)
        elif kind is ColumnKind.INSTANT:
            per_column.append(INSTANTS.filter(lambda v: v is not None) if usual else INSTANTS)
        elif kind is ColumnKind.TEXT:
            per_column.append(st.text(max_size=6) if usual else TEXTS)
        else:
            per_column.append(st.none())
    row = st.tuples(*per_column)
    return st.lists(row, min_size=1, max_size=6, unique_by=lambda r: r[columns.index("id")]).map(
        lambda rows: sorted(rows, key=lambda r: r[columns.index("id")])
    )


EVENT = _spec("ticket_event")
EVENT_COLUMNS = [c.name for c in EVENT.table.columns]
TICKET = _spec("ticket")
TICKET_COLUMNS = [c.name for c in TICKET.table.columns] + ["_hash", "_meta", "_seq"]
CUSTOMER = _spec("customer")
CUSTOMER_COLUMNS = [c.name for c in CUSTOMER.table.columns] + ["_hash", "_meta", "_seq"]


@settings(max_examples=300)
@given(st.booleans().flatmap(lambda usual: _rows(EVENT, EVENT_COLUMNS, usual)))
def test_append_only_lines_equal_line_by_line(rows: list[tuple[Any, ...]]) -> None:
    builder = LineBuilder(EVENT, EVENT_COLUMNS, mask=False, origin=ORIGIN, dialect=DIALECT)
    assert builder.append_only_lines(rows) == [builder.line(row).encode() for row in rows]


@settings(max_examples=300)
@given(
    st.booleans().flatmap(lambda usual: _rows(TICKET, TICKET_COLUMNS, usual)),
    st.sampled_from(["001763000000123-000000-" + ORIGIN, "000000000000000-000007-b"]),
)
def test_first_lines_equal_line_by_line(rows: list[tuple[Any, ...]], version: str) -> None:
    builder = LineBuilder(TICKET, TICKET_COLUMNS, mask=False, origin=ORIGIN, dialect=DIALECT)
    versions = [version] * len(rows)
    assert builder.first_lines(rows, versions) == [builder.first_line(r, version).encode() for r in rows]


@settings(max_examples=50)
@given(_rows(CUSTOMER, CUSTOMER_COLUMNS, True))
def test_first_lines_mask_like_line_by_line(rows: list[tuple[Any, ...]]) -> None:
    builder = LineBuilder(CUSTOMER, CUSTOMER_COLUMNS, mask=True, origin=ORIGIN, dialect=DIALECT)
    version = "001763000000123-000000-" + ORIGIN
    lines = builder.first_lines(rows, [version] * len(rows))
    assert lines == [builder.first_line(r, version).encode() for r in rows]


@pytest.mark.usefixtures("memory_keyring")
def test_a_first_page_stamps_like_row_by_row(tmp_path: Path) -> None:
    a = open_machine(tmp_path, "a", FakeClock(START), seed=Seed.DEMO)
    try:
        # a third of the tickets edited long ago, stored in another shape (read the general way)
        with sqlite3.connect(a.db_path) as con:
            con.execute("UPDATE ticket SET updated_at = '2020-01-01 09:00:00' WHERE rowid % 3 = 0")
            con.execute("UPDATE ticket SET deleted = 1 WHERE rowid % 5 = 0")
        now = datetime(2026, 11, 24, tzinfo=UTC)
        with a.workspace.engine.begin() as conn:
            checked = 0
            for spec in (TICKET, CUSTOMER, _spec("user")):
                with driver_rows(conn, sync_joined(spec).order_by(spec.table.c.id)) as (columns, cursor):
                    page = cursor.fetchall()
                state = load_state(conn, a.workspace.machine_id)
                twin, reference = copy.deepcopy(state), copy.deepcopy(state).clock
                by_page = _Pages(StampedRows(conn, spec, state, now), columns)
                by_row = _Pages(StampedRows(conn, spec, twin, now), columns)
                stamped = by_page._first(page)
                assert stamped == [by_row._row(row) for row in page]
                assert by_page.writes.inserts == by_row.writes.inserts != []
                assert by_page.writes.table == by_row.writes.table
                by_page.clock.settle()
                by_row.clock.settle()
                # the versions and the clock `_new_version` gives, one row after the other
                edited: list[object] = [None] * len(page)
                if spec.edited_at:
                    read = value_readers(spec.table, [spec.edited_at], conn.dialect)[0]
                    edited = [read(row[columns.index(spec.edited_at)]) for row in page]
                expected = [_new_version(at, None, reference, now) for at in edited]
                assert [version for _, _, version in stamped] == expected
                assert state.clock.last == twin.clock.last == reference.last is not None
                checked += len(page)
            assert checked > 100
    finally:
        a.close()

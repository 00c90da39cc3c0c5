"""The services' fast paths against the general ones, on real rows of a demo database.

* `LineBuilder` lines are byte for byte `canonical_json(record_json(…))` / `append_only_json(…)`;
* an import (fast line reading, values converted once, driver-level inserts) leaves the same rows
  and the same per-row field versions and hashes (`sync_row`) as the machine that exported them;
* `parsed_row`, `encode_meta`, `instant_text`, `insert_rows` equal their general forms.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, insert, select, text
from sqlmodel import SQLModel

from dyy_desk.core.clock import FakeClock
from dyy_desk.core.sync.hlc import wall_ms_of
from dyy_desk.core.sync.records import RecordKind, canonical_json, parse_record_json
from dyy_desk.db.all_models import *  # noqa: F403 - every table, for create_all
from dyy_desk.services.sync_lines import LineBuilder, raw_select, stored_wall_ms, value_readers
from dyy_desk.services.sync_meta import RowMeta, decode_meta, encode_meta, encode_meta_reference
from dyy_desk.services.sync_registry import (
    ColumnKind,
    FieldSpec,
    converter,
    from_json,
    instant_text,
    spec_for,
    specs,
)
from dyy_desk.services.sync_rows import (
    append_only_json,
    insert_rows,
    parsed_row,
    record_json,
    row_from_values,
)
from dyy_desk.services.sync_stamp import sync_joined
from dyy_desk.services.sync_state import load_state
from dyy_desk.services.workspace import Seed
from tests.conftest import START
from tests.services.test_sync_support import Machine, contents, memory_keyring, open_machine

__all__ = ["memory_keyring"]


@pytest.fixture
def pair(tmp_path: Path, memory_keyring: object) -> tuple[Machine, Machine]:
    a = open_machine(tmp_path, "a", FakeClock(START), seed=Seed.DEMO)
    b = open_machine(tmp_path, "b", FakeClock(START), seed=Seed.EMPTY)
    key_text, _ = a.sync.create_team(name="李娜")
    b.sync.join_team(key_text=key_text, name="王芳")
    yield a, b
    a.close()
    b.close()


@pytest.mark.parametrize("mask", [False, True])
def test_line_builder_writes_canonical_json(
    pair: tuple[Machine, Machine], tmp_path: Path, mask: bool
) -> None:
    a, _ = pair
    a.sync.export(out=tmp_path / "stamp.dyyb")  # every row stamped, each at one version
    with sqlite3.connect(a.db_path) as con:  # some rows edited: several versions, with bases
        con.execute("UPDATE ticket SET status = 'closed', updated_at = '2030-01-01 00:00:00.000000'")
        con.execute("UPDATE customer SET nick = nick || '2' WHERE rowid % 2 = 0")
    a.sync.export(out=tmp_path / "stamp2.dyyb")
    engine = a.workspace.engine
    with engine.connect() as conn:
        origin = load_state(conn, a.workspace.machine_id).origin
        checked = 0
        for spec in specs():
            query = sync_joined(spec) if spec.kind is RecordKind.MUTABLE else select(spec.table)
            query = query.order_by(spec.table.c.id)
            raw = conn.execute(raw_select(query))
            builder = LineBuilder(spec, list(raw.keys()), mask=mask, origin=origin, dialect=conn.dialect)
            for row, raw_row in zip(conn.execute(query).all(), raw.all(), strict=True):
                if spec.kind is RecordKind.MUTABLE:
                    general = record_json(spec, row, decode_meta(row._meta), mask=mask)
                else:
                    general = append_only_json(spec, row, origin)
                assert builder.line(raw_row) == canonical_json(general)
                checked += 1
    assert checked > 1000


def _sync_rows(m: Machine) -> list[tuple[object, ...]]:
    with sqlite3.connect(m.db_path) as con:
        return con.execute("SELECT table_name, id, row_hash, meta FROM sync_row ORDER BY 1, 2").fetchall()


def test_import_stores_what_the_exporter_stamped(pair: tuple[Machine, Machine], tmp_path: Path) -> None:
    a, b = pair
    a.sync.export(out=tmp_path / "a1.dyyb")
    b.sync.apply(path=tmp_path / "a1.dyyb")
    assert contents(a) == contents(b)
    # field versions, value hashes and row hashes computed on import equal the exporter's stamping
    assert _sync_rows(a) == _sync_rows(b) != []
    assert b.sync.export(out=tmp_path / "b1.dyyb").total == 0  # nothing looks edited on B


def test_parsed_row_equals_the_record_path(pair: tuple[Machine, Machine], tmp_path: Path) -> None:
    a, _ = pair
    a.sync.export(out=tmp_path / "stamp.dyyb")
    engine = a.workspace.engine
    with engine.connect() as conn:
        for spec in specs():
            if spec.kind is not RecordKind.MUTABLE:
                continue
            result = conn.execute(sync_joined(spec))
            for row in result:
                data = json.loads(canonical_json(record_json(spec, row, decode_meta(row._meta), mask=False)))
                parsed = parse_record_json(data)
                converted = {
                    f.name: from_json(f, parsed.fields[f.name]["value"])
                    for f in spec.fields
                    if f.name in parsed.fields
                }
                values, meta, h = row_from_values(spec, parsed.to_record(), converted)
                assert parsed_row(spec, parsed, converted) == (values, encode_meta(meta), h)


VERSIONS = st.sampled_from(["001-000000-a", "002-000001-b", "v\u0661", "x"])


@settings(max_examples=300)
@given(
    st.dictionaries(
        st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True) | st.text(max_size=3),
        st.tuples(VERSIONS, st.none() | VERSIONS, st.booleans(), st.integers(0, 2**32 - 1)),
        max_size=6,
    ),
    st.tuples(VERSIONS, st.none() | VERSIONS, st.booleans()),
)
def test_encode_meta_equals_json_dumps(
    fields: dict[str, tuple[str, str | None, bool, int]], deleted: tuple[str, str | None, bool]
) -> None:
    meta = RowMeta(fields, deleted)
    assert encode_meta(meta) == encode_meta_reference(meta)
    assert decode_meta(encode_meta(meta)) == meta


@settings(max_examples=300)
@given(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    st.integers(-14 * 60, 14 * 60),
)
def test_instant_text_equals_strftime(moment: datetime, offset_minutes: int) -> None:
    from datetime import timezone

    aware = moment.replace(tzinfo=timezone(timedelta(minutes=offset_minutes)))
    try:
        expected = aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    except OverflowError:
        return
    assert instant_text(aware) == expected


def test_insert_rows_stores_what_sqlalchemy_stores() -> None:
    spec = spec_for("ticket")
    assert spec is not None
    now = datetime(2026, 11, 23, 9, 0, 1, 5, tzinfo=UTC)
    base = {
        "number": "N1",
        "client_id": "c",
        "shop_id": "s",
        "platform": "taobao",
        "category": "refund",
        "priority": "normal",
        "status": "new",
        "subject": "退款",
        "tags": "",
        "platform_intervention": False,
        "created_at": now,
        "updated_at": now + timedelta(hours=8),
        "origin": "a",
        "version": "v",
        "deleted": False,
    }
    rows = [
        {"id": "1", **base},
        {"id": "2", **base, "number": "N2", "due_at": None, "platform_intervention": True},
        {"id": "3", **base, "number": "N3", "due_at": now, "customer_id": None},
    ]
    stored = []
    for use_fast in (True, False):
        engine = create_engine("sqlite://")
        SQLModel.metadata.create_all(engine, tables=[spec.table])
        with engine.begin() as conn:
            if use_fast:
                insert_rows(conn, spec.table, rows)
            else:
                conn.execute(insert(spec.table), [r for r in rows if "due_at" not in r])
                conn.execute(
                    insert(spec.table), [r for r in rows if "due_at" in r and "customer_id" not in r]
                )
                conn.execute(insert(spec.table), [r for r in rows if "customer_id" in r])
            stored.append(conn.execute(text("SELECT * FROM ticket ORDER BY id")).fetchall())
    assert stored[0] == stored[1] and len(stored[0]) == 3


FIELD_SPECS = st.builds(
    FieldSpec,
    st.just("f"),
    st.sampled_from(list(ColumnKind)),
    st.booleans(),
    st.none() | st.integers(0, 5),
    st.booleans(),
)
BUNDLE_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=8),
    st.datetimes().map(lambda d: d.isoformat() + "Z"),
    st.sampled_from(["2026-11-23T09:00:00.000000Z", "2026-11-23Z", "Z", "2026-13-01T00:00:00Z", "x"]),
    st.lists(st.integers(), max_size=2),
)


@settings(max_examples=600)
@given(FIELD_SPECS, BUNDLE_VALUES)
def test_converter_equals_from_json(spec: FieldSpec, value: object) -> None:
    try:
        expected = from_json(spec, value)  # type: ignore[arg-type]
    except ValueError as exc:
        with pytest.raises(ValueError) as info:
            converter(spec)(value)  # type: ignore[arg-type]
        assert str(info.value) == str(exc)
        return
    got = converter(spec)(value)  # type: ignore[arg-type]
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize(
    "stored",
    [
        "2026-11-23 09:00:00.000000",
        "2026-11-23 09:00:00",
        "2026-11-23 09:00:00.5",
        "1970-01-01 00:00:00.000999",
    ],
)
def test_raw_readers_equal_sqlalchemy_for_any_stored_instant(tmp_path: Path, stored: str) -> None:
    """Stamping and line writing read rows raw; odd stored shapes still read as SQLAlchemy reads them."""
    engine = create_engine(f"sqlite:///{tmp_path / 'raw.sqlite3'}")
    SQLModel.metadata.create_all(engine)
    spec = spec_for("ticket_event")
    assert spec is not None
    t = spec.table
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO ticket_event (id, ticket_id, kind, at, text, data, origin)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (str(uuid.UUID(int=1)), str(uuid.UUID(int=2)), "note", stored, "x", "", "o"),
        )
        processed = conn.execute(select(t)).one()
        raw = conn.execute(raw_select(select(t))).one()
        names = list(raw._fields)
        readers = value_readers(t, names, conn.dialect)
        assert [read(v) for read, v in zip(readers, raw, strict=True)] == list(processed)
        builder = LineBuilder(spec, names, mask=False, origin="o", dialect=conn.dialect)
        assert builder.line(raw) == canonical_json(append_only_json(spec, processed, "o"))
    engine.dispose()


@settings(max_examples=500)
@given(
    st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(9999, 12, 31))
    | st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(9999, 12, 31)).map(
        lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000)  # whole milliseconds: float edge
    )
)
def test_stored_wall_ms_equals_wall_ms_of(moment: datetime) -> None:
    stored = moment.strftime("%Y-%m-%d %H:%M:%S.%f")
    assert stored_wall_ms(stored) == wall_ms_of(moment.replace(tzinfo=UTC))

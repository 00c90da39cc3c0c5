"""The bulk paths of an import store exactly what the general path stores, and the index rebuild
for big imports into empty tables is all-or-nothing with the import."""

from __future__ import annotations

import sqlite3
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine

from dyy_desk.core.clock import FakeClock
from dyy_desk.core.sync.errors import BundleError
from dyy_desk.services import sync_import
from dyy_desk.services.sync_bulk import db_converter
from dyy_desk.services.sync_export import SyncCancelled
from dyy_desk.services.sync_registry import from_json, instant_text, spec_for
from dyy_desk.services.workspace import Seed
from tests.conftest import START
from tests.services.test_sync_support import Machine, contents, digest, memory_keyring, open_machine

__all__ = ["memory_keyring"]
_DIALECT = create_engine("sqlite://").dialect


def _indexes(m: Machine) -> list[tuple[str, str]]:
    with sqlite3.connect(m.db_path) as con:
        return sorted(con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'").fetchall())


@settings(max_examples=300)
@given(
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 30)).map(
        lambda d: instant_text(d.replace(tzinfo=UTC))
    )
    | st.sampled_from(["2026-11-23T09:00:00Z", "2026-13-01T00:00:00.000000Z", "x", "", None])
    | st.integers()
)
def test_db_converter_equals_from_json_then_bind(value: object) -> None:
    spec = spec_for("ticket_event")
    assert spec is not None
    field = next(f for f in spec.fields if f.name == "at")
    column = spec.table.c.at
    bind = column.type.dialect_impl(_DIALECT).bind_processor(_DIALECT)
    assert bind is not None
    try:
        expected: object = bind(from_json(field, value))  # type: ignore[arg-type]
    except ValueError as exc:
        with pytest.raises(ValueError, match=str(exc)[:8]):
            db_converter(field, column, _DIALECT)(value)  # type: ignore[arg-type]
        return
    assert db_converter(field, column, _DIALECT)(value) == expected  # type: ignore[arg-type]


@pytest.fixture
def pair(
    tmp_path: Path, memory_keyring: object, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Machine, Machine]]:
    monkeypatch.setattr(sync_import, "BULK_ROWS", 50)  # the demo's 200 tickets count as a big import
    a = open_machine(tmp_path, "a", FakeClock(START), seed=Seed.DEMO)
    b = open_machine(tmp_path, "b", FakeClock(START + timedelta(minutes=1)), seed=Seed.EMPTY)
    key_text, _ = a.sync.create_team(name="李娜")
    b.sync.join_team(key_text=key_text, name="王芳")
    yield a, b
    a.close()
    b.close()


def test_big_import_into_empty_tables_keeps_every_index(
    pair: tuple[Machine, Machine], tmp_path: Path
) -> None:
    a, b = pair
    a.sync.export(out=tmp_path / "a1.dyyb")
    before = _indexes(b)
    report = b.sync.apply(path=tmp_path / "a1.dyyb")
    assert next(t.new for t in report.tables if t.table == "ticket") == 200
    assert _indexes(b) == before
    assert contents(a) == contents(b)
    with sqlite3.connect(b.db_path) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        plan = con.execute("EXPLAIN QUERY PLAN SELECT id FROM ticket WHERE status = 'new'").fetchall()
    assert "ix_ticket_status" in str(plan)


def test_cancel_while_indexes_are_dropped_leaves_the_file_untouched(
    pair: tuple[Machine, Machine], tmp_path: Path
) -> None:
    a, b = pair
    a.sync.export(out=tmp_path / "a1.dyyb")
    before, indexes = digest(b.db_path), _indexes(b)
    seen: list[str] = []

    def cancel() -> bool:
        # after the shops, the next check is the ticket table's last chunk: its indexes are dropped
        return any("店铺" in label for label in seen)

    with pytest.raises(SyncCancelled):
        b.sync.apply(
            path=tmp_path / "a1.dyyb", progress=lambda _d, _t, label: seen.append(label), cancel=cancel
        )
    assert digest(b.db_path) == before and _indexes(b) == indexes


def test_export_puts_the_gil_switch_interval_back(pair: tuple[Machine, Machine], tmp_path: Path) -> None:
    a, _ = pair
    before = sys.getswitchinterval()
    a.sync.export(out=tmp_path / "a1.dyyb")
    assert sys.getswitchinterval() == before
    with pytest.raises(SyncCancelled):
        a.sync.export(out=tmp_path / "a2.dyyb", cancel=lambda: True)
    assert sys.getswitchinterval() == before and not (tmp_path / "a2.dyyb").exists()


def test_big_import_checks_every_foreign_key_itself(
    pair: tuple[Machine, Machine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A big import runs with SQLite's per-row enforcement off; a reference the parents check does
    not know about is still refused (foreign_key_check), and enforcement is back on afterwards."""
    a, b = pair
    with sqlite3.connect(a.db_path) as con:  # foreign keys off: a timeline entry by nobody
        con.execute(
            "UPDATE ticket_event SET actor_id = ? WHERE rowid = (SELECT min(rowid) FROM ticket_event)",
            (str(uuid.uuid4()),),
        )
    a.sync.export(out=tmp_path / "a1.dyyb")
    spec = spec_for("ticket_event")
    assert spec is not None
    monkeypatch.delitem(spec.parents, "actor_id")  # the import's own parents check misses it now
    before = digest(b.db_path)
    with pytest.raises(BundleError, match="user"):
        b.sync.apply(path=tmp_path / "a1.dyyb")
    assert digest(b.db_path) == before
    with b.workspace.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1

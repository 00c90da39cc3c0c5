"""The audit log: entries commit with the caller's change, and any tampering is found and named."""

from __future__ import annotations

import itertools
import sqlite3
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select

from dyy_desk.core.clock import FakeClock
from dyy_desk.db.repos.tables import app_meta
from dyy_desk.services.audit import append_audit, last_entries, verify_audit


def _fill(workspace: Any, clock: FakeClock, count: int) -> None:
    with workspace.engine.begin() as conn:
        for i in range(count):
            clock.advance(seconds=1)
            append_audit(
                conn,
                at=clock.now(),
                actor_id=None,
                action=f"act{i + 1}",
                target=f"t:{i + 1}",
                details={"n": i + 1, "中文": "是"},
            )


def _raw(workspace: Any, *statements: str) -> None:
    """A tamperer with the file: triggers that guard the log are dropped first."""
    with sqlite3.connect(workspace.paths.db_path) as con:
        con.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        con.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
        for sql in statements:
            con.execute(sql)


def _report(workspace: Any) -> Any:
    with workspace.engine.connect() as conn:
        return verify_audit(conn)


def test_append_rolls_back_with_the_callers_transaction(empty_workspace: Any, clock: FakeClock) -> None:
    with pytest.raises(RuntimeError), empty_workspace.engine.begin() as conn:
        conn.execute(insert(app_meta).values(key="x", value="1"))
        append_audit(conn, at=clock.now(), actor_id=None, action="change", target="x", details={})
        raise RuntimeError("the change fails after auditing")
    with empty_workspace.engine.connect() as conn:
        assert conn.execute(select(app_meta.c.value).where(app_meta.c.key == "x")).first() is None
        assert last_entries(conn) == []
    assert _report(empty_workspace).ok and _report(empty_workspace).entries == 0


def test_chain_links_and_verifies(empty_workspace: Any, clock: FakeClock) -> None:
    _fill(empty_workspace, clock, 4)
    with empty_workspace.engine.connect() as conn:
        entries = last_entries(conn)
        assert [e.seq for e in entries] == [1, 2, 3, 4]
        assert entries[0].prev_hash == "0" * 64
        assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(entries))
        assert [e.seq for e in last_entries(conn, limit=2)] == [3, 4]
    report = _report(empty_workspace)
    assert report.ok and report.entries == 4 and report.first_bad is None


def test_app_cannot_update_or_delete_entries(empty_workspace: Any, clock: FakeClock) -> None:
    _fill(empty_workspace, clock, 1)
    with sqlite3.connect(empty_workspace.paths.db_path) as con:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            con.execute("UPDATE audit_log SET target = 'x'")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            con.execute("DELETE FROM audit_log")


def test_edited_details_are_named(empty_workspace: Any, clock: FakeClock) -> None:
    _fill(empty_workspace, clock, 5)
    _raw(empty_workspace, "UPDATE audit_log SET details = '{\"n\":99}' WHERE seq = 3")
    report = _report(empty_workspace)
    assert not report.ok
    assert report.first_bad is not None and report.first_bad.seq == 3
    assert "第 3 条" in report.first_bad.reason and "改动" in report.first_bad.reason


def test_edited_time_is_named(empty_workspace: Any, clock: FakeClock) -> None:
    _fill(empty_workspace, clock, 3)
    _raw(empty_workspace, "UPDATE audit_log SET at = '2020-01-01 00:00:00.000000' WHERE seq = 2")
    assert _report(empty_workspace).first_bad.seq == 2  # type: ignore[union-attr]


def test_edit_with_recomputed_hash_is_caught_by_the_next_link(empty_workspace: Any, clock: FakeClock) -> None:
    from dyy_desk.services.audit import entry_hash

    _fill(empty_workspace, clock, 4)
    with empty_workspace.engine.connect() as conn:
        e = last_entries(conn)[1]
    forged = entry_hash(
        seq=e.seq,
        at=e.at,
        actor_id=e.actor_id,
        action="forged",
        target=e.target,
        details=e.details,
        prev_hash=e.prev_hash,
    )
    _raw(empty_workspace, f"UPDATE audit_log SET action = 'forged', hash = '{forged}' WHERE seq = 2")
    bad = _report(empty_workspace).first_bad
    assert bad is not None and bad.seq == 2 and "第 2 条" in bad.reason


def test_reordered_entries_are_named(empty_workspace: Any, clock: FakeClock) -> None:
    _fill(empty_workspace, clock, 5)
    _raw(
        empty_workspace,
        "UPDATE audit_log SET seq = -1 WHERE seq = 2",
        "UPDATE audit_log SET seq = 2 WHERE seq = 3",
        "UPDATE audit_log SET seq = 3 WHERE seq = -1",
    )
    report = _report(empty_workspace)
    assert [p.seq for p in report.problems][:2] == [2, 3]


def test_deleted_middle_entry_is_named(empty_workspace: Any, clock: FakeClock) -> None:
    _fill(empty_workspace, clock, 5)
    _raw(empty_workspace, "DELETE FROM audit_log WHERE seq = 3")
    report = _report(empty_workspace)
    assert report.first_bad is not None and report.first_bad.seq == 3
    assert "第 3 条缺失" in report.first_bad.reason and len(report.problems) == 1


def test_truncated_tail_is_detected(empty_workspace: Any, clock: FakeClock) -> None:
    _fill(empty_workspace, clock, 5)
    _raw(empty_workspace, "DELETE FROM audit_log WHERE seq >= 4")
    report = _report(empty_workspace)
    assert report.first_bad is not None and report.first_bad.seq == 4
    assert "第 4–5 条缺失" in report.first_bad.reason and "截断" in report.first_bad.reason


def test_everything_deleted_including_head_is_detected(empty_workspace: Any, clock: FakeClock) -> None:
    _fill(empty_workspace, clock, 2)
    _raw(empty_workspace, "DELETE FROM audit_log")
    assert not _report(empty_workspace).ok
    _raw(empty_workspace, "DELETE FROM audit_head")
    assert _report(empty_workspace).ok  # nothing left to prove: an empty log from the start looks the same


def test_entry_appended_behind_the_heads_back_is_detected(empty_workspace: Any, clock: FakeClock) -> None:
    _fill(empty_workspace, clock, 2)
    _raw(empty_workspace, "UPDATE audit_head SET last_seq = 1")
    assert not _report(empty_workspace).ok


def test_naive_time_is_refused(empty_workspace: Any, clock: FakeClock) -> None:
    with pytest.raises(ValueError), empty_workspace.engine.begin() as conn:
        naive = (clock.now() + timedelta(0)).replace(tzinfo=None)
        append_audit(conn, at=naive, actor_id=None, action="x", target="y")

"""Daily backups (once per local day, pruned) and restore (checked first, never half done)."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from datetime import timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from dyy_desk.core.clock import FakeClock
from dyy_desk.core.types import Role
from dyy_desk.infra.instance_lock import FolderInUse
from dyy_desk.infra.paths import DataPaths
from dyy_desk.services.audit import last_entries, verify_audit
from dyy_desk.services.backup_service import BackupService, RestoreRefused, restore_database
from dyy_desk.services.workspace import Seed, open_workspace

CST = timezone(timedelta(hours=8))
OLD_DB = Path(__file__).resolve().parents[1] / "data" / "v0001_demo.sqlite3"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _users(db: Path) -> set[str]:
    with sqlite3.connect(db) as con:
        return {r[0] for r in con.execute("SELECT name FROM user")}


@pytest.fixture
def closed_workspace(paths: DataPaths, clock: FakeClock) -> DataPaths:
    workspace = open_workspace(paths, clock=clock, seed_if_new=Seed.EMPTY)
    workspace.directory.create_user(name="原有用户", role=Role.AGENT)
    workspace.close()
    return paths


def test_daily_backup_once_per_local_day(empty_workspace: Any, clock: FakeClock) -> None:
    service = BackupService(paths=empty_workspace.paths, clock=clock, tz=CST)
    first = service.maybe_daily_backup(now=clock.now())  # 09:00 UTC = 17:00 in UTC+8
    assert first is not None and first.exists() and "-20261123-170000-daily" in first.name
    clock.advance(hours=6)  # 23:00 local, same day
    assert service.maybe_daily_backup(now=clock.now()) is None
    clock.advance(hours=1)  # 00:00 local, the next day
    second = service.maybe_daily_backup(now=clock.now())
    assert second is not None and "-20261124-000000-daily" in second.name
    assert service.maybe_daily_backup() is None  # defaults to the injected clock
    assert [b.reason for b in service.backups()] == ["daily", "daily"]
    with sqlite3.connect(second) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert con.execute("SELECT count(*) FROM alembic_version").fetchone()[0] >= 1


def test_pruning_keeps_n_days_of_daily_and_import_backups(empty_workspace: Any, clock: FakeClock) -> None:
    service = BackupService(paths=empty_workspace.paths, clock=clock, keep_days=3, tz=CST)
    manual = service.backup_now()
    before_import = service.backup_before("import")
    assert "before-import" in before_import.name
    for _ in range(5):
        assert service.maybe_daily_backup(now=clock.now()) is not None
        clock.advance(days=1)
    service.maybe_daily_backup(now=clock.now())  # day 6: prunes days 1–3
    days = sorted(b.taken.day for b in service.backups() if b.reason == "daily")
    assert days == [26, 27, 28]  # kept: today (28) and the two days before
    assert manual.exists() and not before_import.exists()
    service.maybe_daily_backup(now=clock.now(), keep_days=1)  # the user's setting wins
    assert [b.taken.day for b in service.backups() if b.reason == "daily"] == [28]


def test_no_backup_without_a_database(paths: DataPaths, clock: FakeClock) -> None:
    assert BackupService(paths=paths, clock=clock).maybe_daily_backup(now=clock.now()) is None


def test_restore_round_trip(closed_workspace: DataPaths, clock: FakeClock) -> None:
    paths = closed_workspace
    saved = BackupService(paths=paths, clock=clock, tz=CST).backup_now()
    workspace = open_workspace(paths, clock=clock)
    workspace.directory.create_user(name="后来的用户", role=Role.AGENT)
    workspace.close()
    assert "后来的用户" in _users(paths.db_path)

    clock.advance(minutes=5)
    result = restore_database(paths, saved, clock=clock, tz=CST)
    assert _users(paths.db_path) == {"原有用户"}
    assert result.previous_backup is not None and "before-restore" in result.previous_backup.name
    assert "后来的用户" in _users(result.previous_backup)
    assert not result.needs_upgrade
    workspace = open_workspace(paths, clock=clock)
    try:
        with workspace.engine.connect() as conn:
            assert [e.action for e in last_entries(conn)][-1] == "restore"
            assert verify_audit(conn).ok
    finally:
        workspace.close()


def test_restore_of_an_older_schema_upgrades_on_next_open(
    closed_workspace: DataPaths, clock: FakeClock
) -> None:
    result = restore_database(closed_workspace, OLD_DB, clock=clock)
    assert result.revisions == frozenset({"0001"}) and result.needs_upgrade
    workspace = open_workspace(closed_workspace, clock=clock)
    workspace.close()
    assert workspace.migration.backup is not None


def _refused(paths: DataPaths, candidate: Path, clock: FakeClock, match: str) -> None:
    digest = _digest(paths.db_path)
    backups_before = sorted(paths.backup_dir.iterdir())
    with pytest.raises(RestoreRefused, match=match):
        restore_database(paths, candidate, clock=clock)
    assert _digest(paths.db_path) == digest
    assert sorted(paths.backup_dir.iterdir()) == backups_before
    assert not list(paths.data_dir.glob(".restore-*"))


def test_restore_refuses_a_corrupt_backup(
    closed_workspace: DataPaths, clock: FakeClock, tmp_path: Path
) -> None:
    good = BackupService(paths=closed_workspace, clock=clock).backup_now()
    corrupt = tmp_path / "corrupt.sqlite3"
    data = bytearray(good.read_bytes())
    for offset in range(4096 * 2, min(len(data), 4096 * 6)):
        data[offset] = 0xA5  # scramble b-tree pages, keep the header
    corrupt.write_bytes(bytes(data))
    _refused(closed_workspace, corrupt, clock, "损坏")
    text = tmp_path / "notes.sqlite3"
    text.write_text("不是数据库", encoding="utf-8")
    _refused(closed_workspace, text, clock, "不是 SQLite")
    _refused(closed_workspace, tmp_path / "missing.sqlite3", clock, "找不到")


def test_restore_refuses_a_newer_schema_and_a_foreign_database(
    closed_workspace: DataPaths, clock: FakeClock, tmp_path: Path
) -> None:
    newer = tmp_path / "newer.sqlite3"
    shutil.copy(BackupService(paths=closed_workspace, clock=clock).backup_now(), newer)
    with sqlite3.connect(newer) as con:
        con.execute("INSERT INTO alembic_version VALUES ('0099_future')")
    _refused(closed_workspace, newer, clock, "更新版本")
    foreign = tmp_path / "foreign.sqlite3"
    with sqlite3.connect(foreign) as con:
        con.execute("CREATE TABLE notes (x TEXT)")
    _refused(closed_workspace, foreign, clock, "不是 DYY Desk")


def test_restore_refuses_a_backup_missing_columns(
    closed_workspace: DataPaths, clock: FakeClock, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.sqlite3"
    shutil.copy(BackupService(paths=closed_workspace, clock=clock).backup_now(), broken)
    with sqlite3.connect(broken) as con:
        con.execute("ALTER TABLE user_secret DROP COLUMN blocked_until")
    _refused(closed_workspace, broken, clock, "user_secret 缺少字段 blocked_until")


def test_restore_refuses_while_the_folder_is_open(closed_workspace: DataPaths, clock: FakeClock) -> None:
    saved = BackupService(paths=closed_workspace, clock=clock).backup_now()
    workspace = open_workspace(closed_workspace, clock=clock)
    try:
        digest = _digest(closed_workspace.db_path)
        with pytest.raises(FolderInUse):
            restore_database(closed_workspace, saved, clock=clock)
        assert _digest(closed_workspace.db_path) == digest
    finally:
        workspace.close()

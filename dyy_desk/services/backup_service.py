"""Backups with SQLite's online backup API: daily, before risky work, and restoring one safely.

Backups are files in the data folder's `backups/`, named `<db>-YYYYMMDD-HHMMSS-<reason>.sqlite3` in
local time, so a person can pick one by date. Daily and before-import copies are pruned after
`keep_days` local days; copies taken before an upgrade, before a restore or by hand are kept.

A restore checks the candidate completely (SQLite header, PRAGMA integrity_check, that it is a DYY Desk
database no newer than this app, and at the current schema that every table and column exists) on a
private copy BEFORE anything is replaced, then backs up the current database, then swaps the file in.
It holds the folder's instance lock throughout, so it refuses while a window has the folder open.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import sqlite3
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from pathlib import Path

from sqlmodel import SQLModel

from dyy_desk.core.clock import Clock
from dyy_desk.db import all_models  # noqa: F401 - the full schema, for the restore check
from dyy_desk.db.backup import backup_database
from dyy_desk.db.engine import make_engine
from dyy_desk.db.file_check import SQLITE_MAGIC
from dyy_desk.db.migrate import known_revisions, schema_heads
from dyy_desk.infra.instance_lock import InstanceLock
from dyy_desk.infra.paths import DataPaths
from dyy_desk.services.audit import append_audit
from dyy_desk.services.errors import ServiceError

DEFAULT_KEEP_DAYS = 14
PRUNED_REASONS = ("daily", "before-import")
_CORE_TABLES = frozenset({"user", "client", "shop", "customer", "ticket", "ticket_event"})
_UNTOUCHED = "当前数据库未被改动。"


class RestoreRefused(ServiceError):
    pass


@dataclass(frozen=True)
class BackupFile:
    path: Path
    taken: datetime  # local, naive: as written in the name
    reason: str


@dataclass(frozen=True)
class RestoreResult:
    restored_from: Path
    previous_backup: Path | None
    revisions: frozenset[str]
    needs_upgrade: bool


class BackupService:
    """Threading contract: safe from any thread; every call opens its own sqlite3 connections."""

    def __init__(
        self, *, paths: DataPaths, clock: Clock, keep_days: int = DEFAULT_KEEP_DAYS, tz: tzinfo | None = None
    ) -> None:
        if keep_days < 1:
            raise ValueError("keep_days must be at least 1")
        self._paths = paths
        self._clock = clock
        self._keep_days = keep_days
        self._tz = tz  # None: the machine's local time zone

    def _local(self, now: datetime) -> datetime:
        return now.astimezone(self._tz)

    def backups(self) -> list[BackupFile]:
        pattern = re.compile(
            rf"^{re.escape(self._paths.db_path.stem)}-(\d{{8}}-\d{{6}})-([a-z-]+?)(?:-\d+)?\.sqlite3$"
        )
        found = []
        folder = self._paths.backup_dir
        for path in folder.glob("*.sqlite3") if folder.is_dir() else ():
            match = pattern.match(path.name)
            if match:
                found.append(
                    BackupFile(path, datetime.strptime(match.group(1), "%Y%m%d-%H%M%S"), match.group(2))
                )
        return sorted(found, key=lambda b: (b.taken, b.path.name))

    def maybe_daily_backup(self, *, now: datetime | None = None, keep_days: int | None = None) -> Path | None:
        """At most one backup per local day (call at start-up, and hourly if the app stays open);
        prunes old ones (`keep_days`: the user's setting, else the service's). None when today's
        exists or there is nothing to back up yet."""
        local = self._local(now or self._clock.now())
        self.prune(now=local, keep_days=keep_days)
        if not self._has_data():
            return None
        if any(b.reason == "daily" and b.taken.date() == local.date() for b in self.backups()):
            return None
        return self._take("daily", local)

    def backup_before(self, reason: str) -> Path:
        """A copy taken before risky work, e.g. backup_before("import") → …-before-import.sqlite3."""
        slug = re.sub(r"[^a-z0-9]+", "-", reason.lower()).strip("-") or "work"
        return self._take(f"before-{slug}", self._local(self._clock.now()))

    def backup_now(self) -> Path:
        """`dyy-desk backup`: a manual copy, never pruned."""
        return self._take("manual", self._local(self._clock.now()))

    def prune(self, *, now: datetime, keep_days: int | None = None) -> list[Path]:
        days = max(1, keep_days if keep_days is not None else self._keep_days)
        oldest_kept = self._local(now).date() - timedelta(days=days - 1)
        removed = []
        for backup in self.backups():
            if backup.reason in PRUNED_REASONS and backup.taken.date() < oldest_kept:
                backup.path.unlink(missing_ok=True)
                removed.append(backup.path)
        return removed

    def _has_data(self) -> bool:
        db = self._paths.db_path
        return db.is_file() and db.stat().st_size > 0

    def _take(self, reason: str, local: datetime) -> Path:
        if not self._has_data():
            raise ServiceError(f"{self._paths.db_path} 不存在，没有可备份的数据库")
        return backup_database(self._paths.db_path, self._paths.backup_dir, reason=reason, now=local)


def restore_database(
    paths: DataPaths, source: Path, *, clock: Clock, tz: tzinfo | None = None
) -> RestoreResult:
    """Replace the workspace database with `source`; raises RestoreRefused or FolderInUse, and in
    either case the current database is exactly as it was."""
    source = source.expanduser().resolve()
    if not source.is_file():
        raise RestoreRefused(f"找不到备份文件 {source}。{_UNTOUCHED}")
    paths.ensure()
    with InstanceLock(paths.lock_path):
        staging = paths.data_dir / f".restore-{uuid.uuid4().hex}.sqlite3"
        try:
            shutil.copyfile(source, staging)
            if Path(f"{source}-wal").is_file():  # a backup still in WAL mode keeps recent pages there
                shutil.copyfile(f"{source}-wal", f"{staging}-wal")
            revisions, tables = _check_candidate(staging, source)
            previous = _backup_current(paths, clock=clock, tz=tz)
            for suffix in ("-wal", "-shm", "-journal"):  # they belong to the database being replaced
                Path(f"{paths.db_path}{suffix}").unlink(missing_ok=True)
            staging.replace(paths.db_path)
        finally:
            for leftover in (staging, Path(f"{staging}-wal"), Path(f"{staging}-shm")):
                leftover.unlink(missing_ok=True)
        heads = schema_heads()
        if {"audit_log", "audit_head"} <= tables:  # an older backup gets the table when next opened
            engine = make_engine(paths.db_path)
            try:
                with engine.begin() as conn:
                    append_audit(
                        conn,
                        at=clock.now(),
                        actor_id=None,
                        action="restore",
                        target=f"file:{source.name}",
                        details={"source": str(source), "previous_backup": str(previous) if previous else ""},
                    )
            finally:
                engine.dispose()
    return RestoreResult(source, previous, revisions, needs_upgrade=revisions != heads)


def _check_candidate(staging: Path, source: Path) -> tuple[frozenset[str], frozenset[str]]:
    """(alembic revisions, table names) of a healthy DYY Desk database no newer than this app."""
    with open(staging, "rb") as handle:
        if handle.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
            raise RestoreRefused(f"{source.name} 不是 SQLite 数据库文件，不能用于恢复。{_UNTOUCHED}")
    try:
        con = sqlite3.connect(staging)
        try:
            problems = [row[0] for row in con.execute("PRAGMA integrity_check")]
            if problems != ["ok"]:
                raise RestoreRefused(
                    f"备份 {source.name} 已损坏（完整性检查：{problems[0]}），不能用于恢复。{_UNTOUCHED}"
                )
            tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if "alembic_version" not in tables or not tables >= _CORE_TABLES:
                raise RestoreRefused(f"{source.name} 不是 DYY Desk 的数据库，不能用于恢复。{_UNTOUCHED}")
            revisions = frozenset(row[0] for row in con.execute("SELECT version_num FROM alembic_version"))
            unknown = revisions - known_revisions()
            if unknown or not revisions:
                raise RestoreRefused(
                    f"备份 {source.name} 来自更新版本的 DYY Desk"
                    f"（结构版本 {'、'.join(sorted(unknown)) or '未知'}），"
                    f"本程序无法使用。{_UNTOUCHED}请安装最新版本后再恢复。"
                )
            if revisions == schema_heads():
                _check_columns(con, source)
            con.execute("PRAGMA journal_mode=DELETE")  # fold any WAL in: the file alone is the database
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise RestoreRefused(f"备份 {source.name} 已损坏，无法读取（{exc}）。{_UNTOUCHED}") from exc
    return revisions, frozenset(tables)


def _check_columns(con: sqlite3.Connection, source: Path) -> None:
    for name, table in SQLModel.metadata.tables.items():
        present = {row[1] for row in con.execute(f'PRAGMA table_info("{name}")')}
        missing = {c.name for c in table.columns} - present
        if missing:
            raise RestoreRefused(
                f"备份 {source.name} 的表 {name} 缺少字段 {'、'.join(sorted(missing))}，"
                f"不能用于恢复。{_UNTOUCHED}"
            )


def _backup_current(paths: DataPaths, *, clock: Clock, tz: tzinfo | None) -> Path | None:
    """A copy of the database about to be replaced; a raw file copy if it is too damaged to read."""
    db = paths.db_path
    if not db.is_file() or db.stat().st_size == 0:
        return None
    local = clock.now().astimezone(tz)
    try:
        return backup_database(db, paths.backup_dir, reason="before-restore", now=local)
    except sqlite3.DatabaseError:
        target = paths.backup_dir / f"{db.stem}-{local:%Y%m%d-%H%M%S}-before-restore-raw.sqlite3"
        shutil.copy2(db, target)
        with contextlib.suppress(FileNotFoundError):
            shutil.copy2(f"{db}-wal", f"{target}-wal")
        return target

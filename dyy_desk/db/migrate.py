"""Bring a database to the schema this app expects: back up first, refuse a newer one.

Alembic is imported only when an upgrade is needed, so a normal start does not pay for it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine

from dyy_desk.db.backup import backup_database

if TYPE_CHECKING:
    from alembic.config import Config

SCHEMA_HEAD = "0001"  # kept equal to the newest Alembic revision; tests/db checks it
MIGRATIONS_DIR = Path(__file__).with_name("migrations")


class SchemaTooNew(RuntimeError):
    pass


class NotOurDatabase(RuntimeError):
    pass


@dataclass(frozen=True)
class MigrationResult:
    previous: str | None
    current: str
    backup: Path | None


def current_revision(db_path: Path) -> tuple[str | None, bool]:
    """(revision, has_tables) read with plain sqlite3 so a current database costs ~1 ms."""
    if not db_path.exists() or db_path.stat().st_size == 0:
        return None, False
    con = sqlite3.connect(db_path)
    try:
        tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "alembic_version" not in tables:
            return None, bool(tables)
        row = con.execute("SELECT version_num FROM alembic_version").fetchone()
        return (row[0] if row else None), True
    finally:
        con.close()


def _alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def known_revisions() -> list[str]:
    from alembic.script import ScriptDirectory

    return [script.revision for script in ScriptDirectory.from_config(_alembic_config()).walk_revisions()]


def upgrade_database(engine: Engine, db_path: Path, *, backup_dir: Path, now: datetime) -> MigrationResult:
    previous, has_tables = current_revision(db_path)
    if previous == SCHEMA_HEAD:
        return MigrationResult(previous, SCHEMA_HEAD, None)
    if previous is None and has_tables:
        raise NotOurDatabase(f"{db_path} 是 SQLite 文件，但不是 DYY Desk 的数据库。文件未被改动。")
    if previous is not None and previous not in known_revisions():
        raise SchemaTooNew(
            f"数据库 {db_path} 来自更新版本的 DYY Desk（结构版本 {previous}），本程序无法打开。"
            "数据未被改动；请安装最新版本后再打开。"
        )
    backup = (
        backup_database(db_path, backup_dir, reason=f"before-{SCHEMA_HEAD}", now=now) if previous else None
    )

    from alembic import command

    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), "head")
    return MigrationResult(previous, SCHEMA_HEAD, backup)

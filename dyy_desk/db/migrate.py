"""Bring a database to the schema this app expects: back up first, refuse a newer one.

Alembic is imported only when an upgrade is needed, so a normal start does not pay for it.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine

from dyy_desk.db.backup import backup_database

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_REVISION = re.compile(r"^revision\s*=\s*['\"]([^'\"]+)['\"]", re.M)
_DOWN = re.compile(r"^down_revision\s*=\s*(.+)$", re.M)


class SchemaTooNew(RuntimeError):
    pass


class NotOurDatabase(RuntimeError):
    pass


@dataclass(frozen=True)
class MigrationResult:
    previous: frozenset[str]
    current: frozenset[str]
    backup: Path | None

    @property
    def was_new(self) -> bool:
        return not self.previous


def _scan_versions() -> tuple[set[str], set[str]]:
    """(all revisions, revisions something builds on), read from the version files as text.

    Each area adds its own migration on a branch from what it needs, so there may be several heads;
    reading the files (~1 ms) avoids importing Alembic on a normal start.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        found = _REVISION.search(text)
        if not found:
            continue
        revisions.add(found.group(1))
        down = _DOWN.search(text)
        if down:
            parents.update(re.findall(r"['\"]([^'\"]+)['\"]", down.group(1)))
    return revisions, parents


def schema_heads() -> frozenset[str]:
    revisions, parents = _scan_versions()
    return frozenset(revisions - parents)


def known_revisions() -> frozenset[str]:
    return frozenset(_scan_versions()[0])


def current_revisions(db_path: Path) -> tuple[frozenset[str], bool]:
    """(revisions stamped in the file, whether it has any tables), read with plain sqlite3."""
    if not db_path.exists() or db_path.stat().st_size == 0:
        return frozenset(), False
    con = sqlite3.connect(db_path)
    try:
        tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "alembic_version" not in tables:
            return frozenset(), bool(tables)
        return frozenset(row[0] for row in con.execute("SELECT version_num FROM alembic_version")), True
    finally:
        con.close()


def _alembic_config(connection: Connection) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def upgrade_database(engine: Engine, db_path: Path, *, backup_dir: Path, now: datetime) -> MigrationResult:
    heads = schema_heads()
    previous, has_tables = current_revisions(db_path)
    if previous == heads:
        return MigrationResult(previous, heads, None)
    if not previous and has_tables:
        raise NotOurDatabase(f"{db_path} 是 SQLite 文件，但不是 DYY Desk 的数据库。文件未被改动。")
    unknown = previous - known_revisions()
    if unknown:
        raise SchemaTooNew(
            f"数据库 {db_path} 来自更新版本的 DYY Desk（结构版本 {'、'.join(sorted(unknown))}），"
            "本程序无法打开。数据未被改动；请安装最新版本后再打开。"
        )
    backup = backup_database(db_path, backup_dir, reason="before-upgrade", now=now) if previous else None

    from alembic import command

    with engine.connect() as connection:
        # Batch mode rebuilds tables that others reference; SQLite only lets that happen with foreign
        # keys off, and the pragma only takes effect outside a transaction. Checked before commit.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()  # close SQLAlchemy's autobegun (empty) transaction
        try:
            with connection.begin():
                command.upgrade(_alembic_config(connection), "heads")
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"migration left {len(broken)} broken references, e.g. {broken[0]}")
        finally:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()
    return MigrationResult(previous, heads, backup)

"""The schema under Alembic: upgrades match the models, old databases upgrade with a backup,
newer or foreign databases are refused and left untouched."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from dyy_desk.core.clock import FakeClock
from dyy_desk.db.engine import make_engine
from dyy_desk.db.file_check import DatabaseFileError
from dyy_desk.db.migrate import NotOurDatabase, SchemaTooNew, schema_heads, upgrade_database
from dyy_desk.infra.paths import DataPaths
from dyy_desk.services.workspace import Seed, open_workspace

DATA = Path(__file__).resolve().parents[1] / "data"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_heads_read_from_files_match_alembic() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from dyy_desk.db.migrate import MIGRATIONS_DIR

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert schema_heads() == frozenset(ScriptDirectory.from_config(config).get_heads())


def test_fresh_upgrade_matches_models(tmp_path: Path, clock: FakeClock) -> None:
    db = tmp_path / "x.sqlite3"
    engine = make_engine(db)
    result = upgrade_database(engine, db, backup_dir=tmp_path / "b", now=clock.now())
    assert result.was_new and result.backup is None
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diffs == []
    engine.dispose()


def test_pragmas_are_on(tmp_path: Path) -> None:
    engine = make_engine(tmp_path / "p.sqlite3")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10000
    engine.dispose()


@pytest.mark.parametrize("old_db", sorted(DATA.glob("*.sqlite3")), ids=lambda p: p.name)
def test_real_old_databases_upgrade_and_keep_their_data(
    old_db: Path, paths: DataPaths, clock: FakeClock
) -> None:
    paths.ensure()
    shutil.copy(old_db, paths.db_path)
    with sqlite3.connect(paths.db_path) as con:
        before = con.execute("SELECT count(*) FROM ticket").fetchone()[0]
        old_revisions = {r[0] for r in con.execute("SELECT version_num FROM alembic_version")}
    workspace = open_workspace(paths, clock=clock)
    try:
        assert workspace.migration.current == schema_heads()
        if old_revisions != schema_heads():
            assert workspace.migration.backup is not None and workspace.migration.backup.exists()
        with sqlite3.connect(paths.db_path) as con:
            assert con.execute("SELECT count(*) FROM ticket").fetchone()[0] == before
    finally:
        workspace.close()


def test_newer_schema_is_refused_and_untouched(paths: DataPaths, clock: FakeClock) -> None:
    workspace = open_workspace(paths, clock=clock, seed_if_new=Seed.EMPTY)
    workspace.close()
    with sqlite3.connect(paths.db_path) as con:
        con.execute("DELETE FROM alembic_version")  # one row per migration branch
        con.execute("INSERT INTO alembic_version VALUES ('9999')")
    digest = _digest(paths.db_path)
    with pytest.raises(SchemaTooNew, match="更新版本"):
        open_workspace(paths, clock=clock)
    assert _digest(paths.db_path) == digest


def test_not_sqlite_file_is_refused_and_untouched(paths: DataPaths, clock: FakeClock) -> None:
    paths.ensure()
    paths.db_path.write_text("这不是数据库", encoding="utf-8")
    digest = _digest(paths.db_path)
    with pytest.raises(DatabaseFileError, match="不是 SQLite"):
        open_workspace(paths, clock=clock)
    assert _digest(paths.db_path) == digest


def test_corrupt_database_is_refused_and_untouched(paths: DataPaths, clock: FakeClock) -> None:
    workspace = open_workspace(paths, clock=clock, seed_if_new=Seed.DEMO)
    workspace.close()
    data = bytearray(paths.db_path.read_bytes())
    for offset in range(4096, min(len(data), 4096 * 6)):
        data[offset] = 0xFF  # wipe the first b-tree pages after the header
    paths.db_path.write_bytes(bytes(data))
    digest = _digest(paths.db_path)
    with pytest.raises(DatabaseFileError, match="损坏"):
        open_workspace(paths, clock=clock)
    assert _digest(paths.db_path) == digest


def test_foreign_sqlite_database_is_refused(paths: DataPaths, clock: FakeClock) -> None:
    paths.ensure()
    with sqlite3.connect(paths.db_path) as con:
        con.execute("CREATE TABLE notes (x TEXT)")
    with pytest.raises(NotOurDatabase):
        open_workspace(paths, clock=clock)


def test_full_check_is_skipped_only_for_a_file_as_we_left_it(
    paths: DataPaths, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dyy_desk.db import file_check

    workspace = open_workspace(paths, clock=clock, seed_if_new=Seed.DEMO)
    assert not file_check.verified_stamp_path(paths.db_path).exists()  # open: a crash must recheck
    workspace.close()
    assert file_check.verified_stamp_path(paths.db_path).exists()

    checks: list[str] = []
    real_connect = sqlite3.connect

    def counting_connect(*args: object, **kwargs: object) -> sqlite3.Connection:
        if str(args[0]).startswith("file:"):  # the read-only full check, not the app's own connections
            checks.append(str(args[0]))
        return real_connect(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(file_check.sqlite3, "connect", counting_connect)
    open_workspace(paths, clock=clock).close()  # clean close before: no full check
    assert checks == []

    workspace = open_workspace(paths, clock=clock)  # this session "crashes": no close, no stamp
    workspace.engine.dispose()
    workspace._lock.release()  # type: ignore[union-attr]
    open_workspace(paths, clock=clock).close()
    assert len(checks) == 1

    with sqlite3.connect(paths.db_path) as con:  # another tool writes to the file
        con.execute("UPDATE app_meta SET value = value")
    open_workspace(paths, clock=clock).close()
    assert len(checks) == 2

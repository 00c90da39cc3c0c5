"""Exports, applied imports and team-key changes are written to the audit log; applying a bundle
takes a backup first; the unprotected-file opt-in is a public switch of the service."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backends.fail
import pytest

from dyy_desk.cli import main
from dyy_desk.core.clock import FakeClock
from dyy_desk.core.sync.errors import BundleError
from dyy_desk.infra.secrets import UNPROTECTED_FILE_NAME, TeamKeyStore
from dyy_desk.services.audit import last_entries, verify_audit
from dyy_desk.services.backup_service import BackupService
from dyy_desk.services.errors import ServiceError
from dyy_desk.services.sync_team import SyncService
from dyy_desk.services.workspace import Seed
from tests.conftest import START
from tests.services.test_sync_support import Machine, digest, memory_keyring, open_machine

__all__ = ["memory_keyring"]


def _audit(m: Machine) -> list[tuple[str, str, str | None, dict[str, object]]]:
    with m.workspace.engine.connect() as conn:
        assert verify_audit(conn).ok
        return [(e.action, e.target, e.actor_id, json.loads(e.details)) for e in last_entries(conn)]


def _with_backups(m: Machine) -> SyncService:
    paths = m.workspace.paths
    return SyncService(
        engine=m.workspace.engine,
        clock=m.clock,
        machine_id=m.workspace.machine_id,
        keys=TeamKeyStore(paths.config_dir),
        backups=BackupService(paths=paths, clock=m.clock),
    )


@pytest.fixture
def pair(tmp_path: Path, memory_keyring: object) -> Iterator[tuple[Machine, Machine, str]]:
    a = open_machine(tmp_path, "a", FakeClock(START), seed=Seed.DEMO)
    b = open_machine(tmp_path, "b", FakeClock(START), seed=Seed.EMPTY)
    key_text, _ = a.sync.create_team(name="李娜", actor_id="u-supervisor")
    b.sync.join_team(key_text=key_text, name="王芳")
    yield a, b, key_text
    a.close()
    b.close()


def test_team_key_changes_are_audited_without_the_key(pair: tuple[Machine, Machine, str]) -> None:
    a, b, key_text = pair
    first_team = a.sync.info().team_id
    (action, target, actor, details), *_ = _audit(a)
    assert (action, target, actor) == ("team_key_create", f"team:{first_team}", "u-supervisor")
    assert details["previous_team"] is None and details["name"] == "李娜"
    assert [e[0] for e in _audit(b)] == ["team_key_join"]
    text, _ = a.sync.create_team(name="李娜")  # a new key replaces the team: rotated
    entries = _audit(a)
    assert [e[0] for e in entries] == ["team_key_create", "team_key_create"]
    assert entries[-1][3]["previous_team"] == first_team
    log = json.dumps(entries, ensure_ascii=False)
    assert key_text not in log and text not in log and key_text[5:19] not in log


def test_export_and_applied_import_are_audited(pair: tuple[Machine, Machine, str], tmp_path: Path) -> None:
    a, b, _ = pair
    result = a.sync.export(out=tmp_path / "a1.dyyb", actor_id="u-li")
    action, target, actor, details = _audit(a)[-1]
    assert (action, target, actor) == ("sync_export", "bundle:a1.dyyb", "u-li")
    assert details["sequence"] == 1 and details["records"] == result.counts
    b.sync.preview(path=tmp_path / "a1.dyyb")
    assert [e[0] for e in _audit(b)] == ["team_key_join"]  # a preview changes nothing
    report = b.sync.apply(path=tmp_path / "a1.dyyb", actor_id="u-wang")
    action, target, actor, details = _audit(b)[-1]
    assert (action, target, actor) == ("sync_import", "bundle:a1.dyyb", "u-wang")
    assert details["origin"] == report.origin and details["sequence"] == 1
    tables = details["tables"]
    assert isinstance(tables, dict) and tables["ticket"]["new"] == 200


def test_refused_import_writes_no_audit_entry(pair: tuple[Machine, Machine, str], tmp_path: Path) -> None:
    a, b, _ = pair
    a.sync.export(out=tmp_path / "a1.dyyb")
    data = bytearray((tmp_path / "a1.dyyb").read_bytes())
    data[-1] ^= 1
    (tmp_path / "bad.dyyb").write_bytes(bytes(data))
    before = digest(b.db_path)
    with pytest.raises(BundleError):
        b.sync.apply(path=tmp_path / "bad.dyyb")
    assert digest(b.db_path) == before
    assert [e[0] for e in _audit(b)] == ["team_key_join"]


def test_apply_backs_up_first(pair: tuple[Machine, Machine, str], tmp_path: Path) -> None:
    a, b, _ = pair
    a.sync.export(out=tmp_path / "a1.dyyb")
    sync = _with_backups(b)
    backups = BackupService(paths=b.workspace.paths, clock=b.clock)
    sync.preview(path=tmp_path / "a1.dyyb")
    assert backups.backups() == []  # only applying is risky
    sync.apply(path=tmp_path / "a1.dyyb")
    taken = backups.backups()
    assert [t.reason for t in taken] == ["before-import"]
    assert b"SQLite format 3" in taken[0].path.read_bytes()[:16]
    sync.apply(path=tmp_path / "a1.dyyb", backup=False)  # a sync cycle's later bundles
    assert len(backups.backups()) == 1


def test_cli_import_yes_backs_up(
    tmp_path: Path, memory_keyring: object, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    assert main(["--data-dir", a, "init", "--demo"]) == 0
    assert main(["--data-dir", a, "team-key", "create", "--name", "李娜"]) == 0
    key_text = capsys.readouterr().out.strip().splitlines()[-1]
    assert main(["--data-dir", b, "team-key", "join", key_text, "--name", "王芳"]) == 0
    assert main(["--data-dir", a, "export", "--out", str(tmp_path / "a1.dyyb")]) == 0
    assert main(["--data-dir", b, "import", str(tmp_path / "a1.dyyb")]) == 0
    assert not list((tmp_path / "b" / "backups").glob("*before-import*"))  # preview: no copy
    assert main(["--data-dir", b, "import", str(tmp_path / "a1.dyyb"), "--yes"]) == 0
    assert len(list((tmp_path / "b" / "backups").glob("*before-import*.sqlite3"))) == 1


def test_allow_unprotected_file_is_the_users_switch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DYY_DESK_TEAM_KEY", raising=False)
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())  # type: ignore[no-untyped-call]
    m = open_machine(tmp_path, "a", FakeClock(START), seed=Seed.EMPTY)
    try:
        with pytest.raises(ServiceError, match="未受保护的文件"):
            m.sync.create_team(name="李娜")
        unprotected = m.workspace.paths.config_dir / UNPROTECTED_FILE_NAME
        assert not unprotected.exists()
        m.sync.allow_unprotected_file(True)
        m.sync.create_team(name="李娜")
        assert unprotected.exists()
        m.sync.allow_unprotected_file(False)
        with pytest.raises(ServiceError, match="找不到团队"):
            m.sync.team_key()  # without the opt-in the file is not read either
    finally:
        m.close()
        keyring.set_keyring(previous)


def test_the_workspaces_sync_service_backs_up_before_applying(
    pair: tuple[Machine, Machine, str], tmp_path: Path
) -> None:
    """What the GUI's import dialog and folder sync use: Workspace.sync carries the backup service."""
    a, b, _ = pair
    a.sync.export(out=tmp_path / "a1.dyyb")
    b.workspace.sync.apply(path=tmp_path / "a1.dyyb")
    assert [t.reason for t in b.workspace.backups.backups()] == ["before-import"]

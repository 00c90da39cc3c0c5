"""`dyy-desk audit|backup|restore|passwd` in-process: roles, passwords never as arguments, tamper checks."""

from __future__ import annotations

import io
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest

from dyy_desk.cli import main
from dyy_desk.core.types import Role
from dyy_desk.infra.paths import resolve_paths


def _run(capsys: pytest.CaptureFixture[str], *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    if stdin is not None:
        sys.stdin = io.StringIO(stdin)  # the data_dir fixture's monkeypatch puts the real one back
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def data_dir(empty_workspace: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    for name, role in (
        ("李娜", Role.AGENT),
        ("赵敏", Role.SUPERVISOR),
        ("王强", Role.SUPERVISOR),
        ("陈总", Role.ADMIN),
    ):
        empty_workspace.directory.create_user(name=name, role=role)
    empty_workspace.close()  # the CLI opens (and locks) the folder itself
    monkeypatch.delenv("DYY_DESK_PASSWORD", raising=False)
    monkeypatch.delenv("DYY_DESK_NEW_PASSWORD", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    return str(empty_workspace.paths.data_dir)


def test_passwords_roles_and_audit(
    data_dir: str, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    d = ["--data-dir", data_dir]
    code, out, _ = _run(capsys, *d, "passwd", "赵敏", "--password-stdin", stdin="zhaomin-pw\n")
    assert code == 0 and "已设置「赵敏」的密码" in out

    code, _, err = _run(capsys, *d, "audit", "show", "--as", "李娜", "--password-stdin", stdin="x\n")
    assert code == 2 and "客服「李娜」无权执行此操作" in err
    code, _, err = _run(capsys, *d, "audit", "show", "--as", "赵敏", "--password-stdin", stdin="wrong-pw\n")
    assert code == 2 and "密码不正确" in err
    code, _, err = _run(capsys, *d, "audit", "show", "--as", "赵敏")  # no stdin, no env, no terminal
    assert code == 2 and "需要密码" in err
    with pytest.raises(SystemExit):
        main([*d, "audit", "show", "--as", "赵敏", "--password", "zhaomin-pw"])  # never as an argument
    capsys.readouterr()

    monkeypatch.setenv("DYY_DESK_PASSWORD", "zhaomin-pw")
    code, out, _ = _run(capsys, *d, "audit", "show", "--as", "赵敏", "--last", "3")
    lines = out.strip().splitlines()
    assert code == 0 and len(lines) == 3
    assert [line.split("\t")[3] for line in lines] == ["password_first_set", "auth_failed", "auth_ok"]
    assert lines[1].split("\t")[2] == "赵敏"
    monkeypatch.delenv("DYY_DESK_PASSWORD")

    # a supervisor cannot reset another's password; an admin (with their own password) can
    code, _, err = _run(
        capsys, *d, "passwd", "赵敏", "--as", "王强", "--password-stdin", stdin="x\ny-new-pw\n"
    )
    assert code == 2 and "仅本人或管理员" in err
    code, _, _ = _run(capsys, *d, "passwd", "陈总", "--password-stdin", stdin="admin-pw\n")
    assert code == 0
    code, _, err = _run(
        capsys, *d, "passwd", "赵敏", "--as", "陈总", "--password-stdin", stdin="bad\nnew-zm-pw\n"
    )
    assert code == 2 and "密码不正确" in err
    code, _, _ = _run(
        capsys, *d, "passwd", "赵敏", "--as", "陈总", "--password-stdin", stdin="admin-pw\nnew-zm-pw\n"
    )
    assert code == 0
    # the user themself needs the old password
    code, _, err = _run(capsys, *d, "passwd", "赵敏", "--password-stdin", stdin="zhaomin-pw\nthird-pw\n")
    assert code == 2 and "密码不正确" in err
    code, _, _ = _run(capsys, *d, "passwd", "赵敏", "--password-stdin", stdin="new-zm-pw\nthird-pw\n")
    assert code == 0

    code, out, _ = _run(capsys, *d, "audit", "verify")
    assert code == 0 and "审计日志完整" in out


def test_verify_names_the_first_bad_entry(data_dir: str, capsys: pytest.CaptureFixture[str]) -> None:
    d = ["--data-dir", data_dir]
    _run(capsys, *d, "passwd", "赵敏", "--password-stdin", stdin="zhaomin-pw\n")
    _run(capsys, *d, "audit", "show", "--as", "赵敏", "--password-stdin", stdin="zhaomin-pw\n")
    _run(capsys, *d, "audit", "show", "--as", "赵敏", "--password-stdin", stdin="zhaomin-pw\n")
    with sqlite3.connect(resolve_paths(data_dir).db_path) as con:
        con.execute("DROP TRIGGER audit_log_no_update")
        con.execute("UPDATE audit_log SET actor_id = 'someone-else' WHERE seq = 2")
    code, out, _ = _run(capsys, *d, "audit", "verify")
    assert code == 1 and "第 2 条" in out.splitlines()[1]


def test_verify_without_a_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "--data-dir", str(tmp_path / "none"), "audit", "verify")
    assert code == 2 and "还没有审计日志" in err


def test_backup_and_restore(data_dir: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    d = ["--data-dir", data_dir]
    code, out, _ = _run(capsys, *d, "backup")
    backup = Path(out.strip())
    assert code == 0 and backup.is_file() and "manual" in backup.name
    _run(capsys, *d, "passwd", "赵敏", "--password-stdin", stdin="zhaomin-pw\n")
    db = resolve_paths(data_dir).db_path

    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(b"SQLite format 3\x00" + b"\x00" * 100)
    before = db.read_bytes()
    code, _, err = _run(capsys, *d, "restore", str(bad))
    assert code == 2 and "未被改动" in err and db.read_bytes() == before

    from dyy_desk.infra.instance_lock import InstanceLock

    with InstanceLock(resolve_paths(data_dir).lock_path):
        code, _, err = _run(capsys, *d, "restore", str(backup))
    assert code == 2 and "正在被另一个" in err

    code, out, _ = _run(capsys, *d, "restore", str(backup))
    assert code == 0 and "恢复前的数据库已备份到" in out
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT count(*) FROM user_secret").fetchone()[0] == 0  # the password came later
    code, out, _ = _run(capsys, *d, "audit", "verify")
    assert code == 0

"""`dyy-desk qa …` run in-process on a demo workspace: supervisors prove who they are with a password."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest

from dyy_desk.cli import main
from dyy_desk.infra.paths import resolve_paths
from dyy_desk.services.auth_service import AuthService, ScryptParams

FAST = ScryptParams(n=2**10, r=8, p=1)  # the parameters travel with the hash, so the CLI checks fast too
PASSWORD = "zhaomin-pw"


def _run(capsys: pytest.CaptureFixture[str], *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    if stdin is not None:
        sys.stdin = io.StringIO(stdin)  # the data_dir fixture's monkeypatch puts the real one back
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def data_dir(demo_workspace: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    auth = AuthService(engine=demo_workspace.engine, clock=demo_workspace.clock, params=FAST)
    sup = auth.user_by_name(name="赵敏")
    auth.set_password(actor_id=sup.id, user_id=sup.id, new_password=PASSWORD)
    demo_workspace.close()  # the CLI opens (and locks) the folder itself
    monkeypatch.setenv("DYY_DESK_PASSWORD", PASSWORD)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    return str(demo_workspace.paths.data_dir)


def _audit(data_dir: str) -> list[Any]:
    con = sqlite3.connect(resolve_paths(data_dir).db_path)
    try:
        rows = con.execute("SELECT actor_id, action, target, details FROM audit_log ORDER BY seq").fetchall()
    finally:
        con.close()
    return rows


def test_draw_redraw_and_tamper(data_dir: str, capsys: pytest.CaptureFixture[str]) -> None:
    d = ["--data-dir", data_dir, "qa"]
    code, out, _ = _run(
        capsys, *d, "plan-add", "--as", "赵敏", "--name", "周抽检", "--period", "week", "--count", "2"
    )
    assert code == 0 and "已创建抽检计划「周抽检」" in out
    plan_id = out.strip().rsplit("：", 1)[1]
    code, out, _ = _run(capsys, *d, "draw", "周抽检", "--as", "赵敏", "--day", "2026-11-19", "--seed", "11")
    assert code == 0 and "2026-W47" in out and "种子 11" in out
    sample_id = out.split()[1].rstrip("：").split("：")[0]
    code, out, _ = _run(capsys, *d, "samples", "--as", "赵敏")
    assert sample_id in out
    code, out, _ = _run(capsys, *d, "redraw", sample_id)
    assert code == 0 and "重现一致" in out

    written = [(action, target) for _actor, action, target, _ in _audit(data_dir) if action.startswith("qa_")]
    assert written == [
        ("qa_plan_created", f"qa_plan:{plan_id}"),
        ("qa_sample_drawn", f"qa_sample:{sample_id}"),
    ]

    with sqlite3.connect(resolve_paths(data_dir).db_path) as con:
        picks = json.loads(con.execute("SELECT picks FROM qa_sample").fetchone()[0])
        con.execute("UPDATE qa_sample SET picks = ?", (json.dumps(picks[1:]),))
    code, out, _ = _run(capsys, *d, "redraw", sample_id)
    assert code == 1 and "无法重现" in out


def test_roles_and_errors(data_dir: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    d = ["--data-dir", data_dir, "qa"]
    code, _, err = _run(capsys, *d, "plan-add", "--as", "李娜", "--name", "x", "--count", "1")
    assert code == 2 and "客服「李娜」无权执行此操作" in err
    code, _, err = _run(capsys, *d, "plans", "--as", "不存在的人")
    assert code == 2 and "没有名为「不存在的人」的用户" in err
    code, _, err = _run(capsys, *d, "redraw", "no-such-sample")
    assert code == 2 and "不存在" in err
    code, out, _ = _run(capsys, *d, "plans", "--as", "赵敏")
    assert code == 0 and "还没有抽检计划" in out
    out_file = tmp_path / "r.csv"
    code, out, _ = _run(capsys, *d, "report", "--as", "赵敏", "--out", str(out_file))
    assert code == 0 and out_file.exists()
    rows = list(csv.reader(out_file.read_text(encoding="utf-8-sig").splitlines()))
    assert rows[0][0] == "维度" and rows[1][:3] == ["整体", "全部", "0"]
    code, out, _ = _run(capsys, *d, "report", "--as", "李娜")  # an agent: own results, no password
    assert code == 0 and out.startswith("维度")


def test_supervisor_actions_need_the_password(
    data_dir: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    d = ["--data-dir", data_dir, "qa"]
    add = ["plan-add", "--name", "日抽检", "--count", "1"]
    monkeypatch.delenv("DYY_DESK_PASSWORD")

    # an agent is refused before any password is read: the line on stdin is still there
    code, _, err = _run(capsys, *d, *add, "--as", "李娜", "--password-stdin", stdin="agent-guess\n")
    assert code == 2 and "仅主管或管理员" in err and sys.stdin.read() == "agent-guess\n"
    code, _, err = _run(capsys, *d, *add, "--as", "赵敏", "--password-stdin", stdin="wrong-pw\n")
    assert code == 2 and "密码不正确" in err
    code, _, err = _run(capsys, *d, *add, "--as", "赵敏")  # no stdin, no environment, no terminal
    assert code == 2 and "需要密码" in err
    code, _, err = _run(capsys, *d, "report", "--as", "赵敏")  # reading everyone's results too
    assert code == 2 and "需要密码" in err
    with pytest.raises(SystemExit):
        main([*d, *add, "--as", "赵敏", "--password", PASSWORD])  # never as an argument
    capsys.readouterr()

    actions = [action for _actor, action, _target, _details in _audit(data_dir)]
    assert "qa_plan_created" not in actions and actions[-1] == "auth_failed"
    code, out, _ = _run(capsys, *d, *add, "--as", "赵敏", "--password-stdin", stdin=f"{PASSWORD}\n")
    assert code == 0 and "已创建抽检计划「日抽检」" in out
    entries = _audit(data_dir)
    sup_id = entries[-1][0]
    assert [e[1] for e in entries[-2:]] == ["auth_ok", "qa_plan_created"] and entries[-2][0] == sup_id
    with sqlite3.connect(resolve_paths(data_dir).db_path) as con:
        name = con.execute("SELECT name FROM user WHERE id = ?", (sup_id,)).fetchone()[0]
    assert name == "赵敏"

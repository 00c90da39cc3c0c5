"""`dyy-desk qa …` run in-process on a demo workspace."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from dyy_desk.cli import main
from dyy_desk.infra.paths import resolve_paths


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def data_dir(demo_workspace: Any) -> str:
    demo_workspace.close()  # the CLI opens (and locks) the folder itself
    return str(demo_workspace.paths.data_dir)


def test_draw_redraw_and_tamper(data_dir: str, capsys: pytest.CaptureFixture[str]) -> None:
    d = ["--data-dir", data_dir, "qa"]
    code, out, _ = _run(
        capsys, *d, "plan-add", "--as", "赵敏", "--name", "周抽检", "--period", "week", "--count", "2"
    )
    assert code == 0 and "已创建抽检计划「周抽检」" in out
    code, out, _ = _run(capsys, *d, "draw", "周抽检", "--as", "赵敏", "--day", "2026-11-19", "--seed", "11")
    assert code == 0 and "2026-W47" in out and "种子 11" in out
    sample_id = out.split()[1].rstrip("：").split("：")[0]
    code, out, _ = _run(capsys, *d, "samples", "--as", "赵敏")
    assert sample_id in out
    code, out, _ = _run(capsys, *d, "redraw", sample_id)
    assert code == 0 and "重现一致" in out

    with sqlite3.connect(resolve_paths(data_dir).db_path) as con:
        picks = json.loads(con.execute("SELECT picks FROM qa_sample").fetchone()[0])
        con.execute("UPDATE qa_sample SET picks = ?", (json.dumps(picks[1:]),))
    code, out, _ = _run(capsys, *d, "redraw", sample_id)
    assert code == 1 and "无法重现" in out


def test_roles_and_errors(data_dir: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    d = ["--data-dir", data_dir, "qa"]
    code, _, err = _run(capsys, *d, "plan-add", "--as", "李娜", "--name", "x", "--count", "1")
    assert code == 2 and "无权创建抽检计划" in err
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

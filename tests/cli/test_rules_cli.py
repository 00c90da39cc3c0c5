"""Supervisors put edited SOP templates, business hours and escalation rules in force from the CLI;
bad files are refused with file and line, agents are refused, and nothing changes on a refusal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dyy_desk.cli import main
from dyy_desk.infra.paths import read_resource_text, resource_path


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> Path:
    data = tmp_path / "ws"
    assert main(["--data-dir", str(data), "init", "--demo"]) == 0
    monkeypatch.setenv("DYY_DESK_NEW_PASSWORD", "zhao-min-pass")
    assert main(["--data-dir", str(data), "passwd", "赵敏"]) == 0  # 赵敏 sets her first password
    monkeypatch.setenv("DYY_DESK_PASSWORD", "zhao-min-pass")
    capsys.readouterr()
    return data


def test_import_template_good_and_bad(folder: Path, tmp_path: Path, capsys: Any) -> None:
    source = next(resource_path("sop").glob("*.toml"))
    edited = tmp_path / source.name
    edited.write_text(source.read_text("utf-8").replace("version = 1", "version = 2", 1), "utf-8")
    assert main(["--data-dir", str(folder), "sop", "import-template", str(edited), "--as", "赵敏"]) == 0
    assert "已导入 SOP 模板" in capsys.readouterr().out
    broken = tmp_path / "broken.toml"
    broken.write_text('id = "x"\nversion = 1\n[[steps]\nid = "a"\n', "utf-8")
    assert main(["--data-dir", str(folder), "sop", "import-template", str(broken), "--as", "赵敏"]) == 2
    err = capsys.readouterr().err
    assert "broken.toml" in err and "行" in err


def test_agents_are_refused(folder: Path, capsys: Any) -> None:
    rules = resource_path("escalation_rules.toml")
    assert main(["--data-dir", str(folder), "escalation-rules", "import", str(rules), "--as", "李娜"]) == 2
    assert "无权" in capsys.readouterr().err


def test_escalation_rules_bad_file_keeps_the_old_ones(folder: Path, tmp_path: Path, capsys: Any) -> None:
    bad = tmp_path / "rules.toml"
    bad.write_text(
        read_resource_text("escalation_rules.toml").replace("min_count = 3", "min_count = 0"), "utf-8"
    )
    assert main(["--data-dir", str(folder), "escalation-rules", "import", str(bad), "--as", "赵敏"]) == 2
    assert "rules.toml" in capsys.readouterr().err
    assert main(["--data-dir", str(folder), "escalation-rules", "show"]) == 0
    assert "程序自带" in capsys.readouterr().out


def test_business_hours_without_working_time_is_refused(folder: Path, tmp_path: Path, capsys: Any) -> None:
    assert main(["--data-dir", str(folder), "sop", "show-business-hours"]) == 0
    current = capsys.readouterr().out
    assert "timezone" in current or "monday" in current.lower()
    empty = tmp_path / "hours.toml"
    empty.write_text('timezone = "Asia/Shanghai"\n', "utf-8")
    assert main(["--data-dir", str(folder), "sop", "set-business-hours", str(empty), "--as", "赵敏"]) == 2
    assert capsys.readouterr().err
    assert main(["--data-dir", str(folder), "sop", "show-business-hours"]) == 0
    assert capsys.readouterr().out == current  # unchanged

"""`dyy-desk library import|export` and `search`, run in-process as a user would type them."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from dyy_desk.cli import main

FAQ = """id,question,answer,similar_questions,client,tags
F1,退款多久能到账,原路退回，一般1-3个工作日到账。,钱什么时候退回来|退款几天到,,退款
F2,怎么开发票,确认收货后申请开票。,发票抬头怎么填,,发票
NJ1,退款多久能到账,暖居家纺验收后48小时内退款。,暖居退款几天到,暖居家纺,退款
QH1,退款多久能到账,青禾食品24小时内退款。,青禾退款几天到,青禾食品,退款
"""


@pytest.fixture
def data_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    folder = str(tmp_path / "data")
    assert main(["--data-dir", folder, "init", "--empty"]) == 0
    capsys.readouterr()
    return folder


def test_import_valid_then_search_json_and_jsonl(
    data_dir: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    faq = tmp_path / "faq.csv"
    faq.write_text(FAQ, encoding="utf-8-sig")
    assert main(["--data-dir", data_dir, "library", "import", str(faq)]) == 0
    out = capsys.readouterr().out
    assert "新增 4 条" in out and "将新建客户：暖居家纺、青禾食品" in out

    assert main(["--data-dir", data_dir, "search", "退款几天能到", "--client", "暖居家纺", "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert hits[0] == {"id": "NJ1", "kind": "faq", "title": "退款多久能到账", "score": hits[0]["score"]}
    assert "QH1" not in {h["id"] for h in hits}

    monkeypatch.setattr("sys.stdin", io.StringIO("发票抬头\n退款几天能到\t青禾食品\n\n"))
    assert main(["--data-dir", data_dir, "search", "--stdin", "--jsonl", "--limit", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    first, second, empty = (json.loads(line) for line in lines)
    assert first[0]["id"] == "F2" and second[0]["id"] == "QH1" and empty == []
    assert len(second) <= 3 and "NJ1" not in {h["id"] for h in second}


def test_invalid_import_writes_nothing(
    data_dir: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(FAQ + "F1,重复,答,,,\n", encoding="utf-8")
    assert main(["--data-dir", data_dir, "library", "import", str(bad), "--kind", "faq"]) == 1
    err = capsys.readouterr().err
    assert "第 6 行 id 列" in err and "未导入任何内容" in err
    out_file = tmp_path / "out.csv"
    assert main(["--data-dir", data_dir, "library", "export", str(out_file)]) == 0
    assert (
        out_file.read_text(encoding="utf-8-sig").strip() == "id,question,answer,similar_questions,client,tags"
    )


def test_unreadable_file_and_unknown_actor(
    data_dir: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert main(["--data-dir", data_dir, "library", "import", str(empty)]) == 2
    assert "文件为空" in capsys.readouterr().err
    assert main(["--data-dir", data_dir, "library", "import", str(empty), "--as", "无名氏"]) == 2
    assert "无名氏" in capsys.readouterr().err

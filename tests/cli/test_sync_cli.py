"""`dyy-desk export / import / team-key` in process, as an agent would type them."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from dyy_desk.cli import main
from tests.services.test_sync_support import memory_keyring

__all__ = ["memory_keyring"]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_team_key_export_import(
    tmp_path: Path, memory_keyring: object, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    assert main(["--data-dir", a, "init", "--demo"]) == 0
    assert main(["--data-dir", a, "team-key", "create", "--name", "李娜"]) == 0
    key_text = capsys.readouterr().out.strip().splitlines()[-1]
    assert key_text.startswith("DYY1-")
    assert main(["--data-dir", a, "team-key", "show"]) == 0
    assert key_text in capsys.readouterr().out
    assert main(["--data-dir", b, "team-key", "join", key_text, "--name", "王芳"]) == 0
    bundle = tmp_path / "a1.dyyb"
    assert main(["--data-dir", a, "export", "--out", str(bundle)]) == 0
    assert "第 1 号" in capsys.readouterr().out
    assert main(["--data-dir", b, "import", str(bundle)]) == 0
    out = capsys.readouterr().out
    assert "工单：新增 200" in out and "尚未导入" in out
    assert main(["--data-dir", b, "import", str(bundle), "--yes"]) == 0
    assert "已导入" in capsys.readouterr().out
    assert main(["--data-dir", b, "import", str(bundle), "--yes"]) == 0
    assert "没有需要导入的改动" in capsys.readouterr().out
    db = tmp_path / "b" / "dyy_desk.sqlite3"
    before = _sha(db)
    broken = tmp_path / "broken.dyyb"
    data = bytearray(bundle.read_bytes())
    data[100] ^= 0xFF
    broken.write_bytes(bytes(data))
    assert main(["--data-dir", b, "import", str(broken), "--yes"]) != 0
    assert "数据包已损坏或团队密钥不正确" in capsys.readouterr().err
    assert _sha(db) == before


def test_without_keyring_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import keyring
    import keyring.backends.fail

    monkeypatch.delenv("DYY_DESK_TEAM_KEY", raising=False)
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    try:
        d = str(tmp_path / "x")
        assert main(["--data-dir", d, "team-key", "create"]) == 2
        err = capsys.readouterr().err
        assert "没有可用的系统钥匙串" in err and "未受保护的文件" in err
        assert main(["--data-dir", d, "team-key", "create", "--allow-unprotected-file"]) == 0
        assert "未受保护的文件" in capsys.readouterr().out
        assert main(["--data-dir", d, "export", "--out", str(tmp_path / "x.dyyb")]) == 2
        assert (
            main(["--data-dir", d, "export", "--out", str(tmp_path / "x.dyyb"), "--allow-unprotected-file"])
            == 0
        )
    finally:
        keyring.set_keyring(previous)


def test_export_unknown_client_and_not_joined(
    tmp_path: Path, memory_keyring: object, capsys: pytest.CaptureFixture[str]
) -> None:
    d = str(tmp_path / "a")
    assert main(["--data-dir", d, "init", "--demo"]) == 0
    assert main(["--data-dir", d, "export", "--out", str(tmp_path / "x.dyyb")]) == 2
    assert "还没有加入团队" in capsys.readouterr().err
    assert main(["--data-dir", d, "team-key", "create"]) == 0
    assert main(["--data-dir", d, "export", "--out", str(tmp_path / "x.dyyb"), "--client", "不存在"]) == 2
    assert "找不到品牌方" in capsys.readouterr().err

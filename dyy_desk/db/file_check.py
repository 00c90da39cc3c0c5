"""Refuse to open anything that is not a healthy SQLite file, and never overwrite it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

SQLITE_MAGIC = b"SQLite format 3\x00"


class DatabaseFileError(RuntimeError):
    pass


def check_database_file(path: Path) -> None:
    """Raise DatabaseFileError with a plain message when `path` exists but is not a usable database."""
    if not path.exists():
        return
    if path.is_dir():
        raise DatabaseFileError(f"{path} 是一个文件夹，不是数据库文件。")
    size = path.stat().st_size
    if size == 0:
        return  # an empty file is what sqlite3 itself creates; safe to initialise
    with open(path, "rb") as handle:
        header = handle.read(len(SQLITE_MAGIC))
    if header != SQLITE_MAGIC:
        raise DatabaseFileError(
            f"{path} 不是 DYY Desk 的数据库文件（不是 SQLite 格式）。文件未被改动；"
            "请检查数据文件夹，或用 --data-dir 指定另一个文件夹。"
        )
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            result = con.execute("PRAGMA quick_check").fetchone()
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise DatabaseFileError(
            f"数据库 {path} 已损坏，无法打开（{exc}）。文件未被改动；请从备份恢复。"
        ) from exc
    if not result or result[0] != "ok":
        raise DatabaseFileError(
            f"数据库 {path} 已损坏（完整性检查：{result[0] if result else '无结果'}）。"
            "文件未被改动；请从备份恢复。"
        )

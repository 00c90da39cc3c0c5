"""Refuse to open anything that is not a healthy SQLite file, and never overwrite it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

SQLITE_MAGIC = b"SQLite format 3\x00"


class DatabaseFileError(RuntimeError):
    pass


def verified_stamp_path(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def stamp_clean_close(path: Path) -> None:
    """After a clean close: remember the file exactly as SQLite left it (size and modification time,
    no WAL behind). A later open that finds it so skips the full-file check; anything else — a crash,
    a copy, an edit by another tool — gets the full check."""
    stamp = verified_stamp_path(path)
    if not path.exists() or Path(f"{path}-wal").exists():
        stamp.unlink(missing_ok=True)
        return
    info = path.stat()
    stamp.write_text(f"{info.st_size}:{info.st_mtime_ns}", encoding="ascii")


def _unchanged_since_clean_close(path: Path) -> bool:
    stamp = verified_stamp_path(path)
    try:
        recorded = stamp.read_text(encoding="ascii")
    except OSError:
        return False
    info = path.stat()
    return recorded == f"{info.st_size}:{info.st_mtime_ns}" and not Path(f"{path}-wal").exists()


def check_database_file(path: Path) -> None:
    """Raise DatabaseFileError with a plain message when `path` exists but is not a usable database.

    The full `PRAGMA quick_check` reads the whole file (about 0.3 s at 100k tickets); it is skipped
    when the file is exactly as this app left it at its last clean close. The stamp is removed here,
    so a session that crashes leaves the next start to check in full."""
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
    unchanged = _unchanged_since_clean_close(path)
    verified_stamp_path(path).unlink(missing_ok=True)
    if unchanged:
        return
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

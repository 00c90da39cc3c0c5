"""Consistent copies of a live database with SQLite's online backup API."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path


def backup_database(db_path: Path, backup_dir: Path, *, reason: str, now: datetime) -> Path:
    backup_dir.mkdir(parents=True, exist_ok=True)
    target = backup_dir / f"{db_path.stem}-{now:%Y%m%d-%H%M%S}-{reason}.sqlite3"
    counter = 1
    while target.exists():
        target = backup_dir / f"{db_path.stem}-{now:%Y%m%d-%H%M%S}-{reason}-{counter}.sqlite3"
        counter += 1
    source = sqlite3.connect(db_path)
    try:
        dest = sqlite3.connect(target)
        try:
            source.backup(dest)
        finally:
            dest.close()
    finally:
        source.close()
    return target

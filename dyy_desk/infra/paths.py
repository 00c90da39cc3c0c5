"""Where DYY Desk reads and writes: one data folder per workspace, resources found frozen or not."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "DYYDesk"
APP_AUTHOR = "DYY"
ENV_HOME = "DYY_DESK_HOME"
DB_FILENAME = "dyy_desk.sqlite3"


@dataclass(frozen=True)
class DataPaths:
    """A workspace's folders. An explicit data folder keeps config and logs inside it, so a test or a
    second workspace never touches the user's real settings."""

    data_dir: Path
    config_dir: Path
    log_dir: Path

    @property
    def db_path(self) -> Path:
        return self.data_dir / DB_FILENAME

    @property
    def backup_dir(self) -> Path:
        return self.data_dir / "backups"

    @property
    def lock_path(self) -> Path:
        return self.data_dir / ".dyy_desk.lock"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    def ensure(self) -> None:
        for folder in (self.data_dir, self.config_dir, self.log_dir, self.backup_dir, self.cache_dir):
            folder.mkdir(parents=True, exist_ok=True)


def resolve_paths(data_dir: str | os.PathLike[str] | None = None) -> DataPaths:
    """--data-dir beats DYY_DESK_HOME beats the per-user platform folders."""
    chosen = data_dir or os.environ.get(ENV_HOME)
    if chosen:
        root = Path(chosen).expanduser().resolve()
        return DataPaths(data_dir=root, config_dir=root / "config", log_dir=root / "logs")
    return DataPaths(
        data_dir=Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR)),
        config_dir=Path(platformdirs.user_config_dir(APP_NAME, APP_AUTHOR)),
        log_dir=Path(platformdirs.user_log_dir(APP_NAME, APP_AUTHOR)),
    )


def resource_root() -> Path:
    """The `resources/` folder: inside the PyInstaller bundle when frozen, else beside the package."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def resource_path(*parts: str) -> Path:
    return resource_root().joinpath(*parts)


def read_resource_text(*parts: str) -> str:
    return resource_path(*parts).read_text(encoding="utf-8")

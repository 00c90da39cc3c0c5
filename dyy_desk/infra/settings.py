"""Machine-local settings (current user, window layout) in the config folder, as versioned JSON."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

SETTINGS_VERSION = 1
_log = logging.getLogger(__name__)


@dataclass
class Settings:
    current_user_id: str | None = None
    due_soon_hours: float = 2.0
    compact_window: bool = False
    window_geometry: str = ""  # Qt's saveGeometry(), base64
    splitter_state: str = ""  # queue | detail splitter, Qt's saveState(), base64
    sync_folder: str = ""  # 同步文件夹; empty = no folder sync
    sync_interval_minutes: int = 10
    sync_applied: dict[str, str] = field(default_factory=dict)  # imported bundle file → "size:mtime_ns"
    team_key_unprotected_file: bool = False
    backup_keep_days: int = 14
    compact_geometry: str = (
        ""  # 小窗 saveGeometry(), base64  # explicit opt-in: team key in team-keys-NOT-PROTECTED.json
    )


def load_settings(config_dir: Path) -> Settings:
    path = config_dir / "settings.json"
    if not path.exists():
        return Settings()
    try:
        raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        _log.warning("settings file %s unreadable; using defaults", path, exc_info=True)
        return Settings()
    known = {f.name for f in fields(Settings)}
    return Settings(**{k: v for k, v in raw.get("values", {}).items() if k in known})


def save_settings(config_dir: Path, settings: Settings) -> None:
    config_dir.mkdir(parents=True, exist_ok=True)
    path = config_dir / "settings.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(
        json.dumps({"version": SETTINGS_VERSION, "values": asdict(settings)}, ensure_ascii=False, indent=2),
        encoding="utf-8",
    )
    os.replace(tmp, path)  # atomic: a crash never leaves half a settings file

"""设置 → 工作时间与节假日: the schedule SOP deadlines count in, and a supervisor importing a new one.

Reading and saving go through the SOP catalog (`dyy-desk sop show-business-hours` /
`set-business-hours` use the same calls), so the screen and the command line can never disagree.
An imported file is parsed under its own file name first, so an error names the file the supervisor
chose, its line and field; only a file that parses is handed to the catalog, which saves it and its
audit entry in one transaction. The role is checked before anything is read from disk, so an agent is
refused at once, and again inside the saving transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from dyy_desk.core.business_hours import BusinessSchedule, parse_business_hours
from dyy_desk.core.changes import Changes
from dyy_desk.core.sop_toml import DataFileError
from dyy_desk.db.repos.tables import users
from dyy_desk.services.auth_service import require_role
from dyy_desk.services.errors import ServiceError
from dyy_desk.services.sop_catalog import BUSINESS_HOURS_KEY, CATALOG_EDITORS, DataFileRejected
from dyy_desk.services.sop_store import settings_t

if TYPE_CHECKING:
    from dyy_desk.services.workspace import Workspace

MAX_FILE_BYTES = 1024 * 1024  # a schedule is a few KB; anything this large is the wrong file


@dataclass(frozen=True)
class ScheduleView:
    schedule: BusinessSchedule
    text: str  # the TOML in force, for supervisors to copy and edit
    updated_at: datetime | None  # None: the built-in default is in force
    updated_by: str | None  # the name of whoever imported it, when known

    def holidays_from(self, day: date) -> list[date]:
        return sorted(d for d in self.schedule.holidays if d >= day)

    def makeup_from(self, day: date) -> list[date]:
        return sorted(d for d in self.schedule.makeup_workdays if d >= day)


def read_schedule(workspace: Workspace) -> ScheduleView:
    catalog = workspace.sop.catalog
    schedule = catalog.schedule()
    text = catalog.business_hours_text()
    with workspace.engine.connect() as conn:
        row = conn.execute(
            select(settings_t.c.updated_at, users.c.name)
            .select_from(settings_t.outerjoin(users, users.c.id == settings_t.c.updated_by))
            .where(settings_t.c.key == BUSINESS_HOURS_KEY, settings_t.c.deleted.is_(False))
        ).first()
    if row is None:
        return ScheduleView(schedule, text, None, None)
    return ScheduleView(schedule, text, row.updated_at, row.name)


def import_schedule_file(
    workspace: Workspace, *, actor_id: str | None, path: Path
) -> tuple[ScheduleView, Changes]:
    """Raises AccessDenied for an agent, DataFileRejected (file, line, field) for a bad schedule,
    ServiceError for an unreadable file; in each case the schedule in force is unchanged."""
    with workspace.engine.connect() as conn:
        actor = require_role(conn, actor_id, CATALOG_EDITORS)
    text = _read(path)
    try:
        parse_business_hours(text, path.name)
    except DataFileError as exc:
        raise DataFileRejected(exc) from None
    workspace.sop.catalog.save_business_hours(text=text, actor_id=actor.id, now=workspace.clock.now())
    return read_schedule(workspace), Changes(sop=True)


def _read(path: Path) -> str:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ServiceError(f"{path.name} 太大（超过 1 MB），不是工作时间设置文件。当前设置未改动。")
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ServiceError(f"{path.name} 不是 UTF-8 编码的文本文件。当前设置未改动。") from None
    except OSError as exc:
        raise ServiceError(f"无法读取 {path.name}：{exc.strerror or exc}。当前设置未改动。") from None

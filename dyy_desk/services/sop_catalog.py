"""Which SOP templates and which working-time schedule the team uses.

Built-in templates come from resources/sop; supervisors import further versions, stored whole in
`sop_template` so they travel in bundles. Every version stays: a running checklist keeps the id and
version it started with, new checklists pick the latest version in effect. An invalid file is refused
with its file name, line and reason, and nothing is written. An import and a change of the working
hours are written to the audit log in the same transaction (sop_audit).

Threading contract: the parsed registry and schedule are cached behind a lock; the GUI calls in only
from its single database worker, tests from anywhere.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, insert, select, update

from dyy_desk.core.business_hours import BusinessSchedule, parse_business_hours
from dyy_desk.core.sop_registry import SopRegistry, load_sop_templates
from dyy_desk.core.sop_template import SopTemplate, parse_sop_template
from dyy_desk.core.sop_toml import DataFileError, index_lines
from dyy_desk.core.types import Role
from dyy_desk.infra.paths import read_resource_text, resource_path
from dyy_desk.services.auth_service import require_role
from dyy_desk.services.errors import ServiceError
from dyy_desk.services.sop_audit import audit_business_hours, audit_template_imported
from dyy_desk.services.sop_store import settings_t, templates_t

BUSINESS_HOURS_KEY = "business_hours"
# Templates and the working-time schedule change everyone's deadlines: supervisors and admins only.
CATALOG_EDITORS = frozenset({Role.SUPERVISOR, Role.ADMIN})


class DataFileRejected(ServiceError):
    """A template or schedule file that was refused; nothing was saved."""

    def __init__(self, error: DataFileError) -> None:
        self.source = error.source
        self.line = error.line
        self.reason = error.reason
        super().__init__(f"{error}\n未保存任何内容，请改正后重新导入。")


@dataclass(frozen=True)
class ImportedTemplate:
    template_id: str
    version: int
    name: str
    source: str


def _imported_key(source: str, version: int) -> str:
    """Registry key of an imported version; distinct from a built-in file of the same name."""
    return f"{source}（导入 第{version}版）"


class SopCatalog:
    def __init__(self, *, engine: Engine, origin: str) -> None:
        self._engine = engine
        self._origin = origin
        self._lock = threading.Lock()
        self._registry: SopRegistry | None = None
        self._schedule: BusinessSchedule | None = None

    # --- templates ---------------------------------------------------------------------------
    def _texts(self) -> dict[str, str]:
        texts = {p.name: p.read_text(encoding="utf-8") for p in sorted(resource_path("sop").glob("*.toml"))}
        with self._engine.connect() as conn:
            for row in conn.execute(select(templates_t).where(templates_t.c.deleted.is_(False))):
                texts[_imported_key(row.source, row.template_version)] = row.text
        return texts

    def registry(self) -> SopRegistry:
        with self._lock:
            if self._registry is None:
                self._registry = load_sop_templates(self._texts())
            return self._registry

    def template(self, template_id: str, version: int) -> SopTemplate:
        try:
            return self.registry().get(template_id, version)
        except KeyError as exc:
            raise ServiceError(f"{exc.args[0]}，请让主管重新导入该模板") from None

    def import_template(
        self, *, text: str, source: str, actor_id: str | None, now: datetime
    ) -> ImportedTemplate:
        """Refuses (DataFileRejected) a bad file naming its line and field, and (AccessDenied) anyone
        but a supervisor or admin, checked in the same transaction as the write."""
        try:
            template = parse_sop_template(text, source)
            key = _imported_key(source, template.version)
            existing = self._texts()
            try:
                load_sop_templates({**existing, key: text})
            except DataFileError as exc:
                if exc.source == key:
                    raise DataFileError(
                        kind=exc.kind, source=source, line=exc.line, field=exc.field, reason=exc.reason
                    ) from None
                # the clash was reported on the other file (it sorts later); name the imported one
                raise DataFileError(
                    kind="模板",
                    source=source,
                    line=index_lines(text).get(("id",)),
                    field="id",
                    reason=f"与 {exc.source} 冲突：{exc.reason.replace(key, source)}",
                ) from None
        except DataFileError as exc:
            raise DataFileRejected(exc) from None
        with self._engine.begin() as conn:
            require_role(conn, actor_id, CATALOG_EDITORS)
            conn.execute(
                insert(templates_t).values(
                    template_id=template.id,
                    template_version=template.version,
                    name=template.name,
                    after_sales_type=template.after_sales_type.value,
                    effective_date=template.effective_date,
                    source=source,
                    text=text,
                    imported_by=actor_id,
                    imported_at=now,
                    origin=self._origin,
                    version="",
                    deleted=False,
                )
            )
            audit_template_imported(conn, template, source=source, actor_id=actor_id, now=now)
        with self._lock:
            self._registry = None
        return ImportedTemplate(template.id, template.version, template.name, source)

    # --- business hours ----------------------------------------------------------------------
    def business_hours_text(self) -> str:
        with self._engine.connect() as conn:
            stored = conn.execute(
                select(settings_t.c.value).where(
                    settings_t.c.key == BUSINESS_HOURS_KEY, settings_t.c.deleted.is_(False)
                )
            ).scalar()
        return str(stored) if stored is not None else read_resource_text("business_hours.toml")

    def schedule(self) -> BusinessSchedule:
        with self._lock:
            if self._schedule is None:
                self._schedule = parse_business_hours(self.business_hours_text(), "工作时间设置")
            return self._schedule

    def save_business_hours(self, *, text: str, actor_id: str | None, now: datetime) -> BusinessSchedule:
        """Refuses (DataFileRejected) a schedule without any working time, like any invalid one, and
        (AccessDenied) anyone but a supervisor or admin, checked in the same transaction as the write."""
        try:
            schedule = parse_business_hours(text, "工作时间设置")
        except DataFileError as exc:
            raise DataFileRejected(exc) from None
        with self._engine.begin() as conn:
            require_role(conn, actor_id, CATALOG_EDITORS)
            old = conn.execute(
                select(settings_t.c.value).where(
                    settings_t.c.key == BUSINESS_HOURS_KEY, settings_t.c.deleted.is_(False)
                )
            ).scalar()
            values = {"value": text, "updated_by": actor_id, "updated_at": now}
            found = conn.execute(
                update(settings_t)
                .where(settings_t.c.key == BUSINESS_HOURS_KEY)
                .values(**values, deleted=False)
            ).rowcount
            if not found:
                conn.execute(
                    insert(settings_t).values(
                        key=BUSINESS_HOURS_KEY, origin=self._origin, version="", deleted=False, **values
                    )
                )
            audit_business_hours(conn, old_text=old, new_text=text, actor_id=actor_id, now=now)
        with self._lock:
            self._schedule = schedule
        return schedule

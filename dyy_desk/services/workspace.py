"""Open a data folder safely: lock it, check the file, migrate with a backup, seed, wire services.

Area services (library, SOP, escalation, QA, sync …) are built on first use: importing them and their
tables costs about half a second, which the window's first paint must not wait for.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, TypeVar, cast

from sqlalchemy import Engine, func, insert, select

from dyy_desk.core.clock import Clock
from dyy_desk.core.ids import new_id
from dyy_desk.db.engine import make_engine
from dyy_desk.db.file_check import check_database_file, stamp_clean_close
from dyy_desk.db.migrate import MigrationResult, upgrade_database
from dyy_desk.db.repos.tables import app_meta, users
from dyy_desk.db.repos.tables import tickets as ticket_table
from dyy_desk.infra.instance_lock import InstanceLock
from dyy_desk.infra.paths import DataPaths, read_resource_text
from dyy_desk.services.directory import DirectoryService
from dyy_desk.services.errors import ServiceError
from dyy_desk.services.tickets import TicketService

if TYPE_CHECKING:
    from dyy_desk.services.auth_service import AuthService
    from dyy_desk.services.backup_service import BackupService
    from dyy_desk.services.escalation_service import EscalationService
    from dyy_desk.services.library_service import LibraryService
    from dyy_desk.services.personal_data import PersonalDataService
    from dyy_desk.services.qa_service import QAService
    from dyy_desk.services.sop_service import SopService
    from dyy_desk.services.sync_team import SyncService

_log = logging.getLogger(__name__)
T = TypeVar("T")


class Seed(StrEnum):
    DEMO = "demo"
    EMPTY = "empty"


class Workspace:
    """One open data folder and its services. Tickets and the directory exist from the start; the
    other areas' services are created once, on first use, from whichever thread asks first."""

    def __init__(
        self,
        *,
        paths: DataPaths,
        engine: Engine,
        clock: Clock,
        machine_id: str,
        migration: MigrationResult,
        lock: InstanceLock | None,
    ) -> None:
        self.paths = paths
        self.engine = engine
        self.clock = clock
        self.machine_id = machine_id
        self.migration = migration
        self.tickets = TicketService(engine=engine, clock=clock, origin=machine_id)
        self.directory = DirectoryService(engine=engine, clock=clock, origin=machine_id)
        self._lock = lock
        self._build_lock = threading.RLock()  # re-entrant: building escalations builds sop
        self._built: dict[str, object] = {}

    def _service(self, name: str, build: Callable[[], T]) -> T:
        with self._build_lock:
            if name not in self._built:
                self._built[name] = build()
            return cast(T, self._built[name])

    @property
    def sop(self) -> SopService:
        from dyy_desk.services.sop_service import SopService

        return self._service(
            "sop",
            lambda: SopService(
                engine=self.engine, clock=self.clock, origin=self.machine_id, tickets=self.tickets
            ),
        )

    @property
    def escalations(self) -> EscalationService:
        from dyy_desk.services.escalation_service import EscalationService

        def build() -> EscalationService:
            sop = self.sop
            return EscalationService(
                engine=self.engine,
                clock=self.clock,
                origin=self.machine_id,
                tickets=self.tickets,
                step_facts=lambda now: sop.step_facts(now=now),
            )

        return self._service("escalations", build)

    @property
    def qa(self) -> QAService:
        from dyy_desk.services.qa_service import QAService

        return self._service(
            "qa", lambda: QAService(engine=self.engine, clock=self.clock, origin=self.machine_id)
        )

    @property
    def library(self) -> LibraryService:
        from dyy_desk.services.library_service import LibraryService

        return self._service(
            "library",
            lambda: LibraryService(
                engine=self.engine, clock=self.clock, origin=self.machine_id, cache_dir=self.paths.cache_dir
            ),
        )

    @property
    def sync(self) -> SyncService:
        from dyy_desk.infra.secrets import TeamKeyStore
        from dyy_desk.services.sync_team import SyncService

        return self._service(
            "sync",
            lambda: SyncService(
                engine=self.engine,
                clock=self.clock,
                machine_id=self.machine_id,
                keys=TeamKeyStore(self.paths.config_dir),
                backups=self.backups,  # a copy of the database before any bundle is applied
            ),
        )

    @property
    def auth(self) -> AuthService:
        from dyy_desk.services.auth_service import AuthService

        return self._service("auth", lambda: AuthService(engine=self.engine, clock=self.clock))

    @property
    def personal_data(self) -> PersonalDataService:
        from dyy_desk.services.personal_data import PersonalDataService

        return self._service(
            "personal_data", lambda: PersonalDataService(engine=self.engine, clock=self.clock)
        )

    @property
    def backups(self) -> BackupService:
        from dyy_desk.services.backup_service import BackupService

        return self._service("backups", lambda: BackupService(paths=self.paths, clock=self.clock))

    def close(self) -> None:
        self.engine.dispose()
        stamp_clean_close(self.paths.db_path)
        if self._lock is not None:
            self._lock.release()
            self._lock = None


def open_workspace(
    paths: DataPaths, *, clock: Clock, seed_if_new: Seed | None = Seed.DEMO, lock: bool = True
) -> Workspace:
    """Raises FolderInUse, DatabaseFileError, SchemaTooNew or NotOurDatabase with a user-facing message;
    in every such case the files on disk are left as they were."""
    paths.ensure()
    instance_lock = InstanceLock(paths.lock_path) if lock else None
    if instance_lock:
        instance_lock.acquire()
    try:
        check_database_file(paths.db_path)
        engine = make_engine(paths.db_path)
        try:
            migration = upgrade_database(engine, paths.db_path, backup_dir=paths.backup_dir, now=clock.now())
            workspace = _compose(paths, engine, clock, migration, instance_lock)
            if seed_if_new is not None and migration.was_new:
                seed_workspace(workspace, seed_if_new)
        except BaseException:
            engine.dispose()
            raise
    except BaseException:
        if instance_lock:
            instance_lock.release()
        raise
    return workspace


def _compose(
    paths: DataPaths, engine: Engine, clock: Clock, migration: MigrationResult, lock: InstanceLock | None
) -> Workspace:
    return Workspace(
        paths=paths,
        engine=engine,
        clock=clock,
        machine_id=_machine_id(engine),
        migration=migration,
        lock=lock,
    )


def initialise(paths: DataPaths, *, clock: Clock, seed: Seed) -> str:
    """`dyy-desk init`: only into a folder that holds no workspace data yet."""
    workspace = open_workspace(paths, clock=clock, seed_if_new=None)
    try:
        with workspace.engine.begin() as conn:
            has_data = conn.execute(select(func.count()).select_from(users)).scalar_one() > 0
            if has_data:
                raise ServiceError(f"{paths.data_dir} 已经有工作区数据，未做任何改动。请换一个空文件夹。")
        seed_workspace(workspace, seed)
        with workspace.engine.connect() as conn:
            count = conn.execute(select(func.count()).select_from(ticket_table)).scalar_one()
        return f"已在 {paths.data_dir} 创建{'演示' if seed is Seed.DEMO else '空白'}工作区（{count} 个工单）"
    finally:
        workspace.close()


def _machine_id(engine: Engine) -> str:
    with engine.begin() as conn:
        value = conn.execute(select(app_meta.c.value).where(app_meta.c.key == "machine_id")).scalar()
        if value is None:
            value = new_id()
            conn.execute(insert(app_meta).values(key="machine_id", value=value))
        return str(value)


def seed_workspace(workspace: Workspace, seed: Seed) -> None:
    """Demo data: tickets and the library in one transaction, then running checklists through the SOP
    service so they are exactly what an agent would have made."""
    if seed is Seed.EMPTY:
        return
    from dyy_desk.services.demo_seed import seed_demo, seed_demo_checklists
    from dyy_desk.services.library_service import seed_demo_library

    clock, origin = workspace.clock, workspace.machine_id
    with workspace.engine.begin() as conn:
        count = seed_demo(
            conn, spec_text=read_resource_text("demo", "workspace.toml"), now=clock.now(), origin=origin
        )
        faqs, scripts = seed_demo_library(conn, now=clock.now(), origin=origin)
    checklists = seed_demo_checklists(workspace.sop, engine=workspace.engine, now=clock.now())
    workspace.tickets.invalidate_queue()
    _log.info(
        "seeded demo workspace: %d tickets, %d FAQ entries, %d scripts, %d checklists",
        count,
        faqs,
        scripts,
        checklists,
    )

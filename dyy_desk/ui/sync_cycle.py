"""One sync cycle, run in the worker: export this machine's bundle into the sync folder and import the
colleagues' bundles not seen before. Plus the bundle file names and the run summary shown afterwards."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dyy_desk.core.changes import Changes
from dyy_desk.core.i18n import _
from dyy_desk.core.sync.errors import BundleError
from dyy_desk.services.errors import ServiceError
from dyy_desk.services.escalation_service import EscalationService
from dyy_desk.services.sync_export import SyncCancelled
from dyy_desk.services.sync_report import ImportReport
from dyy_desk.services.sync_team import SyncService
from dyy_desk.services.tickets import TicketService
from dyy_desk.ui.tasks import TaskContext

BUNDLE_SUFFIX = ".dyyb"


@dataclass(frozen=True)
class FolderProblem:
    file: str
    reason: str


@dataclass(frozen=True)
class SyncRun:
    """What one cycle did; built in the worker, shown on the GUI thread."""

    exported: str | None  # file name written to the folder
    imported: tuple[tuple[str, ImportReport], ...]
    problems: tuple[FolderProblem, ...]
    gaps: tuple[str, ...] | None  # None: no import this time, keep the gaps shown before
    ledger: dict[str, str]
    changes: Changes
    cancelled: bool = False


def bundle_name(team_id: str, origin: str, sequence: int) -> str:
    return f"dyy-{team_id}-{origin}-{sequence:06d}{BUNDLE_SUFFIX}"


def _signature(path: Path) -> str:
    stat = path.stat()
    return f"{stat.st_size}:{stat.st_mtime_ns}"


@dataclass
class SyncCycle:
    """The worker side of one cycle: export our changes, then import what peers left."""

    sync: SyncService
    tickets: TicketService
    escalations: EscalationService
    folder: Path
    ledger: dict[str, str]
    context: TaskContext
    progress: Callable[[int, int, str], None]
    actor_id: str | None = None  # the signed-in user, named in the audit log
    imported: list[tuple[str, ImportReport]] = field(default_factory=list)
    changes: Changes = field(default_factory=Changes)

    def cancelled(self) -> bool:
        return self.context.cancelled

    def export(self, team_id: str, origin: str) -> str:
        tmp = self.folder / f".dyy-{origin}.tmp"  # not *.dyyb: peers never pick up half a file
        result = self.sync.export(
            out=tmp, progress=self.progress, cancel=self.cancelled, actor_id=self.actor_id
        )
        name = bundle_name(team_id, origin, result.sequence)
        os.replace(tmp, self.folder / name)
        return name

    def import_new(self, origin: str) -> tuple[list[FolderProblem], tuple[str, ...] | None]:
        files = sorted(self.folder.glob(f"*{BUNDLE_SUFFIX}"), key=lambda p: (p.stat().st_mtime_ns, p.name))
        present = {p.name for p in files}
        self.ledger = {k: v for k, v in self.ledger.items() if k in present}
        todo = [p for p in files if f"-{origin}-" not in p.name and self.ledger.get(p.name) != _signature(p)]
        failed: dict[str, FolderProblem] = {}
        gaps: tuple[str, ...] | None = None
        backed_up = False
        while todo:  # a bundle may need a parent from another one: retry while something succeeds
            progressed, retry = False, []
            for path in todo:
                if self.cancelled():
                    raise SyncCancelled()
                try:
                    report = self.sync.apply(
                        path=path,
                        progress=self.progress,
                        cancel=self.cancelled,
                        on_tickets_changed=self.tickets.invalidate_queue,
                        actor_id=self.actor_id,
                        backup=not backed_up,  # one copy before the first bundle of the cycle
                    )
                except SyncCancelled:
                    raise
                except (BundleError, ServiceError, OSError) as exc:
                    backed_up = True
                    failed[path.name] = FolderProblem(path.name, problem_reason(exc))
                    retry.append(path)
                    continue
                backed_up = True
                failed.pop(path.name, None)
                self.ledger[path.name] = _signature(path)
                self.imported.append((path.name, report))
                self.changes = self.changes | report.changes
                gaps = report.gaps
                progressed = True
                if report.changes != Changes():
                    self.escalations.invalidate()
            todo = retry if progressed else []
        return list(failed.values()), gaps


def problem_reason(exc: BaseException) -> str:
    if isinstance(exc, BundleError):
        return exc.message
    if isinstance(exc, OSError):
        return _("无法读取或写入文件（{reason}）").format(reason=exc.strerror or exc)
    return str(exc)

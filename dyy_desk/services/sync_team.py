"""Team membership: create or join a team (the key goes to the OS keyring), and the sync facade.

The team id is derived from the key and stored in `sync_state`; the key itself never touches the
database. `SyncService` bundles export and import for the GUI worker and the command line.
Creating or joining a team, exporting and applying a bundle each write an audit entry in the same
transaction as the change (never the key itself); applying is preceded by a database backup when
the service was given a `BackupService`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, select

from dyy_desk.core.clock import Clock
from dyy_desk.infra.bundle_crypto import TeamKeyError, format_team_key, generate_team_key, parse_team_key
from dyy_desk.infra.secrets import ENV_VAR, KeyLocation, SecretStoreError, TeamKeyStore
from dyy_desk.services.audit import append_audit
from dyy_desk.services.errors import ServiceError
from dyy_desk.services.sync_export import CancelCheck, ExportResult, Progress, export_bundle, not_joined_error
from dyy_desk.services.sync_import import apply_import, preview_import
from dyy_desk.services.sync_report import ImportReport
from dyy_desk.services.sync_state import (
    get_value,
    load_state,
    peer_sequences,
    set_team,
    sync_state,
    team_id_for_key,
)

if TYPE_CHECKING:
    from dyy_desk.services.backup_service import BackupService

LOCATION_TEXT = {
    KeyLocation.KEYRING: "系统钥匙串",
    KeyLocation.UNPROTECTED_FILE: "未受保护的文件（team-keys-NOT-PROTECTED.json）",
    KeyLocation.ENVIRONMENT: f"环境变量 {ENV_VAR}",
}


@dataclass(frozen=True)
class TeamInfo:
    team_id: str | None
    name: str
    origin: str
    last_export_at: str | None
    last_import_at: str | None


class SyncService:
    def __init__(
        self,
        *,
        engine: Engine,
        clock: Clock,
        machine_id: str,
        keys: TeamKeyStore,
        backups: BackupService | None = None,
    ) -> None:
        self._engine, self._clock, self._machine_id, self._keys = engine, clock, machine_id, keys
        self._backups = backups

    def allow_unprotected_file(self, allowed: bool) -> None:
        """The user's explicit choice (settings, or a command-line flag) to keep the team key in a
        plainly named, unprotected file where this computer has no keyring."""
        self._keys.allow_unprotected_file = allowed

    # --- team --------------------------------------------------------------------------------
    def info(self) -> TeamInfo:
        with self._engine.connect() as conn:
            state = load_state(conn, self._machine_id)
            return TeamInfo(
                state.team_id,
                state.name,
                state.origin,
                get_value(conn, "last_export_at"),
                get_value(conn, "last_import_at"),
            )

    def peer_names(self) -> dict[str, str]:
        with self._engine.connect() as conn:
            return peer_sequences(conn)[1]

    def create_team(self, *, name: str, actor_id: str | None = None) -> tuple[str, KeyLocation | None]:
        """A new team key: stored, the team id recorded; returns the readable key text (show once)."""
        key = generate_team_key()
        return format_team_key(key), self._join(key, name, "team_key_create", actor_id)

    def join_team(
        self, *, key_text: str, name: str, actor_id: str | None = None
    ) -> tuple[str, KeyLocation | None]:
        try:
            key = parse_team_key(key_text)
        except TeamKeyError as exc:
            raise ServiceError(exc.message) from None
        location = self._join(key, name, "team_key_join", actor_id)
        return team_id_for_key(key), location

    def _join(self, key: bytes, name: str, action: str, actor_id: str | None) -> KeyLocation | None:
        name = name.strip()
        if not 1 <= len(name) <= 100:
            raise ServiceError("本机显示名称需为 1–100 个字符。")
        team_id = team_id_for_key(key)
        env_text = os.environ.get(ENV_VAR)
        location: KeyLocation | None = None
        if not (env_text and _same_key(env_text, key)):
            try:
                location = self._keys.save(team_id, key)
            except SecretStoreError as exc:
                raise ServiceError(exc.message) from None
        with self._engine.begin() as conn:
            before = conn.execute(select(sync_state.c.value).where(sync_state.c.key == "team_id")).scalar()
            set_team(conn, team_id=team_id, name=name)
            append_audit(
                conn,
                at=self._now(),
                actor_id=actor_id,
                action=action,
                target=f"team:{team_id}",
                details={
                    "name": name,
                    "previous_team": before,
                    "stored_in": location.value if location else "environment",
                },
            )
        return location

    def team_key(self) -> tuple[str, bytes, KeyLocation]:
        """(team id, key, where it is kept); ServiceError when not joined or the key is missing."""
        team_id = self.info().team_id
        if team_id is None:
            raise not_joined_error()
        try:
            found = self._keys.load(team_id)
        except (SecretStoreError, TeamKeyError) as exc:
            raise ServiceError(exc.message) from None
        if found is None:
            raise ServiceError(
                f"找不到团队 {team_id} 的密钥：系统钥匙串中没有保存。"
                "请用“dyy-desk team-key join”重新输入团队密钥。"
            )
        key, location = found
        if team_id_for_key(key) != team_id:
            raise ServiceError(f"{LOCATION_TEXT[location]}中的团队密钥不属于本机所在的团队 {team_id}。")
        return team_id, key, location

    # --- bundles -----------------------------------------------------------------------------
    def export(
        self,
        *,
        out: Path,
        client_name: str | None = None,
        library_only: bool = False,
        mask_personal_data: bool = False,
        progress: Progress | None = None,
        cancel: CancelCheck | None = None,
        actor_id: str | None = None,
    ) -> ExportResult:
        _, key, _ = self.team_key()
        return export_bundle(
            engine=self._engine,
            machine_id=self._machine_id,
            key=key,
            out=out,
            now=self._now(),
            client_name=client_name,
            library_only=library_only,
            mask_personal_data=mask_personal_data,
            progress=progress,
            cancel=cancel,
            actor_id=actor_id,
        )

    def preview(
        self, *, path: Path, progress: Progress | None = None, cancel: CancelCheck | None = None
    ) -> ImportReport:
        _, key, _ = self.team_key()
        return preview_import(
            engine=self._engine,
            machine_id=self._machine_id,
            key=key,
            path=path,
            now=self._now(),
            progress=progress,
            cancel=cancel,
        )

    def apply(
        self,
        *,
        path: Path,
        progress: Progress | None = None,
        cancel: CancelCheck | None = None,
        on_tickets_changed: Callable[[], None] | None = None,
        actor_id: str | None = None,
        backup: bool = True,
    ) -> ImportReport:
        """Import in one transaction. A backup copy of the database is taken first (if the service
        has a BackupService and `backup` is true: a sync cycle takes one for all its bundles)."""
        _, key, _ = self.team_key()
        if backup and self._backups is not None:
            self._backups.backup_before("import")
        return apply_import(
            engine=self._engine,
            machine_id=self._machine_id,
            key=key,
            path=path,
            now=self._now(),
            progress=progress,
            cancel=cancel,
            on_tickets_changed=on_tickets_changed,
            actor_id=actor_id,
        )

    def _now(self) -> datetime:
        return self._clock.now()


def _same_key(text: str, key: bytes) -> bool:
    try:
        return parse_team_key(text) == key
    except TeamKeyError:
        return False

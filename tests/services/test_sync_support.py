"""Helpers for the sync tests: machines with their own data folder, an in-memory keyring."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import keyring
import keyring.backend
import keyring.errors
import pytest

from dyy_desk.core.clock import FakeClock
from dyy_desk.infra.paths import resolve_paths
from dyy_desk.infra.secrets import TeamKeyStore
from dyy_desk.services.sync_registry import specs
from dyy_desk.services.sync_team import SyncService
from dyy_desk.services.workspace import Seed, Workspace, open_workspace


class MemoryKeyring(keyring.backend.KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.store.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError("not found")


@pytest.fixture
def memory_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    monkeypatch.delenv("DYY_DESK_TEAM_KEY", raising=False)
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@dataclass
class Machine:
    name: str
    workspace: Workspace
    sync: SyncService
    clock: FakeClock

    @property
    def db_path(self) -> Path:
        return self.workspace.paths.db_path

    def close(self) -> None:
        self.workspace.close()


def open_machine(root: Path, name: str, clock: FakeClock, *, seed: Seed) -> Machine:
    paths = resolve_paths(root / name)
    workspace = open_workspace(paths, clock=clock, seed_if_new=seed)
    keys = TeamKeyStore(paths.config_dir)
    sync = SyncService(engine=workspace.engine, clock=clock, machine_id=workspace.machine_id, keys=keys)
    return Machine(name, workspace, sync, clock)


def contents(machine: Machine) -> dict[str, list[tuple[object, ...]]]:
    """Every syncing table's rows, all columns, sorted by id."""
    with sqlite3.connect(machine.db_path) as con:
        return {
            spec.name: sorted(con.execute(f'SELECT * FROM "{spec.name}" ORDER BY id').fetchall())
            for spec in specs()
        }


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()

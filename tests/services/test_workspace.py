from __future__ import annotations

import pytest

from dyy_desk.core.clock import FakeClock
from dyy_desk.infra.instance_lock import FolderInUse
from dyy_desk.infra.paths import DataPaths
from dyy_desk.services.errors import ServiceError
from dyy_desk.services.workspace import Seed, initialise, open_workspace


def test_second_instance_on_same_folder_is_refused(paths: DataPaths, clock: FakeClock) -> None:
    first = open_workspace(paths, clock=clock, seed_if_new=Seed.EMPTY)
    try:
        with pytest.raises(FolderInUse, match="正在被另一个"):
            open_workspace(paths, clock=clock)
    finally:
        first.close()
    second = open_workspace(paths, clock=clock)  # released on close
    second.close()


def test_init_empty_then_refuses_to_overwrite(paths: DataPaths, clock: FakeClock) -> None:
    message = initialise(paths, clock=clock, seed=Seed.DEMO)
    assert "演示" in message
    with pytest.raises(ServiceError, match="已经有工作区数据"):
        initialise(paths, clock=clock, seed=Seed.EMPTY)


def test_new_folder_gets_demo_workspace(paths: DataPaths, clock: FakeClock) -> None:
    workspace = open_workspace(paths, clock=clock)
    try:
        assert len(workspace.directory.clients()) == 3
        assert len(workspace.directory.users()) == 4
        assert workspace.machine_id
    finally:
        workspace.close()
    reopened = open_workspace(paths, clock=clock)  # never seeded twice
    try:
        assert len(reopened.directory.clients()) == 3
    finally:
        reopened.close()

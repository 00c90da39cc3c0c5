"""Shared fixtures. Qt runs offscreen (without it QApplication aborts on a machine with no display)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dyy_desk.core.clock import FakeClock
from dyy_desk.infra.paths import DataPaths, resolve_paths

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def paths(tmp_path: Path) -> DataPaths:
    return resolve_paths(tmp_path / "data")


@pytest.fixture
def demo_workspace(paths: DataPaths, clock: FakeClock) -> Iterator[object]:
    from dyy_desk.services.workspace import Seed, open_workspace

    workspace = open_workspace(paths, clock=clock, seed_if_new=Seed.DEMO)
    yield workspace
    workspace.close()


@pytest.fixture
def empty_workspace(paths: DataPaths, clock: FakeClock) -> Iterator[object]:
    from dyy_desk.services.workspace import Seed, open_workspace

    workspace = open_workspace(paths, clock=clock, seed_if_new=Seed.EMPTY)
    yield workspace
    workspace.close()


@pytest.fixture
def tickets_only_workspace(paths: DataPaths, clock: FakeClock) -> Iterator[object]:
    """The demo's users, shops and tickets without its running checklists: for tests that count
    SOP deadlines or notices and must see only their own."""
    from dyy_desk.infra.paths import read_resource_text
    from dyy_desk.services.demo_seed import seed_demo
    from dyy_desk.services.workspace import Seed, open_workspace

    workspace = open_workspace(paths, clock=clock, seed_if_new=Seed.EMPTY)
    with workspace.engine.begin() as conn:
        seed_demo(
            conn,
            spec_text=read_resource_text("demo", "workspace.toml"),
            now=clock.now(),
            origin=workspace.machine_id,
        )
    workspace.tickets.invalidate_queue()
    yield workspace
    workspace.close()

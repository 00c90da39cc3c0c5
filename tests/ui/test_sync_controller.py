"""Folder sync through the controller: two machines of one team, one shared folder, a FakeClock,
and the timer driven by calling its slot."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget

from dyy_desk.core.changes import Changes
from dyy_desk.core.clock import FakeClock
from dyy_desk.core.ticket_input import NewTicket
from dyy_desk.core.types import TicketCategory
from dyy_desk.infra.settings import Settings
from dyy_desk.services.workspace import Seed
from dyy_desk.ui.signals import AppSignals
from dyy_desk.ui.sync_controller import SyncController
from dyy_desk.ui.sync_cycle import BUNDLE_SUFFIX
from dyy_desk.ui.tasks import TaskRunner
from tests.conftest import START
from tests.services.test_sync_support import Machine, contents, memory_keyring, open_machine

__all__ = ["memory_keyring"]


def sync_settings(folder: Path | None) -> Settings:
    """Settings with the sync fields (set as attributes until the dataclass declares them)."""
    settings = Settings()
    settings.sync_folder = str(folder) if folder else ""  # type: ignore[attr-defined]
    settings.sync_interval_minutes = 10  # type: ignore[attr-defined]
    settings.sync_applied = {}  # type: ignore[attr-defined]
    settings.team_key_unprotected_file = False  # type: ignore[attr-defined]
    return settings


@dataclass
class Desk:
    machine: Machine
    controller: SyncController
    runner: TaskRunner
    signals: AppSignals
    settings: Settings
    statuses: list[tuple[str, str]]
    emitted: list[Changes]

    def settle(self) -> None:
        for _ in range(10):
            self.runner.wait_idle()
            QApplication.processEvents()
            if self.runner.wait_idle(0) and self.controller._running is None:
                return

    @property
    def status(self) -> tuple[str, str]:
        return self.controller.status()


def make_desk(qtbot: Any, machine: Machine, folder: Path | None) -> Desk:
    parent = QWidget()
    qtbot.addWidget(parent)
    runner, signals, settings = TaskRunner(parent), AppSignals(parent), sync_settings(folder)
    ws = machine.workspace
    controller = SyncController(
        sync=machine.sync,
        tickets=ws.tickets,
        escalations=ws.escalations,
        runner=runner,
        signals=signals,
        settings=settings,
        parent=parent,
        clock_now=machine.clock.now,
        directory=ws.directory,
    )
    desk = Desk(machine, controller, runner, signals, settings, [], [])
    controller.status_changed.connect(lambda text, tip: desk.statuses.append((text, tip)))
    signals.operation_did_execute.connect(lambda changes, _who: desk.emitted.append(changes))
    return desk


@pytest.fixture
def team(tmp_path: Path, memory_keyring: object, qtbot: Any) -> Iterator[tuple[Desk, Desk, Path]]:
    folder = tmp_path / "shared"
    folder.mkdir()
    a = open_machine(tmp_path, "a", FakeClock(START), seed=Seed.DEMO)
    b = open_machine(tmp_path, "b", FakeClock(START), seed=Seed.EMPTY)
    key_text, _ = a.sync.create_team(name="李娜")
    b.sync.join_team(key_text=key_text, name="王芳")
    desk_a, desk_b = make_desk(qtbot, a, folder), make_desk(qtbot, b, folder)
    yield desk_a, desk_b, folder
    for desk in (desk_a, desk_b):
        desk.controller.stop()
        desk.runner.shutdown()
        desk.machine.close()


def create_ticket(desk: Desk, subject: str, nick: str = "小雨") -> str:
    ws = desk.machine.workspace
    client = ws.directory.clients()[0]
    shop = ws.directory.shops(client_id=client.id)[0]
    row, changes = ws.tickets.create(
        ticket=NewTicket(
            client_id=client.id,
            shop_id=shop.id,
            category=TicketCategory.EXCHANGE,
            subject=subject,
            customer_nick=nick,
            customer_phone="13812345678",
        ),
        actor_id=None,
    )
    desk.signals.operation_did_execute.emit(changes, None)  # as the UI does after every mutation
    return row.number


def ticket_numbers(machine: Machine) -> set[str]:
    with sqlite3.connect(machine.db_path) as con:
        return {str(number) for (number,) in con.execute("SELECT number FROM ticket")}


def test_timer_exports_and_peer_imports_at_start(team: tuple[Desk, Desk, Path]) -> None:
    a, b, folder = team
    assert a.status[0] == "同步：尚未同步"
    number = create_ticket(a, "尺码换大一号")
    a.controller.on_timer()
    a.settle()
    written = sorted(p.name for p in folder.glob(f"*{BUNDLE_SUFFIX}"))
    assert len(written) == 1 and written[0].endswith("-000001.dyyb")
    assert "刚刚 ✓" in a.statuses[-1][0]
    a.controller.on_timer()  # nothing new since: no empty bundle, the folder stays as it was
    a.settle()
    assert len(list(folder.glob(f"*{BUNDLE_SUFFIX}"))) == 1

    b.controller.start()
    b.settle()
    assert number in ticket_numbers(b.machine)
    assert b.emitted and b.emitted[-1].tickets
    assert "刚刚 ✓" in b.status[0]
    assert not b.controller.status()[0].count("⚠")
    # B published its own (empty) first bundle; A's own file is never re-imported by A
    assert len(list(folder.glob(f"*{BUNDLE_SUFFIX}"))) == 2
    assert b.settings.sync_applied == {written[0]: b.settings.sync_applied[written[0]]}  # type: ignore[attr-defined]
    b.emitted.clear()
    b.controller.on_timer()  # already applied: nothing is imported twice
    b.settle()
    assert b.emitted == []


def test_corrupt_file_is_named_in_the_status_and_changes_nothing(team: tuple[Desk, Desk, Path]) -> None:
    _, b, folder = team
    (folder / "from-chat.dyyb").write_bytes(b"DYYB\x01" + b"\x00" * 40)
    before = contents(b.machine)
    b.controller.start()
    b.settle()
    text, tooltip = b.status
    assert "⚠" in text and "from-chat.dyyb" in text
    assert "from-chat.dyyb：数据包已损坏或团队密钥不正确" in tooltip
    after = contents(b.machine)
    assert after["ticket"] == before["ticket"] and after["customer"] == before["customer"]
    assert b.emitted == []


def test_cancel_during_import_leaves_b_unchanged(team: tuple[Desk, Desk, Path]) -> None:
    a, b, _ = team
    a.controller.on_timer()
    a.settle()
    before = contents(b.machine)
    controller = b.controller
    # the first progress report comes from the worker after the first chunk was written inside
    # the import's transaction; cancelling there (as 取消同步 does) must roll all of it back
    controller._progress.connect(
        lambda *_: controller._running and controller._running.cancel(), Qt.ConnectionType.DirectConnection
    )
    assert controller.sync_now(export=False) is not None
    b.settle()
    assert contents(b.machine) == before
    assert b.emitted == []
    assert "同步已取消" in b.status[1]
    assert b.settings.sync_applied == {}  # type: ignore[attr-defined]


def test_gap_is_named(team: tuple[Desk, Desk, Path]) -> None:
    a, b, folder = team
    a.controller.on_timer()
    a.settle()
    b.controller.start()
    b.settle()
    for number, nick in ((2, "小雨"), (3, "阿杰")):
        create_ticket(a, f"补发赠品 {number}", nick)
        a.controller.on_timer()
        a.settle()
    next(folder.glob("*-000002.dyyb")).unlink()  # lost on the way
    b.controller.on_timer()
    b.settle()
    text, tooltip = b.status
    assert "缺少数据包" in text
    assert "李娜" in tooltip and "第 2 号" in tooltip


def test_no_folder_says_how_to_start(qtbot: Any, tmp_path: Path, memory_keyring: object) -> None:
    machine = open_machine(tmp_path, "solo", FakeClock(START), seed=Seed.EMPTY)
    desk = make_desk(qtbot, machine, None)
    try:
        assert desk.controller.sync_now(export=True) is None
        assert desk.status[0] == "同步：未设置" and "同步设置" in desk.status[1]
        assert desk.controller.flush_on_exit() is True
    finally:
        desk.runner.shutdown()
        machine.close()


def test_flush_on_exit_writes_pending_edits(team: tuple[Desk, Desk, Path]) -> None:
    a, _, folder = team
    create_ticket(a, "漏发配件")
    assert a.controller.flush_on_exit(timeout=20) is True
    assert [p.name[-12:] for p in folder.glob(f"*{BUNDLE_SUFFIX}")] == ["-000001.dyyb"]

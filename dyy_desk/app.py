"""Composition root: paths → logging → Qt → workspace (locked, migrated) → main window."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from typing import Any

from dyy_desk.core.clock import Clock, SystemClock
from dyy_desk.infra.logs import setup_logging
from dyy_desk.infra.paths import DataPaths
from dyy_desk.infra.settings import load_settings

_log = logging.getLogger(__name__)


def open_or_explain(
    paths: DataPaths, clock: Clock, show_error: Callable[[str], None], seed_if_new: str | None = "demo"
) -> object | None:
    """Open the workspace, or show the user why not (the files stay as they were) and return None.
    `seed_if_new` ("demo", "empty" or None) seeds a folder that had no workspace yet."""
    from dyy_desk.db.file_check import DatabaseFileError
    from dyy_desk.db.migrate import NotOurDatabase, SchemaTooNew
    from dyy_desk.infra.instance_lock import FolderInUse
    from dyy_desk.services.workspace import Seed, open_workspace

    try:
        workspace = open_workspace(
            paths, clock=clock, seed_if_new=Seed(seed_if_new) if seed_if_new is not None else None
        )
    except (FolderInUse, DatabaseFileError, SchemaTooNew, NotOurDatabase) as exc:
        _log.warning("cannot open workspace %s: %s", paths.data_dir, exc)
        show_error(str(exc))
        return None
    if workspace.migration.backup is not None:
        _log.info(
            "upgraded database from %s, backup at %s",
            sorted(workspace.migration.previous),
            workspace.migration.backup,
        )
    return workspace


def _install_qt_chinese(app: Any) -> None:
    """Chinese for Qt's own dialogs and buttons (确定/取消/是/否, file dialogs). The build ships only
    qtbase_zh_CN.qm, in the folder QLibraryInfo reports both from source and frozen."""
    from PySide6.QtCore import QLibraryInfo, QLocale, QTranslator

    translator = QTranslator(app)  # parented: lives as long as the app
    folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    if translator.load(QLocale(QLocale.Language.Chinese, QLocale.Country.China), "qtbase", "_", folder):
        app.installTranslator(translator)
    else:
        _log.info("qtbase_zh_CN.qm not found in %s; Qt's standard buttons stay in English", folder)


def _set_window_icon(app: Any) -> None:
    from PySide6.QtGui import QIcon

    from dyy_desk.infra.paths import resource_path

    app.setWindowIcon(QIcon(str(resource_path("icons", "dyy_desk.svg"))))


def _import_data_layer_first() -> None:
    """Before PySide6, on purpose: once PySide6 is loaded, its __feature__ import hook reads the source
    of every module imported after it (about 0.2 s for SQLAlchemy and SQLModel at each start)."""
    import dyy_desk.services.workspace  # noqa: F401


def run_gui(
    paths: DataPaths,
    *,
    selftest: bool = False,
    clock: Clock | None = None,
    on_ready: Callable[[object], None] | None = None,
) -> int:
    """`on_ready(window)` runs once the queue shows its first rows (start-up benchmark)."""
    if selftest:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    setup_logging(paths.log_dir)
    _import_data_layer_first()
    from PySide6.QtWidgets import QApplication, QMessageBox

    from dyy_desk.ui.first_run import ensure_current_user, needs_welcome, run_welcome
    from dyy_desk.ui.main_window import MainWindow
    from dyy_desk.ui.theme import apply_theme

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("DYY Desk")
    _install_qt_chinese(app)
    _set_window_icon(app)
    apply_theme(app)

    def show_error(message: str) -> None:
        if selftest:
            print(f"FAIL {message}", file=sys.stderr)
        else:
            QMessageBox.critical(None, "无法打开数据文件夹", message)

    clock = clock or SystemClock()
    settings = load_settings(paths.config_dir)
    trusted_user_id = None
    if not selftest and needs_welcome(paths):
        # First start on this data folder: 演示数据 or 空白工作区, then the current user. Nothing is
        # written until the user has chosen; quitting the welcome creates no workspace.
        workspace = run_welcome(lambda seed: open_or_explain(paths, clock, show_error, seed), settings)
        if workspace is None:
            return 1
        trusted_user_id = settings.current_user_id  # chosen a moment ago: not asked again at once
    else:
        workspace = open_or_explain(paths, clock, show_error)
        if workspace is None:
            return 2
    from dyy_desk.services.workspace import Workspace

    assert isinstance(workspace, Workspace)
    try:
        if not selftest and not ensure_current_user(workspace, settings):
            return 1
        window = MainWindow(
            workspace=workspace,
            settings=settings,
            ask_passwords=not selftest,
            trusted_user_id=trusted_user_id,
        )
        if selftest:
            from dyy_desk.ui.selftest import SelfTestFailed, run_selftest

            try:
                # Flushed per line: a pipe is block-buffered, and bench_package times the first line.
                run_selftest(window, lambda line: print(line, flush=True))
            except SelfTestFailed as exc:
                print(f"FAIL {exc}", file=sys.stderr)
                return 1
            finally:
                window.close()
            print("selftest passed")
            return 0
        if not window.restore_layout():
            window.resize(1280, 760)
        if on_ready is not None:
            window.ready.connect(lambda: on_ready(window))
        window.show()
        return app.exec()
    finally:
        workspace.close()

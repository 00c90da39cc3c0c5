"""Composition root: paths → logging → Qt → workspace (locked, migrated) → main window."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable

from dyy_desk.core.clock import Clock, SystemClock
from dyy_desk.infra.logs import setup_logging
from dyy_desk.infra.paths import DataPaths
from dyy_desk.infra.settings import load_settings

_log = logging.getLogger(__name__)


def open_or_explain(paths: DataPaths, clock: Clock, show_error: Callable[[str], None]) -> object | None:
    """Open the workspace, or show the user why not (the files stay as they were) and return None."""
    from dyy_desk.db.file_check import DatabaseFileError
    from dyy_desk.db.migrate import NotOurDatabase, SchemaTooNew
    from dyy_desk.infra.instance_lock import FolderInUse
    from dyy_desk.services.workspace import open_workspace

    try:
        workspace = open_workspace(paths, clock=clock)
    except (FolderInUse, DatabaseFileError, SchemaTooNew, NotOurDatabase) as exc:
        _log.warning("cannot open workspace %s: %s", paths.data_dir, exc)
        show_error(str(exc))
        return None
    if workspace.migration.backup is not None:
        _log.info(
            "upgraded database from %s, backup at %s",
            workspace.migration.previous,
            workspace.migration.backup,
        )
    return workspace


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
    from PySide6.QtWidgets import QApplication, QMessageBox

    from dyy_desk.ui.first_run import ensure_current_user
    from dyy_desk.ui.main_window import MainWindow
    from dyy_desk.ui.theme import apply_theme

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("DYY Desk")
    apply_theme(app)

    def show_error(message: str) -> None:
        if selftest:
            print(f"FAIL {message}", file=sys.stderr)
        else:
            QMessageBox.critical(None, "无法打开数据文件夹", message)

    workspace = open_or_explain(paths, clock or SystemClock(), show_error)
    if workspace is None:
        return 2
    from dyy_desk.services.workspace import Workspace

    assert isinstance(workspace, Workspace)
    try:
        settings = load_settings(paths.config_dir)
        if not selftest and not ensure_current_user(workspace, settings):
            return 1
        window = MainWindow(workspace=workspace, settings=settings)
        if selftest:
            from dyy_desk.ui.selftest import SelfTestFailed, run_selftest

            try:
                run_selftest(window, print)
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

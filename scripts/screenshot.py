"""Take a screenshot of the real main window (run under Xvfb or a desktop) for a visual check.

xvfb-run -s "-screen 0 1366x768x24" python scripts/screenshot.py DATA_DIR OUT.png [--ticket N]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("data_dir")
    parser.add_argument("out")
    parser.add_argument("--row", type=int, default=0, help="queue row to open")
    parser.add_argument("--area", type=int, default=0, help="navigation row to show")
    parser.add_argument("--user", help="name of the user to work as")
    parser.add_argument("--search", help="type this into the library search (with --area 1)")
    args = parser.parse_args()

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from dyy_desk.core.clock import SystemClock
    from dyy_desk.infra.paths import resolve_paths
    from dyy_desk.infra.settings import load_settings
    from dyy_desk.services.workspace import open_workspace
    from dyy_desk.ui.main_window import MainWindow
    from dyy_desk.ui.theme import apply_theme

    app = QApplication([])
    apply_theme(app)
    paths = resolve_paths(args.data_dir)
    workspace = open_workspace(paths, clock=SystemClock())
    window = MainWindow(workspace=workspace, settings=load_settings(paths.config_dir))

    def on_ready() -> None:
        if args.user:
            window.set_user(next(u for u in window.workspace.directory.users() if u.name == args.user))
        window.queue.table.selectRow(args.row)
        window.nav.show_area(args.area)
        if args.search:
            window.library_panel.search_view.search_edit.setText(args.search)
            window.library_context.index_ready.connect(lambda: QTimer.singleShot(500, shoot))
            window._start_maintenance()  # loads the library index
            return
        QTimer.singleShot(800, shoot)

    def shoot() -> None:
        window.grab().save(args.out)
        print(f"saved {args.out} ({window.width()}x{window.height()})")
        window.close()
        app.quit()

    window.ready.connect(on_ready)
    window.setGeometry(app.primaryScreen().availableGeometry())
    window.show()
    app.exec()
    workspace.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

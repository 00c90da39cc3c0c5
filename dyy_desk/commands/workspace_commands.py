"""`init` and `selftest`: create a workspace, or prove the real window works on one."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(sub: Any) -> None:
    init = sub.add_parser("init", help="在数据文件夹中创建工作区")
    kind = init.add_mutually_exclusive_group()
    kind.add_argument("--demo", dest="seed", action="store_const", const="demo", help="演示数据（默认）")
    kind.add_argument("--empty", dest="seed", action="store_const", const="empty", help="空白工作区")
    init.set_defaults(handler=_init, seed="demo")
    selftest = sub.add_parser("selftest", help="离屏启动主窗口并检查工单列表")
    selftest.set_defaults(handler=_selftest)
    gui = sub.add_parser("gui", help="启动图形界面（默认）")
    gui.set_defaults(handler=_gui)


def _init(args: argparse.Namespace) -> int:
    from dyy_desk.core.clock import SystemClock
    from dyy_desk.db.file_check import DatabaseFileError
    from dyy_desk.db.migrate import NotOurDatabase, SchemaTooNew
    from dyy_desk.infra.instance_lock import FolderInUse
    from dyy_desk.infra.paths import resolve_paths
    from dyy_desk.services.errors import ServiceError
    from dyy_desk.services.workspace import Seed, initialise

    try:
        print(initialise(resolve_paths(args.data_dir), clock=SystemClock(), seed=Seed(args.seed)))
    except (ServiceError, FolderInUse, DatabaseFileError, SchemaTooNew, NotOurDatabase) as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    return 0


def _selftest(args: argparse.Namespace) -> int:
    from dyy_desk.app import run_gui
    from dyy_desk.infra.paths import resolve_paths

    return run_gui(resolve_paths(args.data_dir), selftest=True)


def _gui(args: argparse.Namespace) -> int:
    from dyy_desk.app import run_gui
    from dyy_desk.infra.paths import resolve_paths

    return run_gui(resolve_paths(args.data_dir))

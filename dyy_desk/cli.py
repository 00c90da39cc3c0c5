"""The `dyy-desk` command: the GUI by default; headless sub-commands built on the same services.

Each area registers its sub-commands from a module in dyy_desk/commands/; heavy imports stay inside
the handlers so `dyy-desk --version` and GUI start-up pay only for what they use.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from dyy_desk import __version__
from dyy_desk.commands import command_modules


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dyy-desk", description="DYY Desk 代运营客服工作台")
    parser.add_argument("--version", action="version", version=f"dyy-desk {__version__}")
    parser.add_argument(
        "--data-dir", metavar="DIR", help="数据文件夹（默认：系统用户数据目录，或 DYY_DESK_HOME）"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in command_modules():
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(encoding="utf-8")  # Chinese output on a Windows console
        sys.stderr.reconfigure(encoding="utf-8")  # type: ignore[union-attr]
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        from dyy_desk.app import run_gui
        from dyy_desk.infra.paths import resolve_paths

        return run_gui(resolve_paths(args.data_dir))
    return int(args.handler(args))

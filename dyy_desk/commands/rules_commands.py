"""Supervisors put edited rules into force from the command line: SOP templates, business hours and
escalation rules. A bad file is refused with its file, line and reason, and nothing changes."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    from dyy_desk.commands.security_commands import add_actor_args

    sop = sub.add_parser("sop", help="SOP 处理清单：导入模板、设置工作时间")
    sop_sub = sop.add_subparsers(dest="sop_command", metavar="ACTION", required=True)
    template = sop_sub.add_parser("import-template", help="导入（或更新）一个 SOP 模板 TOML 文件")
    template.add_argument("file", type=Path)
    add_actor_args(template)
    template.set_defaults(handler=_import_template)
    hours = sop_sub.add_parser("set-business-hours", help="设置工作时间与节假日（TOML 文件）")
    hours.add_argument("file", type=Path)
    add_actor_args(hours)
    hours.set_defaults(handler=_business_hours)
    show = sop_sub.add_parser("show-business-hours", help="打印当前的工作时间设置")
    show.set_defaults(handler=_show_business_hours)

    rules = sub.add_parser("escalation-rules", help="升级规则：导入新的规则文件，或查看当前规则")
    rules_sub = rules.add_subparsers(dest="rules_command", metavar="ACTION", required=True)
    load = rules_sub.add_parser("import", help="启用新的升级规则文件（出错时旧规则继续有效）")
    load.add_argument("file", type=Path)
    add_actor_args(load)
    load.set_defaults(handler=_escalation_rules)
    current = rules_sub.add_parser("show", help="显示当前规则的来源")
    current.set_defaults(handler=_show_escalation_rules)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"无法读取 {path}：{exc}") from exc


def _with_supervisor(args: argparse.Namespace, action: Any) -> int:
    """Open the workspace, check the --as user is a supervisor/admin (password asked), run `action`."""
    from dyy_desk.commands.security_commands import _fail, _open, authenticated_actor
    from dyy_desk.core.types import Role
    from dyy_desk.services.errors import ServiceError

    workspace = _open(args)
    if workspace is None:
        return 2
    try:
        actor = authenticated_actor(workspace.auth, args, roles={Role.SUPERVISOR, Role.ADMIN})
        message = action(workspace, actor)
    except (ValueError, PermissionError, LookupError, ServiceError) as exc:
        return _fail(exc)  # a bad file, a wrong password, an agent: plain message, nothing changed
    finally:
        workspace.close()
    print(message)
    return 0


def _import_template(args: argparse.Namespace) -> int:
    text = None

    def run(workspace: Any, actor: Any) -> str:
        imported = workspace.sop.catalog.import_template(
            text=text, source=args.file.name, actor_id=actor.id, now=workspace.clock.now()
        )
        return f"已导入 SOP 模板「{imported.name}」（{imported.template_id} 第 {imported.version} 版）"

    try:
        text = _read(args.file)
    except ValueError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    return _with_supervisor(args, run)


def _show(args: argparse.Namespace, text: Any) -> int:
    """Read-only commands: any user may look; `text(workspace)` is what gets printed."""
    from dyy_desk.commands.security_commands import _open

    workspace = _open(args)
    if workspace is None:
        return 2
    try:
        print(text(workspace))
    finally:
        workspace.close()
    return 0


def _show_business_hours(args: argparse.Namespace) -> int:
    return _show(args, lambda workspace: workspace.sop.catalog.business_hours_text())


def _business_hours(args: argparse.Namespace) -> int:
    try:
        text = _read(args.file)
    except ValueError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2

    def run(workspace: Any, actor: Any) -> str:
        workspace.sop.catalog.save_business_hours(text=text, actor_id=actor.id, now=workspace.clock.now())
        return "已保存工作时间设置；之后按工作时间计算的时限以此为准。"

    return _with_supervisor(args, run)


def _show_escalation_rules(args: argparse.Namespace) -> int:
    def text(workspace: Any) -> str:
        info = workspace.escalations.rules_info()
        return f"当前升级规则：{info.source}（{info.imported_at or '程序自带'}）"

    return _show(args, text)


def _escalation_rules(args: argparse.Namespace) -> int:
    try:
        text = _read(args.file)
    except ValueError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2

    def run(workspace: Any, actor: Any) -> str:
        info, _changes = workspace.escalations.import_rules(
            actor_id=actor.id, text=text, source=args.file.name
        )
        return f"已启用新的升级规则：{info.source}"

    return _with_supervisor(args, run)

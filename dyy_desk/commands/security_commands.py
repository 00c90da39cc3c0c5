"""`audit verify|show`, `backup`, `restore FILE`, `passwd NAME`: security chores for scripts and admins.

The CLI rule for anything a supervisor/admin does: the acting user is `--as NAME`, and their password
comes from `--password-stdin` (one line per password asked) or DYY_DESK_PASSWORD — never from an
argument, which would land in shell history and process lists. On a terminal it is asked for instead.
Other command modules use `add_actor_args` and `authenticated_actor` to follow the same rule.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dyy_desk.core.types import UserRow
    from dyy_desk.services.auth_service import AuthService

ENV_PASSWORD = "DYY_DESK_PASSWORD"
ENV_NEW_PASSWORD = "DYY_DESK_NEW_PASSWORD"


def register(sub: Any) -> None:
    audit = sub.add_parser("audit", help="审计日志：校验哈希链、查看最近记录")
    audit_sub = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    verify = audit_sub.add_parser("verify", help="校验审计日志是否被改动、删除或调换顺序")
    verify.set_defaults(handler=_audit_verify)
    show = audit_sub.add_parser("show", help="显示最近的审计记录（主管或管理员）")
    add_actor_args(show)
    show.add_argument("--last", type=int, default=20, metavar="N", help="显示最近 N 条（默认 20）")
    show.set_defaults(handler=_audit_show)

    backup = sub.add_parser("backup", help="立即备份数据库，并打印备份文件")
    backup.set_defaults(handler=_backup)
    restore = sub.add_parser("restore", help="从备份文件恢复数据库（先校验，再备份当前数据库）")
    restore.add_argument("file", metavar="FILE")
    restore.set_defaults(handler=_restore)

    passwd = sub.add_parser("passwd", help="设置或修改主管/管理员的密码")
    passwd.add_argument("name", metavar="NAME", help="要设置密码的用户")
    passwd.add_argument(
        "--as", dest="actor", metavar="ACTOR", help="操作人（默认本人；管理员可重设他人密码）"
    )
    _password_stdin_arg(passwd)
    passwd.set_defaults(handler=_passwd)


def add_actor_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--as", dest="actor", required=True, metavar="NAME", help="操作人（工作区中的用户名）"
    )
    _password_stdin_arg(parser)


def _password_stdin_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        help=f"从标准输入读取密码（每行一个）；也可用环境变量 {ENV_PASSWORD}",
    )


def read_secret(args: argparse.Namespace, *, prompt: str, env: str = ENV_PASSWORD) -> str:
    from dyy_desk.services.errors import ServiceError

    if getattr(args, "password_stdin", False):
        line = sys.stdin.readline()
        if not line:
            raise ServiceError("标准输入中没有密码")
        return line.rstrip("\r\n")
    if os.environ.get(env) is not None:
        return os.environ[env]
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass(prompt)
    raise ServiceError(f"需要密码：请用 --password-stdin 从标准输入提供，或设置环境变量 {env}")


def authenticated_actor(auth: AuthService, args: argparse.Namespace, *, roles: Any = None) -> UserRow:
    """The `--as` user after their password checks out (agents have none). With `roles`, others are
    refused before any password is asked for."""
    from dyy_desk.core.types import ROLE_LABELS
    from dyy_desk.services.auth_service import AccessDenied

    user = auth.user_by_name(name=args.actor)
    if roles is not None and user.role not in roles:
        wanted = "或".join(ROLE_LABELS[r] for r in ROLE_LABELS if r in roles)
        raise AccessDenied(f"{ROLE_LABELS[user.role]}「{user.name}」无权执行此操作：仅{wanted}可以操作")
    if auth.needs_password(user):
        auth.authenticate(user_id=user.id, password=read_secret(args, prompt=f"{user.name} 的密码："))
    return user


def _fail(exc: BaseException) -> int:
    print(f"错误：{exc}", file=sys.stderr)
    return 2


def _audit_verify(args: argparse.Namespace) -> int:
    from dyy_desk.db.engine import make_engine
    from dyy_desk.db.migrate import current_revisions
    from dyy_desk.infra.paths import resolve_paths
    from dyy_desk.services.audit import verify_audit

    paths = resolve_paths(args.data_dir)
    revisions, _ = current_revisions(paths.db_path)
    if "0006_security" not in revisions:
        return _fail(RuntimeError(f"{paths.db_path} 还没有审计日志（数据库不存在或尚未升级）"))
    engine = make_engine(paths.db_path)  # read only: no lock, works while a window is open
    try:
        with engine.connect() as conn:
            report = verify_audit(conn)
    finally:
        engine.dispose()
    if report.ok:
        print(f"审计日志完整：共 {report.entries} 条，哈希链一致。")
        return 0
    print(f"审计日志校验失败（共 {report.entries} 条，发现 {len(report.problems)} 处问题）：")
    for problem in report.problems:
        print(f"  {problem.reason}")
    return 1


def _audit_show(args: argparse.Namespace) -> int:
    from dyy_desk.core.clock import SystemClock
    from dyy_desk.services.audit import last_entries
    from dyy_desk.services.auth_service import PASSWORD_ROLES, AuthService

    workspace = _open(args)
    if workspace is None:
        return 2
    try:
        auth = AuthService(engine=workspace.engine, clock=SystemClock())
        authenticated_actor(auth, args, roles=PASSWORD_ROLES)
        names = {u.id: u.name for u in workspace.directory.users()}
        with workspace.engine.connect() as conn:
            entries = last_entries(conn, limit=max(1, args.last))
        if not entries:
            print("审计日志还是空的。")
        for e in entries:
            who = names.get(e.actor_id, e.actor_id) if e.actor_id else "系统"
            print(
                f"{e.seq}\t{e.at.astimezone():%Y-%m-%d %H:%M:%S}\t{who}\t{e.action}\t{e.target}\t{e.details}"
            )
        return 0
    except (PermissionError, ValueError, RuntimeError) as exc:
        return _fail(exc)
    finally:
        workspace.close()


def _passwd(args: argparse.Namespace) -> int:
    from dyy_desk.core.clock import SystemClock
    from dyy_desk.core.types import Role
    from dyy_desk.services.auth_service import AccessDenied, AuthService
    from dyy_desk.services.errors import ServiceError

    workspace = _open(args)
    if workspace is None:
        return 2
    try:
        auth = AuthService(engine=workspace.engine, clock=SystemClock())
        target = auth.user_by_name(name=args.name)
        actor = auth.user_by_name(name=args.actor) if args.actor else target
        old = None
        if actor.id != target.id:
            if actor.role is not Role.ADMIN:  # refused before any password is asked for
                raise AccessDenied(f"「{actor.name}」无权修改「{target.name}」的密码：仅本人或管理员可以修改")
            authenticated_actor(auth, argparse.Namespace(**{**vars(args), "actor": actor.name}))
        elif auth.has_password(user_id=target.id):
            old = read_secret(args, prompt=f"{target.name} 的当前密码：")
        new = read_secret(args, prompt=f"{target.name} 的新密码：", env=ENV_NEW_PASSWORD)
        if sys.stdin.isatty() and not args.password_stdin and os.environ.get(ENV_NEW_PASSWORD) is None:
            import getpass

            if getpass.getpass("再输入一次新密码：") != new:
                raise ServiceError("两次输入的新密码不一致，密码未修改")
        auth.set_password(actor_id=actor.id, user_id=target.id, new_password=new, old_password=old)
        print(f"已设置「{target.name}」的密码。")
        return 0
    except (PermissionError, ValueError, RuntimeError) as exc:
        return _fail(exc)
    finally:
        workspace.close()


def _open(args: argparse.Namespace) -> Any:
    from dyy_desk.core.clock import SystemClock
    from dyy_desk.db.file_check import DatabaseFileError
    from dyy_desk.db.migrate import NotOurDatabase, SchemaTooNew
    from dyy_desk.infra.instance_lock import FolderInUse
    from dyy_desk.infra.paths import resolve_paths
    from dyy_desk.services.workspace import open_workspace

    try:
        return open_workspace(resolve_paths(args.data_dir), clock=SystemClock(), seed_if_new=None)
    except (FolderInUse, DatabaseFileError, SchemaTooNew, NotOurDatabase) as exc:
        _fail(exc)
        return None


def _backup(args: argparse.Namespace) -> int:
    from dyy_desk.core.clock import SystemClock
    from dyy_desk.infra.paths import resolve_paths
    from dyy_desk.services.backup_service import BackupService
    from dyy_desk.services.errors import ServiceError

    try:
        path = BackupService(paths=resolve_paths(args.data_dir), clock=SystemClock()).backup_now()
    except (ServiceError, OSError) as exc:
        return _fail(exc)
    print(path)
    return 0


def _restore(args: argparse.Namespace) -> int:
    from pathlib import Path

    from dyy_desk.core.clock import SystemClock
    from dyy_desk.infra.instance_lock import FolderInUse
    from dyy_desk.infra.paths import resolve_paths
    from dyy_desk.services.backup_service import restore_database
    from dyy_desk.services.errors import ServiceError

    try:
        result = restore_database(resolve_paths(args.data_dir), Path(args.file), clock=SystemClock())
    except (ServiceError, FolderInUse, OSError) as exc:
        return _fail(exc)
    print(f"已从 {result.restored_from} 恢复数据库。")
    if result.previous_backup is not None:
        print(f"恢复前的数据库已备份到 {result.previous_backup}")
    if result.needs_upgrade:
        print("该备份来自较早的版本，下次打开时会自动升级（升级前同样会先备份）。")
    return 0

"""`export`, `import` and `team-key`: move work between machines as encrypted bundles (数据包)."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dyy_desk.services.sync_team import SyncService

_UNPROTECTED_HELP = (
    "没有可用的系统钥匙串时，允许把团队密钥保存在未受保护的文件中（任何能打开本机文件的人都能读取）"
)


def register(sub: Any) -> None:
    exp = sub.add_parser("export", help="导出数据包（同步到其他电脑）")
    exp.add_argument("--out", required=True, metavar="FILE", help="数据包文件")
    exp.add_argument("--client", metavar="NAME", help="只导出这个品牌方的全部数据")
    exp.add_argument("--library-only", action="store_true", help="只导出知识库、模板和规则")
    exp.add_argument("--mask-personal-data", action="store_true", help="买家手机号、地址打码")
    exp.add_argument("--allow-unprotected-file", action="store_true", help=_UNPROTECTED_HELP)
    exp.set_defaults(handler=_export)
    imp = sub.add_parser("import", help="导入数据包（默认只预览）")
    imp.add_argument("file", metavar="FILE")
    imp.add_argument("--yes", action="store_true", help="确认导入（否则只显示预览）")
    imp.add_argument("--allow-unprotected-file", action="store_true", help=_UNPROTECTED_HELP)
    imp.set_defaults(handler=_import)
    team = sub.add_parser("team-key", help="团队密钥：创建、查看、加入")
    team_sub = team.add_subparsers(dest="team_command", metavar="ACTION", required=True)
    create = team_sub.add_parser("create", help="创建新团队密钥（只显示一次，请妥善转交同事）")
    show = team_sub.add_parser("show", help="显示本机保存的团队密钥")
    join = team_sub.add_parser("join", help="输入同事给的团队密钥，加入团队")
    join.add_argument("key", nargs="?", help="团队密钥（省略时从标准输入读取）")
    for parser, handler in ((create, _team_create), (show, _team_show), (join, _team_join)):
        parser.add_argument("--allow-unprotected-file", action="store_true", help=_UNPROTECTED_HELP)
        parser.set_defaults(handler=handler)
    for parser in (create, join):
        parser.add_argument("--name", help="本机在同步消息中显示的名称（默认：系统用户名）")


def _with_sync(args: argparse.Namespace, work: Callable[[SyncService], int]) -> int:
    from dyy_desk.core.clock import SystemClock
    from dyy_desk.core.sync.errors import BundleError
    from dyy_desk.db.file_check import DatabaseFileError
    from dyy_desk.db.migrate import NotOurDatabase, SchemaTooNew
    from dyy_desk.infra.instance_lock import FolderInUse
    from dyy_desk.infra.paths import resolve_paths
    from dyy_desk.infra.secrets import TeamKeyStore
    from dyy_desk.services.errors import ServiceError
    from dyy_desk.services.sync_team import SyncService
    from dyy_desk.services.workspace import open_workspace

    try:
        paths = resolve_paths(args.data_dir)
        workspace = open_workspace(paths, clock=SystemClock(), seed_if_new=None)
    except (FolderInUse, DatabaseFileError, SchemaTooNew, NotOurDatabase) as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    try:
        keys = TeamKeyStore(paths.config_dir, allow_unprotected_file=args.allow_unprotected_file)
        service = SyncService(
            engine=workspace.engine,
            clock=workspace.clock,
            machine_id=workspace.machine_id,
            keys=keys,
            backups=workspace.backups,  # `import --yes` copies the database first
        )
        return work(service)
    except BundleError as exc:
        print(f"已拒绝导入：{exc.message}", file=sys.stderr)
        print("本机数据未做任何改动。", file=sys.stderr)
        return 3
    except ServiceError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    finally:
        workspace.close()


def _progress(done: int, total: int, label: str) -> None:
    if sys.stderr.isatty():
        print(f"\r{label} {done}/{total}", end="", file=sys.stderr, flush=True)


def _export(args: argparse.Namespace) -> int:
    def work(service: SyncService) -> int:
        result = service.export(
            out=Path(args.out),
            client_name=args.client,
            library_only=args.library_only,
            mask_personal_data=args.mask_personal_data,
            progress=_progress,
        )
        number = f"第 {result.sequence} 号" if result.sequence else ""
        print(f"已导出{number}数据包 {result.path}（{result.total} 条记录，{result.size_bytes} 字节）")
        for table, count in sorted(result.counts.items()):
            print(f"  {table}: {count}")
        if result.masked:
            print("买家手机号、地址已打码。")
        return 0

    return _with_sync(args, work)


def _import(args: argparse.Namespace) -> int:
    from dyy_desk.services.sync_report import describe

    def work(service: SyncService) -> int:
        path = Path(args.file)
        if args.yes:
            report = service.apply(path=path, progress=_progress)
        else:
            report = service.preview(path=path, progress=_progress)
        for line in describe(report, names=service.peer_names()):
            print(line)
        if not args.yes:
            print("确认导入请加上 --yes。")
        return 0

    return _with_sync(args, work)


def _default_name() -> str:
    try:
        return getpass.getuser()
    except Exception:  # getuser raises whatever the platform lookup raises
        return "本机"


def _keyring_note() -> None:
    from dyy_desk.infra.secrets import keyring_status

    status = keyring_status()
    if not status.available:
        print(f"注意：{status.problem}", file=sys.stderr)


def _team_create(args: argparse.Namespace) -> int:
    def work(service: SyncService) -> int:
        _keyring_note()
        text, location = service.create_team(name=args.name or _default_name())
        _print_joined(service, location)
        print("团队密钥（只显示这一次，请通过安全的方式交给同事）：")
        print(text)
        return 0

    return _with_sync(args, work)


def _team_join(args: argparse.Namespace) -> int:
    def work(service: SyncService) -> int:
        _keyring_note()
        text = args.key if args.key else sys.stdin.read()
        service.join_team(key_text=text, name=args.name or _default_name())
        _print_joined(service, None)
        return 0

    return _with_sync(args, work)


def _print_joined(service: SyncService, location: object) -> None:
    from dyy_desk.services.sync_team import LOCATION_TEXT

    info = service.info()
    _, _, where = service.team_key()
    print(f"已加入团队 {info.team_id}，本机显示为“{info.name}”；密钥保存在：{LOCATION_TEXT[where]}。")


def _team_show(args: argparse.Namespace) -> int:
    from dyy_desk.infra.bundle_crypto import format_team_key
    from dyy_desk.services.sync_team import LOCATION_TEXT

    def work(service: SyncService) -> int:
        _keyring_note()
        team_id, key, where = service.team_key()
        print(f"团队 {team_id}（密钥来自{LOCATION_TEXT[where]}）：")
        print(format_team_key(key))
        return 0

    return _with_sync(args, work)

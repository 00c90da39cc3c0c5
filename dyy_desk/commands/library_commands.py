"""`library import|export` and `search`: the FAQ / reply-script library from the command line.

The acting user is `--as NAME`, or the workspace's first supervisor; a workspace with no users at all
(fresh from `init --empty`) gets a supervisor named 主管 so a library can be imported into it. Search
with `--stdin --jsonl` answers one query per input line from a single process (the index is loaded
once), flushing each answer so a caller can time queries one by one.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dyy_desk.services.library_service import LibraryService
    from dyy_desk.services.workspace import Workspace

_Work = Callable[["Workspace", "LibraryService", "str | None"], int]


def register(sub: Any) -> None:
    library = sub.add_parser("library", help="知识库与话术：导入、导出")
    library_sub = library.add_subparsers(dest="library_command", metavar="ACTION", required=True)

    imp = library_sub.add_parser("import", help="从 CSV / XLSX 导入（全部行无误才写入）")
    imp.add_argument("file", metavar="FILE")
    imp.add_argument("--kind", choices=("faq", "scripts"), help="知识库或话术（默认按列名判断）")
    imp.add_argument("--sheet", metavar="NAME", help="XLSX 中要读取的工作表（默认第一个）")
    _actor_arg(imp)
    imp.set_defaults(handler=_import)

    exp = library_sub.add_parser("export", help="导出为 CSV（UTF-8 带 BOM）或 XLSX")
    exp.add_argument("file", metavar="FILE")
    exp.add_argument("--kind", choices=("faq", "scripts"), default="faq", help="知识库（默认）或话术")
    exp.add_argument("--client", metavar="NAME", help="只导出通用条目和该客户的条目")
    _actor_arg(exp)
    exp.set_defaults(handler=_export)

    search = sub.add_parser("search", help="搜索知识库和话术")
    search.add_argument("query", nargs="?", metavar="QUERY")
    search.add_argument("--client", metavar="NAME", help="按客户（品牌方）范围搜索")
    search.add_argument("--limit", type=int, default=10, metavar="N", help="最多返回 N 条（默认 10）")
    search.add_argument("--json", action="store_true", help="输出 JSON 数组")
    search.add_argument("--stdin", action="store_true", help="从标准输入逐行读取查询（可用 TAB 后接客户名）")
    search.add_argument("--jsonl", action="store_true", help="与 --stdin 一起：每个查询输出一行 JSON")
    _actor_arg(search)
    search.set_defaults(handler=_search)


def _actor_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--as", dest="actor", metavar="NAME", help="操作人（默认：工作区的第一位主管）")


def _run(args: argparse.Namespace, work: _Work, *, need_actor: bool) -> int:
    from dyy_desk.core.clock import SystemClock
    from dyy_desk.core.library_rows import LibraryFileError
    from dyy_desk.db.file_check import DatabaseFileError
    from dyy_desk.db.migrate import NotOurDatabase, SchemaTooNew
    from dyy_desk.infra.instance_lock import FolderInUse
    from dyy_desk.infra.paths import resolve_paths
    from dyy_desk.services.errors import ServiceError
    from dyy_desk.services.library_service import LibraryService
    from dyy_desk.services.workspace import open_workspace

    try:
        workspace = open_workspace(resolve_paths(args.data_dir), clock=SystemClock(), seed_if_new=None)
    except (FolderInUse, DatabaseFileError, SchemaTooNew, NotOurDatabase) as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    try:
        service = LibraryService(
            engine=workspace.engine,
            clock=workspace.clock,
            origin=workspace.machine_id,
            cache_dir=workspace.paths.cache_dir,
        )
        return work(workspace, service, _actor(workspace, args.actor, create=need_actor))
    except LibraryFileError as exc:
        for issue in exc.issues:
            print(f"错误：{issue}", file=sys.stderr)
        return 2
    except (ServiceError, PermissionError) as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    finally:
        workspace.close()


def _actor(workspace: Workspace, name: str | None, *, create: bool) -> str | None:
    from dyy_desk.core.types import Role
    from dyy_desk.services.errors import NotFound

    users = workspace.directory.users()
    if name:
        for user in users:
            if user.name == name:
                return user.id
        raise NotFound(f"工作区中没有名为「{name}」的用户")
    for user in users:
        if user.role in (Role.SUPERVISOR, Role.ADMIN):
            return user.id
    if users or not create:
        return None
    user, _ = workspace.directory.create_user(name="主管", role=Role.SUPERVISOR)
    print("工作区还没有用户，已创建主管「主管」", file=sys.stderr)
    return user.id


def _kind(value: str | None) -> Any:
    from dyy_desk.core.library_rows import LibraryKind

    return LibraryKind(value) if value else None


def _import(args: argparse.Namespace) -> int:
    def work(_ws: Workspace, service: LibraryService, actor: str | None) -> int:
        from pathlib import Path

        if actor is None:
            print("错误：工作区中没有主管，请用 --as 指定操作人", file=sys.stderr)
            return 2
        path = Path(args.file)
        if not path.is_file():
            print(f"错误：找不到文件 {path}", file=sys.stderr)
            return 2
        preview = service.preview_import(user_id=actor, path=path, kind=_kind(args.kind), sheet=args.sheet)
        print(preview.summary())
        if not preview.ok:
            for issue in preview.issues:
                print(f"错误：{issue}", file=sys.stderr)
            print("文件有错误，未导入任何内容。", file=sys.stderr)
            return 1
        result, _ = service.apply_import(user_id=actor, preview=preview)
        print(f"已导入：新增 {result.created} 条，更新 {result.updated} 条，未变 {result.unchanged} 条")
        return 0

    return _run(args, work, need_actor=True)


def _export(args: argparse.Namespace) -> int:
    def work(ws: Workspace, service: LibraryService, actor: str | None) -> int:
        from pathlib import Path

        client_id = _client_id(ws, args.client) if args.client else None
        count = service.export(
            path=Path(args.file), kind=_kind(args.kind), client_id=client_id, user_id=actor
        )
        print(f"已导出 {count} 条到 {args.file}")
        return 0

    return _run(args, work, need_actor=False)


def _client_id(workspace: Workspace, name: str) -> str:
    from dyy_desk.services.errors import NotFound

    for client in workspace.directory.clients():
        if client.name == name:
            return client.id
    raise NotFound(f"没有名为「{name}」的客户")


def _search(args: argparse.Namespace) -> int:
    if args.stdin == bool(args.query):
        print("错误：请给出查询文字，或使用 --stdin 从标准输入读取", file=sys.stderr)
        return 2

    def work(ws: Workspace, service: LibraryService, actor: str | None) -> int:
        import json

        service.index.load()
        clients = {c.name: c.id for c in ws.directory.clients()}

        def answer(query: str, client: str | None) -> list[dict[str, Any]] | None:
            if client and client not in clients:
                print(f"错误：没有名为「{client}」的客户", file=sys.stderr)
                return None
            hits = service.search(
                query, client_id=clients[client] if client else None, user_id=actor, limit=args.limit
            )
            return [{"id": h.external_id, "kind": h.kind, "title": h.title, "score": h.score} for h in hits]

        if not args.stdin:
            result = answer(args.query, args.client)
            if result is None:
                return 2
            if args.json:
                print(json.dumps(result, ensure_ascii=False))
            else:
                for item in result:
                    print(f"{item['score']:.3f}\t{item['kind']}\t{item['id']}\t{item['title']}")
                if not result or result[0]["score"] < service.index.no_match_threshold:
                    print("（没有找到合适的条目）")
            return 0
        for line in sys.stdin:
            text = line.rstrip("\r\n")
            query, _, client = text.partition("\t")
            result = answer(query, client.strip() or args.client) or []
            if args.jsonl or args.json:
                print(json.dumps(result, ensure_ascii=False), flush=True)
            else:
                print("\t".join(f"{r['id']}:{r['score']:.3f}" for r in result), flush=True)
        return 0

    return _run(args, work, need_actor=False)

"""`qa …`: QA sampling for a supervisor's scripts — plans, draws, redraw checks, reports.

The acting user is `--as NAME` (a user of the workspace). Supervisors and admins prove who they are
with their password (`--password-stdin` or DYY_DESK_PASSWORD, never an argument; see
security_commands); supervisor-only actions refuse an agent before any password is asked for. The
service then enforces the same roles as the window.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from dyy_desk.commands.security_commands import add_actor_args, authenticated_actor

if TYPE_CHECKING:
    from dyy_desk.services.qa_service import QAService


def register(sub: Any) -> None:
    qa = sub.add_parser("qa", help="质检抽检：计划、抽检、重现核对、报表")
    qa_sub = qa.add_subparsers(dest="qa_command", metavar="ACTION", required=True)

    redraw = qa_sub.add_parser("redraw", help="按保存的计划、种子和候选快照重新抽取，核对是否完全一致")
    redraw.add_argument("sample_id", metavar="SAMPLE_ID")
    redraw.set_defaults(handler=_redraw)

    report = qa_sub.add_parser("report", help="质检报表（可导出 .xlsx 或 .csv）")
    add_actor_args(report)
    report.add_argument("--out", metavar="FILE", help="导出到 FILE（.xlsx 或 .csv）")
    report.set_defaults(handler=_report, managers_only=False)

    plans = qa_sub.add_parser("plans", help="列出抽检计划")
    add_actor_args(plans)
    plans.set_defaults(handler=_plans, managers_only=True)

    add = qa_sub.add_parser("plan-add", help="新建抽检计划")
    add_actor_args(add)
    add.add_argument("--name", required=True, help="计划名称")
    add.add_argument("--period", choices=("day", "week"), default="day", help="按天或按周抽检")
    size = add.add_mutually_exclusive_group(required=True)
    size.add_argument("--count", type=int, help="每位客服每期抽 N 张")
    size.add_argument("--percent", help="每位客服每期抽 P%%")
    add.add_argument("--min", dest="minimum", type=int, default=0, help="按比例时的最低数量")
    add.set_defaults(handler=_plan_add, managers_only=True)

    draw = qa_sub.add_parser("draw", help="按计划执行一次抽检")
    add_actor_args(draw)
    draw.add_argument("plan", metavar="PLAN", help="计划名称或 id")
    draw.add_argument("--day", help="抽检日期 YYYY-MM-DD（默认今天；按周计划取该日所在的周）")
    draw.add_argument("--seed", type=int, help="随机种子（默认随机生成并保存）")
    draw.set_defaults(handler=_draw, managers_only=True)

    samples = qa_sub.add_parser("samples", help="列出抽检记录")
    add_actor_args(samples)
    samples.set_defaults(handler=_samples, managers_only=True)

    card = qa_sub.add_parser("scorecard-import", help="导入评分表 TOML（新版本请把 version 加 1）")
    add_actor_args(card)
    card.add_argument("file", metavar="FILE")
    card.set_defaults(handler=_scorecard_import, managers_only=True)


def _run(args: argparse.Namespace, work: Callable[[QAService, str | None], int]) -> int:
    """Open the workspace, authenticate `--as`, run, and turn every expected failure into a message."""
    from dyy_desk.core.clock import SystemClock
    from dyy_desk.core.qa_access import QA_MANAGERS
    from dyy_desk.db.file_check import DatabaseFileError
    from dyy_desk.db.migrate import NotOurDatabase, SchemaTooNew
    from dyy_desk.infra.instance_lock import FolderInUse
    from dyy_desk.infra.paths import resolve_paths
    from dyy_desk.services.auth_service import AuthService
    from dyy_desk.services.errors import ServiceError
    from dyy_desk.services.qa_service import QAService
    from dyy_desk.services.workspace import open_workspace

    try:
        workspace = open_workspace(resolve_paths(args.data_dir), clock=SystemClock(), seed_if_new=None)
    except (FolderInUse, DatabaseFileError, SchemaTooNew, NotOurDatabase) as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    try:
        qa = QAService(engine=workspace.engine, clock=workspace.clock, origin=workspace.machine_id)
        actor_id = None
        if getattr(args, "actor", None):
            auth = AuthService(engine=workspace.engine, clock=workspace.clock)
            roles = QA_MANAGERS if args.managers_only else None
            actor_id = authenticated_actor(auth, args, roles=roles).id
        return work(qa, actor_id)
    except (ServiceError, PermissionError, ValueError) as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    finally:
        workspace.close()


def _redraw(args: argparse.Namespace) -> int:
    def work(qa: QAService, _actor: str | None) -> int:
        result = qa.redraw(sample_id=args.sample_id)
        print(result.message)
        if not result.identical:
            print(f"保存的抽取：{', '.join(result.stored) or '（无）'}")
            print(f"重新抽取：{', '.join(result.redrawn) or '（无）'}")
        return 0 if result.identical else 1

    return _run(args, work)


def _report(args: argparse.Namespace) -> int:
    def work(qa: QAService, actor: str | None) -> int:
        from pathlib import Path

        from dyy_desk.services.qa_export import SUMMARY_HEADER, summary_rows

        assert actor is not None
        if args.out:
            print(f"已导出：{qa.export_report(actor_id=actor, path=Path(args.out).resolve())}")
            return 0
        view = qa.report(actor_id=actor)
        print("\t".join(SUMMARY_HEADER))
        for dim, name, count, avg, pass_rate, fatal_rate, top in summary_rows(view):
            print(f"{dim}\t{name}\t{count}\t{avg:.1f}\t{pass_rate:.1%}\t{fatal_rate:.1%}\t{top}")
        return 0

    return _run(args, work)


def _plans(args: argparse.Namespace) -> int:
    def work(qa: QAService, actor: str | None) -> int:
        assert actor is not None
        rows = qa.plans(actor_id=actor)
        if not rows:
            print("还没有抽检计划。用 `dyy-desk qa plan-add` 新建。")
        for row in rows:
            p = row.plan
            size = f"{p.count} 张" if p.count is not None else f"{p.percent}%（最少 {p.minimum} 张）"
            print(f"{p.id}\t{p.name}\t{'按天' if p.period == 'day' else '按周'}\t每位客服 {size}")
        return 0

    return _run(args, work)


def _plan_add(args: argparse.Namespace) -> int:
    def work(qa: QAService, actor: str | None) -> int:
        from decimal import Decimal, InvalidOperation

        from dyy_desk.core.qa_sampling import SamplingPeriod

        assert actor is not None
        try:
            percent = Decimal(args.percent) if args.percent is not None else None
        except InvalidOperation:
            print(f"错误：抽检比例「{args.percent}」不是数字", file=sys.stderr)
            return 2
        row, _ = qa.create_plan(
            actor_id=actor,
            name=args.name,
            period=SamplingPeriod(args.period),
            count=args.count,
            percent=percent,
            minimum=args.minimum,
        )
        print(f"已创建抽检计划「{row.plan.name}」：{row.plan.id}")
        return 0

    return _run(args, work)


def _draw(args: argparse.Namespace) -> int:
    def work(qa: QAService, actor: str | None) -> int:
        from datetime import date

        assert actor is not None
        plan = next((r.plan for r in qa.plans(actor_id=actor) if args.plan in (r.plan.id, r.plan.name)), None)
        if plan is None:
            print(f"错误：没有名为「{args.plan}」的抽检计划", file=sys.stderr)
            return 2
        try:
            day = date.fromisoformat(args.day) if args.day else None
        except ValueError:
            print(f"错误：日期「{args.day}」格式应为 YYYY-MM-DD", file=sys.stderr)
            return 2
        sample, _ = qa.draw(actor_id=actor, plan_id=plan.id, day=day, seed=args.seed)
        print(
            f"抽检 {sample.id}：{sample.window_label}，候选 {sample.candidates} 张，"
            f"抽中 {sample.picked} 张，种子 {sample.seed}"
        )
        return 0

    return _run(args, work)


def _samples(args: argparse.Namespace) -> int:
    def work(qa: QAService, actor: str | None) -> int:
        assert actor is not None
        rows = qa.samples(actor_id=actor)
        if not rows:
            print("还没有抽检记录。用 `dyy-desk qa draw` 执行抽检。")
        for s in rows:
            print(f"{s.id}\t{s.plan_name}\t{s.window_label}\t抽中 {s.picked}/{s.candidates}\t种子 {s.seed}")
        return 0

    return _run(args, work)


def _scorecard_import(args: argparse.Namespace) -> int:
    def work(qa: QAService, actor: str | None) -> int:
        from pathlib import Path

        assert actor is not None
        path = Path(args.file)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            print(f"错误：无法读取 {path}：{exc.strerror or exc}", file=sys.stderr)
            return 2
        card, changes = qa.install_scorecard(actor_id=actor, text=text, source=path.name)
        state = "已导入" if changes.qa else "已存在，未改动"
        print(f"评分表「{card.name}」{card.id} v{card.version} {state}")
        return 0

    return _run(args, work)

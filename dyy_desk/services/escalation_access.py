"""Who may do what to an escalation, checked before any write and shown beside disabled buttons.

Anyone may escalate a ticket by hand. An agent may take an escalation (acknowledge it as owner) for
themselves; assigning it to someone else, changing its level and closing it are for supervisors and
admins. Work on it (start, resolve, reopen, 复盘, 回访) is for its owner or a supervisor/admin.
`refusals` dry-runs the pure lifecycle too, so a state rule (L3 needs 复盘 + 回访) shows up as well.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from dyy_desk.core import escalation_lifecycle as life
from dyy_desk.core.escalation_model import Escalation, EscalationLevel, FollowUp, PostMortem
from dyy_desk.core.escalation_rules import RuleSet
from dyy_desk.core.types import ROLE_LABELS, Role, UserRow
from dyy_desk.services.escalation_views import EscalationOp

MANAGERS = frozenset({Role.SUPERVISOR, Role.ADMIN})
_MANAGER_ONLY = {EscalationOp.CLOSE: "关闭升级", EscalationOp.CHANGE_LEVEL: "调整升级级别"}
_OWNER_OR_MANAGER = {
    EscalationOp.START: "开始处理",
    EscalationOp.RESOLVE: "标记解决",
    EscalationOp.REOPEN: "重新处理",
    EscalationOp.POST_MORTEM: "填写复盘",
    EscalationOp.FOLLOW_UP: "记录回访",
}


def require(op: EscalationOp, esc: Escalation, actor: UserRow, *, owner_id: str | None = None) -> None:
    """Raise PermissionError (plain Chinese) when `actor` may not do `op`; `owner_id` for acknowledge."""
    who = f"{ROLE_LABELS[actor.role]}「{actor.name}」"
    if actor.role in MANAGERS:
        return
    if op is EscalationOp.ACKNOWLEDGE:
        if owner_id not in (None, actor.id):
            raise PermissionError(f"{who}无权把升级指派给他人：仅主管或管理员可以指派")
    elif op in _MANAGER_ONLY:
        raise PermissionError(f"{who}无权{_MANAGER_ONLY[op]}：仅主管或管理员可以操作")
    elif esc.owner_id != actor.id:
        raise PermissionError(f"{who}无权{_OWNER_OR_MANAGER[op]}：仅该升级的负责人或主管可以操作")


def refusals(
    esc: Escalation, actor: UserRow | None, *, now: datetime, rules: RuleSet
) -> dict[EscalationOp, str | None]:
    """For each op: None when `actor` may do it now, else why not (the message the service would raise)."""
    other_level = EscalationLevel.L2 if esc.level is not EscalationLevel.L2 else EscalationLevel.L3
    dry_runs: dict[EscalationOp, Callable[[str], object]] = {
        EscalationOp.ACKNOWLEDGE: lambda a: life.acknowledge(esc, owner_id=a, actor_id=a, now=now),
        EscalationOp.START: lambda a: life.start_work(esc, actor_id=a, now=now),
        EscalationOp.RESOLVE: lambda a: life.resolve(esc, actor_id=a, now=now),
        EscalationOp.CLOSE: lambda a: life.close(esc, actor_id=a, now=now),
        EscalationOp.REOPEN: lambda a: life.reopen(esc, actor_id=a, reason="-", now=now),
        EscalationOp.CHANGE_LEVEL: lambda a: life.change_level(
            esc, to_level=other_level, reason="-", actor_id=a, now=now, rules=rules
        ),
        EscalationOp.POST_MORTEM: lambda a: life.record_post_mortem(
            esc, PostMortem("-", "-", "-", "-"), actor_id=a, now=now
        ),
        EscalationOp.FOLLOW_UP: lambda a: life.record_follow_up(
            esc, FollowUp(now, True, "-"), actor_id=a, now=now
        ),
    }
    out: dict[EscalationOp, str | None] = {}
    for op, dry_run in dry_runs.items():
        if actor is None:
            out[op] = "请先在右上角选择当前用户"
            continue
        try:
            require(op, esc, actor)
            dry_run(actor.id)
        except (PermissionError, life.EscalationTransitionError) as exc:
            out[op] = str(exc)
        else:
            out[op] = None
    return out

"""Who may do what in QA, as pure checks the services call before any write or read.

Supervisors and admins plan, draw and score; an agent only ever sees their own finished results,
never drafts and never calibration scores (those rate the reviewers, not the agent).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeVar

from dyy_desk.core.types import ROLE_LABELS, Role, UserRow

QA_MANAGERS = frozenset({Role.SUPERVISOR, Role.ADMIN})


class _AgentResult(Protocol):
    @property
    def agent_id(self) -> str: ...

    @property
    def visible_to_agent(self) -> bool: ...


def require_qa_manager(actor: UserRow, action: str) -> None:
    """`action` is the Chinese verb phrase shown to the user, e.g. "创建抽检计划"."""
    if actor.role not in QA_MANAGERS:
        raise PermissionError(
            f"{ROLE_LABELS[actor.role]}「{actor.name}」无权{action}：仅主管或管理员可以操作"
        )


def require_own_results(actor: UserRow, agent_id: str) -> None:
    """An agent asking for someone else's results is refused; managers may ask for anyone."""
    if actor.role not in QA_MANAGERS and actor.id != agent_id:
        raise PermissionError("客服只能查看自己的质检结果")


R = TypeVar("R", bound=_AgentResult)


def visible_results(actor: UserRow, results: Iterable[R]) -> list[R]:
    """Managers see everything; an agent sees only their own results that are visible to agents."""
    if actor.role in QA_MANAGERS:
        return list(results)
    return [r for r in results if r.agent_id == actor.id and r.visible_to_agent]

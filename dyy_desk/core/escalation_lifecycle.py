"""Escalation lifecycle: 待响应 → 已响应 → 处理中 → 已解决 → 已关闭, level changes, 复盘 and 回访.

Every function takes an Escalation and returns a new one plus the HistoryEntry the DB layer appends
(who, when, what); nothing is mutated, so a refused step leaves the caller's record as it was.

First-response deadline on a level change, decided here:
- raising while nobody has responded yet: due = min(current due, change time + new level's window),
  so a raise never grants more time, and a fresh, shorter window starts at the change;
- lowering keeps the deadline: a response already owed stays owed;
- once acknowledged, the first response is history and the deadline no longer moves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from typing import Any

from dyy_desk.core.deadlines import DeadlineState, DueSoonPolicy, deadline_state
from dyy_desk.core.escalation_model import (
    ESCALATION_STATUS_LABELS,
    LEVEL_LABELS,
    CreateEscalation,
    Escalation,
    EscalationAction,
    EscalationLevel,
    EscalationStatus,
    EvidenceRef,
    FollowUp,
    HistoryEntry,
    HistoryKind,
    JoinEvidence,
    PostMortem,
    RaiseLevel,
)
from dyy_desk.core.escalation_rules import RuleSet, ticket_key

S = EscalationStatus
# Resolved may be reopened; closed is final.
ALLOWED_NEXT: Mapping[EscalationStatus, tuple[EscalationStatus, ...]] = {
    S.PENDING: (S.ACKNOWLEDGED,),
    S.ACKNOWLEDGED: (S.IN_PROGRESS,),
    S.IN_PROGRESS: (S.RESOLVED,),
    S.RESOLVED: (S.CLOSED, S.IN_PROGRESS),
    S.CLOSED: (),
}
# Due soon in the last 25 % of the response window or its last 30 minutes, whichever starts earlier.
FIRST_RESPONSE_POLICY = DueSoonPolicy(fraction=0.25, min_lead=timedelta(minutes=30))
_POST_MORTEM_LABELS = {"cause": "原因", "impact": "影响", "actions": "已采取措施", "prevention": "预防措施"}


class EscalationTransitionError(ValueError):
    """A refused lifecycle step; `str()` is the message shown to the user."""


@dataclass(frozen=True)
class Transition:
    escalation: Escalation
    entry: HistoryEntry


def _label(level: EscalationLevel) -> str:
    return f"{level.code} {LEVEL_LABELS[level]}"


def _entry(
    esc: Escalation, now: datetime, actor_id: str | None, kind: HistoryKind, text: str
) -> HistoryEntry:
    return HistoryEntry(escalation_id=esc.id, at=now, actor_id=actor_id, kind=kind, text=text)


def _required(text: str, message: str) -> str:
    if not text.strip():
        raise EscalationTransitionError(message)
    return text.strip()


def _not_closed(esc: Escalation, what: str) -> None:
    if esc.status is S.CLOSED:
        raise EscalationTransitionError(f"升级已关闭，不能{what}")


def first_response_state(esc: Escalation, now: datetime) -> DeadlineState | None:
    """Countdown state of the first response; None once someone has responded."""
    if esc.acknowledged_at is not None or esc.status is not S.PENDING:
        return None
    return deadline_state(
        esc.first_response_due, now, window_start=esc.first_response_from, policy=FIRST_RESPONSE_POLICY
    )


def _opened(esc: Escalation, actor_id: str | None, text: str) -> Transition:
    entry = replace(
        _entry(esc, esc.created_at, actor_id, HistoryKind.CREATED, text),
        to_status=esc.status,
        to_level=esc.level,
        evidence=tuple(sorted(esc.evidence)),
    )
    return Transition(esc, entry)


def open_escalation(action: CreateEscalation, *, escalation_id: str, now: datetime) -> Transition:
    esc = Escalation(
        id=escalation_id,
        rule_id=action.rule_id,
        group_key=action.group_key,
        level=action.level,
        status=S.PENDING,
        reason=action.reason,
        created_at=now,
        first_response_from=now,
        first_response_due=action.first_response_due,
        evidence=frozenset(action.evidence),
    )
    return _opened(esc, None, f"自动升级为 {_label(action.level)}：{action.reason}")


def open_manual(
    *,
    escalation_id: str,
    ticket_id: str,
    level: EscalationLevel,
    reason: str,
    actor_id: str,
    now: datetime,
    rules: RuleSet,
) -> Transition:
    """Escalate one ticket by hand; the level is the person's choice, so rules will not raise it."""
    reason = _required(reason, "手动升级必须填写原因")
    esc = Escalation(
        id=escalation_id,
        rule_id=None,
        group_key=ticket_key(ticket_id),
        level=level,
        status=S.PENDING,
        reason=reason,
        created_at=now,
        first_response_from=now,
        first_response_due=now + rules.response_window(level),
        evidence=frozenset({EvidenceRef(ticket_id)}),
        level_set_by_hand=True,
    )
    return _opened(esc, actor_id, f"手动升级为 {_label(level)}：{reason}")


def _move(
    esc: Escalation, to: EscalationStatus, actor_id: str, now: datetime, note: str = "", **changes: Any
) -> Transition:
    allowed = ALLOWED_NEXT[esc.status]
    if to not in allowed:
        options = "、".join(f"「{ESCALATION_STATUS_LABELS[s]}」" for s in allowed) or "无（升级已关闭）"
        raise EscalationTransitionError(
            f"升级不能从「{ESCALATION_STATUS_LABELS[esc.status]}」变为「{ESCALATION_STATUS_LABELS[to]}」；"
            f"当前允许: {options}"
        )
    moved = replace(esc, status=to, **changes)
    text = f"状态由「{ESCALATION_STATUS_LABELS[esc.status]}」变为「{ESCALATION_STATUS_LABELS[to]}」"
    entry = replace(
        _entry(moved, now, actor_id, HistoryKind.STATUS, text + (f"：{note}" if note else "")),
        from_status=esc.status,
        to_status=to,
    )
    return Transition(moved, entry)


def acknowledge(esc: Escalation, *, owner_id: str, actor_id: str, now: datetime) -> Transition:
    owner_id = _required(owner_id, "响应升级必须指定负责人")
    return _move(
        esc, S.ACKNOWLEDGED, actor_id, now, f"负责人 {owner_id}", owner_id=owner_id, acknowledged_at=now
    )


def start_work(esc: Escalation, *, actor_id: str, now: datetime) -> Transition:
    return _move(esc, S.IN_PROGRESS, actor_id, now)


def resolve(esc: Escalation, *, actor_id: str, now: datetime, note: str = "") -> Transition:
    return _move(esc, S.RESOLVED, actor_id, now, note.strip(), resolved_at=now)


def reopen(esc: Escalation, *, actor_id: str, reason: str, now: datetime) -> Transition:
    reason = _required(reason, "重新处理必须填写原因")
    return _move(esc, S.IN_PROGRESS, actor_id, now, reason, resolved_at=None)


def close(esc: Escalation, *, actor_id: str, now: datetime) -> Transition:
    """L3 closes only with a complete 复盘 and a 回访 result on record."""
    if esc.level is EscalationLevel.L3 and esc.status is S.RESOLVED:
        missing = []
        if esc.post_mortem is None or _missing_parts(esc.post_mortem):
            missing.append("复盘（原因、影响、已采取措施、预防措施）")
        if esc.follow_up is None:
            missing.append("回访结果")
        if missing:
            raise EscalationTransitionError(f"L3 紧急干预关闭前必须填写: {'、'.join(missing)}")
    return _move(esc, S.CLOSED, actor_id, now, closed_at=now)


def _missing_parts(post_mortem: PostMortem) -> list[str]:
    return [
        _POST_MORTEM_LABELS[f.name] for f in fields(post_mortem) if not getattr(post_mortem, f.name).strip()
    ]


def record_post_mortem(
    esc: Escalation, post_mortem: PostMortem, *, actor_id: str, now: datetime
) -> Transition:
    _not_closed(esc, "再修改复盘")
    missing = _missing_parts(post_mortem)
    if missing:
        raise EscalationTransitionError(f"复盘内容不完整，请填写: {'、'.join(missing)}")
    cleaned = PostMortem(*(getattr(post_mortem, f.name).strip() for f in fields(post_mortem)))
    text = f"填写复盘：原因 {cleaned.cause}"
    return Transition(
        replace(esc, post_mortem=cleaned), _entry(esc, now, actor_id, HistoryKind.POST_MORTEM, text)
    )


def record_follow_up(esc: Escalation, follow_up: FollowUp, *, actor_id: str, now: datetime) -> Transition:
    _not_closed(esc, "再修改回访")
    note = _required(follow_up.note, "回访必须填写说明")
    cleaned = replace(follow_up, note=note)
    text = f"回访买家：{'满意' if follow_up.satisfied else '不满意'}，{note}"
    return Transition(
        replace(esc, follow_up=cleaned), _entry(esc, now, actor_id, HistoryKind.FOLLOW_UP, text)
    )


def _change_level(
    esc: Escalation,
    to_level: EscalationLevel,
    reason: str,
    actor_id: str | None,
    now: datetime,
    rules: RuleSet,
    *,
    by_hand: bool,
) -> Transition:
    _not_closed(esc, "调整级别")
    reason = _required(reason, "调整级别必须填写原因")
    if to_level == esc.level:
        raise EscalationTransitionError(f"级别已是 {_label(to_level)}")
    start, due = esc.first_response_from, esc.first_response_due
    if to_level > esc.level and esc.status is S.PENDING and now + rules.response_window(to_level) < due:
        start, due = now, now + rules.response_window(to_level)
    changed = replace(
        esc,
        level=to_level,
        first_response_from=start,
        first_response_due=due,
        level_set_by_hand=esc.level_set_by_hand or by_hand,
    )
    verb = "升至" if to_level > esc.level else "降至"
    entry = replace(
        _entry(
            changed,
            now,
            actor_id,
            HistoryKind.LEVEL,
            f"级别由 {_label(esc.level)} {verb} {_label(to_level)}：{reason}",
        ),
        from_level=esc.level,
        to_level=to_level,
    )
    return Transition(changed, entry)


def change_level(
    esc: Escalation, *, to_level: EscalationLevel, reason: str, actor_id: str, now: datetime, rules: RuleSet
) -> Transition:
    """A person raises or lowers the level (reason required); rules stop adjusting it from then on."""
    return _change_level(esc, to_level, reason, actor_id, now, rules, by_hand=True)


def apply_action(
    action: EscalationAction,
    *,
    open_escalations: Mapping[str, Escalation],
    now: datetime,
    rules: RuleSet,
    new_id: Callable[[], str],
) -> Transition | None:
    """Apply one evaluation action; None when it changes nothing (e.g. evidence already attached)."""
    if isinstance(action, CreateEscalation):
        return open_escalation(action, escalation_id=new_id(), now=now)
    esc = open_escalations[action.escalation_id]
    if isinstance(action, RaiseLevel):
        if esc.level_set_by_hand or action.to_level <= esc.level:
            return None
        return _change_level(esc, action.to_level, action.reason, None, now, rules, by_hand=False)
    return join_evidence(esc, action, now=now)


def join_evidence(esc: Escalation, action: JoinEvidence, *, now: datetime) -> Transition | None:
    """Attach new evidence; refs already attached are dropped, so evidence arriving twice counts once."""
    _not_closed(esc, "再添加证据")
    new = tuple(ref for ref in dict.fromkeys(action.evidence) if ref not in esc.evidence)
    if not new:
        return None
    joined = replace(esc, evidence=esc.evidence | frozenset(new))
    entry = replace(_entry(joined, now, None, HistoryKind.EVIDENCE, action.reason), evidence=new)
    return Transition(joined, entry)

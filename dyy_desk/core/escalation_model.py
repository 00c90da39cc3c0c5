"""Values shared by the escalation rules, evaluation and lifecycle; the DB layer persists these.

Everything here is a frozen dataclass or an enum so it can cross from the worker thread to the UI.
Evidence is a set of `EvidenceRef`s: a ticket, or one SOP step of a ticket. Within one rule a ref is
evidence of at most one escalation, which is what makes evaluation idempotent and de-duplicating.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import IntEnum, StrEnum

from dyy_desk.core.deadlines import DeadlineState
from dyy_desk.core.types import Platform, TicketCategory, TicketStatus


class EscalationLevel(IntEnum):
    """Ordered so `max()` and `<` mean "more urgent"; stored and written in files as "L1".."L3"."""

    L1 = 1
    L2 = 2
    L3 = 3

    @property
    def code(self) -> str:
        return self.name

    @classmethod
    def from_code(cls, code: str) -> EscalationLevel:
        try:
            return cls[code]
        except KeyError:
            raise ValueError(f'未知升级级别 "{code}"（可选: L1, L2, L3）') from None


LEVEL_LABELS: dict[EscalationLevel, str] = {
    EscalationLevel.L1: "潜在风险",
    EscalationLevel.L2: "重点关注",
    EscalationLevel.L3: "紧急干预",
}


class EscalationStatus(StrEnum):
    PENDING = "pending"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"


ESCALATION_STATUS_LABELS: dict[EscalationStatus, str] = {
    EscalationStatus.PENDING: "待响应",
    EscalationStatus.ACKNOWLEDGED: "已响应",
    EscalationStatus.IN_PROGRESS: "处理中",
    EscalationStatus.RESOLVED: "已解决",
    EscalationStatus.CLOSED: "已关闭",
}


class HistoryKind(StrEnum):
    CREATED = "created"
    EVIDENCE = "evidence"
    STATUS = "status"
    LEVEL = "level"
    POST_MORTEM = "post_mortem"
    FOLLOW_UP = "follow_up"


@dataclass(frozen=True, order=True)
class EvidenceRef:
    """A ticket (`step_id` empty) or one SOP step of a ticket."""

    ticket_id: str
    step_id: str = ""


@dataclass(frozen=True, slots=True)
class TicketFact:
    """What the rules read of a ticket; tags and product identify "the same issue". Slotted: the
    rule index holds thousands."""

    id: str
    client_id: str
    shop_id: str
    platform: Platform
    category: TicketCategory
    status: TicketStatus
    created_at: datetime
    platform_intervention: bool = False
    product: str | None = None
    tags: frozenset[str] = frozenset()


@dataclass(frozen=True)
class SopStepFact:
    """The deadline state of one open SOP step, computed by the caller with deadlines.py."""

    ticket_id: str
    step_id: str
    state: DeadlineState
    deadline: datetime
    step_title: str = ""

    @property
    def ref(self) -> EvidenceRef:
        return EvidenceRef(self.ticket_id, self.step_id)


@dataclass(frozen=True)
class PostMortem:
    """复盘: all four parts are required before an L3 escalation may close."""

    cause: str
    impact: str
    actions: str
    prevention: str


@dataclass(frozen=True)
class FollowUp:
    """回访: the buyer was contacted again after the fix."""

    contacted_at: datetime
    satisfied: bool
    note: str


@dataclass(frozen=True)
class Escalation:
    """One escalation as stored. `rule_id` is None for one raised by hand from a ticket.

    `first_response_from` is when the current first-response window began (creation, or the raise
    that shortened it); the due-soon warning is measured on that window.
    `level_set_by_hand` stops automatic raises once a person has chosen the level.
    """

    id: str
    rule_id: str | None
    group_key: str
    level: EscalationLevel
    status: EscalationStatus
    reason: str
    created_at: datetime
    first_response_from: datetime
    first_response_due: datetime
    evidence: frozenset[EvidenceRef]
    owner_id: str | None = None
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    level_set_by_hand: bool = False
    post_mortem: PostMortem | None = None
    follow_up: FollowUp | None = None

    @property
    def ticket_ids(self) -> tuple[str, ...]:
        return tuple(sorted({ref.ticket_id for ref in self.evidence}))

    def closed_evidence(self) -> ClosedEvidence | None:
        """What closing this escalation consumes (None for a manual one).

        A level chosen by a person consumes the evidence at every level: the person weighed it, so the
        rule must not bring it back just because the person's level was below the rule's.
        """
        if self.rule_id is None:
            return None
        level = max(EscalationLevel) if self.level_set_by_hand else self.level
        return ClosedEvidence(self.rule_id, level, self.evidence)


@dataclass(frozen=True)
class ClosedEvidence:
    """What a closed escalation consumed: these refs never fire `rule_id` again at `level` or below."""

    rule_id: str
    level: EscalationLevel
    evidence: frozenset[EvidenceRef]


@dataclass(frozen=True)
class EscalationSnapshot:
    """Input of a full evaluation: the tickets, open SOP steps, open escalations, closed evidence."""

    tickets: tuple[TicketFact, ...] = ()
    steps: tuple[SopStepFact, ...] = ()
    open_escalations: tuple[Escalation, ...] = ()
    closed: tuple[ClosedEvidence, ...] = ()


@dataclass(frozen=True)
class CreateEscalation:
    """A new escalation. `first_at`/`last_at` span the evidence (ticket creation or step deadline)."""

    rule_id: str
    group_key: str
    level: EscalationLevel
    evidence: tuple[EvidenceRef, ...]
    first_at: datetime
    last_at: datetime
    first_response_due: datetime
    reason: str

    @property
    def count(self) -> int:
        return len(self.evidence)


@dataclass(frozen=True)
class JoinEvidence:
    """New evidence for an open escalation of the same rule and key."""

    escalation_id: str
    rule_id: str
    group_key: str
    evidence: tuple[EvidenceRef, ...]
    reason: str


@dataclass(frozen=True)
class RaiseLevel:
    escalation_id: str
    rule_id: str
    group_key: str
    from_level: EscalationLevel
    to_level: EscalationLevel
    reason: str


EscalationAction = CreateEscalation | JoinEvidence | RaiseLevel


@dataclass(frozen=True)
class HistoryEntry:
    """One line of an escalation's history (who, when, what); `actor_id` None means the system."""

    escalation_id: str
    at: datetime
    actor_id: str | None
    kind: HistoryKind
    text: str
    from_status: EscalationStatus | None = None
    to_status: EscalationStatus | None = None
    from_level: EscalationLevel | None = None
    to_level: EscalationLevel | None = None
    evidence: tuple[EvidenceRef, ...] = field(default_factory=tuple)


def duration_text(window: timedelta) -> str:
    """'30 分钟', '24 小时', '7 天' for reasons and messages."""
    minutes = int(window.total_seconds() // 60)
    if minutes >= 2 * 24 * 60 and minutes % (24 * 60) == 0:
        return f"{minutes // (24 * 60)} 天"
    if minutes % 60 == 0:
        return f"{minutes // 60} 小时"
    return f"{minutes} 分钟"

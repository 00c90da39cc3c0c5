"""Frozen values the escalation service hands to the UI: rows for the board, details, applied actions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from dyy_desk.core.escalation_model import Escalation, EscalationLevel, HistoryKind


class EscalationOp(StrEnum):
    """What a person can do to an escalation; the UI enables one button per op."""

    ACKNOWLEDGE = "acknowledge"
    START = "start"
    RESOLVE = "resolve"
    CLOSE = "close"
    REOPEN = "reopen"
    CHANGE_LEVEL = "change_level"
    POST_MORTEM = "post_mortem"
    FOLLOW_UP = "follow_up"


class BoardSort(StrEnum):
    LEVEL = "level"  # most urgent level first, then soonest first-response deadline
    DUE = "due"  # soonest first-response deadline first (answered ones last)


@dataclass(frozen=True)
class BoardFilter:
    """What the board shows: open escalations, optionally only those concerning a client or shop."""

    sort: BoardSort = BoardSort.LEVEL
    client_id: str | None = None
    shop_id: str | None = None


@dataclass(frozen=True)
class BoardScope:
    """The clients and shops that open escalations concern: the board's filter choices."""

    clients: tuple[tuple[str, str], ...]  # (name, id), by name
    shops: tuple[tuple[str, str, str], ...]  # (name, id, client id), by name


@dataclass(frozen=True)
class EvidenceTicket:
    ticket_id: str
    number: str
    subject: str
    client_id: str
    client_name: str
    shop_id: str
    shop_name: str
    step_id: str = ""
    evidence_at: datetime | None = None


@dataclass(frozen=True)
class EscalationRow:
    escalation: Escalation
    rule_name: str  # "手动升级" for one raised by hand
    tickets: tuple[EvidenceTicket, ...]
    owner_name: str | None = None
    raised_by: str | None = None
    raised_by_name: str | None = None
    updated_at: datetime | None = None

    @property
    def id(self) -> str:
        return self.escalation.id

    @property
    def level(self) -> EscalationLevel:
        return self.escalation.level

    @property
    def client_ids(self) -> frozenset[str]:
        return frozenset(t.client_id for t in self.tickets)

    @property
    def shop_ids(self) -> frozenset[str]:
        return frozenset(t.shop_id for t in self.tickets)

    @property
    def scope_text(self) -> str:
        """Who it concerns, for one column: 暖居家纺 · 暖居家纺天猫旗舰店 (+1)."""
        pairs = sorted({(t.client_name, t.shop_name) for t in self.tickets})
        if not pairs:
            return ""
        head = f"{pairs[0][0]} · {pairs[0][1]}"
        return head + (f"（另 {len(pairs) - 1} 个店铺）" if len(pairs) > 1 else "")


@dataclass(frozen=True)
class HistoryRow:
    at: datetime
    actor_name: str | None  # None: the system (a rule)
    kind: HistoryKind
    text: str


@dataclass(frozen=True)
class EscalationDetail:
    row: EscalationRow
    history: tuple[HistoryRow, ...]
    # for the person who asked: None when allowed, else the refusal shown beside the button
    refusals: Mapping[EscalationOp, str | None] = field(default_factory=dict)

    def allowed(self, op: EscalationOp) -> bool:
        return self.refusals.get(op, "未知操作") is None


@dataclass(frozen=True)
class AppliedAction:
    """One rule action written to the database by `run_rules`."""

    kind: str  # "create", "join" or "raise"
    escalation_id: str
    rule_id: str
    level: EscalationLevel
    ticket_ids: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class RulesInfo:
    source: str
    imported_at: datetime | None  # None: the bundled resources/escalation_rules.toml
    imported_by: str | None
    rule_names: tuple[str, ...]
    response_hours: Mapping[EscalationLevel, float]

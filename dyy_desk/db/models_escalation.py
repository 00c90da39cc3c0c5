"""Escalation (升级) tables: escalations, their evidence, append-only history, consumed evidence, rules.

The lifecycle and rules live in the pure core (escalation_*.py); these tables only persist its values.
`escalation_closed` keeps what a closed escalation consumed per rule, so evidence never fires the same
rule again at that level. `escalation_rule_set` keeps every imported rules text; the newest is in
force, and the text travels with sync so every machine runs the same rules.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field

from dyy_desk.db.models import SyncColumns
from dyy_desk.db.types import UTCDateTime


class EscalationRecord(SyncColumns, table=True):
    __tablename__ = "escalation"

    id: str = Field(primary_key=True, max_length=36)
    rule_id: str | None = Field(default=None, max_length=64, index=True)  # None: raised by hand
    group_key: str = Field(max_length=500)
    level: int
    status: str = Field(max_length=16, index=True)
    reason: str
    created_at: datetime = Field(sa_type=UTCDateTime)
    first_response_from: datetime = Field(sa_type=UTCDateTime)
    first_response_due: datetime = Field(sa_type=UTCDateTime)
    owner_id: str | None = Field(default=None, foreign_key="user.id", max_length=36)
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    level_set_by_hand: bool = Field(default=False)
    pm_cause: str | None = Field(default=None)
    pm_impact: str | None = Field(default=None)
    pm_actions: str | None = Field(default=None)
    pm_prevention: str | None = Field(default=None)
    follow_up_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    follow_up_satisfied: bool | None = Field(default=None)
    follow_up_note: str | None = Field(default=None)
    raised_by: str | None = Field(default=None, foreign_key="user.id", index=True, max_length=36)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class EscalationEvidenceRecord(SyncColumns, table=True):
    """One ticket (or one SOP step of a ticket) attached to an escalation; `evidence_at` is when it
    happened (ticket created, step deadline), `added_at` when it joined."""

    __tablename__ = "escalation_evidence"

    id: str = Field(primary_key=True, max_length=36)
    escalation_id: str = Field(foreign_key="escalation.id", index=True, max_length=36)
    ticket_id: str = Field(foreign_key="ticket.id", index=True, max_length=36)
    step_id: str = Field(default="", max_length=64)
    evidence_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    added_at: datetime = Field(sa_type=UTCDateTime)


class EscalationHistoryRecord(SyncColumns, table=True):
    """Append-only: one row per step (created, evidence, status, level, 复盘, 回访), with who and when."""

    __tablename__ = "escalation_history"

    id: str = Field(primary_key=True, max_length=36)
    escalation_id: str = Field(foreign_key="escalation.id", index=True, max_length=36)
    at: datetime = Field(sa_type=UTCDateTime)
    actor_id: str | None = Field(default=None, foreign_key="user.id", max_length=36)
    kind: str = Field(max_length=16)
    text: str
    from_status: str | None = Field(default=None, max_length=16)
    to_status: str | None = Field(default=None, max_length=16)
    from_level: int | None = Field(default=None)
    to_level: int | None = Field(default=None)
    evidence: str = Field(default="")  # JSON [[ticket_id, step_id], …] of the refs this step added


class EscalationClosedRecord(SyncColumns, table=True):
    """Evidence consumed by a closed escalation: `rule_id` never fires on this ref at `level` or below."""

    __tablename__ = "escalation_closed"

    id: str = Field(primary_key=True, max_length=36)
    escalation_id: str = Field(foreign_key="escalation.id", index=True, max_length=36)
    rule_id: str = Field(max_length=64)
    level: int
    ticket_id: str = Field(max_length=36)
    step_id: str = Field(default="", max_length=64)


class EscalationRuleSetRecord(SyncColumns, table=True):
    __tablename__ = "escalation_rule_set"

    id: str = Field(primary_key=True, max_length=36)
    source: str = Field(max_length=200)
    text: str
    imported_by: str | None = Field(default=None, foreign_key="user.id", max_length=36)
    imported_at: datetime = Field(index=True, sa_type=UTCDateTime)

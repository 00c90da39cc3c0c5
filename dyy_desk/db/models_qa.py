"""QA (质检) tables: plans, samples with their full draw record, reviews, history, calibration.

Snapshots that must reproduce a draw exactly (plan, candidates, picks) are stored as JSON text: they
are read back whole, never queried by field. `qa_review_history` is append-only: one row per action
with the score before and after, so every score change can be traced.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from dyy_desk.db.models import SyncColumns
from dyy_desk.db.types import UTCDateTime


class QAScorecard(SyncColumns, table=True):
    """Every scorecard version ever used, with its exact TOML text, so old reviews keep their rules."""

    __tablename__ = "qa_scorecard"

    scorecard_id: str = Field(primary_key=True, max_length=64)
    scorecard_version: int = Field(primary_key=True)
    name: str = Field(max_length=100)
    source: str = Field(max_length=200)
    text: str
    installed_by: str | None = Field(default=None, foreign_key="user.id", max_length=36)
    installed_at: datetime = Field(sa_type=UTCDateTime)


class QASamplingPlan(SyncColumns, table=True):
    __tablename__ = "qa_sampling_plan"

    id: str = Field(primary_key=True, max_length=36)
    name: str = Field(max_length=100)
    period: str = Field(max_length=8)
    count: int | None = Field(default=None)
    percent: str | None = Field(default=None, max_length=16)  # Decimal as text: exact
    minimum: int = Field(default=0)
    client_ids: str = Field(default="[]")  # JSON lists; empty = no restriction
    platforms: str = Field(default="[]")
    categories: str = Field(default="[]")
    agent_ids: str = Field(default="[]")
    stratify: bool = Field(default=True)
    created_by: str = Field(foreign_key="user.id", max_length=36)
    created_at: datetime = Field(sa_type=UTCDateTime)


class QASample(SyncColumns, table=True):
    """One draw, with everything `redraw` needs to reproduce it."""

    __tablename__ = "qa_sample"

    id: str = Field(primary_key=True, max_length=36)
    plan_id: str = Field(foreign_key="qa_sampling_plan.id", index=True, max_length=36)
    plan_snapshot: str  # JSON of the plan as it was at draw time
    seed: int
    window_label: str = Field(max_length=16)
    window_start: datetime = Field(sa_type=UTCDateTime)
    window_end: datetime = Field(sa_type=UTCDateTime)
    candidates: str  # JSON snapshot of every candidate seen, canonical order
    excluded_ids: str  # JSON: candidates already sampled at draw time
    picks: str  # JSON
    tallies: str  # JSON
    drawn_by: str = Field(foreign_key="user.id", max_length=36)
    drawn_at: datetime = Field(index=True, sa_type=UTCDateTime)


class QASampleItem(SyncColumns, table=True):
    """One picked ticket. `ticket_id` is unique: a ticket is never sampled twice."""

    __tablename__ = "qa_sample_item"

    id: str = Field(primary_key=True, max_length=36)
    sample_id: str = Field(foreign_key="qa_sample.id", index=True, max_length=36)
    ticket_id: str = Field(foreign_key="ticket.id", unique=True, max_length=36)
    agent_id: str = Field(foreign_key="user.id", index=True, max_length=36)
    reasons: str = Field(max_length=100)  # "|"-joined PickReason values


class QACalibrationSession(SyncColumns, table=True):
    __tablename__ = "qa_calibration_session"

    id: str = Field(primary_key=True, max_length=36)
    ticket_id: str = Field(foreign_key="ticket.id", index=True, max_length=36)
    agent_id: str = Field(foreign_key="user.id", max_length=36)
    client_id: str = Field(foreign_key="client.id", max_length=36)
    scorecard_id: str = Field(max_length=64)
    scorecard_version: int
    reviewer_ids: str  # JSON list of user ids
    created_by: str = Field(foreign_key="user.id", max_length=36)
    created_at: datetime = Field(sa_type=UTCDateTime)


class QAReviewRecord(SyncColumns, table=True):
    __tablename__ = "qa_review"

    id: str = Field(primary_key=True, max_length=36)
    ticket_id: str = Field(foreign_key="ticket.id", index=True, max_length=36)
    agent_id: str = Field(foreign_key="user.id", index=True, max_length=36)
    client_id: str = Field(foreign_key="client.id", index=True, max_length=36)
    reviewer_id: str = Field(foreign_key="user.id", index=True, max_length=36)
    scorecard_id: str = Field(max_length=64)
    scorecard_version: int
    kind: str = Field(max_length=16)
    session_id: str | None = Field(
        default=None, foreign_key="qa_calibration_session.id", index=True, max_length=36
    )
    state: str = Field(max_length=16, index=True)
    score: int
    passed: bool
    deductions: str = Field(default="[]")  # JSON [{item_id, points, comment}]
    fatal_hits: str = Field(default="[]")  # JSON [{fatal_id, comment}]
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    appeal_by: str | None = Field(default=None, foreign_key="user.id", max_length=36)
    appeal_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    appeal_reason: str | None = Field(default=None)
    appeal_contested: str = Field(default="[]")  # JSON list of item / fatal ids
    re_review_by: str | None = Field(default=None, foreign_key="user.id", max_length=36)
    re_review_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    re_review_decision: str | None = Field(default=None, max_length=16)
    re_review_comment: str | None = Field(default=None)


class QAReviewHistory(SQLModel, table=True):
    """Append-only, like the ticket timeline: merged as a union when bundles meet."""

    __tablename__ = "qa_review_history"

    id: str = Field(primary_key=True, max_length=36)
    review_id: str = Field(foreign_key="qa_review.id", index=True, max_length=36)
    seq: int
    at: datetime = Field(sa_type=UTCDateTime)
    actor_id: str = Field(foreign_key="user.id", max_length=36)
    action: str = Field(max_length=16)
    old_score: int | None = Field(default=None)
    new_score: int
    note: str = ""
    origin: str = Field(default="", max_length=64)

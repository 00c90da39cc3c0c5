"""Frozen rows the QA service hands to the UI and the command line: core objects plus display names."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dyy_desk.core.qa_calibration import CalibrationResult, CalibrationSession
from dyy_desk.core.qa_report import QAReport
from dyy_desk.core.qa_review import QAReview
from dyy_desk.core.qa_sampling import PickReason, SamplingPlan
from dyy_desk.core.types import TicketCategory


@dataclass(frozen=True)
class PlanRow:
    plan: SamplingPlan
    created_by_name: str
    created_at: datetime


@dataclass(frozen=True)
class SampleSummary:
    id: str
    plan_name: str
    window_label: str
    drawn_at: datetime
    drawn_by_name: str
    seed: int
    candidates: int
    picked: int


@dataclass(frozen=True)
class SampleItemRow:
    """One sampled ticket and where its review stands (None = not started)."""

    sample_id: str
    ticket_id: str
    ticket_number: str
    subject: str
    agent_id: str
    agent_name: str
    client_name: str
    category: TicketCategory
    reasons: tuple[PickReason, ...]
    window_label: str
    review_id: str | None
    review: QAReview | None


@dataclass(frozen=True)
class ReviewRow:
    review: QAReview
    ticket_number: str
    subject: str
    agent_name: str
    reviewer_name: str
    client_name: str


@dataclass(frozen=True)
class RedrawResult:
    sample_id: str
    identical: bool
    stored: tuple[str, ...]  # picked ticket ids as stored
    redrawn: tuple[str, ...]  # picked ticket ids recomputed from the stored plan, seed and candidates
    message: str


@dataclass(frozen=True)
class CalibrationRow:
    session: CalibrationSession
    ticket_number: str
    reviewer_names: tuple[str, ...]
    submitted: int
    result: CalibrationResult | None  # None until at least two reviewers submitted
    my_review_id: str | None  # the asking supervisor's own calibration review, if started


@dataclass(frozen=True)
class ReportView:
    report: QAReport
    agent_names: dict[str, str]
    client_names: dict[str, str]
    generated_at: datetime

"""Calibration (校准): several supervisors score the same ticket; the spread shows how far apart
they are, per item and in total. Calibration reviews are kind CALIBRATION and never count toward the
agent (QAReview.counts is False for them), so they are safe to store next to regular reviews.

Spread uses the population standard deviation: the reviewers in the session are the whole group
being compared, not a sample of a larger one.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from dyy_desk.core.qa_access import require_qa_manager
from dyy_desk.core.qa_review import QAReview, ReviewKind, ReviewState, start_review
from dyy_desk.core.qa_scorecard import Scorecard
from dyy_desk.core.types import UserRow


class CalibrationError(ValueError):
    pass


@dataclass(frozen=True)
class CalibrationSession:
    id: str
    ticket_id: str
    agent_id: str
    client_id: str
    scorecard_id: str
    scorecard_version: int
    reviewer_ids: tuple[str, ...]
    created_by: str
    created_at: datetime


@dataclass(frozen=True)
class Spread:
    min: float
    max: float
    mean: float
    stdev: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        return cls(min(values), max(values), statistics.fmean(values), statistics.pstdev(values))


@dataclass(frozen=True)
class ItemSpread:
    item_id: str
    name: str
    spread: Spread  # of points deducted per reviewer (0 when a reviewer deducted nothing)


@dataclass(frozen=True)
class CalibrationResult:
    session_id: str
    ticket_id: str
    reviewer_ids: tuple[str, ...]
    items: tuple[ItemSpread, ...]
    fatal: tuple[ItemSpread, ...]  # share of reviewers who marked each fatal item: 0 or 1 per reviewer
    total: Spread


def open_session(
    card: Scorecard,
    *,
    actor: UserRow,
    session_id: str,
    ticket_id: str,
    agent_id: str,
    client_id: str,
    reviewer_ids: Sequence[str],
    now: datetime,
) -> CalibrationSession:
    require_qa_manager(actor, "发起校准")
    reviewers = tuple(dict.fromkeys(reviewer_ids))
    if len(reviewers) < 2:
        raise CalibrationError("校准至少需要 2 位主管参与评分")
    if agent_id in reviewers:
        raise CalibrationError("被质检的客服不能参与校准评分")
    return CalibrationSession(
        session_id, ticket_id, agent_id, client_id, card.id, card.version, reviewers, actor.id, now
    )


def start_calibration_review(
    session: CalibrationSession, card: Scorecard, *, actor: UserRow, review_id: str, now: datetime
) -> QAReview:
    if actor.id not in session.reviewer_ids:
        raise PermissionError("您不在本次校准的评分人名单中")
    if (card.id, card.version) != (session.scorecard_id, session.scorecard_version):
        raise CalibrationError("校准必须使用会话指定的评分表版本")
    return start_review(
        card,
        actor=actor,
        review_id=review_id,
        ticket_id=session.ticket_id,
        agent_id=session.agent_id,
        client_id=session.client_id,
        now=now,
        session_id=session.id,
    )


def calibration_spread(
    session: CalibrationSession, card: Scorecard, reviews: Sequence[QAReview]
) -> CalibrationResult:
    """Spread over the submitted reviews of the session; drafts are still being scored and are left out."""
    if (card.id, card.version) != (session.scorecard_id, session.scorecard_version):
        raise CalibrationError("校准必须使用会话指定的评分表版本")
    scored: dict[str, QAReview] = {}
    for review in reviews:
        if review.kind is not ReviewKind.CALIBRATION or review.session_id != session.id:
            raise CalibrationError(f"质检 {review.id} 不属于校准会话 {session.id}")
        if review.state is ReviewState.DRAFT:
            continue
        if review.reviewer_id in scored:
            raise CalibrationError(f"评分人 {review.reviewer_id} 在本次校准中提交了多份评分")
        scored[review.reviewer_id] = review
    if len(scored) < 2:
        raise CalibrationError(f"校准会话 {session.id} 已提交的评分不足 2 份，无法计算差异")
    ordered = [scored[r] for r in sorted(scored)]
    items = tuple(
        ItemSpread(item.id, item.name, Spread.of([_deducted(r, item.id) for r in ordered]))
        for item in card.items
    )
    fatal = tuple(
        ItemSpread(
            f.id, f.name, Spread.of([float(any(h.fatal_id == f.id for h in r.fatal_hits)) for r in ordered])
        )
        for f in card.fatal_items
    )
    total = Spread.of([float(r.score) for r in ordered])
    return CalibrationResult(session.id, session.ticket_id, tuple(sorted(scored)), items, fatal, total)


def _deducted(review: QAReview, item_id: str) -> float:
    return float(sum(d.points for d in review.deductions if d.item_id == item_id))

"""The life of one QA review: draft → submitted → (appealed → re-reviewed) → final.

Every function takes a review and returns a new one; nothing is mutated, so the service can persist
the result and the audit log in one transaction. `history` grows by one entry per action with the
score before and after, which is what the audit log records. A final review is locked for good.

Rules: the reviewer (a supervisor/admin, not the agent) edits and submits; only the reviewed agent
appeals, once, with a reason; a different supervisor re-reviews: accept drops the contested marks
(all marks when the appeal names none), partly accept replaces the marks, reject keeps them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from dyy_desk.core.qa_access import require_qa_manager
from dyy_desk.core.qa_scorecard import Scorecard
from dyy_desk.core.qa_scoring import Deduction, FatalHit, compute_score
from dyy_desk.core.types import UserRow


class ReviewKind(StrEnum):
    REGULAR = "regular"
    CALIBRATION = "calibration"  # rates the reviewers; never counts toward the agent


class ReviewState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPEALED = "appealed"
    FINAL = "final"


class AppealDecision(StrEnum):
    ACCEPT = "accept"
    PARTIAL = "partial"
    REJECT = "reject"


class ReviewAction(StrEnum):
    CREATE = "create"
    EDIT = "edit"
    SUBMIT = "submit"
    APPEAL = "appeal"
    RE_REVIEW = "re_review"
    FINALIZE = "finalize"


STATE_LABELS: dict[ReviewState, str] = {
    ReviewState.DRAFT: "草稿",
    ReviewState.SUBMITTED: "已提交",
    ReviewState.APPEALED: "申诉中",
    ReviewState.FINAL: "已定稿",
}
DECISION_LABELS: dict[AppealDecision, str] = {
    AppealDecision.ACCEPT: "申诉成立",
    AppealDecision.PARTIAL: "部分成立",
    AppealDecision.REJECT: "申诉驳回",
}


class ReviewError(ValueError):
    """An action the review's state does not allow."""


class ReviewLockedError(ReviewError):
    pass


@dataclass(frozen=True)
class ReviewEntry:
    at: datetime
    by: str  # user id
    action: ReviewAction
    old_score: int | None
    new_score: int
    note: str = ""


@dataclass(frozen=True)
class Appeal:
    by: str
    at: datetime
    reason: str
    contested: tuple[str, ...]  # item / fatal ids the agent disputes; empty = the whole review


@dataclass(frozen=True)
class ReReview:
    by: str
    at: datetime
    decision: AppealDecision
    comment: str


@dataclass(frozen=True)
class QAReview:
    id: str
    ticket_id: str
    agent_id: str
    client_id: str
    reviewer_id: str
    scorecard_id: str
    scorecard_version: int
    kind: ReviewKind
    session_id: str | None  # calibration session, None for regular reviews
    state: ReviewState
    deductions: tuple[Deduction, ...]
    fatal_hits: tuple[FatalHit, ...]
    score: int
    passed: bool
    created_at: datetime
    submitted_at: datetime | None = None
    appeal: Appeal | None = None
    re_review: ReReview | None = None
    history: tuple[ReviewEntry, ...] = ()

    @property
    def counts(self) -> bool:
        """Whether this review belongs in the agent's results and reports."""
        return self.kind is ReviewKind.REGULAR and self.state is not ReviewState.DRAFT

    @property
    def visible_to_agent(self) -> bool:
        return self.counts


def start_review(
    card: Scorecard,
    *,
    actor: UserRow,
    review_id: str,
    ticket_id: str,
    agent_id: str,
    client_id: str,
    now: datetime,
    session_id: str | None = None,
) -> QAReview:
    require_qa_manager(actor, "质检评分")
    if actor.id == agent_id:
        raise PermissionError("不能质检自己处理的工单")
    kind = ReviewKind.CALIBRATION if session_id else ReviewKind.REGULAR
    clean = compute_score(card, (), ())
    entry = ReviewEntry(now, actor.id, ReviewAction.CREATE, None, clean.score)
    return QAReview(
        review_id, ticket_id, agent_id, client_id, actor.id, card.id, card.version, kind, session_id,
        ReviewState.DRAFT, (), (), clean.score, clean.passed, now, history=(entry,),
    )  # fmt: skip


def edit_draft(
    review: QAReview,
    card: Scorecard,
    *,
    actor: UserRow,
    deductions: Sequence[Deduction],
    fatal_hits: Sequence[FatalHit] = (),
    now: datetime,
) -> QAReview:
    _require_state(review, ReviewState.DRAFT, "修改评分")
    _require_reviewer(review, actor)
    return _rescore(review, card, actor, deductions, fatal_hits, now, ReviewAction.EDIT, "")


def submit(review: QAReview, *, actor: UserRow, now: datetime) -> QAReview:
    _require_state(review, ReviewState.DRAFT, "提交")
    _require_reviewer(review, actor)
    entry = ReviewEntry(now, actor.id, ReviewAction.SUBMIT, review.score, review.score)
    return replace(review, state=ReviewState.SUBMITTED, submitted_at=now, history=(*review.history, entry))


def file_appeal(
    review: QAReview,
    *,
    actor: UserRow,
    reason: str,
    now: datetime,
    contested: Sequence[str] = (),
    appeal_window: timedelta | None = None,
) -> QAReview:
    if review.kind is ReviewKind.CALIBRATION:
        raise ReviewError("校准评分不计入客服成绩，不能申诉")
    if actor.id != review.agent_id:
        raise PermissionError("只有被质检的客服本人可以申诉")
    if review.appeal is not None:
        raise ReviewError("每条质检只能申诉一次，本条已申诉过")
    _require_state(review, ReviewState.SUBMITTED, "申诉")
    if not reason.strip():
        raise ReviewError("申诉必须填写理由")
    marked = {d.item_id for d in review.deductions} | {h.fatal_id for h in review.fatal_hits}
    unknown = [item_id for item_id in contested if item_id not in marked]
    if unknown:
        raise ReviewError(f"申诉的项目不在本次扣分中：{'、'.join(unknown)}")
    if appeal_window is not None and review.submitted_at and now > review.submitted_at + appeal_window:
        raise ReviewError("已超过申诉期限，不能再申诉")
    appeal = Appeal(actor.id, now, reason.strip(), tuple(dict.fromkeys(contested)))
    entry = ReviewEntry(now, actor.id, ReviewAction.APPEAL, review.score, review.score, appeal.reason)
    return replace(review, state=ReviewState.APPEALED, appeal=appeal, history=(*review.history, entry))


def decide_appeal(
    review: QAReview,
    card: Scorecard,
    *,
    actor: UserRow,
    decision: AppealDecision,
    comment: str,
    now: datetime,
    deductions: Sequence[Deduction] | None = None,
    fatal_hits: Sequence[FatalHit] | None = None,
) -> QAReview:
    """复核: the result is final and locked whatever the decision."""
    _require_state(review, ReviewState.APPEALED, "复核")
    require_qa_manager(actor, "复核质检")
    if actor.id in (review.reviewer_id, review.agent_id):
        raise PermissionError("复核必须由另一位主管完成，原质检员不能复核自己的评分")
    if not comment.strip():
        raise ReviewError("复核必须填写结论说明")
    if (decision is AppealDecision.PARTIAL) != (deductions is not None or fatal_hits is not None):
        raise ReviewError("只有“部分成立”需要重新填写扣分项")
    assert review.appeal is not None
    contested = set(review.appeal.contested)
    new_deductions, new_fatal = review.deductions, review.fatal_hits
    if decision is AppealDecision.ACCEPT and not contested:
        new_deductions, new_fatal = (), ()
    elif decision is AppealDecision.ACCEPT:
        new_deductions = tuple(d for d in review.deductions if d.item_id not in contested)
        new_fatal = tuple(h for h in review.fatal_hits if h.fatal_id not in contested)
    elif decision is AppealDecision.PARTIAL:
        new_deductions, new_fatal = tuple(deductions or ()), tuple(fatal_hits or ())
    note = f"{DECISION_LABELS[decision]}：{comment.strip()}"
    rescored = _rescore(review, card, actor, new_deductions, new_fatal, now, ReviewAction.RE_REVIEW, note)
    verdict = ReReview(actor.id, now, decision, comment.strip())
    return replace(rescored, state=ReviewState.FINAL, re_review=verdict)


def finalize(review: QAReview, *, actor: UserRow, now: datetime) -> QAReview:
    """Lock a submitted review nobody appealed, e.g. when the appeal period is over."""
    _require_state(review, ReviewState.SUBMITTED, "定稿")
    require_qa_manager(actor, "定稿质检结果")
    entry = ReviewEntry(now, actor.id, ReviewAction.FINALIZE, review.score, review.score)
    return replace(review, state=ReviewState.FINAL, history=(*review.history, entry))


def _rescore(
    review: QAReview,
    card: Scorecard,
    actor: UserRow,
    deductions: Sequence[Deduction],
    fatal_hits: Sequence[FatalHit],
    now: datetime,
    action: ReviewAction,
    note: str,
) -> QAReview:
    if (card.id, card.version) != (review.scorecard_id, review.scorecard_version):
        raise ReviewError(
            f"本条质检使用评分表 {review.scorecard_id} v{review.scorecard_version}，"
            f"不能用 {card.id} v{card.version} 评分"
        )
    result = compute_score(card, deductions, fatal_hits)
    entry = ReviewEntry(now, actor.id, action, review.score, result.score, note)
    return replace(
        review,
        deductions=tuple(deductions),
        fatal_hits=tuple(fatal_hits),
        score=result.score,
        passed=result.passed,
        history=(*review.history, entry),
    )


def _require_state(review: QAReview, state: ReviewState, action: str) -> None:
    if review.state is ReviewState.FINAL:
        raise ReviewLockedError(f"质检结果已定稿锁定，不能{action}")
    if review.state is not state:
        raise ReviewError(f"质检当前为“{STATE_LABELS[review.state]}”，不能{action}")


def _require_reviewer(review: QAReview, actor: UserRow) -> None:
    require_qa_manager(actor, "质检评分")
    if actor.id != review.reviewer_id:
        raise PermissionError("只有本条质检的质检员可以修改或提交评分")

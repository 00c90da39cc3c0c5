"""What the QA service writes to the audit log: every change of a score, a plan, a sample or a scorecard.

Runs inside the QA service's transaction, so an entry commits or rolls back with the change it names.
Entries carry ids, states and scores only: free text (appeal reasons, re-review comments, deduction
comments) stays in the review's own history, where the buyer's words may appear.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from dyy_desk.core.qa_review import QAReview, ReviewAction, ReviewEntry
from dyy_desk.core.qa_sampling import SampleDraw, SamplingPlan
from dyy_desk.core.qa_scorecard import Scorecard
from dyy_desk.services.audit import append_audit
from dyy_desk.services.qa_store import plan_to_json

REVIEW_ACTIONS: dict[ReviewAction, str] = {
    ReviewAction.EDIT: "qa_draft_saved",
    ReviewAction.SUBMIT: "qa_review_submitted",
    ReviewAction.APPEAL: "qa_appeal_filed",
    ReviewAction.RE_REVIEW: "qa_re_reviewed",
    ReviewAction.FINALIZE: "qa_review_finalized",
}


def audit_review(conn: Connection, review: QAReview, *, known: int, now: datetime) -> None:
    """One entry per history step the review gained beyond its first `known` ones. Opening a draft
    (the clean score) is not audited, nor saving a draft whose score did not move."""
    for entry in review.history[known:]:
        action = REVIEW_ACTIONS.get(entry.action)
        if action is None or (entry.action is ReviewAction.EDIT and entry.old_score == entry.new_score):
            continue
        append_audit(
            conn,
            at=now,
            actor_id=entry.by,
            action=action,
            target=f"qa_review:{review.id}",
            details=_review_details(review, entry),
        )


def _review_details(review: QAReview, entry: ReviewEntry) -> dict[str, Any]:
    details: dict[str, Any] = {
        "review_id": review.id,
        "kind": review.kind.value,
        "ticket_id": review.ticket_id,
        "agent_id": review.agent_id,
        "scorecard": f"{review.scorecard_id} v{review.scorecard_version}",
        "old_score": entry.old_score,
        "new_score": entry.new_score,
        "state": review.state.value,
    }
    if review.session_id:
        details["session_id"] = review.session_id
    if entry.action is ReviewAction.APPEAL and review.appeal is not None:
        details["contested"] = list(review.appeal.contested)
    if entry.action is ReviewAction.RE_REVIEW and review.re_review is not None:
        details["decision"] = review.re_review.decision.value
    return details


def audit_plan_created(conn: Connection, plan: SamplingPlan, *, now: datetime) -> None:
    details = plan_to_json(plan)
    details.pop("created_by")
    append_audit(
        conn,
        at=now,
        actor_id=plan.created_by,
        action="qa_plan_created",
        target=f"qa_plan:{plan.id}",
        details=details,
    )


def audit_sample_drawn(conn: Connection, sample_id: str, draw: SampleDraw, *, now: datetime) -> None:
    append_audit(
        conn,
        at=now,
        actor_id=draw.drawn_by,
        action="qa_sample_drawn",
        target=f"qa_sample:{sample_id}",
        details={
            "sample_id": sample_id,
            "plan_id": draw.plan.id,
            "plan": draw.plan.name,
            "window": draw.window.label,
            "seed": draw.seed,
            "candidates": len(draw.candidates),
            "picked": [p.ticket_id for p in draw.picks],
        },
    )


def audit_scorecard_imported(
    conn: Connection, card: Scorecard, *, source: str, actor_id: str, now: datetime
) -> None:
    append_audit(
        conn,
        at=now,
        actor_id=actor_id,
        action="qa_scorecard_imported",
        target=f"qa_scorecard:{card.id}:v{card.version}",
        details={"scorecard_id": card.id, "version": card.version, "name": card.name, "source": source},
    )


def audit_calibration_opened(
    conn: Connection,
    *,
    session_id: str,
    ticket_id: str,
    reviewer_ids: list[str],
    actor_id: str,
    now: datetime,
) -> None:
    append_audit(
        conn,
        at=now,
        actor_id=actor_id,
        action="qa_calibration_opened",
        target=f"qa_calibration:{session_id}",
        details={"session_id": session_id, "ticket_id": ticket_id, "reviewer_ids": reviewer_ids},
    )

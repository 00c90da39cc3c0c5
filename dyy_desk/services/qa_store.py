"""Rows ↔ core QA objects: JSON codecs for plans and draws, reviews with their append-only history.

Everything here runs inside the caller's transaction (`conn`) and never commits. The codecs are exact
round trips: `redraw` depends on a stored draw decoding to the very same SampleDraw.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Table, insert, select, update

from dyy_desk.core.ids import new_id
from dyy_desk.core.qa_review import (
    Appeal,
    AppealDecision,
    QAReview,
    ReReview,
    ReviewAction,
    ReviewEntry,
    ReviewKind,
    ReviewState,
)
from dyy_desk.core.qa_sampling import (
    AgentTally,
    PickReason,
    SampleCandidate,
    SampleDraw,
    SamplePick,
    SamplingPeriod,
    SamplingPlan,
    SamplingWindow,
)
from dyy_desk.core.qa_scoring import Deduction, FatalHit
from dyy_desk.core.types import Platform, Role, TicketCategory, UserRow
from dyy_desk.db.models_qa import (
    QACalibrationSession,
    QAReviewHistory,
    QAReviewRecord,
    QASample,
    QASampleItem,
    QASamplingPlan,
    QAScorecard,
)
from dyy_desk.db.repos.tables import users
from dyy_desk.services.errors import NotFound, ServiceError


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


plans_t = _table(QASamplingPlan)
samples_t = _table(QASample)
items_t = _table(QASampleItem)
reviews_t = _table(QAReviewRecord)
history_t = _table(QAReviewHistory)
sessions_t = _table(QACalibrationSession)
scorecards_t = _table(QAScorecard)


def dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def load_actor(conn: Connection, user_id: str) -> UserRow:
    row = conn.execute(select(users).where(users.c.id == user_id)).mappings().first()
    if row is None or row["deleted"]:
        raise NotFound("当前用户不存在或已被删除，请重新选择用户")
    return UserRow(id=row["id"], name=row["name"], role=Role(row["role"]))


def user_names(conn: Connection) -> dict[str, str]:
    return {r.id: r.name for r in conn.execute(select(users.c.id, users.c.name))}


# --- plans -------------------------------------------------------------------------------------
def plan_to_json(plan: SamplingPlan) -> dict[str, Any]:
    return {
        "id": plan.id,
        "name": plan.name,
        "period": plan.period.value,
        "count": plan.count,
        "percent": None if plan.percent is None else str(plan.percent),
        "minimum": plan.minimum,
        "client_ids": list(plan.client_ids),
        "platforms": [p.value for p in plan.platforms],
        "categories": [c.value for c in plan.categories],
        "agent_ids": list(plan.agent_ids),
        "stratify": plan.stratify,
        "created_by": plan.created_by,
    }


def plan_from_json(data: Mapping[Any, Any]) -> SamplingPlan:
    def as_list(value: Any) -> list[Any]:
        return list(json.loads(value) if isinstance(value, str) else value)

    return SamplingPlan(
        id=data["id"],
        name=data["name"],
        period=SamplingPeriod(data["period"]),
        count=data["count"],
        percent=None if data["percent"] is None else Decimal(data["percent"]),
        minimum=data["minimum"],
        client_ids=tuple(as_list(data["client_ids"])),
        platforms=tuple(Platform(p) for p in as_list(data["platforms"])),
        categories=tuple(TicketCategory(c) for c in as_list(data["categories"])),
        agent_ids=tuple(as_list(data["agent_ids"])),
        stratify=bool(data["stratify"]),
        created_by=data["created_by"],
    )


def plan_row_values(plan: SamplingPlan) -> dict[str, Any]:
    data = plan_to_json(plan)
    for key in ("client_ids", "platforms", "categories", "agent_ids"):
        data[key] = dumps(data[key])
    return data


# --- draws -------------------------------------------------------------------------------------
def _candidate_json(c: SampleCandidate) -> dict[str, Any]:
    return {
        "ticket_id": c.ticket_id,
        "agent_id": c.agent_id,
        "client_id": c.client_id,
        "platform": c.platform.value,
        "category": c.category.value,
        "closed_at": c.closed_at.isoformat(),
        "escalated": c.escalated,
        "complained": c.complained,
        "missed_deadline": c.missed_deadline,
    }


def _candidate(data: Mapping[Any, Any]) -> SampleCandidate:
    return SampleCandidate(
        ticket_id=data["ticket_id"],
        agent_id=data["agent_id"],
        client_id=data["client_id"],
        platform=Platform(data["platform"]),
        category=TicketCategory(data["category"]),
        closed_at=datetime.fromisoformat(data["closed_at"]),
        escalated=bool(data["escalated"]),
        complained=bool(data["complained"]),
        missed_deadline=bool(data["missed_deadline"]),
    )


def picks_json(picks: tuple[SamplePick, ...]) -> list[list[Any]]:
    return [[p.ticket_id, p.agent_id, [r.value for r in p.reasons]] for p in picks]


def tallies_json(tallies: tuple[AgentTally, ...]) -> list[list[Any]]:
    return [[t.agent_id, t.population, t.target, t.flagged, t.picked] for t in tallies]


def draw_row_values(sample_id: str, draw: SampleDraw) -> dict[str, Any]:
    return {
        "id": sample_id,
        "plan_id": draw.plan.id,
        "plan_snapshot": dumps(plan_to_json(draw.plan)),
        "seed": draw.seed,
        "window_label": draw.window.label,
        "window_start": draw.window.start,
        "window_end": draw.window.end,
        "candidates": dumps([_candidate_json(c) for c in draw.candidates]),
        "excluded_ids": dumps(list(draw.excluded_ids)),
        "picks": dumps(picks_json(draw.picks)),
        "tallies": dumps(tallies_json(draw.tallies)),
        "drawn_by": draw.drawn_by,
        "drawn_at": draw.drawn_at,
    }


def draw_from_row(row: Mapping[Any, Any]) -> SampleDraw:
    picks = tuple(
        SamplePick(t, a, tuple(PickReason(r) for r in reasons)) for t, a, reasons in json.loads(row["picks"])
    )
    tallies = tuple(AgentTally(*values) for values in json.loads(row["tallies"]))
    return SampleDraw(
        plan=plan_from_json(json.loads(row["plan_snapshot"])),
        seed=row["seed"],
        window=SamplingWindow(row["window_start"], row["window_end"], row["window_label"]),
        candidates=tuple(_candidate(c) for c in json.loads(row["candidates"])),
        excluded_ids=tuple(json.loads(row["excluded_ids"])),
        picks=picks,
        tallies=tallies,
        drawn_by=row["drawn_by"],
        drawn_at=row["drawn_at"],
    )


def load_draw(conn: Connection, sample_id: str) -> SampleDraw:
    row = conn.execute(select(samples_t).where(samples_t.c.id == sample_id)).mappings().first()
    if row is None or row["deleted"]:
        raise NotFound(f"抽检记录 {sample_id} 不存在")
    return draw_from_row(row)


# --- reviews -----------------------------------------------------------------------------------
def load_review(conn: Connection, review_id: str) -> QAReview:
    row = conn.execute(select(reviews_t).where(reviews_t.c.id == review_id)).mappings().first()
    if row is None or row["deleted"]:
        raise NotFound("该质检记录不存在或已被删除")
    entries = conn.execute(
        select(history_t).where(history_t.c.review_id == review_id).order_by(history_t.c.seq)
    ).mappings()
    return review_from_row(row, [dict(e) for e in entries])


def review_from_row(row: Mapping[Any, Any], entries: list[dict[str, Any]]) -> QAReview:
    appeal = None
    if row["appeal_by"]:
        appeal = Appeal(
            row["appeal_by"],
            row["appeal_at"],
            row["appeal_reason"] or "",
            tuple(json.loads(row["appeal_contested"])),
        )
    re_review = None
    if row["re_review_by"]:
        re_review = ReReview(
            row["re_review_by"],
            row["re_review_at"],
            AppealDecision(row["re_review_decision"]),
            row["re_review_comment"] or "",
        )
    history = tuple(
        ReviewEntry(
            e["at"], e["actor_id"], ReviewAction(e["action"]), e["old_score"], e["new_score"], e["note"]
        )
        for e in entries
    )
    return QAReview(
        id=row["id"],
        ticket_id=row["ticket_id"],
        agent_id=row["agent_id"],
        client_id=row["client_id"],
        reviewer_id=row["reviewer_id"],
        scorecard_id=row["scorecard_id"],
        scorecard_version=row["scorecard_version"],
        kind=ReviewKind(row["kind"]),
        session_id=row["session_id"],
        state=ReviewState(row["state"]),
        deductions=tuple(Deduction(**d) for d in json.loads(row["deductions"])),
        fatal_hits=tuple(FatalHit(**h) for h in json.loads(row["fatal_hits"])),
        score=row["score"],
        passed=bool(row["passed"]),
        created_at=row["created_at"],
        submitted_at=row["submitted_at"],
        appeal=appeal,
        re_review=re_review,
        history=history,
    )


def save_review(
    conn: Connection, review: QAReview, *, before: QAReview | None, now: datetime, origin: str
) -> None:
    """Upsert the review row and append the history entries `before` did not have yet."""
    values: dict[str, Any] = {
        "state": review.state.value,
        "score": review.score,
        "passed": review.passed,
        "deductions": dumps(
            [{"item_id": d.item_id, "points": d.points, "comment": d.comment} for d in review.deductions]
        ),
        "fatal_hits": dumps([{"fatal_id": h.fatal_id, "comment": h.comment} for h in review.fatal_hits]),
        "updated_at": now,
        "submitted_at": review.submitted_at,
        "appeal_by": review.appeal.by if review.appeal else None,
        "appeal_at": review.appeal.at if review.appeal else None,
        "appeal_reason": review.appeal.reason if review.appeal else None,
        "appeal_contested": dumps(list(review.appeal.contested) if review.appeal else []),
        "re_review_by": review.re_review.by if review.re_review else None,
        "re_review_at": review.re_review.at if review.re_review else None,
        "re_review_decision": review.re_review.decision.value if review.re_review else None,
        "re_review_comment": review.re_review.comment if review.re_review else None,
    }
    if before is None:
        conn.execute(
            insert(reviews_t).values(
                id=review.id,
                ticket_id=review.ticket_id,
                agent_id=review.agent_id,
                client_id=review.client_id,
                reviewer_id=review.reviewer_id,
                scorecard_id=review.scorecard_id,
                scorecard_version=review.scorecard_version,
                kind=review.kind.value,
                session_id=review.session_id,
                created_at=review.created_at,
                origin=origin,
                version="",
                deleted=False,
                **values,
            )
        )
    else:
        conn.execute(update(reviews_t).where(reviews_t.c.id == review.id).values(**values))
    known = len(before.history) if before else 0
    if review.history[:known] != (before.history if before else ()):
        raise ServiceError("质检历史只能追加，不能改写")  # a bug guard: history is append-only
    for seq, entry in enumerate(review.history[known:], start=known):
        conn.execute(
            insert(history_t).values(
                id=new_id(),
                review_id=review.id,
                seq=seq,
                at=entry.at,
                actor_id=entry.by,
                action=entry.action.value,
                old_score=entry.old_score,
                new_score=entry.new_score,
                note=entry.note,
                origin=origin,
            )
        )


def load_reviews(conn: Connection, *conditions: Any) -> list[QAReview]:
    """Many reviews with their history in two queries, oldest first."""
    rows = (
        conn.execute(
            select(reviews_t)
            .where(reviews_t.c.deleted.is_(False), *conditions)
            .order_by(reviews_t.c.created_at, reviews_t.c.id)
        )
        .mappings()
        .all()
    )
    if not rows:
        return []
    entries: dict[str, list[dict[str, Any]]] = {r["id"]: [] for r in rows}
    ids = list(entries)
    for start in range(0, len(ids), 500):  # stay under SQLite's bound-parameter limit
        chunk = ids[start : start + 500]
        for e in conn.execute(
            select(history_t).where(history_t.c.review_id.in_(chunk)).order_by(history_t.c.seq)
        ).mappings():
            entries[e["review_id"]].append(dict(e))
    return [review_from_row(r, entries[r["id"]]) for r in rows]

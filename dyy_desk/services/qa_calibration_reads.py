"""Calibration sessions with their spread, for supervisors. Calibration reviews never count: the
report only takes regular reviews (core `QAReview.counts`), so nothing here can leak into an agent's
results."""

from __future__ import annotations

import json

from sqlalchemy import Connection, select

from dyy_desk.core.qa_calibration import CalibrationError, CalibrationSession, calibration_spread
from dyy_desk.core.qa_review import ReviewState
from dyy_desk.core.types import UserRow
from dyy_desk.db.repos.tables import tickets, users
from dyy_desk.services import qa_scorecards
from dyy_desk.services.qa_store import load_reviews, reviews_t, sessions_t
from dyy_desk.services.qa_views import CalibrationRow


def calibration_rows(
    conn: Connection, actor: UserRow, *, session_id: str | None = None
) -> list[CalibrationRow]:
    stmt = select(sessions_t).where(sessions_t.c.deleted.is_(False)).order_by(sessions_t.c.created_at.desc())
    if session_id is not None:
        stmt = stmt.where(sessions_t.c.id == session_id)
    names = {r.id: r.name for r in conn.execute(select(users.c.id, users.c.name))}
    result = []
    for row in conn.execute(stmt).mappings().all():
        session = CalibrationSession(
            row["id"],
            row["ticket_id"],
            row["agent_id"],
            row["client_id"],
            row["scorecard_id"],
            row["scorecard_version"],
            tuple(json.loads(row["reviewer_ids"])),
            row["created_by"],
            row["created_at"],
        )
        reviews = load_reviews(conn, reviews_t.c.session_id == session.id)
        submitted = [r for r in reviews if r.state is not ReviewState.DRAFT]
        spread = None
        if len(submitted) >= 2:
            card = qa_scorecards.stored_card(conn, session.scorecard_id, session.scorecard_version)
            try:
                spread = calibration_spread(session, card, reviews)
            except CalibrationError:
                spread = None
        number = conn.execute(select(tickets.c.number).where(tickets.c.id == session.ticket_id)).scalar()
        mine = next((r.id for r in reviews if r.reviewer_id == actor.id), None)
        result.append(
            CalibrationRow(
                session=session,
                ticket_number=str(number),
                reviewer_names=tuple(names.get(r, "?") for r in session.reviewer_ids),
                submitted=len(submitted),
                result=spread,
                my_review_id=mine,
            )
        )
    return result

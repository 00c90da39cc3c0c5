"""Read side of the QA service: lists for the panel and the command line, filtered by role.

An agent only ever receives their own submitted regular reviews (core `visible_results`); every
other list is for supervisors and admins and refuses an agent with a PermissionError.
"""

from __future__ import annotations

import json

from sqlalchemy import Connection, Engine, select

from dyy_desk.core.qa_access import QA_MANAGERS, require_qa_manager, visible_results
from dyy_desk.core.qa_calibration import CalibrationSession
from dyy_desk.core.qa_review import QAReview, ReviewKind, ReviewState
from dyy_desk.core.qa_sampling import PickReason
from dyy_desk.core.types import ClientRow, Role, TicketCategory, UserRow
from dyy_desk.db.repos.tables import clients, tickets, users
from dyy_desk.services.errors import NotFound
from dyy_desk.services.qa_store import (
    items_t,
    load_actor,
    load_review,
    load_reviews,
    plan_from_json,
    plans_t,
    reviews_t,
    samples_t,
    sessions_t,
)
from dyy_desk.services.qa_views import PlanRow, ReviewRow, SampleItemRow, SampleSummary


class QAReads:
    def __init__(self, *, engine: Engine) -> None:
        self._engine = engine

    def actor(self, *, user_id: str) -> UserRow:
        with self._engine.connect() as conn:
            return load_actor(conn, user_id)

    def user_by_name(self, *, name: str) -> UserRow:
        with self._engine.connect() as conn:
            found = conn.execute(
                select(users.c.id).where(users.c.name == name.strip(), users.c.deleted.is_(False))
            ).scalar()
            if found is None:
                raise NotFound(f"工作区中没有名为「{name}」的用户")
            return load_actor(conn, str(found))

    def people(self, *, actor_id: str) -> tuple[list[UserRow], list[UserRow], list[ClientRow]]:
        """(agents, supervisors and admins, clients) for the plan and calibration pickers."""
        with self._engine.connect() as conn:
            require_qa_manager(load_actor(conn, actor_id), "管理质检")
            rows = conn.execute(
                select(users.c.id, users.c.name, users.c.role)
                .where(users.c.deleted.is_(False))
                .order_by(users.c.name)
            ).all()
            everyone = [UserRow(r.id, r.name, Role(r.role)) for r in rows]
            client_rows = [
                ClientRow(r.id, r.name)
                for r in conn.execute(
                    select(clients.c.id, clients.c.name)
                    .where(clients.c.deleted.is_(False))
                    .order_by(clients.c.name)
                )
            ]
        agents = [u for u in everyone if u.role is Role.AGENT]
        return agents, [u for u in everyone if u.role in QA_MANAGERS], client_rows

    def plans(self, *, actor_id: str) -> list[PlanRow]:
        with self._engine.connect() as conn:
            require_qa_manager(load_actor(conn, actor_id), "查看抽检计划")
            return self._plan_rows(conn)

    def samples(self, *, actor_id: str) -> list[SampleSummary]:
        with self._engine.connect() as conn:
            require_qa_manager(load_actor(conn, actor_id), "查看抽检记录")
            names = self._names(conn)
            plan_names = {p.plan.id: p.plan.name for p in self._plan_rows(conn, include_deleted=True)}
            rows = conn.execute(
                select(samples_t).where(samples_t.c.deleted.is_(False)).order_by(samples_t.c.drawn_at.desc())
            ).mappings()
            return [
                SampleSummary(
                    r["id"],
                    plan_names.get(r["plan_id"], "?"),
                    r["window_label"],
                    r["drawn_at"],
                    names.get(r["drawn_by"], "?"),
                    r["seed"],
                    len(json.loads(r["candidates"])),
                    len(json.loads(r["picks"])),
                )
                for r in rows
            ]

    def sample_items(self, *, actor_id: str, sample_id: str | None = None) -> list[SampleItemRow]:
        """Sampled tickets, newest draw first, each with its regular review if one was started."""
        with self._engine.connect() as conn:
            require_qa_manager(load_actor(conn, actor_id), "查看抽检工单")
            names = self._names(conn)
            client_names = {r.id: r.name for r in conn.execute(select(clients.c.id, clients.c.name))}
            stmt = (
                select(
                    items_t.c.sample_id,
                    items_t.c.ticket_id,
                    items_t.c.agent_id,
                    items_t.c.reasons,
                    samples_t.c.window_label,
                    tickets.c.number,
                    tickets.c.subject,
                    tickets.c.client_id,
                    tickets.c.category,
                )
                .select_from(
                    items_t.join(samples_t, samples_t.c.id == items_t.c.sample_id).join(
                        tickets, tickets.c.id == items_t.c.ticket_id
                    )
                )
                .where(items_t.c.deleted.is_(False))
                .order_by(samples_t.c.drawn_at.desc(), tickets.c.number)
            )
            if sample_id:
                stmt = stmt.where(items_t.c.sample_id == sample_id)
            rows = conn.execute(stmt).all()
            reviews = {
                r.ticket_id: r
                for r in load_reviews(
                    conn,
                    reviews_t.c.kind == ReviewKind.REGULAR.value,
                    reviews_t.c.ticket_id.in_([x.ticket_id for x in rows]),
                )
            }
        return [
            SampleItemRow(
                sample_id=r.sample_id,
                ticket_id=r.ticket_id,
                ticket_number=r.number,
                subject=r.subject,
                agent_id=r.agent_id,
                agent_name=names.get(r.agent_id, "?"),
                client_name=client_names.get(r.client_id, "?"),
                category=TicketCategory(r.category),
                reasons=tuple(PickReason(x) for x in r.reasons.split("|") if x),
                window_label=r.window_label,
                review_id=reviews[r.ticket_id].id if r.ticket_id in reviews else None,
                review=reviews.get(r.ticket_id),
            )
            for r in rows
        ]

    def results(self, *, actor_id: str) -> list[ReviewRow]:
        """Regular reviews the actor may see: all of them for managers, their own finished ones for agents."""
        with self._engine.connect() as conn:
            actor = load_actor(conn, actor_id)
            found = load_reviews(conn, reviews_t.c.kind == ReviewKind.REGULAR.value)
            if actor.role not in QA_MANAGERS:
                found = [r for r in found if r.agent_id == actor.id]
            return [self._review_row(conn, r) for r in reversed(visible_results(actor, found))]

    def review(self, *, actor_id: str, review_id: str) -> ReviewRow:
        with self._engine.connect() as conn:
            actor = load_actor(conn, actor_id)
            review = load_review(conn, review_id)
            if not visible_results(actor, [review]):
                raise PermissionError("客服只能查看自己已提交的质检结果")
            return self._review_row(conn, review)

    def pending_appeals(self, *, actor_id: str) -> list[ReviewRow]:
        """Appeals waiting for a re-review the actor may do (not their own scoring)."""
        with self._engine.connect() as conn:
            actor = load_actor(conn, actor_id)
            require_qa_manager(actor, "复核申诉")
            found = load_reviews(conn, reviews_t.c.state == ReviewState.APPEALED.value)
            return [self._review_row(conn, r) for r in found]

    # --- helpers -----------------------------------------------------------------------------
    def _review_row(self, conn: Connection, review: QAReview) -> ReviewRow:
        names = self._names(conn)
        ticket = conn.execute(
            select(tickets.c.number, tickets.c.subject).where(tickets.c.id == review.ticket_id)
        ).one()
        client = conn.execute(select(clients.c.name).where(clients.c.id == review.client_id)).scalar()
        return ReviewRow(
            review,
            ticket.number,
            ticket.subject,
            names.get(review.agent_id, "?"),
            names.get(review.reviewer_id, "?"),
            client or "?",
        )

    @staticmethod
    def _names(conn: Connection) -> dict[str, str]:
        return {r.id: r.name for r in conn.execute(select(users.c.id, users.c.name))}

    def _plan_rows(
        self, conn: Connection, *, plan_id: str | None = None, include_deleted: bool = False
    ) -> list[PlanRow]:
        stmt = select(plans_t).order_by(plans_t.c.created_at)
        if not include_deleted:
            stmt = stmt.where(plans_t.c.deleted.is_(False))
        if plan_id is not None:
            stmt = stmt.where(plans_t.c.id == plan_id)
        names = self._names(conn)
        return [
            PlanRow(plan_from_json(row), names.get(row["created_by"], "?"), row["created_at"])
            for row in conn.execute(stmt).mappings()
        ]

    @staticmethod
    def _session(conn: Connection, session_id: str) -> CalibrationSession:
        row = conn.execute(select(sessions_t).where(sessions_t.c.id == session_id)).mappings().first()
        if row is None or row["deleted"]:
            raise NotFound("校准会话不存在或已被删除")
        return CalibrationSession(
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

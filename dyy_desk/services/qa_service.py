"""QA use cases (质检抽检): plans, reproducible draws, reviews with appeal and re-review, calibration,
reports and export. One public method = one transaction; the actor's role is read from the `user`
table on every call, and every rule about who may do what is the pure core's (qa_access, qa_review).
Every score change, plan, draw, calibration and scorecard import is written to the audit log in the
same transaction (qa_audit).

Errors for the user: ServiceError / NotFound (plain Chinese), PermissionError (role), and the core's
PlanError, ReviewError, ScoringError, CalibrationError (all ValueError) — raised before anything is
written, so a failed call leaves the database as it was.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Connection, Engine, insert, select

from dyy_desk.core import qa_review as core_review
from dyy_desk.core.changes import Changes
from dyy_desk.core.clock import Clock
from dyy_desk.core.ids import new_id
from dyy_desk.core.qa_access import QA_MANAGERS, require_own_results, require_qa_manager, visible_results
from dyy_desk.core.qa_calibration import open_session, start_calibration_review
from dyy_desk.core.qa_report import build_report
from dyy_desk.core.qa_review import AppealDecision, QAReview
from dyy_desk.core.qa_sampling import (
    CHINA_TZ,
    NothingToDraw,
    SamplingPeriod,
    SamplingPlan,
    draw_sample,
    redraw,
    window_for,
)
from dyy_desk.core.qa_scorecard import Scorecard
from dyy_desk.core.qa_scoring import Deduction, FatalHit
from dyy_desk.core.types import Platform, Role, TicketCategory, UserRow
from dyy_desk.db.repos.tables import clients, tickets, users
from dyy_desk.services import qa_scorecards
from dyy_desk.services.errors import NotFound, ServiceError
from dyy_desk.services.qa_audit import (
    audit_calibration_opened,
    audit_plan_created,
    audit_review,
    audit_sample_drawn,
    audit_scorecard_imported,
)
from dyy_desk.services.qa_calibration_reads import calibration_rows
from dyy_desk.services.qa_candidates import already_sampled, closed_candidates
from dyy_desk.services.qa_export import write_report
from dyy_desk.services.qa_reads import QAReads
from dyy_desk.services.qa_store import (
    draw_row_values,
    dumps,
    items_t,
    load_actor,
    load_draw,
    load_review,
    picks_json,
    plan_row_values,
    plans_t,
    reviews_t,
    samples_t,
    save_review,
    sessions_t,
    tallies_json,
)
from dyy_desk.services.qa_views import (
    CalibrationRow,
    PlanRow,
    RedrawResult,
    ReportView,
    ReviewRow,
    SampleSummary,
)

QA_CHANGED = Changes(qa=True)
_Act = Callable[[QAReview, Scorecard, UserRow, datetime], QAReview]


class QAService(QAReads):
    def __init__(self, *, engine: Engine, clock: Clock, origin: str) -> None:
        super().__init__(engine=engine)
        self._clock = clock
        self._origin = origin

    # --- scorecards --------------------------------------------------------------------------
    def active_scorecard(self) -> Scorecard:
        with self._engine.begin() as conn:
            return qa_scorecards.active_card(conn, now=self._clock.now(), origin=self._origin)

    def scorecard(self, *, scorecard_id: str, version: int) -> Scorecard:
        with self._engine.connect() as conn:
            return qa_scorecards.stored_card(conn, scorecard_id, version)

    def install_scorecard(self, *, actor_id: str, text: str, source: str) -> tuple[Scorecard, Changes]:
        """A supervisor adds a scorecard version; a bad template is refused with every problem listed."""
        now = self._clock.now()
        with self._engine.begin() as conn:
            require_qa_manager(load_actor(conn, actor_id), "导入评分表")
            card = qa_scorecards.parse_or_explain(text, source)
            new = qa_scorecards.ensure_stored(
                conn, card, text=text, source=source, actor_id=actor_id, now=now, origin=self._origin
            )
            if new:
                audit_scorecard_imported(conn, card, source=source, actor_id=actor_id, now=now)
        return card, QA_CHANGED if new else Changes()

    # --- plans -------------------------------------------------------------------------------
    def create_plan(
        self,
        *,
        actor_id: str,
        name: str,
        period: SamplingPeriod,
        count: int | None = None,
        percent: Decimal | None = None,
        minimum: int = 0,
        client_ids: Sequence[str] = (),
        platforms: Sequence[Platform] = (),
        categories: Sequence[TicketCategory] = (),
        agent_ids: Sequence[str] = (),
        stratify: bool = True,
    ) -> tuple[PlanRow, Changes]:
        now = self._clock.now()
        with self._engine.begin() as conn:
            actor = load_actor(conn, actor_id)
            require_qa_manager(actor, "创建抽检计划")
            plan = SamplingPlan(
                id=new_id(),
                name=name.strip(),
                period=SamplingPeriod(period),
                count=count,
                percent=percent,
                minimum=minimum,
                client_ids=tuple(client_ids),
                platforms=tuple(Platform(p) for p in platforms),
                categories=tuple(TicketCategory(c) for c in categories),
                agent_ids=tuple(agent_ids),
                stratify=stratify,
                created_by=actor.id,
            )
            self._check_plan_refs(conn, plan)
            taken = conn.execute(
                select(plans_t.c.id).where(plans_t.c.name == plan.name, plans_t.c.deleted.is_(False))
            ).first()
            if taken:
                raise ServiceError(f"已有名为「{plan.name}」的抽检计划，请换一个名称")
            conn.execute(
                insert(plans_t).values(
                    **plan_row_values(plan), created_at=now, origin=self._origin, version="", deleted=False
                )
            )
            audit_plan_created(conn, plan, now=now)
        return PlanRow(plan, actor.name, now), QA_CHANGED

    @staticmethod
    def _check_plan_refs(conn: Connection, plan: SamplingPlan) -> None:
        if plan.client_ids:
            known = {
                r.id for r in conn.execute(select(clients.c.id).where(clients.c.id.in_(plan.client_ids)))
            }
            if set(plan.client_ids) - known:
                raise ServiceError(f"抽检计划「{plan.name}」选择的品牌方不存在")
        if plan.agent_ids:
            rows = conn.execute(select(users.c.id, users.c.role).where(users.c.id.in_(plan.agent_ids))).all()
            if {r.id for r in rows if r.role == Role.AGENT.value} != set(plan.agent_ids):
                raise ServiceError(f"抽检计划「{plan.name}」只能选择客服作为抽检对象")

    # --- samples -----------------------------------------------------------------------------
    def draw(
        self, *, actor_id: str, plan_id: str, day: date | None = None, seed: int | None = None
    ) -> tuple[SampleSummary, Changes]:
        """Draw and store one sample; NothingToDraw becomes a ServiceError and nothing is written."""
        now = self._clock.now()
        day = day or now.astimezone(CHINA_TZ).date()
        seed = random.SystemRandom().randrange(2**31) if seed is None else seed
        sample_id = new_id()
        with self._engine.begin() as conn:
            actor = load_actor(conn, actor_id)
            require_qa_manager(actor, "执行抽检")
            plan = self._plan(conn, plan_id)
            candidates = closed_candidates(conn, window_for(plan.period, day, CHINA_TZ))
            sampled = already_sampled(conn, [c.ticket_id for c in candidates])
            try:
                result = draw_sample(
                    plan, candidates, actor=actor, day=day, seed=seed, now=now, already_sampled=sampled
                )
            except NothingToDraw as exc:
                raise ServiceError(f"{exc}。未保存抽检记录。") from exc
            conn.execute(
                insert(samples_t).values(
                    **draw_row_values(sample_id, result), origin=self._origin, version="", deleted=False
                )
            )
            for pick in result.picks:
                conn.execute(
                    insert(items_t).values(
                        id=new_id(),
                        sample_id=sample_id,
                        ticket_id=pick.ticket_id,
                        agent_id=pick.agent_id,
                        reasons="|".join(r.value for r in pick.reasons),
                        origin=self._origin,
                        version="",
                        deleted=False,
                    )
                )
            audit_sample_drawn(conn, sample_id, result, now=now)
        summary = SampleSummary(
            sample_id,
            plan.name,
            result.window.label,
            now,
            actor.name,
            seed,
            len(result.candidates),
            len(result.picks),
        )
        return summary, QA_CHANGED

    def redraw(self, *, sample_id: str) -> RedrawResult:
        """Recompute a stored draw from its own plan, seed and candidate snapshot and compare."""
        with self._engine.connect() as conn:
            stored = load_draw(conn, sample_id)
        again = redraw(stored)
        identical = dumps(picks_json(again.picks)) == dumps(picks_json(stored.picks)) and dumps(
            tallies_json(again.tallies)
        ) == dumps(tallies_json(stored.tallies))
        before = tuple(p.ticket_id for p in stored.picks)
        after = tuple(p.ticket_id for p in again.picks)
        if identical:
            message = (
                f"抽检 {sample_id} 重现一致：{len(before)} 张工单，"
                f"种子 {stored.seed}，窗口 {stored.window.label}"
            )
        else:
            missing, extra = set(before) - set(after), set(after) - set(before)
            message = (
                f"抽检 {sample_id} 无法重现：保存的结果与按计划、种子和候选快照重新抽取的结果不同"
                f"（少了 {len(missing)} 张，多了 {len(extra)} 张）。记录可能被改动过。"
            )
        return RedrawResult(sample_id, identical, before, after, message)

    # --- reviews -----------------------------------------------------------------------------
    def start_review(self, *, actor_id: str, ticket_id: str) -> tuple[ReviewRow, Changes]:
        """Open the regular review of a sampled ticket, creating the draft on first use."""
        now = self._clock.now()
        with self._engine.begin() as conn:
            actor = load_actor(conn, actor_id)
            require_qa_manager(actor, "质检评分")
            existing = conn.execute(
                select(reviews_t.c.id).where(
                    reviews_t.c.ticket_id == ticket_id,
                    reviews_t.c.kind == "regular",
                    reviews_t.c.deleted.is_(False),
                )
            ).scalar()
            if existing:
                review_id = str(existing)
                changes = Changes()
            else:
                item = conn.execute(
                    select(items_t.c.agent_id).where(items_t.c.ticket_id == ticket_id)
                ).first()
                if item is None:
                    raise ServiceError("只能质检已被抽中的工单，请先执行抽检")
                client_id = conn.execute(
                    select(tickets.c.client_id).where(tickets.c.id == ticket_id)
                ).scalar_one()
                card = qa_scorecards.active_card(conn, now=now, origin=self._origin)
                review = core_review.start_review(
                    card,
                    actor=actor,
                    review_id=new_id(),
                    ticket_id=ticket_id,
                    agent_id=item.agent_id,
                    client_id=client_id,
                    now=now,
                )
                save_review(conn, review, before=None, now=now, origin=self._origin)
                review_id, changes = review.id, QA_CHANGED
            return self._review_row(conn, load_review(conn, review_id)), changes

    def save_draft(
        self,
        *,
        actor_id: str,
        review_id: str,
        deductions: Sequence[Deduction],
        fatal_hits: Sequence[FatalHit] = (),
    ) -> tuple[ReviewRow, Changes]:
        return self._change(
            actor_id,
            review_id,
            lambda r, card, actor, now: core_review.edit_draft(
                r, card, actor=actor, deductions=deductions, fatal_hits=fatal_hits, now=now
            ),
        )

    def submit(
        self,
        *,
        actor_id: str,
        review_id: str,
        deductions: Sequence[Deduction],
        fatal_hits: Sequence[FatalHit] = (),
    ) -> tuple[ReviewRow, Changes]:
        """Save the marks and submit in one step, so the submitted score is the one on screen."""

        def act(r: QAReview, card: Scorecard, actor: UserRow, now: datetime) -> QAReview:
            marked = r
            if (tuple(deductions), tuple(fatal_hits)) != (r.deductions, r.fatal_hits):
                marked = core_review.edit_draft(
                    r, card, actor=actor, deductions=deductions, fatal_hits=fatal_hits, now=now
                )
            return core_review.submit(marked, actor=actor, now=now)

        return self._change(actor_id, review_id, act)

    def appeal(
        self, *, actor_id: str, review_id: str, reason: str, contested: Sequence[str] = ()
    ) -> tuple[ReviewRow, Changes]:
        return self._change(
            actor_id,
            review_id,
            lambda r, _card, actor, now: core_review.file_appeal(
                r, actor=actor, reason=reason, now=now, contested=contested
            ),
        )

    def re_review(
        self,
        *,
        actor_id: str,
        review_id: str,
        decision: AppealDecision,
        comment: str,
        deductions: Sequence[Deduction] | None = None,
        fatal_hits: Sequence[FatalHit] | None = None,
    ) -> tuple[ReviewRow, Changes]:
        return self._change(
            actor_id,
            review_id,
            lambda r, card, actor, now: core_review.decide_appeal(
                r,
                card,
                actor=actor,
                decision=decision,
                comment=comment,
                now=now,
                deductions=deductions,
                fatal_hits=fatal_hits,
            ),
        )

    def finalize(self, *, actor_id: str, review_id: str) -> tuple[ReviewRow, Changes]:
        return self._change(
            actor_id, review_id, lambda r, _card, actor, now: core_review.finalize(r, actor=actor, now=now)
        )

    def _change(self, actor_id: str, review_id: str, act: _Act) -> tuple[ReviewRow, Changes]:
        now = self._clock.now()
        with self._engine.begin() as conn:
            actor = load_actor(conn, actor_id)
            before = load_review(conn, review_id)
            card = qa_scorecards.stored_card(conn, before.scorecard_id, before.scorecard_version)
            after = act(before, card, actor, now)
            save_review(conn, after, before=before, now=now, origin=self._origin)
            audit_review(conn, after, known=len(before.history), now=now)
            return self._review_row(conn, after), QA_CHANGED

    # --- calibration -------------------------------------------------------------------------
    def open_calibration(
        self, *, actor_id: str, ticket_id: str, reviewer_ids: Sequence[str]
    ) -> tuple[CalibrationRow, Changes]:
        now = self._clock.now()
        with self._engine.begin() as conn:
            actor = load_actor(conn, actor_id)
            ticket = conn.execute(
                select(tickets.c.assignee_id, tickets.c.client_id).where(tickets.c.id == ticket_id)
            ).first()
            if ticket is None:
                raise NotFound("工单不存在或已被删除")
            if ticket.assignee_id is None:
                raise ServiceError("该工单没有处理客服，无法校准")
            for reviewer_id in reviewer_ids:
                if load_actor(conn, reviewer_id).role not in QA_MANAGERS:
                    raise ServiceError("校准评分人必须是主管或管理员")
            card = qa_scorecards.active_card(conn, now=now, origin=self._origin)
            session = open_session(
                card,
                actor=actor,
                session_id=new_id(),
                ticket_id=ticket_id,
                agent_id=ticket.assignee_id,
                client_id=ticket.client_id,
                reviewer_ids=reviewer_ids,
                now=now,
            )
            conn.execute(
                insert(sessions_t).values(
                    id=session.id,
                    ticket_id=session.ticket_id,
                    agent_id=session.agent_id,
                    client_id=session.client_id,
                    scorecard_id=session.scorecard_id,
                    scorecard_version=session.scorecard_version,
                    reviewer_ids=dumps(list(session.reviewer_ids)),
                    created_by=session.created_by,
                    created_at=now,
                    origin=self._origin,
                    version="",
                    deleted=False,
                )
            )
            audit_calibration_opened(
                conn,
                session_id=session.id,
                ticket_id=ticket_id,
                reviewer_ids=list(session.reviewer_ids),
                actor_id=actor.id,
                now=now,
            )
            rows = calibration_rows(conn, actor, session_id=session.id)
        return rows[0], QA_CHANGED

    def start_calibration_review(self, *, actor_id: str, session_id: str) -> tuple[ReviewRow, Changes]:
        now = self._clock.now()
        with self._engine.begin() as conn:
            actor = load_actor(conn, actor_id)
            session = self._session(conn, session_id)
            existing = conn.execute(
                select(reviews_t.c.id).where(
                    reviews_t.c.session_id == session_id, reviews_t.c.reviewer_id == actor.id
                )
            ).scalar()
            if existing:
                return self._review_row(conn, load_review(conn, str(existing))), Changes()
            card = qa_scorecards.stored_card(conn, session.scorecard_id, session.scorecard_version)
            review = start_calibration_review(session, card, actor=actor, review_id=new_id(), now=now)
            save_review(conn, review, before=None, now=now, origin=self._origin)
            return self._review_row(conn, review), QA_CHANGED

    def calibrations(self, *, actor_id: str) -> list[CalibrationRow]:
        with self._engine.connect() as conn:
            actor = load_actor(conn, actor_id)
            require_qa_manager(actor, "查看校准结果")
            return calibration_rows(conn, actor)

    # --- reports -----------------------------------------------------------------------------
    def report(self, *, actor_id: str, agent_id: str | None = None) -> ReportView:
        """Managers get everyone (or one agent); an agent always gets their own results only."""
        with self._engine.connect() as conn:
            actor = load_actor(conn, actor_id)
            if agent_id is not None:
                require_own_results(actor, agent_id)
            stmt = select(reviews_t.c.id).where(reviews_t.c.deleted.is_(False), reviews_t.c.state != "draft")
            if agent_id is not None:
                stmt = stmt.where(reviews_t.c.agent_id == agent_id)
            reviews = visible_results(actor, [load_review(conn, r.id) for r in conn.execute(stmt)])
            cards = {
                (r.scorecard_id, r.scorecard_version): qa_scorecards.stored_card(
                    conn, r.scorecard_id, r.scorecard_version
                )
                for r in reviews
            }
            report = build_report(reviews, actor=actor, scorecards=cards.values())
            names = self._names(conn)
            client_names = {r.id: r.name for r in conn.execute(select(clients.c.id, clients.c.name))}
        return ReportView(report, names, client_names, self._clock.now())

    def export_report(self, *, actor_id: str, path: Path, agent_id: str | None = None) -> Path:
        """Write the report as .xlsx or .csv (UTF-8 with BOM, so Excel opens it without mojibake)."""
        view = self.report(actor_id=actor_id, agent_id=agent_id)
        return write_report(view, path)

    def _plan(self, conn: Connection, plan_id: str) -> SamplingPlan:
        for row in self._plan_rows(conn, plan_id=plan_id):
            return row.plan
        raise NotFound("抽检计划不存在或已被删除")

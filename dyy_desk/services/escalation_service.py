"""Escalation use cases (升级): rules run over tickets and SOP steps, manual escalation, the lifecycle
with roles, reads for the board and for the agent who raised one, and importing the rules file.

One public method = one transaction, keyword-only, returning frozen DTOs plus `Changes`. Every step is
appended to the escalation's history and to the timeline of the tickets it concerns, with who and when;
the steps that change who answers for it or how urgent it is also go to the audit log (escalation_audit).
Errors for the user: ServiceError / NotFound, PermissionError (role), EscalationTransitionError and
DataFileError (both ValueError) — raised before anything is written.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy import Engine, func, select

from dyy_desk.core import escalation_lifecycle as life
from dyy_desk.core.changes import Changes
from dyy_desk.core.clock import Clock
from dyy_desk.core.escalation_model import (
    Escalation,
    EscalationLevel,
    EscalationStatus,
    EvidenceRef,
    FollowUp,
    PostMortem,
)
from dyy_desk.core.ids import new_id
from dyy_desk.core.types import Role, UserRow
from dyy_desk.db.repos.escalation_queries import escalations
from dyy_desk.db.repos.tables import tickets, users
from dyy_desk.services import escalation_reads as reads
from dyy_desk.services import escalation_rulesfile as rulesfile
from dyy_desk.services.errors import NotFound, ServiceError
from dyy_desk.services.escalation_access import MANAGERS, refusals, require
from dyy_desk.services.escalation_audit import audit_raised, audit_rules_imported, audit_step
from dyy_desk.services.escalation_engine import RuleEngine, StepFacts
from dyy_desk.services.escalation_store import load_actor, load_escalations, load_one, write_transition
from dyy_desk.services.escalation_views import (
    AppliedAction,
    BoardFilter,
    BoardScope,
    EscalationDetail,
    EscalationOp,
    EscalationRow,
    RulesInfo,
)
from dyy_desk.services.tickets import TicketService

_Make = Callable[[Escalation, UserRow, datetime], life.Transition]


class EscalationService:
    def __init__(
        self,
        *,
        engine: Engine,
        clock: Clock,
        origin: str,
        tickets: TicketService | None = None,
        step_facts: StepFacts | None = None,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._origin = origin
        self._tickets = tickets
        self._runner = RuleEngine(engine=engine, origin=origin, step_facts=step_facts)
        self._active: rulesfile.ActiveRules | None = None
        self._rules_lock = threading.Lock()

    # --- rules -------------------------------------------------------------------------------
    def _active_rules(self) -> rulesfile.ActiveRules:
        with self._rules_lock:
            if self._active is None:
                with self._engine.connect() as conn:
                    self._active = rulesfile.load_active(conn)
            return self._active

    def rules_info(self) -> RulesInfo:
        active = self._active_rules()
        with self._engine.connect() as conn:
            by = conn.execute(select(users.c.name).where(users.c.id == active.imported_by)).scalar()
        return RulesInfo(
            source=active.source,
            imported_at=active.imported_at,
            imported_by=by,
            rule_names=tuple(r.name for r in active.rules.rules),
            response_hours={
                level: window.total_seconds() / 3600
                for level, window in active.rules.response_windows.items()
            },
        )

    def import_rules(self, *, actor_id: str, text: str, source: str) -> tuple[RulesInfo, Changes]:
        """A supervisor puts a new rules file in force; a bad file is refused and the old rules stay."""
        now = self._clock.now()
        with self._engine.begin() as conn:
            actor = load_actor(conn, actor_id)
            if actor.role not in MANAGERS:
                raise PermissionError("只有主管或管理员可以导入升级规则")
            active = rulesfile.store(
                conn, text=text, source=source, actor_id=actor_id, now=now, origin=self._origin
            )
            audit_rules_imported(
                conn, source=source, rule_ids=[r.id for r in active.rules.rules], actor_id=actor.id, now=now
            )
        with self._rules_lock:
            self._active = active
        self._runner.invalidate()
        return self.rules_info(), Changes(escalations=True)

    def invalidate(self) -> None:
        """Re-read rules and the index from the database (after a sync import wrote rows)."""
        with self._rules_lock:
            self._active = None
        self._runner.invalidate()

    # --- the rules run -----------------------------------------------------------------------
    def run_rules(self, *, ticket_ids: Sequence[str] | None = None) -> tuple[list[AppliedAction], Changes]:
        """Evaluate the rules (only around `ticket_ids` when given, else everything) and apply the
        actions in one transaction. Running again at once does nothing."""
        applied, touched = self._runner.run(
            rules=self._active_rules().rules, now=self._clock.now(), ticket_ids=ticket_ids
        )
        if not applied:
            return [], Changes()
        self._refresh(touched)
        return applied, Changes(escalations=True, ticket_ids=touched)

    # --- manual escalation and lifecycle -------------------------------------------------------
    def escalate_ticket(
        self, *, ticket_id: str, level: EscalationLevel, reason: str, actor_id: str
    ) -> tuple[EscalationRow, Changes]:
        """Anyone may escalate a ticket by hand; one open manual escalation per ticket."""
        now = self._clock.now()
        rules = self._active_rules().rules
        with self._engine.begin() as conn:
            actor = load_actor(conn, actor_id)
            created = conn.execute(
                select(tickets.c.created_at).where(tickets.c.id == ticket_id, tickets.c.deleted.is_(False))
            ).scalar()
            if created is None:
                raise NotFound("工单不存在或已被删除")
            for esc in load_escalations(
                conn, ids=reads.ids_for_ticket(conn, ticket_id), open_only=True
            ).values():
                if esc.rule_id is None:
                    raise ServiceError(
                        f"该工单已有未关闭的手动升级（{esc.level.code}），请在升级中调整级别或补充说明"
                    )
            done = life.open_manual(
                escalation_id=new_id(),
                ticket_id=ticket_id,
                level=level,
                reason=reason,
                actor_id=actor.id,
                now=now,
                rules=rules,
            )
            touched = write_transition(
                conn,
                None,
                done,
                now=now,
                origin=self._origin,
                raised_by=actor.id,
                evidence_at={EvidenceRef(ticket_id): created},
            )
            audit_raised(conn, done.escalation, ticket_id=ticket_id, actor_id=actor.id, now=now)
            row = reads.build_rows(conn, {done.escalation.id: done.escalation}, {})[0]
        self._runner.put(done.escalation)
        self._refresh(touched)
        return row, Changes(escalations=True, ticket_ids=touched)

    def acknowledge(
        self, *, escalation_id: str, actor_id: str, owner_id: str | None = None
    ) -> tuple[EscalationRow, Changes]:
        """响应: the owner is the actor unless a supervisor/admin names someone else."""

        def make(esc: Escalation, actor: UserRow, now: datetime) -> life.Transition:
            return life.acknowledge(esc, owner_id=owner_id or actor.id, actor_id=actor.id, now=now)

        return self._step(escalation_id, actor_id, EscalationOp.ACKNOWLEDGE, make, owner_id=owner_id)

    def start(self, *, escalation_id: str, actor_id: str) -> tuple[EscalationRow, Changes]:
        return self._step(
            escalation_id,
            actor_id,
            EscalationOp.START,
            lambda esc, actor, now: life.start_work(esc, actor_id=actor.id, now=now),
        )

    def resolve(self, *, escalation_id: str, actor_id: str, note: str = "") -> tuple[EscalationRow, Changes]:
        return self._step(
            escalation_id,
            actor_id,
            EscalationOp.RESOLVE,
            lambda esc, actor, now: life.resolve(esc, actor_id=actor.id, now=now, note=note),
        )

    def close(self, *, escalation_id: str, actor_id: str) -> tuple[EscalationRow, Changes]:
        """Supervisors/admins only; an L3 closes only with a complete 复盘 and a 回访 on record."""
        return self._step(
            escalation_id,
            actor_id,
            EscalationOp.CLOSE,
            lambda esc, actor, now: life.close(esc, actor_id=actor.id, now=now),
        )

    def reopen(self, *, escalation_id: str, actor_id: str, reason: str) -> tuple[EscalationRow, Changes]:
        return self._step(
            escalation_id,
            actor_id,
            EscalationOp.REOPEN,
            lambda esc, actor, now: life.reopen(esc, actor_id=actor.id, reason=reason, now=now),
            reason=reason,
        )

    def change_level(
        self, *, escalation_id: str, actor_id: str, level: EscalationLevel, reason: str
    ) -> tuple[EscalationRow, Changes]:
        """Raise or lower by hand (supervisors/admins, reason required); rules stop adjusting it."""
        rules = self._active_rules().rules
        return self._step(
            escalation_id,
            actor_id,
            EscalationOp.CHANGE_LEVEL,
            lambda esc, actor, now: life.change_level(
                esc, to_level=level, reason=reason, actor_id=actor.id, now=now, rules=rules
            ),
            reason=reason,
        )

    def record_post_mortem(
        self, *, escalation_id: str, actor_id: str, post_mortem: PostMortem
    ) -> tuple[EscalationRow, Changes]:
        return self._step(
            escalation_id,
            actor_id,
            EscalationOp.POST_MORTEM,
            lambda esc, actor, now: life.record_post_mortem(esc, post_mortem, actor_id=actor.id, now=now),
        )

    def record_follow_up(
        self, *, escalation_id: str, actor_id: str, satisfied: bool, note: str
    ) -> tuple[EscalationRow, Changes]:
        """回访 recorded now: the buyer was contacted again and said whether they are satisfied."""
        return self._step(
            escalation_id,
            actor_id,
            EscalationOp.FOLLOW_UP,
            lambda esc, actor, now: life.record_follow_up(
                esc, FollowUp(contacted_at=now, satisfied=satisfied, note=note), actor_id=actor.id, now=now
            ),
        )

    def _step(
        self,
        escalation_id: str,
        actor_id: str,
        op: EscalationOp,
        make: _Make,
        *,
        owner_id: str | None = None,
        reason: str = "",
    ) -> tuple[EscalationRow, Changes]:
        now = self._clock.now()
        names = reads.rule_names(self._active_rules().rules)
        with self._engine.begin() as conn:
            actor = load_actor(conn, actor_id)
            esc = load_one(conn, escalation_id)
            require(op, esc, actor, owner_id=owner_id)
            done = make(esc, actor, now)
            new_owner = done.escalation.owner_id
            if new_owner is not None and new_owner != esc.owner_id:
                # the named owner must exist; history and timeline show the name, not the id
                name = actor.name if new_owner == actor.id else load_actor(conn, new_owner).name
                text = done.entry.text.replace(f"负责人 {new_owner}", f"负责人 {name}")
                done = replace(done, entry=replace(done.entry, text=text))
            touched = write_transition(conn, esc, done, now=now, origin=self._origin)
            audit_step(conn, op, esc, done.escalation, actor_id=actor.id, now=now, reason=reason)
            row = reads.build_rows(conn, {esc.id: done.escalation}, names)[0]
        self._runner.put(done.escalation)
        self._refresh(touched)
        return row, Changes(escalations=True, ticket_ids=touched)

    def _refresh(self, ticket_ids: Sequence[str]) -> None:
        if self._tickets is not None and ticket_ids:
            self._tickets.refresh_queue(ticket_ids)

    # --- reads -------------------------------------------------------------------------------
    def board(self, *, include_closed: bool = False) -> list[EscalationRow]:
        """Every escalation not yet closed (and the closed ones when asked), most urgent first."""
        names = reads.rule_names(self._active_rules().rules)
        with self._engine.connect() as conn:
            found = load_escalations(conn, open_only=not include_closed)
            ordered = dict(
                sorted(found.items(), key=lambda kv: (-kv[1].level, kv[1].first_response_due, kv[0]))
            )
            return reads.build_rows(conn, ordered, names)

    def board_page(
        self, *, board: BoardFilter, offset: int = 0, limit: int = 100
    ) -> tuple[list[EscalationRow], int]:
        """One page of the open escalations in board order, and how many the filter matches in all."""
        names = reads.rule_names(self._active_rules().rules)
        with self._engine.connect() as conn:
            ids = reads.board_ids(conn, board, offset=offset, limit=limit)
            found = load_escalations(conn, ids=ids)
            rows = reads.build_rows(conn, {i: found[i] for i in ids if i in found}, names)
            return rows, reads.board_count(conn, board)

    def board_scope(self) -> BoardScope:
        """The clients and shops the open escalations concern (the board's filter choices)."""
        with self._engine.connect() as conn:
            return reads.board_scope(conn)

    def attention(self, *, actor_id: str) -> list[EscalationRow]:
        """Open escalations this person must act on (owned, or waiting for a manager), without evidence."""
        names = reads.rule_names(self._active_rules().rules)
        with self._engine.connect() as conn:
            return reads.attention_rows(conn, load_actor(conn, actor_id), names, managers=MANAGERS)

    def raised_by_me(self, *, actor_id: str) -> list[EscalationRow]:
        """What happened to the escalations this person raised by hand, newest first (closed too)."""
        names = reads.rule_names(self._active_rules().rules)
        with self._engine.connect() as conn:
            ids = reads.ids_raised_by(conn, actor_id)
            found = load_escalations(conn, ids=ids)
            return reads.build_rows(conn, {i: found[i] for i in ids if i in found}, names)

    def for_ticket(self, *, ticket_id: str) -> list[EscalationRow]:
        names = reads.rule_names(self._active_rules().rules)
        with self._engine.connect() as conn:
            found = load_escalations(conn, ids=reads.ids_for_ticket(conn, ticket_id))
            return reads.build_rows(conn, found, names)

    def detail(self, *, escalation_id: str, actor_id: str | None) -> EscalationDetail:
        """The escalation, its history, and for `actor_id` which steps are allowed (and why not)."""
        rules = self._active_rules().rules
        with self._engine.connect() as conn:
            esc = load_one(conn, escalation_id)
            actor = load_actor(conn, actor_id) if actor_id else None
            row = reads.build_rows(conn, {esc.id: esc}, reads.rule_names(rules))[0]
            history = reads.history_rows(conn, esc.id)
        return EscalationDetail(
            row=row, history=history, refusals=refusals(esc, actor, now=self._clock.now(), rules=rules)
        )

    def pending_count(self) -> int:
        """Escalations nobody has responded to yet: the number on the 升级 navigation item."""
        with self._engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count())
                    .select_from(escalations)
                    .where(
                        escalations.c.status == EscalationStatus.PENDING.value,
                        escalations.c.deleted.is_(False),
                    )
                ).scalar_one()
            )

    def people(self) -> list[UserRow]:
        """Who can own an escalation (for the 响应 owner picker)."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(users.c.id, users.c.name, users.c.role).where(users.c.deleted.is_(False))
            )
            found = [UserRow(id=r.id, name=r.name, role=Role(r.role)) for r in rows]
        return sorted(found, key=lambda u: (list(Role).index(u.role), u.name))

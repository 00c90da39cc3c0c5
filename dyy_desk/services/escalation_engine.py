"""Rule evaluation against the database: a RuleIndex kept in memory, actions applied in one transaction.

The index is built once from the live part of the ticket table (see escalation_queries), the open SOP
steps from the provider, open escalations and consumed evidence. After that, `run(ticket_ids=…)`
re-reads only those tickets and evaluates only the groups they are in, so one change costs
milliseconds at 100k tickets; `run(ticket_ids=None)` (the timer) evaluates every group, which is how
steps becoming due and sliding windows are noticed.

Invariant: the index is only told about an escalation after its transaction commits, so a failed
write leaves it where the database is, and the next run computes the same actions again.
Threading: one lock guards the index; the GUI's database worker and tests may call from any thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, select

from dyy_desk.core.escalation_eval import RuleIndex
from dyy_desk.core.escalation_lifecycle import apply_action
from dyy_desk.core.escalation_model import (
    CreateEscalation,
    Escalation,
    EscalationAction,
    EscalationSnapshot,
    EvidenceRef,
    JoinEvidence,
    SopStepFact,
    TicketFact,
)
from dyy_desk.core.escalation_rules import INACTIVE_STATUSES, RuleSet, WindowRule
from dyy_desk.core.ids import new_id
from dyy_desk.core.types import Platform, TicketCategory, TicketStatus
from dyy_desk.db.repos.escalation_queries import live_ticket_fact_rows, ticket_fact_rows
from dyy_desk.db.repos.tables import tickets
from dyy_desk.infra.memory import release_memory
from dyy_desk.services.escalation_store import load_closed, load_escalations, write_transition
from dyy_desk.services.escalation_views import AppliedAction

StepFacts = Callable[[datetime], list[SopStepFact]]
_OPEN_STATUSES = frozenset(s.value for s in TicketStatus if s not in INACTIVE_STATUSES)


_NO_TAGS: frozenset[str] = frozenset()


def ticket_fact(row: Any, shared: dict[str, str] | None = None) -> TicketFact:
    """`shared` hands out one string object per client and shop id (a build reads thousands of
    tickets per shop; each row brings its own copies)."""
    client_id, shop_id = row.client_id, row.shop_id
    if shared is not None:
        client_id = shared.setdefault(client_id, client_id)
        shop_id = shared.setdefault(shop_id, shop_id)
    return TicketFact(
        id=row.id,
        client_id=client_id,
        shop_id=shop_id,
        platform=Platform(row.platform),
        category=TicketCategory(row.category),
        status=TicketStatus(row.status),
        created_at=row.created_at,
        platform_intervention=bool(row.platform_intervention),
        product=row.product or None,
        tags=frozenset(t for t in row.tags.split("|") if t) if row.tags else _NO_TAGS,
    )


class RuleEngine:
    def __init__(self, *, engine: Engine, origin: str, step_facts: StepFacts | None) -> None:
        self._engine = engine
        self._origin = origin
        self._step_facts = step_facts
        self._lock = threading.Lock()
        self._index: RuleIndex | None = None
        self._rules: RuleSet | None = None
        self._steps: dict[EvidenceRef, SopStepFact] = {}

    def invalidate(self) -> None:
        """Rebuild from the database on the next run (after an import or a sync wrote rows)."""
        with self._lock:
            self._index = None

    def put(self, escalation: Escalation) -> None:
        """Feed back an escalation a lifecycle step just committed."""
        with self._lock:
            if self._index is not None:
                self._index.put_escalation(escalation)

    def run(
        self, *, rules: RuleSet, now: datetime, ticket_ids: Collection[str] | None
    ) -> tuple[list[AppliedAction], tuple[str, ...]]:
        """Evaluate and apply; returns what was applied and the tickets whose timeline changed."""
        with self._lock:
            if self._index is None or self._rules is not rules:
                index = self._build(rules, now)
                actions = index.evaluate_all(now)  # a fresh index may not be at a fixed point
            else:
                index = self._index
                changed_steps = self._refresh_steps(index, now)
                if ticket_ids is None:
                    actions = index.evaluate_all(now)
                else:
                    self._refresh_tickets(index, ticket_ids)
                    actions = index.evaluate_changed(now, ticket_ids=ticket_ids, step_refs=changed_steps)
            if not actions:
                return [], ()
            applied, final, touched = self._apply(actions, rules, now)
            for escalation in final:
                index.put_escalation(escalation)
            return applied, touched

    # --- the index -------------------------------------------------------------------------------
    def _build(self, rules: RuleSet, now: datetime) -> RuleIndex:
        longest = max((r.window for r in rules.rules if isinstance(r, WindowRule)), default=timedelta(0))
        steps = list(self._step_facts(now)) if self._step_facts else []
        with self._engine.connect() as conn:
            snapshot = EscalationSnapshot(
                steps=tuple(steps),
                open_escalations=tuple(load_escalations(conn, open_only=True).values()),
                closed=tuple(load_closed(conn)),
            )
            index = RuleIndex(rules, snapshot)
            # Streamed row by row: the index keeps only the tickets a rule reads (a few thousand of a
            # 100k history), so the whole live part is never held as facts at once.
            shared: dict[str, str] = {}
            rows = live_ticket_fact_rows(conn, created_since=now - longest, open_statuses=_OPEN_STATUSES)
            index.load_tickets(ticket_fact(r, shared) for r in rows)
        self._index, self._rules = index, rules
        self._steps = {s.ref: s for s in steps}
        release_memory()  # the facts of tickets no rule reads were garbage as soon as they were read
        return index

    def _refresh_tickets(self, index: RuleIndex, ticket_ids: Collection[str]) -> None:
        seen: set[str] = set()
        with self._engine.connect() as conn:
            for row in ticket_fact_rows(conn, ticket_ids):
                seen.add(row.id)
                if row.deleted:
                    index.remove_ticket(row.id)
                else:
                    index.put_ticket(ticket_fact(row))
        for gone in set(ticket_ids) - seen:
            index.remove_ticket(gone)

    def _refresh_steps(self, index: RuleIndex, now: datetime) -> set[EvidenceRef]:
        if self._step_facts is None:
            return set()
        fresh = {s.ref: s for s in self._step_facts(now)}
        for ref in self._steps.keys() - fresh.keys():
            index.remove_step(ref)
        changed = {ref for ref, step in fresh.items() if self._steps.get(ref) != step}
        for ref in changed:
            index.put_step(fresh[ref])
        self._steps = fresh
        return changed

    # --- applying ----------------------------------------------------------------------------------
    def _apply(
        self, actions: list[EscalationAction], rules: RuleSet, now: datetime
    ) -> tuple[list[AppliedAction], list[Escalation], tuple[str, ...]]:
        """All actions in one transaction; an action on an escalation closed meanwhile is skipped."""
        applied: list[AppliedAction] = []
        touched: list[str] = []
        with self._engine.begin() as conn:
            wanted = {a.escalation_id for a in actions if not isinstance(a, CreateEscalation)}
            current = load_escalations(conn, ids=wanted, open_only=True)
            changed: dict[str, Escalation] = {}
            for action in actions:
                if not isinstance(action, CreateEscalation) and action.escalation_id not in current:
                    continue
                before = None if isinstance(action, CreateEscalation) else current[action.escalation_id]
                done = apply_action(action, open_escalations=current, now=now, rules=rules, new_id=new_id)
                if done is None:
                    continue
                esc = done.escalation
                new_refs = esc.evidence - (before.evidence if before else frozenset())
                touched += write_transition(
                    conn,
                    before,
                    done,
                    now=now,
                    origin=self._origin,
                    evidence_at=self._evidence_times(conn, new_refs),
                )
                current[esc.id] = changed[esc.id] = esc
                kind = "create" if before is None else "join" if isinstance(action, JoinEvidence) else "raise"
                refs = sorted(new_refs) if new_refs else sorted(esc.evidence)
                applied.append(
                    AppliedAction(
                        kind=kind,
                        escalation_id=esc.id,
                        rule_id=action.rule_id,
                        level=esc.level,
                        ticket_ids=tuple(dict.fromkeys(r.ticket_id for r in refs)),
                        reason=done.entry.text,
                    )
                )
        return applied, list(changed.values()), tuple(dict.fromkeys(touched))

    def _evidence_times(self, conn: Connection, refs: Collection[EvidenceRef]) -> dict[EvidenceRef, datetime]:
        """When each piece of evidence happened: the step's deadline, or the ticket's creation."""
        out = {ref: self._steps[ref].deadline for ref in refs if ref in self._steps}
        plain = sorted({ref.ticket_id for ref in refs if ref not in out})
        for start in range(0, len(plain), 500):
            batch = plain[start : start + 500]
            created = {
                r[0]: r[1]
                for r in conn.execute(
                    select(tickets.c.id, tickets.c.created_at).where(tickets.c.id.in_(batch))
                )
            }
            out.update(
                {ref: created[ref.ticket_id] for ref in refs if ref.ticket_id in created and ref not in out}
            )
        return out

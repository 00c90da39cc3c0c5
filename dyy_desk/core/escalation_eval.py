"""Evaluate escalation rules: a full pass (`evaluate`) and an incremental one (`RuleIndex`).

Both run the same code: `evaluate` builds a fresh index and looks at every group; after one ticket
or step changes, `RuleIndex.evaluate_changed` looks only at the groups that contain it. That is exact
when the index was at a fixed point (every earlier action applied and fed back with
`put_escalation`): other groups only lose tickets as windows slide, which never creates an action.

Invariants that make evaluation idempotent and de-duplicating:
- within one rule, an evidence ref belongs to at most one open escalation ("claimed");
- refs of a closed escalation are "consumed" for its rule up to its level, so they never fire again
  (an SOP step closed at L1 may still fire L2 when it becomes overdue);
- a ticket counts in a window while now - window < created_at; one dated ahead of `now` (clock skew
  between synced machines) counts at once, so the passing of time only ever removes tickets;
- per window rule, joins into open escalations are decided before creations, groups in key order.
Automatic raises never lower a level and leave an escalation alone once a person set its level.
"""

from __future__ import annotations

from bisect import bisect_right, insort
from collections.abc import Callable, Iterable
from datetime import datetime

from dyy_desk.core.deadlines import DeadlineState
from dyy_desk.core.escalation_model import (
    ClosedEvidence,
    CreateEscalation,
    Escalation,
    EscalationAction,
    EscalationLevel,
    EscalationSnapshot,
    EscalationStatus,
    EvidenceRef,
    JoinEvidence,
    RaiseLevel,
    SopStepFact,
    TicketFact,
    duration_text,
)
from dyy_desk.core.escalation_rules import (
    Rule,
    RuleSet,
    SopDeadlineRule,
    TicketRule,
    WindowRule,
    split_group_key,
    ticket_key,
)
from dyy_desk.core.types import CATEGORY_LABELS, TicketCategory

_Entry = tuple[datetime, str]  # (created_at, ticket id), kept sorted per group


def evaluate(snapshot: EscalationSnapshot, now: datetime, rules: RuleSet) -> list[EscalationAction]:
    """All actions the rules call for at `now`; applying them makes the next call return []."""
    return RuleIndex(rules, snapshot).evaluate_all(now)


class RuleIndex:
    """Tickets bucketed per window-rule group, steps, and open/closed escalations, kept up to date.

    Not thread-safe: one owner (the escalation service's worker) updates and evaluates it.
    """

    def __init__(self, rules: RuleSet, snapshot: EscalationSnapshot | None = None) -> None:
        self._rules = rules
        self._window_rules = [r for r in rules.rules if isinstance(r, WindowRule)]
        self._ticket_rules = [r for r in rules.rules if isinstance(r, TicketRule)]
        self._tickets: dict[str, TicketFact] = {}
        self._groups: dict[str, dict[str, list[_Entry]]] = {r.id: {} for r in self._window_rules}
        self._member_of: dict[str, list[tuple[str, str]]] = {}  # ticket id -> [(rule id, key)]
        self._matching: dict[str, set[str]] = {r.id: set() for r in self._ticket_rules}
        self._steps: dict[EvidenceRef, SopStepFact] = {}
        self._open: dict[str, Escalation] = {}
        self._open_by_key: dict[tuple[str, str], dict[str, Escalation]] = {}
        self._claimed: dict[str, dict[EvidenceRef, str]] = {}
        self._consumed: dict[str, dict[EvidenceRef, EscalationLevel]] = {}
        if snapshot is not None:
            self.load_tickets(snapshot.tickets)
            for step in snapshot.steps:
                self.put_step(step)
            for escalation in snapshot.open_escalations:
                self.put_escalation(escalation)
            for closed in snapshot.closed:
                self.add_closed(closed)

    def __len__(self) -> int:
        """Tickets held: only those some rule reads (in a window group, or matching a ticket rule)."""
        return len(self._tickets)

    # -- updates ---------------------------------------------------------------------------------

    def put_ticket(self, ticket: TicketFact) -> None:
        """Insert or replace a ticket and re-bucket it."""
        self.remove_ticket(ticket.id)
        self._place(ticket, insort)

    def load_tickets(self, tickets: Iterable[TicketFact]) -> None:
        """Put many tickets at once (the last copy of an id wins): appended, each group sorted once.

        Consumed as a stream and holding only tickets a rule reads, so a caller can feed a 100k-ticket
        history row by row without ever having it all in memory.
        """
        unsorted: set[tuple[str, str]] = set()  # groups appended to since they were last sorted
        for ticket in tickets:
            if ticket.id in self._tickets:  # a second copy: removing it needs sorted groups
                self._sort(unsorted)
                self.remove_ticket(ticket.id)
            unsorted.update(self._place(ticket, list.append))
        self._sort(unsorted)

    def _sort(self, keys: set[tuple[str, str]]) -> None:
        for rule_id, key in keys:
            self._groups[rule_id][key].sort()
        keys.clear()

    def _place(
        self, ticket: TicketFact, add: Callable[[list[_Entry], _Entry], None]
    ) -> list[tuple[str, str]]:
        """Bucket a ticket that is not in the index; returns its (rule id, group key) memberships."""
        entry = (ticket.created_at, ticket.id)
        memberships: list[tuple[str, str]] = []
        for window_rule in self._window_rules:
            groups = self._groups[window_rule.id]
            for key in window_rule.group_keys(ticket):
                add(groups.setdefault(key, []), entry)
                memberships.append((window_rule.id, key))
        matched = False
        for ticket_rule in self._ticket_rules:
            if ticket_rule.matches(ticket):
                self._matching[ticket_rule.id].add(ticket.id)
                matched = True
        if memberships or matched:  # a ticket no rule reads can fire nothing: it is not kept
            self._tickets[ticket.id] = ticket
            if memberships:
                self._member_of[ticket.id] = memberships
        return memberships

    def remove_ticket(self, ticket_id: str) -> None:
        old = self._tickets.pop(ticket_id, None)
        if old is None:
            return
        for rule_id, key in self._member_of.pop(ticket_id, []):
            entries = self._groups[rule_id][key]
            del entries[bisect_right(entries, (old.created_at, ticket_id)) - 1]
            if not entries:
                del self._groups[rule_id][key]
        for matching in self._matching.values():
            matching.discard(ticket_id)

    def put_step(self, step: SopStepFact) -> None:
        self._steps[step.ref] = step

    def remove_step(self, ref: EvidenceRef) -> None:
        self._steps.pop(ref, None)

    def put_escalation(self, escalation: Escalation) -> None:
        """Record an escalation as stored after an action or a transition; closing consumes its evidence."""
        old = self._open.pop(escalation.id, None)
        if old is not None and old.rule_id is not None:
            self._open_by_key[(old.rule_id, old.group_key)].pop(old.id, None)
            claimed = self._claimed[old.rule_id]
            for ref in old.evidence:
                if claimed.get(ref) == old.id:
                    del claimed[ref]
        if escalation.rule_id is None:
            return
        closed = escalation.closed_evidence()
        if escalation.status is EscalationStatus.CLOSED and closed is not None:
            self.add_closed(closed)
            return
        self._open[escalation.id] = escalation
        self._open_by_key.setdefault((escalation.rule_id, escalation.group_key), {})[escalation.id] = (
            escalation
        )
        claimed = self._claimed.setdefault(escalation.rule_id, {})
        for ref in escalation.evidence:
            claimed.setdefault(ref, escalation.id)

    def add_closed(self, closed: ClosedEvidence) -> None:
        consumed = self._consumed.setdefault(closed.rule_id, {})
        for ref in closed.evidence:
            consumed[ref] = max(consumed.get(ref, closed.level), closed.level)

    # -- evaluation ------------------------------------------------------------------------------

    def evaluate_all(self, now: datetime) -> list[EscalationAction]:
        return self._evaluate(now, None, None)

    def evaluate_changed(
        self, now: datetime, *, ticket_ids: Iterable[str] = (), step_refs: Iterable[EvidenceRef] = ()
    ) -> list[EscalationAction]:
        """Actions caused by the given tickets/steps changing (after put_ticket / put_step)."""
        return self._evaluate(now, set(ticket_ids), set(step_refs))

    def _evaluate(
        self, now: datetime, ticket_ids: set[str] | None, step_refs: set[EvidenceRef] | None
    ) -> list[EscalationAction]:
        out: list[EscalationAction] = []
        for rule in self._rules.rules:
            if isinstance(rule, SopDeadlineRule):
                refs = self._steps.keys() if step_refs is None else step_refs & self._steps.keys()
                for ref in sorted(refs):
                    self._eval_step(rule, self._steps[ref], now, out)
            elif isinstance(rule, TicketRule):
                matching = self._matching[rule.id]
                for ticket_id in sorted(matching if ticket_ids is None else matching & ticket_ids):
                    self._eval_ticket(rule, self._tickets[ticket_id], now, out)
            elif ticket_ids is None:
                self._eval_window(rule, sorted(self._groups[rule.id]), now, out)
            else:
                keys = {key for t in ticket_ids for rid, key in self._member_of.get(t, ()) if rid == rule.id}
                self._eval_window(rule, sorted(keys), now, out)
        return out

    def _open_for(self, rule_id: str, key: str) -> Escalation | None:
        found = self._open_by_key.get((rule_id, key))
        return min(found.values(), key=lambda e: (e.created_at, e.id)) if found else None

    def _free(self, rule_id: str, ref: EvidenceRef, level: EscalationLevel) -> bool:
        """Not evidence of an open escalation of this rule, nor consumed by a closed one at `level`."""
        consumed = self._consumed.get(rule_id, {}).get(ref)
        return ref not in self._claimed.get(rule_id, {}) and (consumed is None or consumed < level)

    def _maybe_raise(
        self,
        rule: Rule,
        escalation: Escalation,
        level: EscalationLevel,
        why: str,
        out: list[EscalationAction],
    ) -> None:
        if escalation.level_set_by_hand or level <= escalation.level:
            return
        reason = f"{rule.name}：{why}，级别由 {escalation.level.code} 升至 {level.code}"
        out.append(RaiseLevel(escalation.id, rule.id, escalation.group_key, escalation.level, level, reason))

    def _create(
        self, rule: Rule, key: str, level: EscalationLevel, evidence: list[_Entry], now: datetime, reason: str
    ) -> CreateEscalation:
        due = now + self._rules.response_window(level)
        refs = tuple(EvidenceRef(ticket_id) for _, ticket_id in evidence)
        return CreateEscalation(rule.id, key, level, refs, evidence[0][0], evidence[-1][0], due, reason)

    def _eval_step(
        self, rule: SopDeadlineRule, step: SopStepFact, now: datetime, out: list[EscalationAction]
    ) -> None:
        if step.state is DeadlineState.NORMAL:
            return
        overdue = step.state is DeadlineState.OVERDUE
        level = rule.overdue_level if overdue else rule.due_soon_level
        what = f"步骤「{step.step_title or step.step_id}」{'已超时' if overdue else '即将超时'}"
        key = ticket_key(step.ticket_id, step.step_id)
        escalation = self._open_for(rule.id, key)
        if escalation is not None:
            self._maybe_raise(rule, escalation, level, what, out)
        elif self._free(rule.id, step.ref, level):
            due = now + self._rules.response_window(level)
            out.append(
                CreateEscalation(
                    rule.id,
                    key,
                    level,
                    (step.ref,),
                    step.deadline,
                    step.deadline,
                    due,
                    f"{rule.name}：{what}",
                )
            )

    def _eval_ticket(
        self, rule: TicketRule, ticket: TicketFact, now: datetime, out: list[EscalationAction]
    ) -> None:
        key = ticket_key(ticket.id)
        escalation = self._open_for(rule.id, key)
        if escalation is not None:
            self._maybe_raise(rule, escalation, rule.level, "规则级别已调整", out)
        elif self._free(rule.id, EvidenceRef(ticket.id), rule.level):
            parts = [f"类别为「{CATEGORY_LABELS[ticket.category]}」"] if rule.categories else []
            parts += ["已标记平台介入"] if rule.flag is not None else []
            reason = f"{rule.name}：工单{'，'.join(parts)}"
            out.append(self._create(rule, key, rule.level, [(ticket.created_at, ticket.id)], now, reason))

    def _eval_window(
        self, rule: WindowRule, keys: list[str], now: datetime, out: list[EscalationAction]
    ) -> None:
        groups = self._groups[rule.id]
        taken: set[str] = set()  # tickets joined or grouped earlier in this pass

        def free_entries(key: str) -> list[_Entry]:
            entries = groups.get(key, [])
            start = bisect_right(entries, now - rule.window, key=lambda e: e[0])
            return [
                e
                for e in entries[start:]
                if e[1] not in taken and self._free(rule.id, EvidenceRef(e[1]), rule.level)
            ]

        unopened: list[str] = []
        for key in keys:
            escalation = self._open_for(rule.id, key)
            if escalation is None:
                unopened.append(key)
                continue
            joining = free_entries(key)
            if joining:
                taken.update(ticket_id for _, ticket_id in joining)
                total = len(escalation.evidence) + len(joining)
                reason = f"{rule.name}：新增 {len(joining)} 张相关工单，合计 {total} 张"
                refs = tuple(EvidenceRef(ticket_id) for _, ticket_id in joining)
                out.append(JoinEvidence(escalation.id, rule.id, key, refs, reason))
            self._maybe_raise(rule, escalation, rule.level, "规则级别已调整", out)
        for key in unopened:
            fresh = free_entries(key)
            if len(fresh) >= rule.min_count:
                taken.update(ticket_id for _, ticket_id in fresh)
                out.append(
                    self._create(rule, key, rule.level, fresh, now, _window_reason(rule, key, len(fresh)))
                )


def _window_reason(rule: WindowRule, key: str, count: int) -> str:
    scope: list[str] = []
    category = ""
    for name, value in split_group_key(key):
        if name == "category":
            category = CATEGORY_LABELS[TicketCategory(value)]
        else:
            scope.append({"client": "同一客户", "shop": "同一店铺"}.get(name) or _item(name, value))
    if not category:
        category = "、".join(CATEGORY_LABELS[c] for c in sorted(rule.categories))
    span = duration_text(rule.window)
    return f"{rule.name}：{span}内{'、'.join(scope)}的{category}工单 {count} 张（阈值 {rule.min_count} 张）"


def _item(name: str, value: str) -> str:
    return f"{'商品' if name == 'product' else '标签'}「{value}」"

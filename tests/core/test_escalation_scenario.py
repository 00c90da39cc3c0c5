"""A realistic day replayed with a FakeClock: the escalations, levels and deadlines at each moment.

Three stories run side by side (times UTC):
- 暖居家纺 天猫店 s_home: 差评 build up; the 5th within 24 h does nothing, the 6th starts an L3 crisis;
- 青禾食品 抖店 s_food: the 3rd 坚果礼盒 quality complaint in 7 days makes one L2, the 4th joins it;
- a 仅退款 ticket whose 审核退款 step is due soon (L1), then overdue (raised to L2).
The desk below does what the escalation service will: update the index after each change, evaluate
only what changed (a full pass on the timer), apply the actions and feed the results back.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dyy_desk.core.clock import FakeClock
from dyy_desk.core.deadlines import DeadlineState
from dyy_desk.core.escalation_eval import RuleIndex, evaluate
from dyy_desk.core.escalation_lifecycle import acknowledge, apply_action, first_response_state
from dyy_desk.core.escalation_model import (
    Escalation,
    EscalationAction,
    EscalationLevel,
    EscalationSnapshot,
    HistoryEntry,
    HistoryKind,
    SopStepFact,
    TicketFact,
)
from dyy_desk.core.escalation_rules import parse_rules
from dyy_desk.core.types import Platform, TicketCategory, TicketStatus

RULES = parse_rules(
    (Path(__file__).resolve().parents[2] / "resources" / "escalation_rules.toml").read_text(encoding="utf-8"),
    "escalation_rules.toml",
)
DAY = datetime(2026, 11, 23, tzinfo=UTC)
L1, L2, L3 = EscalationLevel.L1, EscalationLevel.L2, EscalationLevel.L3
NUTS = "坚果礼盒"


def at(hour: float, day: int = 0) -> datetime:
    return DAY + timedelta(days=day, hours=hour)


class Desk:
    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.index = RuleIndex(RULES)
        self.tickets: dict[str, TicketFact] = {}
        self.steps: dict[tuple[str, str], SopStepFact] = {}
        self.escalations: dict[str, Escalation] = {}
        self.history: list[HistoryEntry] = []
        self._ids = (f"esc-{n}" for n in itertools.count(1))

    def ticket(
        self, tid: str, shop: str, category: TicketCategory, hour: float, day: int = 0, **kw: object
    ) -> None:
        self.clock.set(at(hour, day))
        client = {"s_home": "c_nuanju", "s_food": "c_qinghe", "s_other": "c_other"}[shop]
        fact = TicketFact(
            id=tid,
            client_id=client,
            shop_id=shop,
            platform=Platform.TMALL if shop == "s_home" else Platform.DOUYIN,
            category=category,
            status=TicketStatus.NEW,
            created_at=self.clock.now(),
            **kw,  # type: ignore[arg-type]
        )
        self.tickets[tid] = fact
        self.index.put_ticket(fact)
        self._apply(self.index.evaluate_changed(self.clock.now(), ticket_ids=[tid]))

    def step(self, fact: SopStepFact) -> None:
        self.steps[(fact.ticket_id, fact.step_id)] = fact
        self.index.put_step(fact)

    def timer(self) -> None:
        self._apply(self.index.evaluate_all(self.clock.now()))

    def _apply(self, actions: list[EscalationAction]) -> None:
        for action in actions:
            done = apply_action(
                action,
                open_escalations=self.escalations,
                now=self.clock.now(),
                rules=RULES,
                new_id=lambda: next(self._ids),
            )
            assert done is not None
            self.put(done.escalation)
            self.history.append(done.entry)
        snapshot = EscalationSnapshot(
            tuple(self.tickets.values()), tuple(self.steps.values()), tuple(self.escalations.values())
        )
        assert evaluate(snapshot, self.clock.now(), RULES) == []  # what the timer would find: nothing left

    def put(self, escalation: Escalation) -> None:
        self.escalations[escalation.id] = escalation
        self.index.put_escalation(escalation)

    def by_rule(self, rule_id: str) -> list[Escalation]:
        return [e for e in self.escalations.values() if e.rule_id == rule_id]


def test_a_day_at_the_desk() -> None:
    clock = FakeClock(at(15, day=-1))
    desk = Desk(clock)
    neg, quality = TicketCategory.NEGATIVE_REVIEW, TicketCategory.QUALITY_COMPLAINT

    # history: an old complaint (8 days ago) and two within the week; a 差评 yesterday afternoon
    desk.ticket("q0", "s_food", quality, 10, day=-8, product=NUTS)
    desk.ticket("q1", "s_food", quality, 10, day=-3, product=NUTS)
    desk.ticket("q2", "s_food", quality, 14, day=-1, product=NUTS)
    desk.ticket("r0", "s_home", neg, 16, day=-1)
    assert desk.escalations == {}

    # the refund step becomes due soon: the timer raises an L1 watch with a 24 h response deadline
    desk.step(SopStepFact("t_refund", "review_refund", DeadlineState.NORMAL, at(12), "审核退款"))
    clock.set(at(8))
    desk.ticket("r1", "s_home", neg, 8)
    desk.ticket("r2", "s_home", neg, 9.5)
    desk.ticket("q3", "s_food", quality, 10, product=NUTS)  # 3rd within 7 days (q0 is 8 days old)
    [complaint] = desk.by_rule("repeated_complaint")
    assert (complaint.level, complaint.ticket_ids) == (L2, ("q1", "q2", "q3"))
    assert complaint.first_response_due == at(14)
    assert (
        complaint.reason
        == "同一问题重复投诉：7 天内同一客户、商品「坚果礼盒」的质量投诉工单 3 张（阈值 3 张）"
    )

    clock.set(at(10.5))
    desk.step(SopStepFact("t_refund", "review_refund", DeadlineState.DUE_SOON, at(12), "审核退款"))
    desk.timer()
    [watch] = desk.by_rule("sop_deadline")
    assert (watch.level, watch.first_response_due) == (L1, at(10.5, day=1))

    desk.ticket("r3", "s_home", neg, 11)
    # the step runs out: the same escalation is raised to L2 and owes a response within 4 h
    clock.set(at(12))
    desk.step(SopStepFact("t_refund", "review_refund", DeadlineState.OVERDUE, at(12), "审核退款"))
    desk.timer()
    [watch] = desk.by_rule("sop_deadline")
    assert (watch.level, watch.first_response_due, watch.first_response_from) == (L2, at(16), at(12))
    assert first_response_state(watch, at(13)) is DeadlineState.NORMAL
    assert first_response_state(watch, at(15)) is DeadlineState.DUE_SOON

    desk.ticket("r4", "s_home", neg, 13)  # 5 within 24 h (r0 of yesterday 16:00 still counts): no crisis
    assert desk.by_rule("negative_review_crisis") == []
    desk.ticket("q4", "s_food", quality, 15, product=NUTS)  # the 4th joins the open complaint escalation
    desk.ticket("q5", "s_food", quality, 15.5, product=NUTS, tags=frozenset({"受潮"}))
    [complaint] = desk.by_rule("repeated_complaint")
    assert complaint.ticket_ids == ("q1", "q2", "q3", "q4", "q5")

    desk.ticket("r5", "s_home", neg, 17)  # r0 aged out at 16:00: still 5 in the window
    assert desk.by_rule("negative_review_crisis") == []
    desk.ticket("x1", "s_other", neg, 17.25)  # another shop's 差评 does not count
    desk.ticket("r6", "s_home", neg, 17.5)  # the 6th within 24 h: crisis
    [crisis] = desk.by_rule("negative_review_crisis")
    assert crisis.level == L3 and crisis.group_key == "shop=s_home"
    assert crisis.ticket_ids == ("r1", "r2", "r3", "r4", "r5", "r6")
    assert crisis.first_response_due == at(19.5)
    assert first_response_state(crisis, at(18.9)) is DeadlineState.NORMAL
    assert first_response_state(crisis, at(19)) is DeadlineState.DUE_SOON  # last 30 min of 2 h
    assert first_response_state(crisis, at(19.5)) is DeadlineState.OVERDUE
    clock.set(at(19.75))
    desk.put(acknowledge(crisis, owner_id="supervisor", actor_id="supervisor", now=at(19.75)).escalation)

    # more 差评 join the crisis; the evening timer finds nothing new; nothing fired twice all day
    desk.ticket("r7", "s_home", neg, 20)
    clock.set(at(23))
    desk.timer()
    assert sorted((e.rule_id, e.level) for e in desk.escalations.values()) == [
        ("negative_review_crisis", L3),
        ("repeated_complaint", L2),
        ("sop_deadline", L2),
    ]
    assert desk.by_rule("negative_review_crisis")[0].ticket_ids[-1] == "r7"
    kinds = [(h.escalation_id, h.kind) for h in desk.history]
    assert kinds.count((complaint.id, HistoryKind.EVIDENCE)) == 2  # q4, then q5
    assert kinds.count((watch.id, HistoryKind.LEVEL)) == 1
    assert [h.kind for h in desk.history].count(HistoryKind.CREATED) == 3

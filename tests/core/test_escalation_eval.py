"""Rule evaluation: thresholds, grouping, idempotence, de-duplication, and incremental == full."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dyy_desk.core.clock import FakeClock
from dyy_desk.core.deadlines import DeadlineState
from dyy_desk.core.escalation_eval import RuleIndex, evaluate
from dyy_desk.core.escalation_lifecycle import apply_action, change_level, open_manual
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
)
from dyy_desk.core.escalation_rules import RuleSet, parse_rules
from dyy_desk.core.types import Platform, TicketCategory, TicketStatus

RULES = parse_rules(
    (Path(__file__).resolve().parents[2] / "resources" / "escalation_rules.toml").read_text(encoding="utf-8"),
    "escalation_rules.toml",
)
T0 = datetime(2026, 11, 23, 9, tzinfo=UTC)
L1, L2, L3 = EscalationLevel.L1, EscalationLevel.L2, EscalationLevel.L3
NEG, QUALITY = TicketCategory.NEGATIVE_REVIEW, TicketCategory.QUALITY_COMPLAINT


def ticket(tid: str, at: datetime, category: TicketCategory = QUALITY, **changes: object) -> TicketFact:
    base: dict[str, object] = dict(
        id=tid,
        client_id="c1",
        shop_id="s1",
        platform=Platform.TMALL,
        category=category,
        status=TicketStatus.NEW,
        created_at=at,
    )
    base.update(changes)
    return TicketFact(**base)  # type: ignore[arg-type]


def settle(
    snapshot: EscalationSnapshot, now: datetime, rules: RuleSet = RULES
) -> tuple[EscalationSnapshot, list[EscalationAction]]:
    """Apply one evaluation's actions the way the service will; return the new snapshot and actions."""
    actions = evaluate(snapshot, now, rules)
    escalations = {e.id: e for e in snapshot.open_escalations}
    ids = (f"e{n}" for n in itertools.count(len(escalations) + len(snapshot.closed)))
    for action in actions:
        done = apply_action(
            action, open_escalations=escalations, now=now, rules=rules, new_id=lambda: next(ids)
        )
        if done is not None:
            escalations[done.escalation.id] = done.escalation
    return replace(snapshot, open_escalations=tuple(escalations.values())), actions


def creates(actions: list[EscalationAction]) -> list[CreateEscalation]:
    return [a for a in actions if isinstance(a, CreateEscalation)]


def test_data_leak_is_l3_at_once_with_a_two_hour_response_deadline() -> None:
    clock = FakeClock(T0)
    snapshot = EscalationSnapshot(tickets=(ticket("t1", clock.now(), TicketCategory.DATA_LEAK),))
    [action] = evaluate(snapshot, clock.now(), RULES)
    assert isinstance(action, CreateEscalation)
    assert (action.rule_id, action.level, action.evidence) == ("data_leak", L3, (EvidenceRef("t1"),))
    assert action.first_response_due == T0 + timedelta(hours=2)
    assert "信息泄露" in action.reason


def test_platform_intervention_fires_l3_but_not_on_a_resolved_ticket() -> None:
    flagged = ticket("t1", T0, TicketCategory.REFUND_ONLY, platform_intervention=True)
    [action] = evaluate(EscalationSnapshot(tickets=(flagged,)), T0, RULES)
    assert isinstance(action, CreateEscalation) and (action.rule_id, action.level) == (
        "platform_intervention",
        L3,
    )
    resolved = replace(flagged, status=TicketStatus.RESOLVED)
    assert evaluate(EscalationSnapshot(tickets=(resolved,)), T0, RULES) == []


def test_crisis_fires_on_the_sixth_negative_review_within_24_hours_not_the_fifth() -> None:
    reviews = [ticket(f"r{i}", T0 + timedelta(hours=4 * i), NEG) for i in range(6)]
    now = T0 + timedelta(hours=20)
    assert [a.rule_id for a in evaluate(EscalationSnapshot(tickets=tuple(reviews[:5])), now, RULES)] == []
    [crisis] = [
        a for a in creates(evaluate(EscalationSnapshot(tickets=tuple(reviews)), now, RULES)) if a.level == L3
    ]
    assert crisis.group_key == "shop=s1"
    assert crisis.count == 6 and (crisis.first_at, crisis.last_at) == (T0, T0 + timedelta(hours=20))


def test_a_ticket_delivered_twice_in_a_snapshot_counts_once() -> None:
    reviews = [ticket(f"r{i}", T0 + timedelta(hours=i), NEG) for i in range(5)]
    twice = (*reviews, replace(reviews[4], status=TicketStatus.IN_PROGRESS))
    assert evaluate(EscalationSnapshot(tickets=twice), T0 + timedelta(hours=5), RULES) == []


def test_six_reviews_spread_over_more_than_24_hours_are_not_a_crisis() -> None:
    reviews = tuple(ticket(f"r{i}", T0 + timedelta(hours=5 * i), NEG) for i in range(6))  # 0 h … 25 h
    assert evaluate(EscalationSnapshot(tickets=reviews), T0 + timedelta(hours=25), RULES) == []


def test_three_complaints_about_one_product_make_one_l2_even_when_tags_also_match() -> None:
    tickets = tuple(
        ticket(f"q{i}", T0 + timedelta(days=2 * i), product="P1", tags=frozenset({"起球"})) for i in range(3)
    )
    [action] = evaluate(EscalationSnapshot(tickets=tickets), T0 + timedelta(days=4), RULES)
    assert isinstance(action, CreateEscalation)
    assert (action.rule_id, action.level, action.count) == ("repeated_complaint", L2, 3)
    assert action.group_key == "client=c1|category=quality_complaint|product=P1"
    assert action.reason == "同一问题重复投诉：7 天内同一客户、商品「P1」的质量投诉工单 3 张（阈值 3 张）"


def test_complaints_group_by_client_category_and_shared_tag() -> None:
    tagged = [ticket(f"q{i}", T0, product=f"P{i}", tags=frozenset({"色差"})) for i in range(3)]
    [action] = evaluate(EscalationSnapshot(tickets=tuple(tagged)), T0, RULES)
    assert isinstance(action, CreateEscalation) and action.group_key.endswith("tag=色差")
    other_client = [*tagged[:2], replace(tagged[2], client_id="c2")]
    other_category = [*tagged[:2], replace(tagged[2], category=TicketCategory.LOGISTICS)]
    too_old = [*tagged[:2], replace(tagged[2], created_at=T0 - timedelta(days=7))]
    for tickets in (other_client, other_category, too_old):
        assert evaluate(EscalationSnapshot(tickets=tuple(tickets)), T0, RULES) == []


def test_same_input_twice_and_after_applying_gives_nothing_more() -> None:
    tickets = tuple(ticket(f"r{i}", T0 + timedelta(hours=i), NEG, product="P1") for i in range(6))
    step = SopStepFact("r0", "refund", DeadlineState.OVERDUE, T0)
    snapshot = EscalationSnapshot(tickets=tickets, steps=(step,))
    now = T0 + timedelta(hours=6)
    first = evaluate(snapshot, now, RULES)
    assert first == evaluate(snapshot, now, RULES)
    assert sorted(a.rule_id for a in first) == [
        "negative_review_crisis",
        "repeated_complaint",
        "sop_deadline",
    ]
    settled, _ = settle(snapshot, now)
    assert evaluate(settled, now, RULES) == []
    assert evaluate(settled, now + timedelta(days=3), RULES) == []


def test_fourth_complaint_joins_and_the_same_evidence_twice_is_counted_once() -> None:
    tickets = [ticket(f"q{i}", T0 + timedelta(hours=i), product="P1") for i in range(3)]
    snapshot, _ = settle(EscalationSnapshot(tickets=tuple(tickets)), T0 + timedelta(hours=3))
    fourth = ticket("q3", T0 + timedelta(hours=5), product="P1")
    snapshot = replace(snapshot, tickets=(*snapshot.tickets, fourth))
    [join] = evaluate(snapshot, T0 + timedelta(hours=5), RULES)
    [escalation] = snapshot.open_escalations
    assert isinstance(join, JoinEvidence)
    assert (join.escalation_id, join.evidence) == (escalation.id, (EvidenceRef("q3"),))
    joined, _ = settle(snapshot, T0 + timedelta(hours=5))
    [grown] = joined.open_escalations
    assert grown.ticket_ids == ("q0", "q1", "q2", "q3")
    # the same ticket delivered again (e.g. by a sync bundle) and the same join applied twice
    again = replace(joined, tickets=(*joined.tickets, fourth))
    assert evaluate(again, T0 + timedelta(hours=6), RULES) == []
    assert apply_action(join, open_escalations={grown.id: grown}, now=T0, rules=RULES, new_id=str) is None


def test_closed_escalation_does_not_refire_for_the_same_evidence() -> None:
    tickets = tuple(ticket(f"q{i}", T0 + timedelta(hours=i), product="P1") for i in range(3))
    snapshot, [create] = settle(EscalationSnapshot(tickets=tickets), T0 + timedelta(hours=3))
    assert isinstance(create, CreateEscalation)
    closed = replace(
        snapshot,
        open_escalations=(),
        closed=(ClosedEvidence(create.rule_id, L2, frozenset(create.evidence)),),
    )
    assert evaluate(closed, T0 + timedelta(hours=4), RULES) == []
    two_more = replace(
        closed,
        tickets=(*tickets, *(ticket(f"n{i}", T0 + timedelta(hours=5), product="P1") for i in range(2))),
    )
    assert evaluate(two_more, T0 + timedelta(hours=5), RULES) == []  # 5 in the window, only 2 not yet handled
    three_more = replace(
        two_more, tickets=(*two_more.tickets, ticket("n2", T0 + timedelta(hours=5), product="P1"))
    )
    [again] = evaluate(three_more, T0 + timedelta(hours=5), RULES)
    assert isinstance(again, CreateEscalation) and {r.ticket_id for r in again.evidence} == {"n0", "n1", "n2"}


def test_sop_step_due_soon_is_l1_and_raised_to_l2_when_overdue() -> None:
    step = SopStepFact("t1", "review", DeadlineState.DUE_SOON, T0 + timedelta(hours=1), "审核退货申请")
    snapshot, [create] = settle(EscalationSnapshot(steps=(step,)), T0)
    assert isinstance(create, CreateEscalation) and (create.level, create.evidence) == (L1, (step.ref,))
    assert create.reason == "SOP 步骤时限：步骤「审核退货申请」即将超时"
    overdue = replace(snapshot, steps=(replace(step, state=DeadlineState.OVERDUE),))
    [raise_] = evaluate(overdue, T0 + timedelta(hours=1), RULES)
    assert isinstance(raise_, RaiseLevel) and (raise_.from_level, raise_.to_level) == (L1, L2)
    raised, _ = settle(overdue, T0 + timedelta(hours=1))
    assert [e.level for e in raised.open_escalations] == [L2]
    assert evaluate(raised, T0 + timedelta(hours=2), RULES) == []


def test_a_level_set_by_hand_is_not_raised_by_rules() -> None:
    step = SopStepFact("t1", "review", DeadlineState.DUE_SOON, T0 + timedelta(hours=1))
    snapshot, _ = settle(EscalationSnapshot(steps=(step,)), T0)
    [escalation] = snapshot.open_escalations
    lowered = change_level(
        escalation, to_level=L2, reason="组长判断需重点关注", actor_id="u1", now=T0, rules=RULES
    )
    lowered = change_level(
        lowered.escalation, to_level=L1, reason="买家已同意延期", actor_id="u1", now=T0, rules=RULES
    )
    overdue = EscalationSnapshot(
        steps=(replace(step, state=DeadlineState.OVERDUE),), open_escalations=(lowered.escalation,)
    )
    assert evaluate(overdue, T0 + timedelta(hours=2), RULES) == []


def test_sop_step_closed_at_l1_fires_again_at_l2_when_overdue() -> None:
    step = SopStepFact("t1", "review", DeadlineState.DUE_SOON, T0 + timedelta(hours=1))
    closed = (ClosedEvidence("sop_deadline", L1, frozenset({step.ref})),)
    assert evaluate(EscalationSnapshot(steps=(step,), closed=closed), T0, RULES) == []
    overdue = EscalationSnapshot(steps=(replace(step, state=DeadlineState.OVERDUE),), closed=closed)
    [create] = evaluate(overdue, T0, RULES)
    assert isinstance(create, CreateEscalation) and create.level == L2


def test_closing_after_a_person_lowered_the_level_does_not_bring_the_rule_back() -> None:
    """Found by the property test below: closed at a hand-set L1, an overdue step must not re-fire L2."""
    step = SopStepFact("t1", "review", DeadlineState.OVERDUE, T0)
    snapshot, _ = settle(EscalationSnapshot(steps=(step,)), T0)
    [escalation] = snapshot.open_escalations
    lowered = change_level(escalation, to_level=L1, reason="买家同意延期", actor_id="u1", now=T0, rules=RULES)
    consumed = replace(lowered.escalation, status=EscalationStatus.CLOSED).closed_evidence()
    assert consumed is not None and consumed.level == L3
    assert (
        evaluate(EscalationSnapshot(steps=(step,), closed=(consumed,)), T0 + timedelta(hours=1), RULES) == []
    )


def test_manual_escalations_are_left_to_people() -> None:
    manual = open_manual(
        escalation_id="m1",
        ticket_id="t1",
        level=L1,
        reason="买家情绪激动",
        actor_id="u1",
        now=T0,
        rules=RULES,
    ).escalation
    snapshot = EscalationSnapshot(
        tickets=(ticket("t1", T0, TicketCategory.DATA_LEAK),), open_escalations=(manual,)
    )
    [create] = evaluate(snapshot, T0, RULES)  # the data-leak rule still fires its own L3
    assert isinstance(create, CreateEscalation) and create.rule_id == "data_leak"


# -- incremental == full ---------------------------------------------------------------------------

SMALL_RULES = parse_rules(
    """
version = 1
[[rules]]
id = "sop"
kind = "sop_deadline"
name = "SOP"
due_soon_level = "L1"
overdue_level = "L2"
[[rules]]
id = "complaint"
kind = "window"
name = "重复投诉"
level = "L2"
categories = ["quality_complaint", "negative_review"]
group_by = ["client", "category", "product_or_tag"]
min_count = 2
window_hours = 48
[[rules]]
id = "crisis"
kind = "window"
name = "差评"
level = "L3"
categories = ["negative_review"]
group_by = ["shop"]
min_count = 3
window_hours = 24
[[rules]]
id = "leak"
kind = "ticket"
name = "泄露"
level = "L3"
categories = ["data_leak"]
""",
    "small.toml",
)

tickets_st = st.builds(
    ticket,
    tid=st.sampled_from([f"t{i}" for i in range(16)]),
    at=st.integers(-48, 48).map(lambda h: T0 + timedelta(hours=h)),
    category=st.sampled_from([NEG, NEG, QUALITY, TicketCategory.DATA_LEAK, TicketCategory.PRESALE]),
    client_id=st.sampled_from(["c1", "c1", "c2"]),
    shop_id=st.sampled_from(["s1", "s2"]),
    status=st.sampled_from([TicketStatus.NEW, TicketStatus.RESOLVED]),
    product=st.sampled_from([None, "P1", "P1", "P2"]),
    tags=st.frozensets(st.sampled_from(["a", "b"])),
)
steps_st = st.builds(
    SopStepFact,
    ticket_id=st.just("t0"),
    step_id=st.sampled_from(["s", "u"]),
    state=st.sampled_from(list(DeadlineState)),
    deadline=st.just(T0),
)
# (hours to advance, kind, ticket, step, which escalation): T ticket, S step, C close, H set level by hand
events_st = st.lists(
    st.tuples(st.integers(0, 6), st.sampled_from("TTTTTSSSCH"), tickets_st, steps_st, st.integers(0, 5)),
    min_size=5,
    max_size=40,
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events_st)
def test_incremental_evaluation_equals_full_evaluation(
    events: list[tuple[int, str, TicketFact, SopStepFact, int]],
) -> None:
    index = RuleIndex(SMALL_RULES)
    tickets: dict[str, TicketFact] = {}
    steps: dict[EvidenceRef, SopStepFact] = {}
    escalations: dict[str, Escalation] = {}
    closed: list[ClosedEvidence] = []
    ids = (f"e{n}" for n in itertools.count())
    now = T0 - timedelta(hours=24)
    for advance, kind, new_ticket, step, which in events:
        now += timedelta(hours=advance)
        incremental: list[EscalationAction] = []
        if kind == "T":
            tickets[new_ticket.id] = new_ticket
            index.put_ticket(new_ticket)
            incremental = index.evaluate_changed(now, ticket_ids=[new_ticket.id])
        elif kind == "S":
            steps[step.ref] = step
            index.put_step(step)
            incremental = index.evaluate_changed(now, step_refs=[step.ref])
        elif not escalations:
            continue
        elif kind == "C":  # a person closes an escalation: never an action by itself
            closing = replace(
                escalations.pop(sorted(escalations)[which % len(escalations)]), status=EscalationStatus.CLOSED
            )
            consumed = closing.closed_evidence()
            assert consumed is not None
            closed.append(consumed)
            index.put_escalation(closing)
        else:  # a person sets the level: rules leave it alone from then on
            esc = escalations[sorted(escalations)[which % len(escalations)]]
            to_level = L1 if esc.level is not L1 else L3
            esc = change_level(
                esc, to_level=to_level, reason="人工", actor_id="u", now=now, rules=SMALL_RULES
            ).escalation
            escalations[esc.id] = esc
            index.put_escalation(esc)
        snapshot = EscalationSnapshot(
            tuple(tickets.values()), tuple(steps.values()), tuple(escalations.values()), tuple(closed)
        )
        full = evaluate(snapshot, now, SMALL_RULES)
        assert incremental == full
        assert index.evaluate_all(now) == full
        for action in full:
            done = apply_action(
                action, open_escalations=escalations, now=now, rules=SMALL_RULES, new_id=lambda: next(ids)
            )
            assert done is not None
            escalations[done.escalation.id] = done.escalation
            index.put_escalation(done.escalation)
        settled = replace(snapshot, open_escalations=tuple(escalations.values()))
        assert evaluate(settled, now, SMALL_RULES) == []
        # within one rule no evidence belongs to two open escalations
        for rule_id in {e.rule_id for e in escalations.values()}:
            refs = [r for e in escalations.values() if e.rule_id == rule_id for r in e.evidence]
            assert len(refs) == len(set(refs))


# -- bulk loading ----------------------------------------------------------------------------------


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(tickets_st, max_size=30), st.integers(0, 30), st.sampled_from([f"t{i}" for i in range(16)]))
def test_bulk_loading_equals_putting_one_by_one(tickets: list[TicketFact], cut: int, gone: str) -> None:
    streamed, one_by_one = RuleIndex(SMALL_RULES), RuleIndex(SMALL_RULES)
    streamed.load_tickets(iter(tickets[:cut]))  # two loads: the second one meets groups already sorted
    streamed.load_tickets(t for t in tickets[cut:])
    for t in tickets:
        one_by_one.put_ticket(t)
    assert len(streamed) == len(one_by_one)
    for hours in (-24, 0, 24):
        assert streamed.evaluate_all(T0 + timedelta(hours=hours)) == one_by_one.evaluate_all(
            T0 + timedelta(hours=hours)
        )
    streamed.remove_ticket(gone)  # removal finds the ticket in sorted groups
    one_by_one.remove_ticket(gone)
    assert streamed.evaluate_all(T0) == one_by_one.evaluate_all(T0)


def test_the_index_keeps_only_tickets_a_rule_reads() -> None:
    index = RuleIndex(SMALL_RULES)
    index.load_tickets(
        [
            ticket("presale", T0, TicketCategory.PRESALE),  # no rule is about 售前咨询
            ticket("leak-done", T0, TicketCategory.DATA_LEAK, status=TicketStatus.RESOLVED),
            ticket("leak", T0, TicketCategory.DATA_LEAK),
            ticket("review", T0, NEG),
        ]
    )
    assert len(index) == 2
    index.put_ticket(ticket("review", T0, TicketCategory.PRESALE))  # changed category: no longer read
    assert len(index) == 1
    [create] = index.evaluate_all(T0)
    assert create.rule_id == "leak"

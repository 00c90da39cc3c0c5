"""A realistic day replayed through the service and the database (times UTC, FakeClock):
差评 building up at 暖居家纺 until a crisis, a repeated 坚果礼盒 complaint at 青禾食品, a refund step
running late, a platform intervention; the supervisor works them and the timer finds nothing left."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from dyy_desk.core.clock import FakeClock
from dyy_desk.core.deadlines import DeadlineState
from dyy_desk.core.escalation_model import EscalationLevel, EscalationStatus, PostMortem, SopStepFact
from dyy_desk.core.types import TicketCategory
from dyy_desk.db.repos.escalation_queries import escalated_ticket_levels
from dyy_desk.infra.paths import DataPaths
from tests.services.test_escalation_service import Desk, make_desk

L1, L2, L3 = EscalationLevel.L1, EscalationLevel.L2, EscalationLevel.L3
NEG, QUALITY = TicketCategory.NEGATIVE_REVIEW, TicketCategory.QUALITY_COMPLAINT


@pytest.fixture
def desk(paths: DataPaths, clock: FakeClock) -> Iterator[Desk]:
    yield from make_desk(paths, clock)


def levels(desk: Desk) -> dict[str | None, EscalationLevel]:
    return {r.escalation.rule_id: r.level for r in desk.board()}


def test_a_day_at_the_desk(desk: Desk) -> None:
    # 09:00 yesterday's quality complaints are on file
    q1, _ = desk.add("s_food", QUALITY, product="坚果礼盒")
    desk.advance(hours=5)
    q2, _ = desk.add("s_food", QUALITY, product="坚果礼盒", tags=("破损",))
    desk.advance(hours=19)  # 09:00 today
    refund = desk.ticket("s_food", TicketCategory.REFUND_ONLY)
    deadline = desk.clock.now() + timedelta(hours=3)
    desk.steps.append(SopStepFact(refund, "review", DeadlineState.NORMAL, deadline, "审核退款"))
    assert desk.esc.run_rules()[0] == [] and desk.board() == []

    # 差评 arrive every 40 minutes; the 5th does nothing, the 6th opens the crisis
    negs = []
    for i in range(6):
        tid, applied = desk.add("s_home", NEG)
        negs.append(tid)
        assert bool([a for a in applied if a.rule_id == "negative_review_crisis"]) == (i == 5)
        desk.advance(minutes=40)
    assert levels(desk) == {"negative_review_crisis": L3}

    # 13:00 the 3rd 坚果礼盒 complaint within the week: one L2 grouping all three
    q3, applied = desk.add("s_food", QUALITY, product="坚果礼盒")
    repeated = [r for r in desk.board() if r.escalation.rule_id == "repeated_complaint"]
    assert len(repeated) == 1 and set(repeated[0].escalation.ticket_ids) == {q1, q2, q3}

    # the refund step becomes due soon (timer: L1), then overdue (timer: raised to L2)
    desk.steps[0] = SopStepFact(refund, "review", DeadlineState.DUE_SOON, deadline, "审核退款")
    desk.esc.run_rules()
    assert levels(desk)["sop_deadline"] is L1
    desk.advance(hours=1)
    desk.steps[0] = SopStepFact(refund, "review", DeadlineState.OVERDUE, deadline, "审核退款")
    desk.esc.run_rules()
    assert levels(desk)["sop_deadline"] is L2

    # a platform intervention: L3 at once; the supervisor takes the crisis
    pi, _ = desk.add("s_home2", TicketCategory.RETURN_REFUND, platform_intervention=True)
    crisis = next(r for r in desk.board() if r.escalation.rule_id == "negative_review_crisis")
    desk.esc.acknowledge(escalation_id=crisis.id, actor_id="u_sup", owner_id="u_agent2")
    desk.esc.start(escalation_id=crisis.id, actor_id="u_agent2")
    # a 7th 差评 the same afternoon joins the open crisis rather than opening another
    late, applied = desk.add("s_home", NEG)
    assert [(a.kind, a.escalation_id) for a in applied if a.rule_id == "negative_review_crisis"] == [
        ("join", crisis.id)
    ]
    with desk.workspace.engine.connect() as conn:
        badges = escalated_ticket_levels(conn)
    assert badges[late] == 3 and badges[pi] == 3 and badges[refund] == 2 and badges[q3] >= 2

    # evening: resolved, 复盘 and 回访 recorded, closed; the timer has nothing left to do
    desk.advance(hours=4)
    desk.esc.resolve(escalation_id=crisis.id, actor_id="u_agent2", note="已联系全部买家")
    desk.esc.record_post_mortem(
        escalation_id=crisis.id,
        actor_id="u_agent2",
        post_mortem=PostMortem("一批四件套色差", "7 条差评", "退款并补发", "到货抽检色卡"),
    )
    desk.esc.record_follow_up(
        escalation_id=crisis.id, actor_id="u_agent2", satisfied=True, note="5 位买家追评"
    )
    row, _ = desk.esc.close(escalation_id=crisis.id, actor_id="u_sup")
    assert row.escalation.status is EscalationStatus.CLOSED
    assert desk.esc.run_rules()[0] == []
    assert desk.esc.run_rules(ticket_ids=[*negs, late])[0] == []
    assert set(levels(desk)) == {"repeated_complaint", "sop_deadline", "platform_intervention"}
    events = desk.events(negs[0])  # created, acknowledged, started, resolved, 复盘, 回访, closed
    assert len(events) == 7 and "负责人 王强" in events[1] and "已关闭" in events[-1]

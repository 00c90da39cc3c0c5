"""Escalation lifecycle: legal steps with history, level changes and deadlines, L3 close conditions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dyy_desk.core.clock import FakeClock
from dyy_desk.core.deadlines import DeadlineState
from dyy_desk.core.escalation_lifecycle import (
    EscalationTransitionError,
    acknowledge,
    apply_action,
    change_level,
    close,
    first_response_state,
    open_escalation,
    record_follow_up,
    record_post_mortem,
    reopen,
    resolve,
    start_work,
)
from dyy_desk.core.escalation_model import (
    CreateEscalation,
    Escalation,
    EscalationLevel,
    EscalationStatus,
    EvidenceRef,
    FollowUp,
    HistoryKind,
    JoinEvidence,
    PostMortem,
    RaiseLevel,
)
from dyy_desk.core.escalation_rules import RuleSet, parse_rules

RULES = parse_rules(
    (Path(__file__).resolve().parents[2] / "resources" / "escalation_rules.toml").read_text(encoding="utf-8"),
    "escalation_rules.toml",
)
T0 = datetime(2026, 11, 23, 9, tzinfo=UTC)
L1, L2, L3 = EscalationLevel.L1, EscalationLevel.L2, EscalationLevel.L3
S = EscalationStatus
POST_MORTEM = PostMortem("批次面料问题", "6 位买家差评，店铺评分下降", "全部退款并补发", "入库抽检加严")


def opened(level: EscalationLevel, clock: FakeClock) -> Escalation:
    action = CreateEscalation(
        rule_id="negative_review_crisis",
        group_key="shop=s1",
        level=level,
        evidence=(EvidenceRef("t1"), EvidenceRef("t2")),
        first_at=T0,
        first_response_due=clock.now() + RULES.response_window(level),
        last_at=T0,
        reason="差评集中爆发",
    )
    done = open_escalation(action, escalation_id="e1", now=clock.now())
    assert done.entry.kind is HistoryKind.CREATED and done.entry.to_status is S.PENDING
    assert done.entry.evidence == (EvidenceRef("t1"), EvidenceRef("t2"))
    return done.escalation


def resolved(level: EscalationLevel, clock: FakeClock) -> Escalation:
    esc = acknowledge(
        opened(level, clock), owner_id="lead", actor_id="lead", now=clock.advance(minutes=10)
    ).escalation
    esc = start_work(esc, actor_id="lead", now=clock.advance(minutes=5)).escalation
    return resolve(esc, actor_id="lead", now=clock.advance(hours=3), note="已全部退款").escalation


def test_happy_path_records_who_when_what() -> None:
    clock = FakeClock(T0)
    esc = opened(L2, clock)
    ack = acknowledge(esc, owner_id="zhang", actor_id="lead", now=clock.advance(minutes=20))
    assert (ack.escalation.status, ack.escalation.owner_id, ack.escalation.acknowledged_at) == (
        S.ACKNOWLEDGED,
        "zhang",
        T0 + timedelta(minutes=20),
    )
    assert (ack.entry.actor_id, ack.entry.at, ack.entry.from_status, ack.entry.to_status) == (
        "lead",
        T0 + timedelta(minutes=20),
        S.PENDING,
        S.ACKNOWLEDGED,
    )
    assert ack.entry.text == "状态由「待响应」变为「已响应」：负责人 zhang"
    work = start_work(ack.escalation, actor_id="zhang", now=clock.advance(minutes=5))
    done = resolve(work.escalation, actor_id="zhang", now=clock.advance(hours=1), note="已补发")
    closed = close(done.escalation, actor_id="lead", now=clock.advance(hours=1))
    assert closed.escalation.status is S.CLOSED and closed.escalation.closed_at == clock.now()
    assert esc.status is S.PENDING  # nothing is mutated


def test_illegal_transition_lists_the_allowed_ones() -> None:
    clock = FakeClock(T0)
    esc = opened(L2, clock)
    with pytest.raises(
        EscalationTransitionError, match="不能从「待响应」变为「已关闭」；当前允许: 「已响应」"
    ):
        close(esc, actor_id="lead", now=clock.now())
    with pytest.raises(EscalationTransitionError, match="当前允许: 「已响应」"):
        start_work(esc, actor_id="lead", now=clock.now())
    done = resolved(L2, clock)
    with pytest.raises(EscalationTransitionError, match="当前允许: 「已关闭」、「处理中」"):
        resolve(done, actor_id="lead", now=clock.now())
    final = close(done, actor_id="lead", now=clock.now()).escalation
    with pytest.raises(EscalationTransitionError, match="无（升级已关闭）"):
        reopen(final, actor_id="lead", reason="买家再次投诉", now=clock.now())


def test_acknowledge_needs_an_owner_and_reopen_a_reason() -> None:
    clock = FakeClock(T0)
    with pytest.raises(EscalationTransitionError, match="负责人"):
        acknowledge(opened(L1, clock), owner_id=" ", actor_id="lead", now=clock.now())
    with pytest.raises(EscalationTransitionError, match="原因"):
        reopen(resolved(L1, clock), actor_id="lead", reason="", now=clock.now())
    back = reopen(resolved(L1, clock), actor_id="lead", reason="买家再次投诉", now=clock.now()).escalation
    assert (back.status, back.resolved_at) == (S.IN_PROGRESS, None)


def test_raising_a_pending_escalation_shortens_the_first_response_deadline() -> None:
    clock = FakeClock(T0)
    esc = opened(L1, clock)  # due T0 + 24 h
    raised = change_level(
        esc, to_level=L3, reason="涉及多位买家", actor_id="lead", now=clock.advance(hours=1), rules=RULES
    )
    assert raised.escalation.first_response_due == T0 + timedelta(hours=3)
    assert raised.escalation.first_response_from == T0 + timedelta(hours=1)
    assert raised.escalation.level_set_by_hand
    assert (raised.entry.kind, raised.entry.from_level, raised.entry.to_level) == (HistoryKind.LEVEL, L1, L3)
    assert raised.entry.text == "级别由 L1 潜在风险 升至 L3 紧急干预：涉及多位买家"
    lowered = change_level(
        raised.escalation, to_level=L2, reason="已控制", actor_id="lead", now=clock.now(), rules=RULES
    )
    assert lowered.escalation.first_response_due == T0 + timedelta(hours=3)  # lowering keeps what is owed


def test_raise_never_extends_and_after_acknowledge_the_deadline_stays() -> None:
    clock = FakeClock(T0)
    esc = opened(L2, clock)  # due T0 + 4 h
    late = change_level(
        esc, to_level=L3, reason="升级", actor_id="lead", now=clock.advance(hours=3), rules=RULES
    )
    assert late.escalation.first_response_due == T0 + timedelta(hours=4)  # T0+3h+2h would be later
    ack = acknowledge(opened(L1, clock), owner_id="lead", actor_id="lead", now=clock.now()).escalation
    raised = change_level(
        ack, to_level=L3, reason="升级", actor_id="lead", now=clock.now(), rules=RULES
    ).escalation
    assert raised.first_response_due == ack.first_response_due


def test_level_change_needs_a_reason_and_a_different_level() -> None:
    clock = FakeClock(T0)
    esc = opened(L2, clock)
    with pytest.raises(EscalationTransitionError, match="必须填写原因"):
        change_level(esc, to_level=L3, reason="  ", actor_id="lead", now=clock.now(), rules=RULES)
    with pytest.raises(EscalationTransitionError, match="级别已是 L2 重点关注"):
        change_level(esc, to_level=L2, reason="x", actor_id="lead", now=clock.now(), rules=RULES)


def test_l3_cannot_close_without_post_mortem_and_follow_up() -> None:
    clock = FakeClock(T0)
    esc = resolved(L3, clock)
    with pytest.raises(EscalationTransitionError, match="复盘（原因、影响、已采取措施、预防措施）、回访结果"):
        close(esc, actor_id="lead", now=clock.now())
    with pytest.raises(EscalationTransitionError, match="请填写: 影响、预防措施"):
        record_post_mortem(esc, PostMortem("面料", " ", "退款", ""), actor_id="lead", now=clock.now())
    with_pm = record_post_mortem(esc, POST_MORTEM, actor_id="lead", now=clock.now())
    assert with_pm.entry.kind is HistoryKind.POST_MORTEM
    with pytest.raises(EscalationTransitionError, match="回访结果"):
        close(with_pm.escalation, actor_id="lead", now=clock.now())
    with pytest.raises(EscalationTransitionError, match="回访必须填写说明"):
        record_follow_up(
            with_pm.escalation, FollowUp(clock.now(), True, ""), actor_id="lead", now=clock.now()
        )
    follow = record_follow_up(
        with_pm.escalation,
        FollowUp(clock.now(), False, "仍不满意，已补偿优惠券"),
        actor_id="lead",
        now=clock.now(),
    )
    assert follow.entry.text == "回访买家：不满意，仍不满意，已补偿优惠券"
    closed = close(follow.escalation, actor_id="supervisor", now=clock.advance(days=1)).escalation
    assert closed.status is S.CLOSED and closed.post_mortem == POST_MORTEM


def test_l2_closes_without_post_mortem() -> None:
    clock = FakeClock(T0)
    assert close(resolved(L2, clock), actor_id="lead", now=clock.now()).escalation.status is S.CLOSED


def test_first_response_state_due_soon_in_last_quarter_or_last_half_hour() -> None:
    clock = FakeClock(T0)
    day = opened(L1, clock)  # 24 h: due soon for the last 6 h
    assert first_response_state(day, T0 + timedelta(hours=17, minutes=59)) is DeadlineState.NORMAL
    assert first_response_state(day, T0 + timedelta(hours=18)) is DeadlineState.DUE_SOON
    assert first_response_state(day, T0 + timedelta(hours=24)) is DeadlineState.OVERDUE
    crisis = opened(L3, clock)  # 2 h: a quarter is 30 min
    assert first_response_state(crisis, T0 + timedelta(minutes=89)) is DeadlineState.NORMAL
    assert first_response_state(crisis, T0 + timedelta(minutes=90)) is DeadlineState.DUE_SOON
    one_hour_l3 = RuleSet(RULES.rules, {**RULES.response_windows, L3: timedelta(hours=1)})
    # a fresh 1 h window from the raise: its last 30 min start before its last quarter
    hour = change_level(
        opened(L1, clock), to_level=L3, reason="x", actor_id="u", now=T0, rules=one_hour_l3
    ).escalation
    assert first_response_state(hour, T0 + timedelta(minutes=29)) is DeadlineState.NORMAL
    assert first_response_state(hour, T0 + timedelta(minutes=30)) is DeadlineState.DUE_SOON
    acked = acknowledge(crisis, owner_id="lead", actor_id="lead", now=T0 + timedelta(hours=3)).escalation
    assert first_response_state(acked, T0 + timedelta(hours=3)) is None


def test_applying_actions_dedups_and_respects_hand_set_levels() -> None:
    clock = FakeClock(T0)
    esc = opened(L1, clock)
    join = JoinEvidence(
        esc.id,
        esc.rule_id or "",
        esc.group_key,
        (EvidenceRef("t2"), EvidenceRef("t3"), EvidenceRef("t3")),
        "新增",
    )
    joined = apply_action(join, open_escalations={esc.id: esc}, now=clock.now(), rules=RULES, new_id=str)
    assert joined is not None and joined.entry.evidence == (EvidenceRef("t3"),)
    assert joined.escalation.ticket_ids == ("t1", "t2", "t3")
    raise_ = RaiseLevel(esc.id, esc.rule_id or "", esc.group_key, L1, L2, "步骤已超时")
    auto = apply_action(raise_, open_escalations={esc.id: esc}, now=clock.now(), rules=RULES, new_id=str)
    assert auto is not None and auto.entry.actor_id is None and not auto.escalation.level_set_by_hand
    by_hand = change_level(
        esc, to_level=L3, reason="主管判断", actor_id="boss", now=clock.now(), rules=RULES
    ).escalation
    assert (
        apply_action(raise_, open_escalations={esc.id: by_hand}, now=clock.now(), rules=RULES, new_id=str)
        is None
    )
    done = close(resolved(L1, clock), actor_id="lead", now=clock.now()).escalation
    with pytest.raises(EscalationTransitionError, match="已关闭"):
        apply_action(join, open_escalations={esc.id: done}, now=clock.now(), rules=RULES, new_id=str)

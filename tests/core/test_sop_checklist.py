from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dyy_desk.core.business_hours import parse_business_hours
from dyy_desk.core.clock import FakeClock
from dyy_desk.core.deadlines import DeadlineState, DueSoonPolicy, format_duration
from dyy_desk.core.sop_checklist import (
    Checklist,
    ChecklistError,
    DeadlineSource,
    StepStatus,
    add_note,
    add_proof,
    record_anchor,
    set_deadline,
    skip_step,
    start_checklist,
    tick_step,
)
from dyy_desk.core.sop_template import AnchorEvent, parse_sop_template
from dyy_desk.core.sop_timers import (
    StepView,
    effective_deadline,
    is_complete,
    nearest_open_deadline,
    pending_notices,
    step_views,
)

SH = ZoneInfo("Asia/Shanghai")
SCHEDULE = parse_business_hours(
    "[weekly]\n"
    + "\n".join(f'{d} = ["09:00-12:00", "13:00-18:00"]' for d in ("mon", "tue", "wed", "thu", "fri")),
    "office.toml",
)
TEMPLATE = parse_sop_template(
    """id = "return_refund.test"
name = "退货退款测试"
after_sales_type = "return_refund"
version = 3
effective_date = 2026-01-01

[[steps]]
id = "review"
title = "审核退货申请"
instructions = "核对订单与凭证"
deadline = { hours = 48, anchor = "application_submitted", verified = true, consequence = "逾期自动同意" }

[[steps]]
id = "inspect"
title = "签收验货"
instructions = "核对商品"
deadline = { hours = 8, anchor = "return_received", counting = "business", verified = false }

[[steps]]
id = "refund"
title = "确认收货并退款"
instructions = "验货后退款"
deadline = { hours = 240, anchor = "buyer_shipped", verified = false, consequence = "逾期退款 {amount}" }

[[steps]]
id = "follow_up"
title = "回访买家"
instructions = "确认到账"
required = false
""",
    "test.toml",
)
AGENT = "agent-7"


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SH).astimezone(UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(local(2026, 11, 23, 10, 0))  # Monday 10:00 in Shanghai


def started(clock: FakeClock) -> Checklist:
    return start_checklist(
        TEMPLATE,
        by=AGENT,
        now=clock.now(),
        anchors={AnchorEvent.APPLICATION_SUBMITTED: clock.now() - timedelta(hours=10)},
    )


def views(checklist: Checklist, clock: FakeClock) -> dict[str, StepView]:
    return {v.step.id: v for v in step_views(checklist, TEMPLATE, now=clock.now(), schedule=SCHEDULE)}


def test_start_keeps_template_identity_and_opens_every_step(clock: FakeClock) -> None:
    checklist = start_checklist(TEMPLATE, by=AGENT, now=clock.now())
    assert (checklist.template_id, checklist.template_version) == ("return_refund.test", 3)
    assert [r.step_id for r in checklist.steps] == ["review", "inspect", "refund", "follow_up"]
    assert all(r.status is StepStatus.OPEN for r in checklist.steps)
    # No anchor has happened yet: no step has a deadline yet
    assert all(
        v.deadline is None and v.state is None
        for v in step_views(checklist, TEMPLATE, now=clock.now(), schedule=SCHEDULE)
    )
    assert nearest_open_deadline(checklist, TEMPLATE, now=clock.now(), schedule=SCHEDULE) is None


def test_rule_deadline_counts_from_a_past_anchor_and_changes_state_with_the_clock(clock: FakeClock) -> None:
    checklist = started(clock)
    submitted = clock.now() - timedelta(hours=10)
    review = effective_deadline(checklist, TEMPLATE.step("review"), SCHEDULE)
    assert review is not None
    assert (review.at, review.source, review.window_start) == (
        submitted + timedelta(hours=48),
        DeadlineSource.RULE,
        submitted,
    )
    assert not review.unverified
    view = nearest_open_deadline(checklist, TEMPLATE, now=clock.now(), schedule=SCHEDULE)
    assert view is not None and view.step.id == "review"
    assert view.state is DeadlineState.NORMAL and format_duration(view.remaining) == "1天14小时"  # type: ignore[arg-type]
    clock.advance(hours=25.9)  # 35.9 h after the anchor
    assert views(checklist, clock)["review"].state is DeadlineState.NORMAL
    clock.advance(hours=0.1)  # the last 25 % of 48 h
    assert views(checklist, clock)["review"].state is DeadlineState.DUE_SOON
    clock.advance(hours=12.5)
    overdue = views(checklist, clock)["review"]
    assert overdue.state is DeadlineState.OVERDUE and overdue.remaining is not None
    assert format_duration(overdue.remaining) == "超时 0:30"


def test_business_hour_rule_skips_the_weekend(clock: FakeClock) -> None:
    clock.set(local(2026, 11, 30, 9, 0))
    checklist = record_anchor(
        started(clock), AnchorEvent.RETURN_RECEIVED, local(2026, 11, 27, 17, 0), by=AGENT, now=clock.now()
    )
    inspect = effective_deadline(checklist, TEMPLATE.step("inspect"), SCHEDULE)
    assert inspect is not None and inspect.at == local(2026, 11, 30, 17, 0)  # Fri 1 h + Mon 09–12, 13–17
    assert inspect.unverified


def test_anchor_in_the_future_is_refused_and_a_correction_replaces_the_time(clock: FakeClock) -> None:
    checklist = started(clock)
    with pytest.raises(ChecklistError, match="不能晚于当前时间"):
        record_anchor(
            checklist,
            AnchorEvent.BUYER_SHIPPED,
            clock.now() + timedelta(minutes=1),
            by=AGENT,
            now=clock.now(),
        )
    fixed = record_anchor(
        checklist,
        AnchorEvent.APPLICATION_SUBMITTED,
        clock.now() - timedelta(hours=1),
        by="sup-1",
        now=clock.now(),
    )
    assert fixed.anchor_time(AnchorEvent.APPLICATION_SUBMITTED) == clock.now() - timedelta(hours=1)
    assert len(fixed.anchors) == 1 and fixed.anchors[0].by == "sup-1"
    assert checklist.anchor_time(AnchorEvent.APPLICATION_SUBMITTED) == clock.now() - timedelta(hours=10)


def test_deadline_source_priority_platform_then_manual_then_rule(clock: FakeClock) -> None:
    checklist = started(clock)
    platform_at, manual_at = clock.now() + timedelta(hours=20), clock.now() + timedelta(hours=5)
    manual = set_deadline(checklist, "review", DeadlineSource.MANUAL, manual_at, by=AGENT, at=clock.now())
    both = set_deadline(manual, "review", DeadlineSource.PLATFORM, platform_at, by=AGENT, at=clock.now())

    def source(c: Checklist) -> tuple[datetime, DeadlineSource]:
        d = effective_deadline(c, TEMPLATE.step("review"), SCHEDULE)
        assert d is not None
        return d.at, d.source

    assert source(checklist) == (clock.now() + timedelta(hours=38), DeadlineSource.RULE)
    assert source(manual) == (manual_at, DeadlineSource.MANUAL)
    assert source(both) == (platform_at, DeadlineSource.PLATFORM)
    cleared = set_deadline(both, "review", DeadlineSource.PLATFORM, None, by=AGENT, at=clock.now())
    assert source(cleared) == (manual_at, DeadlineSource.MANUAL)
    with pytest.raises(ChecklistError, match="规则默认"):
        set_deadline(checklist, "review", DeadlineSource.RULE, manual_at, by=AGENT, at=clock.now())


def test_platform_deadline_before_its_anchor_counts_its_window_from_entry(clock: FakeClock) -> None:
    checklist = start_checklist(TEMPLATE, by=AGENT, now=clock.now())
    checklist = set_deadline(
        checklist,
        "refund",
        DeadlineSource.PLATFORM,
        clock.now() + timedelta(hours=40),
        by=AGENT,
        at=clock.now(),
    )
    deadline = effective_deadline(checklist, TEMPLATE.step("refund"), SCHEDULE)
    assert deadline is not None and deadline.window_start == clock.now() and not deadline.unverified
    clock.advance(hours=29.9)
    assert views(checklist, clock)["refund"].state is DeadlineState.NORMAL
    clock.advance(hours=0.1)
    assert views(checklist, clock)["refund"].state is DeadlineState.DUE_SOON


def test_tick_skip_and_illegal_transitions(clock: FakeClock) -> None:
    checklist = started(clock)
    done = tick_step(checklist, "review", by=AGENT, at=clock.now())
    record = done.record("review")
    assert (record.status, record.closed_by, record.closed_at) == (StepStatus.DONE, AGENT, clock.now())
    assert checklist.record("review").status is StepStatus.OPEN  # the old state is untouched
    with pytest.raises(ChecklistError, match="已完成"):
        tick_step(done, "review", by=AGENT, at=clock.now())
    with pytest.raises(ChecklistError, match="已完成"):
        skip_step(done, "review", by=AGENT, at=clock.now(), reason="重复")
    with pytest.raises(ChecklistError, match="原因"):
        skip_step(done, "follow_up", by=AGENT, at=clock.now(), reason="   ")
    skipped = skip_step(done, "follow_up", by=AGENT, at=clock.now(), reason="买家拒绝回访")
    assert skipped.record("follow_up").skip_reason == "买家拒绝回访"
    with pytest.raises(ChecklistError, match="已跳过"):
        tick_step(skipped, "follow_up", by=AGENT, at=clock.now())
    with pytest.raises(ChecklistError, match="已跳过"):
        skip_step(skipped, "follow_up", by=AGENT, at=clock.now(), reason="再跳一次")
    with pytest.raises(ChecklistError, match='没有步骤 "ship"'):
        tick_step(checklist, "ship", by=AGENT, at=clock.now())
    with pytest.raises(ChecklistError, match="操作人"):
        tick_step(checklist, "review", by=" ", at=clock.now())
    with pytest.raises(ValueError, match="时区"):
        tick_step(checklist, "review", by=AGENT, at=datetime(2026, 11, 23, 10))


def test_notes_and_proofs_are_appended(clock: FakeClock) -> None:
    checklist = add_note(started(clock), "review", text=" 买家已补充视频 ", by=AGENT, at=clock.now())
    checklist = add_proof(checklist, "review", ref="SF1234567890", label="退货单号", by=AGENT, at=clock.now())
    checklist = add_proof(checklist, "review", ref="shots/2026-11-23-1.png", by=AGENT, at=clock.now())
    record = checklist.record("review")
    assert [n.text for n in record.notes] == ["买家已补充视频"]
    assert [(p.ref, p.label) for p in record.proofs] == [
        ("SF1234567890", "退货单号"),
        ("shots/2026-11-23-1.png", ""),
    ]
    with pytest.raises(ChecklistError):
        add_note(checklist, "review", text="", by=AGENT, at=clock.now())
    with pytest.raises(ChecklistError):
        add_proof(checklist, "review", ref=" ", by=AGENT, at=clock.now())


def test_nearest_open_deadline_is_the_soonest_loss_and_ignores_closed_steps(clock: FakeClock) -> None:
    checklist = started(clock)  # review due in 38 h
    checklist = set_deadline(
        checklist,
        "follow_up",
        DeadlineSource.MANUAL,
        clock.now() + timedelta(hours=38),
        by=AGENT,
        at=clock.now(),
    )
    checklist = set_deadline(
        checklist,
        "refund",
        DeadlineSource.PLATFORM,
        clock.now() + timedelta(hours=60),
        by=AGENT,
        at=clock.now(),
    )

    def nearest(c: Checklist) -> str | None:
        view = nearest_open_deadline(c, TEMPLATE, now=clock.now(), schedule=SCHEDULE)
        return None if view is None else view.step.id

    assert nearest(checklist) == "review"  # tie at 38 h: the required step first
    checklist = tick_step(checklist, "review", by=AGENT, at=clock.now())
    assert nearest(checklist) == "follow_up"
    checklist = skip_step(checklist, "follow_up", by=AGENT, at=clock.now(), reason="不需要")
    assert nearest(checklist) == "refund"
    checklist = tick_step(checklist, "refund", by=AGENT, at=clock.now())
    assert nearest(checklist) is None


def test_completion_needs_every_required_step_closed(clock: FakeClock) -> None:
    checklist = started(clock)
    for step_id in ("review", "inspect"):
        checklist = tick_step(checklist, step_id, by=AGENT, at=clock.now())
    assert not is_complete(checklist, TEMPLATE)
    checklist = skip_step(checklist, "refund", by=AGENT, at=clock.now(), reason="买家撤销申请")
    assert is_complete(checklist, TEMPLATE)


def test_wrong_template_version_is_refused(clock: FakeClock) -> None:
    other = parse_sop_template(
        """id = "return_refund.test"\nname = "x"\nafter_sales_type = "return_refund"\nversion = 4
effective_date = 2026-06-01\n[[steps]]\nid = "review"\ntitle = "t"\ninstructions = "i"\n""",
        "v4.toml",
    )
    with pytest.raises(ChecklistError, match="第 3 版"):
        step_views(started(clock), other, now=clock.now(), schedule=SCHEDULE)


def test_notifications_fire_once_per_step_and_state(clock: FakeClock) -> None:
    checklist = started(clock)  # review: due soon after 26 h, overdue after 38 h
    notified: set[tuple[str, DeadlineState]] = set()

    def poll() -> list[tuple[str, DeadlineState]]:
        notices = pending_notices(checklist, TEMPLATE, now=clock.now(), schedule=SCHEDULE, notified=notified)
        notified.update(n.key for n in notices)
        return [n.key for n in notices]

    assert poll() == []
    clock.advance(hours=26)
    assert poll() == [("review", DeadlineState.DUE_SOON)]
    assert poll() == []
    clock.advance(hours=12)
    assert poll() == [("review", DeadlineState.OVERDUE)]
    clock.advance(hours=1)
    assert poll() == []
    # A step that jumps straight to overdue (the app was closed) is announced once, as overdue
    checklist = record_anchor(
        checklist, AnchorEvent.BUYER_SHIPPED, clock.now() - timedelta(days=11), by=AGENT, now=clock.now()
    )
    assert poll() == [("refund", DeadlineState.OVERDUE)]
    # Closed steps never notify
    checklist = record_anchor(
        checklist, AnchorEvent.RETURN_RECEIVED, clock.now() - timedelta(days=3), by=AGENT, now=clock.now()
    )
    checklist = tick_step(checklist, "inspect", by=AGENT, at=clock.now())
    assert poll() == []


def test_custom_policy_reaches_the_step_states(clock: FakeClock) -> None:
    checklist = started(clock)  # 10 h into a 48 h window
    policy = DueSoonPolicy(fraction=0.9, min_lead=timedelta(0))
    view = step_views(checklist, TEMPLATE, now=clock.now(), schedule=SCHEDULE, policy=policy)[0]
    assert view.state is DeadlineState.DUE_SOON


@settings(max_examples=100, deadline=None)
@given(steps=st.lists(st.integers(min_value=1, max_value=8 * 60), min_size=1, max_size=40))
def test_every_deadline_is_announced_overdue_exactly_once_however_the_clock_moves(steps: list[int]) -> None:
    clock = FakeClock(local(2026, 11, 23, 10, 0))
    checklist = started(clock)
    checklist = record_anchor(checklist, AnchorEvent.RETURN_RECEIVED, clock.now(), by=AGENT, now=clock.now())
    checklist = set_deadline(
        checklist,
        "follow_up",
        DeadlineSource.MANUAL,
        clock.now() + timedelta(hours=3),
        by=AGENT,
        at=clock.now(),
    )
    notified: set[tuple[str, DeadlineState]] = set()
    seen: list[tuple[str, DeadlineState]] = []
    for minutes in [*steps, 100 * 60]:  # always end far past every deadline
        clock.advance(minutes=minutes)
        notices = pending_notices(checklist, TEMPLATE, now=clock.now(), schedule=SCHEDULE, notified=notified)
        notified.update(n.key for n in notices)
        seen.extend(n.key for n in notices)
    assert len(seen) == len(set(seen))
    assert {s for s, state in seen if state is DeadlineState.OVERDUE} == {"review", "inspect", "follow_up"}
    for step_id, state in seen:
        if state is DeadlineState.DUE_SOON:
            assert seen.index((step_id, state)) < seen.index((step_id, DeadlineState.OVERDUE))

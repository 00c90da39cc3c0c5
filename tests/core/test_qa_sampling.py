from __future__ import annotations

import math
import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dyy_desk.core.qa_sampling import (
    NothingToDraw,
    PickReason,
    PlanError,
    SampleCandidate,
    SampleDraw,
    SamplingPeriod,
    SamplingPlan,
    allocate,
    draw_sample,
    redraw,
    window_for,
)
from dyy_desk.core.types import Platform, Role, TicketCategory, UserRow

SUPERVISOR = UserRow("sup-1", "王主管", Role.SUPERVISOR)
DAY = date(2026, 11, 23)
DAY_START = datetime(2026, 11, 22, 16, 0, tzinfo=UTC)  # 2026-11-23 00:00 in China
NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def daily(percent: int | None = 10, minimum: int = 0, count: int | None = None, **kw: object) -> SamplingPlan:
    return SamplingPlan(
        id="plan-1",
        name="每日抽检",
        period=SamplingPeriod.DAY,
        percent=None if count is not None else Decimal(percent or 0),
        minimum=minimum,
        count=count,
        **kw,  # type: ignore[arg-type]
    )


def candidate(
    n: int, agent: str = "a1", *, client: str = "c1", hour: float = 3, **flags: bool
) -> SampleCandidate:
    return SampleCandidate(
        ticket_id=f"t{n:04d}",
        agent_id=agent,
        client_id=client,
        platform=Platform.TAOBAO,
        category=TicketCategory.RETURN_REFUND,
        closed_at=DAY_START + timedelta(hours=hour),
        **flags,
    )


def draw(
    plan: SamplingPlan, cands: list[SampleCandidate], seed: int = 1, sampled: tuple[str, ...] = ()
) -> SampleDraw:
    return draw_sample(plan, cands, actor=SUPERVISOR, day=DAY, seed=seed, now=NOW, already_sampled=sampled)


@st.composite
def populations(draw_: st.DrawFn) -> tuple[list[SampleCandidate], frozenset[str]]:
    size = draw_(st.integers(1, 60))
    cands = []
    for n in range(size):
        flag = draw_(st.integers(0, 19))
        cands.append(
            SampleCandidate(
                ticket_id=f"t{n:03d}",
                agent_id=draw_(st.sampled_from(["a1", "a2", "a3"])),
                client_id=draw_(st.sampled_from(["c1", "c2"])),
                platform=draw_(st.sampled_from([Platform.TAOBAO, Platform.JD, Platform.DOUYIN])),
                category=draw_(st.sampled_from([TicketCategory.PRESALE, TicketCategory.EXCHANGE])),
                closed_at=DAY_START + timedelta(minutes=draw_(st.integers(0, 24 * 60 - 1))),
                escalated=flag == 0,
                complained=flag == 1,
                missed_deadline=flag == 2,
            )
        )
    excluded = frozenset(draw_(st.lists(st.sampled_from([c.ticket_id for c in cands]), max_size=size // 3)))
    return cands, excluded


plans = st.builds(
    lambda pct, minimum: daily(percent=pct, minimum=minimum),
    st.integers(1, 100),
    st.integers(0, 8),
)
PROPS = settings(max_examples=60, deadline=None)


@PROPS
@given(populations(), plans, st.integers(0, 2**32), st.randoms(use_true_random=False))
def test_same_seed_same_sample_regardless_of_candidate_order(
    pop: tuple[list[SampleCandidate], frozenset[str]], plan: SamplingPlan, seed: int, rnd: random.Random
) -> None:
    cands, excluded = pop
    if len(excluded) == len(cands):
        return
    shuffled = list(cands)
    rnd.shuffle(shuffled)
    first = draw(plan, cands, seed, tuple(excluded))
    second = draw(plan, shuffled, seed, tuple(sorted(excluded, reverse=True)))
    assert first == second
    assert redraw(first) == first


@PROPS
@given(populations(), plans, st.integers(0, 2**32))
def test_sample_invariants(
    pop: tuple[list[SampleCandidate], frozenset[str]], plan: SamplingPlan, seed: int
) -> None:
    cands, excluded = pop
    if len(excluded) == len(cands):
        with pytest.raises(NothingToDraw):
            draw(plan, cands, seed, tuple(excluded))
        return
    result = draw(plan, cands, seed, tuple(excluded))
    ids = [p.ticket_id for p in result.picks]
    assert len(ids) == len(set(ids)), "a ticket was drawn twice"
    assert not set(ids) & excluded, "an already-sampled ticket was drawn again"
    assert result.candidate_ids == tuple(sorted(c.ticket_id for c in cands))
    for agent in {c.agent_id for c in cands}:
        population = [c for c in cands if c.agent_id == agent and c.ticket_id not in excluded]
        picked = {p.ticket_id for p in result.picks if p.agent_id == agent}
        flagged = {c.ticket_id for c in population if c.escalated or c.complained or c.missed_deadline}
        assert flagged <= picked, "a flagged ticket was left out"
        n = len(population)
        assert plan.percent is not None
        target = min(n, max(plan.minimum, math.ceil(int(plan.percent) * n / 100)))
        assert len(picked) == max(target, len(flagged))
        _assert_proportional(population, flagged, picked, target)


def _assert_proportional(
    population: list[SampleCandidate], flagged: set[str], picked: set[str], target: int
) -> None:
    rest = [c for c in population if c.ticket_id not in flagged]
    slots = max(0, target - len(flagged))
    sizes = Counter((c.client_id, c.platform, c.category) for c in rest)
    drawn = Counter((c.client_id, c.platform, c.category) for c in rest if c.ticket_id in picked)
    for stratum, size in sizes.items():
        expected = slots * size / len(rest)
        assert abs(drawn[stratum] - expected) < 1, (stratum, drawn[stratum], expected)


@PROPS
@given(populations(), st.integers(1, 10), st.integers(0, 2**32))
def test_count_plan_takes_n_per_agent_plus_flagged(
    pop: tuple[list[SampleCandidate], frozenset[str]], count: int, seed: int
) -> None:
    cands, _ = pop
    result = draw(daily(count=count), cands, seed)
    for tally in result.tallies:
        assert tally.target == min(count, tally.population)
        assert tally.picked == max(tally.target, tally.flagged)
        assert tally.picked == sum(1 for p in result.picks if p.agent_id == tally.agent_id)


@given(st.dictionaries(st.tuples(st.text("ab", min_size=1, max_size=3)), st.integers(0, 30), min_size=1),
       st.data())  # fmt: skip
def test_largest_remainder_allocation(sizes: dict[tuple[str, ...], int], data: st.DataObject) -> None:
    population = sum(sizes.values())
    total = data.draw(st.integers(0, population))
    shares = allocate(total, sizes, random.Random(0))
    assert sum(shares.values()) == total
    for key, size in sizes.items():
        assert 0 <= shares[key] <= size
        assert population == 0 or abs(shares[key] - total * size / population) < 1
    if population:
        # largest remainder: every stratum rounded up had a remainder at least as large as any rounded down
        remainder = {key: total * size % population for key, size in sizes.items()}
        rounded_up = [k for k, size in sizes.items() if shares[k] > total * size // population]
        rounded_down = [k for k in sizes if k not in rounded_up]
        assert all(remainder[u] >= remainder[d] for u in rounded_up for d in rounded_down)


def test_percentage_is_exact_not_float() -> None:
    # 10 % of 30 is 3; a float 0.1 * 30 would ceil to 4.
    assert daily(percent=10).target(30) == 3
    assert SamplingPlan("p", "半个百分点", SamplingPeriod.DAY, percent=Decimal("0.5")).target(201) == 2
    assert daily(percent=10, minimum=5).target(30) == 5
    assert daily(percent=10, minimum=5).target(3) == 3


def test_different_seeds_give_different_samples() -> None:
    cands = [candidate(n) for n in range(200)]
    samples = {tuple(p.ticket_id for p in draw(daily(), cands, seed).picks) for seed in range(5)}
    assert len(samples) > 1
    assert all(len(s) == 20 for s in samples)


def test_adding_tickets_for_one_agent_does_not_change_another_agents_sample() -> None:
    base = [candidate(n, "a1") for n in range(50)] + [candidate(100 + n, "a2") for n in range(50)]
    more = base + [candidate(500 + n, "a2") for n in range(7)]
    a1 = [p for p in draw(daily(), base, 9).picks if p.agent_id == "a1"]
    assert a1 == [p for p in draw(daily(), more, 9).picks if p.agent_id == "a1"]


def test_flagged_pick_reasons_and_flagged_past_target() -> None:
    cands = [candidate(1, escalated=True, complained=True), candidate(2, missed_deadline=True)]
    cands += [candidate(n) for n in range(3, 11)]
    result = draw(daily(percent=10), cands)
    reasons = {p.ticket_id: p.reasons for p in result.picks}
    assert reasons == {
        "t0001": (PickReason.ESCALATED, PickReason.COMPLAINT),
        "t0002": (PickReason.MISSED_DEADLINE,),
    }


def test_daily_window_uses_china_time_and_week_window_iso() -> None:
    window = window_for(SamplingPeriod.DAY, DAY)
    assert (window.start, window.end, window.label) == (
        DAY_START,
        DAY_START + timedelta(days=1),
        "2026-11-23",
    )
    week = window_for(SamplingPeriod.WEEK, date(2026, 11, 26))
    assert (week.start, week.label) == (DAY_START, "2026-W48")
    inside, before = candidate(1, hour=0), candidate(2, hour=-0.01)
    late = candidate(3, hour=23.99)
    assert draw(daily(percent=100), [inside, before, late]).candidate_ids == ("t0001", "t0003")


def test_plan_filters_restrict_candidates() -> None:
    cands = [candidate(1, client="c1"), candidate(2, client="c2"), candidate(3, "a9", client="c2")]
    result = draw(daily(percent=100, client_ids=("c2",), agent_ids=("a1",)), cands)
    assert [p.ticket_id for p in result.picks] == ["t0002"]


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"percent": Decimal(0)}, "0% 且没有最低数量"),
        ({"count": 0}, "抽检数量为 0"),
        ({"count": 3, "percent": Decimal(5)}, "二选一"),
        ({}, "二选一"),
        ({"percent": Decimal(120)}, "0%–100%"),
        ({"count": 3, "minimum": 2}, "不需要设置最低数量"),
        ({"percent": Decimal(5), "minimum": -1}, "非负整数"),
    ],
)
def test_plans_that_can_draw_nothing_or_are_malformed(kwargs: dict[str, object], fragment: str) -> None:
    with pytest.raises(PlanError, match=fragment):
        SamplingPlan("p", "每日抽检", SamplingPeriod.DAY, **kwargs)  # type: ignore[arg-type]


def test_zero_percent_with_minimum_is_a_fixed_minimum() -> None:
    plan = SamplingPlan("p", "最低两单", SamplingPeriod.DAY, percent=Decimal(0), minimum=2)
    assert len(draw(plan, [candidate(n) for n in range(9)]).picks) == 2


def test_nothing_in_window_or_all_sampled_gives_clear_message() -> None:
    with pytest.raises(NothingToDraw, match="每日抽检」在 2026-11-23 内没有符合条件的已关闭工单"):
        draw(daily(), [candidate(1, hour=30)])
    with pytest.raises(NothingToDraw, match="2 张工单都已抽检过"):
        draw(daily(), [candidate(1), candidate(2)], sampled=("t0001", "t0002"))


def test_duplicate_candidates_and_agent_actor_are_refused() -> None:
    with pytest.raises(ValueError, match="重复出现"):
        draw(daily(), [candidate(1), candidate(1, client="c2")])
    agent = UserRow("a1", "小李", Role.AGENT)
    with pytest.raises(PermissionError, match="仅主管或管理员"):
        draw_sample(daily(), [candidate(1)], actor=agent, day=DAY, seed=1, now=NOW)


def test_redraw_is_independent_of_later_changes() -> None:
    cands = [candidate(n, complained=n % 7 == 0) for n in range(40)]
    first = draw(daily(percent=50), cands, seed=42, sampled=("t0003",))
    assert first.excluded_ids == ("t0003",) and first.drawn_by == "sup-1"
    assert redraw(first) == first
    tampered = SampleDraw(**{**first.__dict__, "seed": 43})
    assert redraw(tampered).picks != first.picks

"""Reproducible QA sampling (抽检): per agent per day or ISO week, N tickets or a percentage.

How one agent's sample is built, in this order:
1. population = the agent's closed tickets in the window that pass the plan's filters and were not
   sampled before (a ticket is never sampled twice, not even when it is flagged);
2. target = N, or max(minimum, ceil(percent × population)), capped by the population;
3. every flagged ticket (escalated, complained about, platform deadline missed) is taken, even past
   the target;
4. the remaining target − flagged slots go to the unflagged tickets, split over strata
   (client, platform, category) in proportion to their size by largest remainder, drawn at random
   inside each stratum.
Randomness comes only from random.Random seeded with (seed, agent id) over candidates in canonical
(ticket id) order, so the input order never matters and one agent's late ticket never changes
another agent's sample. A SampleDraw keeps the plan, seed, candidate snapshots and exclusions, so
`redraw` reproduces it exactly even after the tickets or the sampled-set have changed.
"""

from __future__ import annotations

import itertools
import math
import operator
import random
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from dyy_desk.core.qa_access import require_qa_manager
from dyy_desk.core.types import Platform, TicketCategory, UserRow

# China has no daylight saving time, so a fixed offset is exact and needs no tz database.
CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")


class SamplingPeriod(StrEnum):
    DAY = "day"
    WEEK = "week"


class PickReason(StrEnum):
    ESCALATED = "escalated"
    COMPLAINT = "complaint"
    MISSED_DEADLINE = "missed_deadline"
    RANDOM = "random"


PICK_REASON_LABELS: dict[PickReason, str] = {
    PickReason.ESCALATED: "已升级",
    PickReason.COMPLAINT: "有投诉",
    PickReason.MISSED_DEADLINE: "超平台时限",
    PickReason.RANDOM: "随机抽取",
}


class PlanError(ValueError):
    """A plan that is malformed or can never draw anything."""


class NothingToDraw(ValueError):
    """A valid plan found nothing to sample in this window."""


@dataclass(frozen=True)
class SamplingPlan:
    """Either `count` (N per agent per period) or `percent` (with an optional `minimum`)."""

    id: str
    name: str
    period: SamplingPeriod
    count: int | None = None
    percent: Decimal | None = None
    minimum: int = 0
    client_ids: tuple[str, ...] = ()  # empty filter = no restriction
    platforms: tuple[Platform, ...] = ()
    categories: tuple[TicketCategory, ...] = ()
    agent_ids: tuple[str, ...] = ()
    stratify: bool = True
    created_by: str = ""

    def __post_init__(self) -> None:
        label = f"抽检计划「{self.name or self.id}」"
        if not self.name.strip():
            raise PlanError("抽检计划必须填写名称")
        if (self.count is None) == (self.percent is None):
            raise PlanError(f"{label}需要设置抽检数量或抽检比例（二选一）")
        if not _is_int(self.minimum) or self.minimum < 0:
            raise PlanError(f"{label}的最低数量必须是非负整数")
        if self.count is not None:
            if not _is_int(self.count) or self.count < 0:
                raise PlanError(f"{label}的抽检数量必须是非负整数")
            if self.minimum:
                raise PlanError(f"{label}按数量抽检，不需要设置最低数量")
            if self.count == 0:
                raise PlanError(f"{label}的抽检数量为 0，抽不到任何工单")
        if self.percent is not None:
            if not isinstance(self.percent, Decimal | int) or not 0 <= self.percent <= 100:
                raise PlanError(f"{label}的抽检比例必须在 0%–100% 之间")
            if self.percent == 0 and self.minimum == 0:
                raise PlanError(f"{label}的抽检比例为 0% 且没有最低数量，抽不到任何工单")

    def target(self, population: int) -> int:
        """How many tickets of one agent's population the plan asks for (before flagged extras)."""
        if self.count is not None:
            return min(self.count, population)
        quota = math.ceil(Fraction(self.percent or 0) * population / 100)
        return min(population, max(self.minimum, quota))


@dataclass(frozen=True)
class SampleCandidate:
    ticket_id: str
    agent_id: str
    client_id: str
    platform: Platform
    category: TicketCategory
    closed_at: datetime
    escalated: bool = False
    complained: bool = False
    missed_deadline: bool = False

    @property
    def reasons(self) -> tuple[PickReason, ...]:
        if not (self.escalated or self.complained or self.missed_deadline):
            return ()
        flags = (self.escalated, self.complained, self.missed_deadline)
        kinds = (PickReason.ESCALATED, PickReason.COMPLAINT, PickReason.MISSED_DEADLINE)
        return tuple(kind for flag, kind in zip(flags, kinds, strict=True) if flag)


@dataclass(frozen=True)
class SamplingWindow:
    start: datetime  # inclusive, UTC
    end: datetime  # exclusive, UTC
    label: str  # "2026-11-23" or "2026-W48"

    def contains(self, instant: datetime) -> bool:
        return self.start <= instant < self.end


@dataclass(frozen=True)
class SamplePick:
    ticket_id: str
    agent_id: str
    reasons: tuple[PickReason, ...]  # (RANDOM,) or the flags that forced the pick


@dataclass(frozen=True)
class AgentTally:
    agent_id: str
    population: int
    target: int
    flagged: int
    picked: int


@dataclass(frozen=True)
class SampleDraw:
    plan: SamplingPlan
    seed: int
    window: SamplingWindow
    candidates: tuple[SampleCandidate, ...]  # in window and filters, canonical order, as seen then
    excluded_ids: tuple[str, ...]  # candidates already sampled at draw time
    picks: tuple[SamplePick, ...]
    tallies: tuple[AgentTally, ...]
    drawn_by: str
    drawn_at: datetime

    @property
    def candidate_ids(self) -> tuple[str, ...]:
        return tuple(c.ticket_id for c in self.candidates)


def window_for(period: SamplingPeriod, day: date, tz: tzinfo = CHINA_TZ) -> SamplingWindow:
    """The local day, or the ISO week (Monday to Monday) that contains `day`, as UTC instants."""
    if period is SamplingPeriod.DAY:
        first, length, label = day, 1, day.isoformat()
    else:
        iso = day.isocalendar()
        first, length, label = day - timedelta(days=iso.weekday - 1), 7, f"{iso.year}-W{iso.week:02d}"
    start = datetime.combine(first, time(), tz)
    return SamplingWindow(start.astimezone(UTC), (start + timedelta(days=length)).astimezone(UTC), label)


def draw_sample(
    plan: SamplingPlan,
    candidates: Iterable[SampleCandidate],
    *,
    actor: UserRow,
    day: date,
    seed: int,
    now: datetime,
    already_sampled: Collection[str] = (),
    tz: tzinfo = CHINA_TZ,
) -> SampleDraw:
    require_qa_manager(actor, "执行抽检")
    window = window_for(plan.period, day, tz)
    in_plan = _plan_filter(plan, window)
    chosen = sorted(filter(in_plan, candidates), key=operator.attrgetter("ticket_id"))
    for before, after in itertools.pairwise(chosen):
        if before.ticket_id == after.ticket_id:
            raise ValueError(f'候选工单 "{before.ticket_id}" 重复出现')
    sampled = set(already_sampled)
    excluded = tuple(c.ticket_id for c in chosen if c.ticket_id in sampled)
    label = f"抽检计划「{plan.name}」在 {window.label}"
    if not chosen:
        raise NothingToDraw(f"{label} 内没有符合条件的已关闭工单，无可抽取的工单")
    if len(excluded) == len(chosen):
        raise NothingToDraw(f"{label} 内的 {len(chosen)} 张工单都已抽检过，无可抽取的工单")
    picks, tallies = _draw(plan, seed, chosen, frozenset(excluded))
    return SampleDraw(plan, seed, window, tuple(chosen), excluded, picks, tallies, actor.id, now)


def redraw(draw: SampleDraw) -> SampleDraw:
    """Recompute the draw from what it stored; equal to `draw` unless the record was tampered with."""
    picks, tallies = _draw(draw.plan, draw.seed, draw.candidates, frozenset(draw.excluded_ids))
    return SampleDraw(
        draw.plan, draw.seed, draw.window, draw.candidates, draw.excluded_ids, picks, tallies,
        draw.drawn_by, draw.drawn_at,
    )  # fmt: skip


def allocate(total: int, sizes: dict[tuple[str, ...], int], rng: random.Random) -> dict[tuple[str, ...], int]:
    """Largest-remainder split of `total` over strata; ties go to a seeded random order of strata."""
    population = sum(sizes.values())
    keys = sorted(sizes)
    tiebreak = {key: rng.random() for key in keys}
    if population == 0:
        return dict.fromkeys(keys, 0)
    shares = {key: total * sizes[key] // population for key in keys}
    left = total - sum(shares.values())
    by_remainder = sorted(keys, key=lambda k: (-(total * sizes[k] % population), tiebreak[k]))
    for key in by_remainder[:left]:
        shares[key] += 1
    return shares


def _draw(
    plan: SamplingPlan, seed: int, chosen: Sequence[SampleCandidate], excluded: frozenset[str]
) -> tuple[tuple[SamplePick, ...], tuple[AgentTally, ...]]:
    by_agent: dict[str, list[SampleCandidate]] = defaultdict(list)
    for candidate in chosen:
        if candidate.ticket_id not in excluded:
            by_agent[candidate.agent_id].append(candidate)
    picks: list[SamplePick] = []
    tallies: list[AgentTally] = []
    for agent_id in sorted(by_agent):
        population = by_agent[agent_id]
        rng = random.Random(f"{seed}:{agent_id}")
        target = plan.target(len(population))
        flagged: list[SamplePick] = []
        strata: dict[tuple[str, ...], list[SampleCandidate]] = defaultdict(list)
        for candidate in population:
            reasons = candidate.reasons
            if reasons:
                flagged.append(SamplePick(candidate.ticket_id, agent_id, reasons))
            else:
                strata[_stratum(plan, candidate)].append(candidate)
        shares = allocate(max(0, target - len(flagged)), {k: len(v) for k, v in strata.items()}, rng)
        agent_picks = list(flagged)
        for key in sorted(strata):
            if not shares[key]:
                continue  # sampling 0 consumes no randomness, so skipping it keeps draws identical
            for candidate in rng.sample(strata[key], shares[key]):
                agent_picks.append(SamplePick(candidate.ticket_id, agent_id, (PickReason.RANDOM,)))
        agent_picks.sort(key=lambda p: p.ticket_id)
        picks.extend(agent_picks)
        tallies.append(AgentTally(agent_id, len(population), target, len(flagged), len(agent_picks)))
    return tuple(picks), tuple(tallies)


def _plan_filter(plan: SamplingPlan, window: SamplingWindow) -> Callable[[SampleCandidate], bool]:
    agents, clients = frozenset(plan.agent_ids), frozenset(plan.client_ids)
    platforms, categories = frozenset(plan.platforms), frozenset(plan.categories)
    start, end = window.start, window.end

    def in_plan(c: SampleCandidate) -> bool:
        return (
            start <= c.closed_at < end
            and (not agents or c.agent_id in agents)
            and (not clients or c.client_id in clients)
            and (not platforms or c.platform in platforms)
            and (not categories or c.category in categories)
        )

    return in_plan


def _stratum(plan: SamplingPlan, c: SampleCandidate) -> tuple[str, ...]:
    return (c.client_id, c.platform, c.category) if plan.stratify else ()


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)

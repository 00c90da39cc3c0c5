"""QA results for supervisors (and for an agent, their own): averages, pass and fatal rates, the
items that cost most, ISO-week trends and per-client figures. Plain frozen dataclasses; XLSX/CSV
export lives elsewhere.

Only reviews that count are used: submitted, appealed or final regular reviews. Drafts and calibration
reviews never enter a figure. A review falls in the ISO week of its submission, in local (China) time.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import tzinfo

from dyy_desk.core.qa_access import visible_results
from dyy_desk.core.qa_review import QAReview, ReviewKind
from dyy_desk.core.qa_sampling import CHINA_TZ
from dyy_desk.core.qa_scorecard import Scorecard
from dyy_desk.core.types import UserRow


@dataclass(frozen=True)
class DeductionStat:
    item_id: str
    name: str
    times: int
    points: int


@dataclass(frozen=True)
class WeekPoint:
    week: str  # "2026-W48"
    reviews: int
    average: float
    pass_rate: float  # 0..1
    fatal_rate: float  # 0..1


@dataclass(frozen=True)
class AgentReport:
    agent_id: str
    reviews: int
    average: float
    pass_rate: float
    fatal_rate: float
    top_deductions: tuple[DeductionStat, ...]
    weekly: tuple[WeekPoint, ...]


@dataclass(frozen=True)
class ClientReport:
    client_id: str
    reviews: int
    average: float
    pass_rate: float
    fatal_rate: float


@dataclass(frozen=True)
class QAReport:
    reviews: int
    average: float
    pass_rate: float
    fatal_rate: float
    agents: tuple[AgentReport, ...]
    clients: tuple[ClientReport, ...]
    weekly: tuple[WeekPoint, ...]
    top_deductions: tuple[DeductionStat, ...]
    calibration_excluded: int  # shown so a supervisor knows why a scored ticket is missing


def build_report(
    reviews: Iterable[QAReview],
    *,
    actor: UserRow,
    scorecards: Iterable[Scorecard] = (),
    top_n: int = 5,
    tz: tzinfo = CHINA_TZ,
) -> QAReport:
    """`actor` decides what is seen: an agent gets a report of their own results only."""
    seen = visible_results(actor, list(reviews))
    counted = [r for r in seen if r.counts]
    calibration = sum(1 for r in seen if r.kind is ReviewKind.CALIBRATION)
    names = {item.id: item.name for card in scorecards for item in card.items}
    by_agent: dict[str, list[QAReview]] = defaultdict(list)
    by_client: dict[str, list[QAReview]] = defaultdict(list)
    for review in counted:
        by_agent[review.agent_id].append(review)
        by_client[review.client_id].append(review)
    agents = tuple(
        AgentReport(
            agent_id,
            *_figures(group),
            _top_deductions(group, names, top_n),
            _weekly(group, tz),
        )
        for agent_id, group in sorted(by_agent.items())
    )
    clients = tuple(
        ClientReport(client_id, *_figures(group)) for client_id, group in sorted(by_client.items())
    )
    return QAReport(
        *_figures(counted),
        agents,
        clients,
        _weekly(counted, tz),
        _top_deductions(counted, names, top_n),
        calibration,
    )


def _figures(group: Sequence[QAReview]) -> tuple[int, float, float, float]:
    if not group:
        return 0, 0.0, 0.0, 0.0
    count = len(group)
    average = statistics.fmean(r.score for r in group)
    passed = sum(1 for r in group if r.passed) / count
    fatal = sum(1 for r in group if r.fatal_hits) / count
    return count, average, passed, fatal


def _top_deductions(
    group: Sequence[QAReview], names: dict[str, str], top_n: int
) -> tuple[DeductionStat, ...]:
    times: dict[str, int] = defaultdict(int)
    points: dict[str, int] = defaultdict(int)
    for review in group:
        for deduction in review.deductions:
            times[deduction.item_id] += 1
            points[deduction.item_id] += deduction.points
    ranked = sorted(times, key=lambda item_id: (-points[item_id], -times[item_id], item_id))
    return tuple(
        DeductionStat(item_id, names.get(item_id, item_id), times[item_id], points[item_id])
        for item_id in ranked[:top_n]
    )


def _weekly(group: Sequence[QAReview], tz: tzinfo) -> tuple[WeekPoint, ...]:
    weeks: dict[tuple[int, int], list[QAReview]] = defaultdict(list)
    for review in group:
        # counted reviews are submitted, so submitted_at is set; created_at is only a fallback.
        iso = (review.submitted_at or review.created_at).astimezone(tz).isocalendar()
        weeks[(iso.year, iso.week)].append(review)
    points = []
    for (year, week), members in sorted(weeks.items()):
        count, average, passed, fatal = _figures(members)
        points.append(WeekPoint(f"{year}-W{week:02d}", count, average, passed, fatal))
    return tuple(points)

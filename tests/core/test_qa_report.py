from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from dyy_desk.core.qa_report import build_report
from dyy_desk.core.qa_review import QAReview, ReviewKind, ReviewState
from dyy_desk.core.qa_scorecard import parse_scorecard
from dyy_desk.core.qa_scoring import Deduction, FatalHit, compute_score
from dyy_desk.core.types import Role, UserRow

CARD = parse_scorecard(
    (Path(__file__).resolve().parents[2] / "resources/scorecards/default.toml").read_text(encoding="utf-8"),
    "default.toml",
)
SUP = UserRow("sup-1", "王主管", Role.SUPERVISOR)
AGENT = UserRow("agt-1", "小李", Role.AGENT)


def review(
    n: int,
    agent: str,
    client: str,
    at: datetime,
    marks: tuple[tuple[str, int], ...] = (),
    fatal: str | None = None,
    *,
    kind: ReviewKind = ReviewKind.REGULAR,
    state: ReviewState = ReviewState.SUBMITTED,
) -> QAReview:
    deductions = tuple(Deduction(item, points, "说明") for item, points in marks)
    hits = (FatalHit(fatal, "证据"),) if fatal else ()
    result = compute_score(CARD, deductions, hits)
    return QAReview(
        id=f"r{n}", ticket_id=f"t{n}", agent_id=agent, client_id=client, reviewer_id="sup-1",
        scorecard_id=CARD.id, scorecard_version=CARD.version, kind=kind,
        session_id="s1" if kind is ReviewKind.CALIBRATION else None, state=state,
        deductions=deductions, fatal_hits=hits, score=result.score, passed=result.passed,
        created_at=at, submitted_at=None if state is ReviewState.DRAFT else at,
    )  # fmt: skip


MON = datetime(2026, 11, 23, 2, tzinfo=UTC)  # 2026-W48
NEXT = datetime(2026, 11, 30, 2, tzinfo=UTC)  # 2026-W49
SUNDAY_NIGHT_UTC = datetime(2026, 11, 29, 17, tzinfo=UTC)  # Monday 01:00 in China: W49, not W48

REVIEWS = [
    review(1, "agt-1", "c1", MON, (("wording", 6), ("closure", 10))),  # 84, fail
    review(2, "agt-1", "c2", MON, (("wording", 2),)),  # 98
    review(3, "agt-1", "c1", SUNDAY_NIGHT_UTC, (), "leak_buyer_info"),  # 0, fatal
    review(4, "agt-2", "c1", NEXT, (("empathy", 5),)),  # 95
    review(5, "agt-2", "c1", NEXT, (), kind=ReviewKind.CALIBRATION),  # never counts
    review(6, "agt-2", "c2", NEXT, (("closure", 10),), state=ReviewState.DRAFT),  # not yet a result
    review(7, "agt-2", "c2", NEXT, (("closure", 3),), state=ReviewState.FINAL),  # 97
]


def test_per_agent_figures_exclude_calibration_and_drafts() -> None:
    report = build_report(REVIEWS, actor=SUP, scorecards=[CARD])
    assert (report.reviews, report.calibration_excluded) == (5, 1)
    agt1, agt2 = report.agents
    assert (agt1.agent_id, agt1.reviews) == ("agt-1", 3)
    assert (agt1.average, agt1.pass_rate, agt1.fatal_rate) == pytest.approx(((84 + 98 + 0) / 3, 1 / 3, 1 / 3))
    assert (agt2.reviews, agt2.average, agt2.pass_rate, agt2.fatal_rate) == (2, 96.0, 1.0, 0.0)


def test_top_deductions_rank_by_points_then_times_with_names() -> None:
    report = build_report(REVIEWS, actor=SUP, scorecards=[CARD])
    assert [(d.item_id, d.name, d.times, d.points) for d in report.top_deductions] == [
        ("closure", "未闭环", 2, 13),
        ("wording", "用语不规范", 2, 8),
        ("empathy", "缺乏共情", 1, 5),
    ]
    assert [d.item_id for d in build_report(REVIEWS, actor=SUP, top_n=1).agents[0].top_deductions] == [
        "closure"
    ]
    assert build_report(REVIEWS, actor=SUP).top_deductions[0].name == "closure"  # no card: id shown


def test_weekly_trend_uses_iso_weeks_in_china_time() -> None:
    agt1 = build_report(REVIEWS, actor=SUP).agents[0]
    assert [(w.week, w.reviews, w.average, w.fatal_rate) for w in agt1.weekly] == [
        ("2026-W48", 2, 91.0, 0.0),
        ("2026-W49", 1, 0.0, 1.0),
    ]
    year_end = [review(8, "agt-1", "c1", datetime(2027, 1, 1, 3, tzinfo=UTC))]
    assert [w.week for w in build_report(year_end, actor=SUP).weekly] == ["2026-W53"]


def test_per_client_figures() -> None:
    c1, c2 = build_report(REVIEWS, actor=SUP).clients
    assert (c1.client_id, c1.reviews) == ("c1", 3)
    assert (c1.average, c1.fatal_rate) == pytest.approx((179 / 3, 1 / 3))
    assert (c2.client_id, c2.reviews, c2.average, c2.pass_rate) == ("c2", 2, 97.5, 1.0)


def test_an_agent_gets_a_report_of_their_own_results_only() -> None:
    report = build_report(REVIEWS, actor=AGENT)
    assert [a.agent_id for a in report.agents] == ["agt-1"]
    assert (report.reviews, report.calibration_excluded) == (3, 0)


def test_empty_report_has_zero_figures() -> None:
    report = build_report([], actor=SUP)
    assert (report.reviews, report.average, report.pass_rate, report.agents, report.weekly) == (
        0,
        0.0,
        0.0,
        (),
        (),
    )

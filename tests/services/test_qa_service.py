"""QA service on a real (temporary) demo workspace: draws, reviews, appeals, calibration, reports."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, text, update

from dyy_desk.core.qa_review import AppealDecision, ReviewError, ReviewLockedError, ReviewState
from dyy_desk.core.qa_sampling import PickReason, PlanError, SamplingPeriod
from dyy_desk.core.qa_scoring import Deduction, FatalHit, ScoringError
from dyy_desk.core.types import Role, UserRow
from dyy_desk.db.repos.tables import tickets
from dyy_desk.services.directory import DirectoryService
from dyy_desk.services.errors import ServiceError
from dyy_desk.services.qa_service import QAService
from dyy_desk.services.qa_store import history_t, plans_t, reviews_t, samples_t, scorecards_t

WEEK_DAY = date(2026, 11, 19)  # ISO week 2026-W47: the demo has ~20 closed tickets in it


@pytest.fixture
def qa(demo_workspace: Any) -> QAService:
    return QAService(
        engine=demo_workspace.engine, clock=demo_workspace.clock, origin=demo_workspace.machine_id
    )


@pytest.fixture
def sup(qa: QAService) -> UserRow:
    return qa.user_by_name(name="赵敏")


@pytest.fixture
def sup2(demo_workspace: Any) -> UserRow:
    directory = DirectoryService(
        engine=demo_workspace.engine, clock=demo_workspace.clock, origin=demo_workspace.machine_id
    )
    return directory.create_user(name="孙主管", role=Role.SUPERVISOR)[0]


def _count(qa: QAService, table: Any) -> int:
    with qa._engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _weekly_plan(qa: QAService, sup: UserRow, **kw: Any) -> str:
    args: dict[str, Any] = {"name": "每周抽检", "period": SamplingPeriod.WEEK, "count": 2}
    args.update(kw)
    return qa.create_plan(actor_id=sup.id, **args)[0].plan.id


def _sampled_review(qa: QAService, sup: UserRow) -> tuple[str, str]:
    """(review id, agent id) of a submitted review with one deduction."""
    plan_id = _weekly_plan(qa, sup)
    sample, _ = qa.draw(actor_id=sup.id, plan_id=plan_id, day=WEEK_DAY, seed=7)
    item = qa.sample_items(actor_id=sup.id, sample_id=sample.id)[0]
    row, _ = qa.start_review(actor_id=sup.id, ticket_id=item.ticket_id)
    marks = [Deduction("wording", 4, "用语生硬")]
    row, _ = qa.submit(actor_id=sup.id, review_id=row.review.id, deductions=marks)
    return row.review.id, item.agent_id


def test_draw_is_stored_and_redraw_reproduces_it(qa: QAService, sup: UserRow) -> None:
    plan_id = _weekly_plan(qa, sup, count=None, percent=Decimal("30"), minimum=2)
    sample, changes = qa.draw(actor_id=sup.id, plan_id=plan_id, day=WEEK_DAY, seed=42)
    assert changes.qa and sample.picked >= 2 and sample.window_label == "2026-W47"
    again = qa.redraw(sample_id=sample.id)
    assert again.identical and again.stored == again.redrawn and len(again.stored) == sample.picked
    # same seed over the same candidates in another workspace state gives the same picks: seeded
    items = {i.ticket_id for i in qa.sample_items(actor_id=sup.id, sample_id=sample.id)}
    assert items == set(again.stored)


def test_tampered_sample_is_not_reproduced(qa: QAService, sup: UserRow) -> None:
    sample, _ = qa.draw(actor_id=sup.id, plan_id=_weekly_plan(qa, sup), day=WEEK_DAY, seed=1)
    with qa._engine.begin() as conn:
        stored = json.loads(conn.execute(select(samples_t.c.candidates)).scalar_one())
        picked = set(json.loads(conn.execute(select(samples_t.c.picks)).scalar_one())[0][:1])
        kept = [c for c in stored if c["ticket_id"] not in picked]  # drop a picked candidate
        conn.execute(update(samples_t).values(candidates=json.dumps(kept)))
    result = qa.redraw(sample_id=sample.id)
    assert not result.identical and "无法重现" in result.message


def test_flagged_tickets_are_always_picked(qa: QAService, sup: UserRow, demo_workspace: Any) -> None:
    with demo_workspace.engine.begin() as conn:
        rows = conn.execute(
            text(
                "SELECT id, closed_at FROM ticket WHERE status='closed' AND closed_at >= '2026-11-15 16:00'"
                " AND closed_at < '2026-11-22 16:00'"
                " AND category NOT IN ('quality_complaint', 'negative_review')"
                " ORDER BY id LIMIT 2"
            )
        ).all()
        escalated, late = rows[0].id, rows[1].id
        conn.execute(update(tickets).where(tickets.c.id == escalated).values(platform_intervention=True))
        closed = conn.execute(select(tickets.c.closed_at).where(tickets.c.id == late)).scalar_one()
        conn.execute(
            update(tickets)
            .where(tickets.c.id == late)
            .values(due_at=closed - timedelta(hours=1), resolved_at=None)
        )
    plan_id = _weekly_plan(qa, sup, count=1)
    sample, _ = qa.draw(actor_id=sup.id, plan_id=plan_id, day=WEEK_DAY, seed=3)
    reasons = {i.ticket_id: i.reasons for i in qa.sample_items(actor_id=sup.id, sample_id=sample.id)}
    assert PickReason.ESCALATED in reasons[escalated]
    assert PickReason.MISSED_DEADLINE in reasons[late]
    complaints = [r for r in reasons.values() if PickReason.COMPLAINT in r]
    assert complaints, "the demo week has quality complaints / negative reviews; they must all be picked"


def test_a_ticket_is_never_sampled_twice(qa: QAService, sup: UserRow) -> None:
    plan_id = _weekly_plan(qa, sup, count=3)
    seen: set[str] = set()
    for seed in range(20):
        try:
            sample, _ = qa.draw(actor_id=sup.id, plan_id=plan_id, day=WEEK_DAY, seed=seed)
        except ServiceError as exc:
            assert "都已抽检过" in str(exc)
            break
        picked = {i.ticket_id for i in qa.sample_items(actor_id=sup.id, sample_id=sample.id)}
        assert not picked & seen
        seen |= picked
    else:
        pytest.fail("the week's candidates should run out")
    samples_before = _count(qa, samples_t)
    with pytest.raises(ServiceError, match="未保存"):
        qa.draw(actor_id=sup.id, plan_id=plan_id, day=WEEK_DAY, seed=99)
    assert _count(qa, samples_t) == samples_before


def test_agents_cannot_plan_draw_or_score(qa: QAService, sup: UserRow) -> None:
    agent = qa.user_by_name(name="李娜")
    with pytest.raises(PermissionError, match="客服「李娜」无权创建抽检计划"):
        _weekly_plan(qa, agent)
    plan_id = _weekly_plan(qa, sup)
    with pytest.raises(PermissionError, match="无权执行抽检"):
        qa.draw(actor_id=agent.id, plan_id=plan_id, day=WEEK_DAY)
    with pytest.raises(PermissionError):
        qa.sample_items(actor_id=agent.id)
    assert _count(qa, samples_t) == 0


def test_agent_sees_only_own_submitted_results(qa: QAService, sup: UserRow) -> None:
    review_id, agent_id = _sampled_review(qa, sup)
    items = qa.sample_items(actor_id=sup.id)
    other = next(i for i in items if i.review is None)
    qa.start_review(actor_id=sup.id, ticket_id=other.ticket_id)  # a draft: never shown to the agent
    owner = qa.actor(user_id=agent_id)
    mine = qa.results(actor_id=owner.id)
    assert [r.review.id for r in mine] == [review_id]
    someone_else = next(u for u in ("李娜", "王强", "陈晓雨") if qa.user_by_name(name=u).id != agent_id)
    stranger = qa.user_by_name(name=someone_else)
    assert all(r.review.agent_id == stranger.id for r in qa.results(actor_id=stranger.id))
    with pytest.raises(PermissionError):
        qa.review(actor_id=stranger.id, review_id=review_id)
    assert qa.report(actor_id=stranger.id).report.reviews == len(qa.results(actor_id=stranger.id))


def test_appeal_then_re_review_by_another_supervisor_locks(
    qa: QAService, sup: UserRow, sup2: UserRow
) -> None:
    review_id, agent_id = _sampled_review(qa, sup)
    with pytest.raises(ReviewError, match="申诉必须填写理由"):
        qa.appeal(actor_id=agent_id, review_id=review_id, reason="  ")
    row, _ = qa.appeal(actor_id=agent_id, review_id=review_id, reason="买家先出言不逊", contested=["wording"])
    assert row.review.state is ReviewState.APPEALED
    with pytest.raises(ReviewError, match="只能申诉一次"):
        qa.appeal(actor_id=agent_id, review_id=review_id, reason="再申诉")
    assert [r.review.id for r in qa.pending_appeals(actor_id=sup2.id)] == [review_id]
    with pytest.raises(PermissionError, match="另一位主管"):
        qa.re_review(actor_id=sup.id, review_id=review_id, decision=AppealDecision.REJECT, comment="维持")
    row, _ = qa.re_review(
        actor_id=sup2.id,
        review_id=review_id,
        decision=AppealDecision.PARTIAL,
        comment="扣分过重",
        deductions=[Deduction("wording", 2, "语气稍硬")],
    )
    assert row.review.state is ReviewState.FINAL and row.review.score == 98
    with pytest.raises(ReviewLockedError):
        qa.save_draft(actor_id=sup.id, review_id=review_id, deductions=[])
    with qa._engine.connect() as conn:
        actions = conn.execute(
            select(history_t.c.action, history_t.c.old_score, history_t.c.new_score)
            .where(history_t.c.review_id == review_id)
            .order_by(history_t.c.seq)
        ).all()
    assert [a.action for a in actions] == ["create", "edit", "submit", "appeal", "re_review"]
    assert (actions[-1].old_score, actions[-1].new_score) == (96, 98)


def test_fatal_hit_zeroes_score_and_bad_marks_write_nothing(qa: QAService, sup: UserRow) -> None:
    plan_id = _weekly_plan(qa, sup)
    sample, _ = qa.draw(actor_id=sup.id, plan_id=plan_id, day=WEEK_DAY, seed=5)
    item = qa.sample_items(actor_id=sup.id, sample_id=sample.id)[0]
    row, _ = qa.start_review(actor_id=sup.id, ticket_id=item.ticket_id)
    history_before = _count(qa, history_t)
    with pytest.raises(ScoringError, match="超过该项上限"):
        qa.save_draft(actor_id=sup.id, review_id=row.review.id, deductions=[Deduction("wording", 7, "x")])
    assert _count(qa, history_t) == history_before
    row, _ = qa.save_draft(
        actor_id=sup.id,
        review_id=row.review.id,
        deductions=[Deduction("empathy", 2, "未致歉")],
        fatal_hits=[FatalHit("false_promise", "承诺全额赔偿")],
    )
    assert row.review.score == 0 and not row.review.passed
    assert row.review.scorecard_id == "default" and row.review.scorecard_version == 1


def test_calibration_spread_and_never_counts(qa: QAService, sup: UserRow, sup2: UserRow) -> None:
    review_id, _agent = _sampled_review(qa, sup)
    before = qa.report(actor_id=sup.id).report
    ticket_id = qa.sample_items(actor_id=sup.id)[-1].ticket_id
    session, _ = qa.open_calibration(actor_id=sup.id, ticket_id=ticket_id, reviewer_ids=[sup.id, sup2.id])
    for who, points in ((sup, 2), (sup2, 6)):
        row, _ = qa.start_calibration_review(actor_id=who.id, session_id=session.session.id)
        qa.submit(
            actor_id=who.id, review_id=row.review.id, deductions=[Deduction("closure", points, "未闭环")]
        )
    [calibration] = qa.calibrations(actor_id=sup.id)
    assert calibration.submitted == 2 and calibration.result is not None
    assert calibration.result.total.min == 94 and calibration.result.total.max == 98
    after = qa.report(actor_id=sup.id).report
    assert after.reviews == before.reviews == 1
    assert after.calibration_excluded == 2 and after.average == before.average
    assert review_id in {r.review.id for r in qa.results(actor_id=sup.id)}


def test_exports_are_readable(qa: QAService, sup: UserRow, tmp_path: Path) -> None:
    _sampled_review(qa, sup)
    out = tmp_path / "out"
    out.mkdir()
    xlsx = qa.export_report(actor_id=sup.id, path=out / "质检.xlsx")
    book = load_workbook(xlsx)
    summary = list(book["汇总"].iter_rows(values_only=True))
    assert summary[1][:3] == ("维度", "名称", "质检数")
    assert summary[2][:4] == ("整体", "全部", 1, 96)
    assert {"客服周趋势", "扣分项"} <= set(book.sheetnames)
    assert book["扣分项"]["A2"].value == "用语不规范"
    path = qa.export_report(actor_id=sup.id, path=out / "质检.csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0][0] == "维度" and rows[1][:4] == ["整体", "全部", "1", "96.0"]
    assert rows[1][4:6] == ["100.0%", "0.0%"]
    with pytest.raises(ServiceError, match="不支持的导出格式"):
        qa.export_report(actor_id=sup.id, path=out / "质检.pdf")
    assert sorted(p.name for p in out.iterdir()) == ["质检.csv", "质检.xlsx"]


BAD_POINTS = """
id = "team"
version = 1
name = "团队评分表"
[[categories]]
id = "a"
name = "甲"
points = 60
[[categories.items]]
id = "a1"
name = "甲一"
points = 50
[[categories]]
id = "b"
name = "乙"
points = 30
[[fatal]]
id = "f"
name = "致命"
points = 10
"""


def test_bad_scorecard_is_refused_with_every_problem(qa: QAService, sup: UserRow) -> None:
    before = _count(qa, scorecards_t)
    with pytest.raises(ServiceError) as caught:
        qa.install_scorecard(actor_id=sup.id, text=BAD_POINTS, source="team.toml")
    message = str(caught.value)
    assert "team.toml 第 8 行" in message and "应等于类别分值 60" in message
    assert "空类别" in message and "不能填写 points" in message and "应等于满分 100" in message
    assert _count(qa, scorecards_t) == before


def test_new_scorecard_version_leaves_old_reviews_alone(qa: QAService, sup: UserRow) -> None:
    from dyy_desk.infra.paths import read_resource_text

    review_id, _ = _sampled_review(qa, sup)
    default = read_resource_text("scorecards", "default.toml")
    with pytest.raises(ServiceError, match="version 加 1"):
        qa.install_scorecard(
            actor_id=sup.id, text=default.replace("pass_mark = 85", "pass_mark = 90"), source="d"
        )
    card, _ = qa.install_scorecard(
        actor_id=sup.id, text=default.replace("version = 1", "version = 2"), source="default-v2.toml"
    )
    assert qa.active_scorecard().version == card.version == 2
    assert qa.review(actor_id=sup.id, review_id=review_id).review.scorecard_version == 1


def test_bad_plans_write_nothing(qa: QAService, sup: UserRow) -> None:
    with pytest.raises(PlanError, match="抽检数量为 0"):
        _weekly_plan(qa, sup, count=0)
    with pytest.raises(PlanError, match="二选一"):
        _weekly_plan(qa, sup, count=None)
    with pytest.raises(PlanError, match="必须填写名称"):
        _weekly_plan(qa, sup, name="  ")
    assert _count(qa, plans_t) == 0
    plan_id = _weekly_plan(qa, sup)
    with pytest.raises(ServiceError, match="已有名为"):
        _weekly_plan(qa, sup)
    with pytest.raises(ServiceError, match="没有符合条件的已关闭工单"):
        qa.draw(actor_id=sup.id, plan_id=plan_id, day=date(2025, 1, 1))
    assert _count(qa, samples_t) == 0 and _count(qa, reviews_t) == 0


def test_unsampled_ticket_cannot_be_reviewed(qa: QAService, sup: UserRow, demo_workspace: Any) -> None:
    with demo_workspace.engine.connect() as conn:
        ticket_id = conn.execute(select(tickets.c.id).limit(1)).scalar_one()
    with pytest.raises(ServiceError, match="请先执行抽检"):
        qa.start_review(actor_id=sup.id, ticket_id=ticket_id)
    assert replace(sup, name="x").id == sup.id  # rows are frozen DTOs, never ORM objects

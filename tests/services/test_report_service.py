"""The work report through the service: periods in local days, figures per agent and client, what an
agent may see, QA averages, and the XLSX/CSV files."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from dyy_desk.core.clock import FakeClock
from dyy_desk.core.escalation_model import EscalationLevel
from dyy_desk.core.qa_sampling import SamplingPeriod
from dyy_desk.core.qa_scoring import Deduction
from dyy_desk.core.report_metrics import PeriodKind, WorkReport, percentile, report_period
from dyy_desk.core.sop_checklist import DeadlineSource
from dyy_desk.core.ticket_input import NewTicket
from dyy_desk.core.types import Platform, Role, TicketCategory, TicketStatus, UserRow
from dyy_desk.services.errors import NotFound, ServiceError
from dyy_desk.services.qa_service import QAService
from dyy_desk.services.report_export import write_work_report
from dyy_desk.services.report_service import ReportService

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = datetime(2027, 1, 11, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai, weeks after the demo's activity


def _service(ws: Any, clock: FakeClock) -> ReportService:
    return ReportService(engine=ws.engine, clock=clock, zone=SHANGHAI)


def _people(ws: Any) -> tuple[UserRow, UserRow, UserRow]:
    users = ws.directory.users()
    agents = [u for u in users if u.role is Role.AGENT]
    return agents[0], agents[1], next(u for u in users if u.role is Role.SUPERVISOR)


def _new(ws: Any, platform: Platform, category: TicketCategory, agent: UserRow, **kw: Any) -> str:
    shop = next(s for s in ws.directory.shops() if s.platform is platform)
    row, _ = ws.tickets.create(
        ticket=NewTicket(
            client_id=shop.client_id,
            shop_id=shop.id,
            category=category,
            subject="报表测试",
            customer_nick="买家乙",
            assignee_id=agent.id,
            **kw,
        ),
        actor_id=agent.id,
    )
    return str(row.id)


def _line(report: WorkReport, user: UserRow) -> Any:
    return next(a for a in report.agents if a.agent_id == user.id)


def test_periods_are_whole_local_days() -> None:
    now = datetime(2026, 11, 23, 17, 30, tzinfo=UTC)  # already 24 Nov 01:30 in Shanghai
    today = report_period(PeriodKind.TODAY, now=now, zone=SHANGHAI)
    assert (today.first_day, today.start, today.end) == (
        date(2026, 11, 24),
        datetime(2026, 11, 23, 16, 0, tzinfo=UTC),
        datetime(2026, 11, 24, 16, 0, tzinfo=UTC),
    )
    week = report_period(PeriodKind.LAST_7_DAYS, now=now, zone=SHANGHAI)
    assert week.first_day == date(2026, 11, 18) and week.label == "2026-11-18 至 2026-11-24"
    custom = report_period(
        PeriodKind.CUSTOM, now=now, zone=SHANGHAI, first_day=date(2026, 11, 1), last_day=date(2026, 11, 30)
    )
    assert custom.end - custom.start == timedelta(days=30)
    with pytest.raises(ValueError, match="结束日期不能早于开始日期"):
        report_period(
            PeriodKind.CUSTOM, now=now, zone=SHANGHAI, first_day=date(2026, 11, 2), last_day=date(2026, 11, 1)
        )
    assert percentile([5, 1, 4, 2, 3, 6, 7, 8, 9, 10], 90) == 9 and percentile([], 90) is None


def test_figures_per_agent_and_client(tickets_only_workspace: Any, clock: FakeClock) -> None:
    ws = tickets_only_workspace
    a, b, sup = _people(ws)
    clock.set(DAY - timedelta(days=1))
    yesterday = _new(ws, Platform.JD, TicketCategory.LOGISTICS, b)  # created before, resolved in the period
    clock.set(DAY)
    service = _service(ws, clock)
    before = service.report(actor_id=sup.id, period=service.period(PeriodKind.TODAY))

    refund = _new(ws, Platform.JD, TicketCategory.RETURN_REFUND, a)
    review = _new(ws, Platform.JD, TicketCategory.NEGATIVE_REVIEW, a, platform_intervention=True)
    late = _new(ws, Platform.JD, TicketCategory.EXCHANGE, a)
    ws.sop.start(ticket_id=late, actor_id=a.id)
    ws.sop.set_deadline(
        ticket_id=late, step_id="check_stock", source=DeadlineSource.PLATFORM, text="剩余1小时", actor_id=a.id
    )
    on_time = _new(ws, Platform.DOUYIN, TicketCategory.EXCHANGE, b)
    ws.sop.start(ticket_id=on_time, actor_id=b.id)
    ws.sop.set_deadline(
        ticket_id=on_time,
        step_id="check_stock",
        source=DeadlineSource.PLATFORM,
        text="剩余1小时",
        actor_id=b.id,
    )
    clock.advance(minutes=10)
    ws.tickets.change_status(ticket_id=refund, status=TicketStatus.IN_PROGRESS, actor_id=a.id)
    ws.sop.tick(ticket_id=on_time, step_id="check_stock", actor_id=b.id)
    clock.advance(minutes=20)
    ws.tickets.change_status(ticket_id=review, status=TicketStatus.IN_PROGRESS, actor_id=a.id)
    ws.escalations.escalate_ticket(ticket_id=review, level=EscalationLevel.L2, reason="差评", actor_id=a.id)
    clock.advance(minutes=90)  # 02:00 after the start: refund resolved, the 1-hour step is overdue
    ws.tickets.change_status(ticket_id=refund, status=TicketStatus.RESOLVED, actor_id=a.id)
    ws.tickets.change_status(ticket_id=yesterday, status=TicketStatus.RESOLVED, actor_id=b.id)

    report = service.report(actor_id=sup.id, period=service.period(PeriodKind.TODAY))
    mine, was = _line(report, a), _line(before, a)
    assert mine.handled == 1 and mine.open_now == was.open_now + 2
    assert (mine.first_response.count, mine.first_response.median, mine.first_response.p90) == (2, 1200, 1800)
    assert mine.resolution.median == 2 * 3600 and mine.overdue_steps == 1 and mine.escalations == 1
    theirs = _line(report, b)
    assert theirs.handled == 1 and theirs.resolution.median == 26 * 3600 and theirs.overdue_steps == 0
    assert theirs.first_response.count == 0  # the new ticket is still waiting for a reply
    assert report.total is not None and report.total.handled == 2 and report.total.escalations == 1

    jd = next(s for s in ws.directory.shops() if s.platform is Platform.JD).client_id
    client = next(c for c in report.clients if c.client_id == jd)
    assert (client.new_tickets, client.resolved) == (3, 2)
    assert (client.negative_reviews, client.quality_complaints, client.platform_interventions) == (1, 0, 1)
    assert set(client.by_category) == {
        (TicketCategory.RETURN_REFUND, 1),
        (TicketCategory.NEGATIVE_REVIEW, 1),
        (TicketCategory.EXCHANGE, 1),
    }

    only_jd = service.report(actor_id=sup.id, period=service.period(PeriodKind.TODAY), client_id=jd)
    assert [c.client_id for c in only_jd.clients] == [jd]
    assert (
        _line(only_jd, b).overdue_steps == 0 and _line(only_jd, b).handled == 1
    )  # the douyin ticket is gone


def test_an_agent_sees_only_their_own_line(tickets_only_workspace: Any, clock: FakeClock) -> None:
    ws = tickets_only_workspace
    a, _b, _sup = _people(ws)
    service = _service(ws, clock)
    period = service.period(PeriodKind.LAST_30_DAYS)
    report = service.report(actor_id=a.id, period=period)
    assert [line.agent_id for line in report.agents] == [a.id]
    assert report.total is None and report.clients == ()
    assert report.agents[0].open_now > 0  # the demo gives every agent open tickets
    with pytest.raises(NotFound):
        service.report(actor_id="nobody", period=period)


def test_qa_average_counts_submitted_reviews_only(demo_workspace: Any, clock: FakeClock) -> None:
    ws = demo_workspace
    qa = QAService(engine=ws.engine, clock=clock, origin=ws.machine_id)
    sup = qa.user_by_name(name="赵敏")
    plan = qa.create_plan(actor_id=sup.id, name="每周抽检", period=SamplingPeriod.WEEK, count=2)[0].plan.id
    sample, _ = qa.draw(actor_id=sup.id, plan_id=plan, day=date(2026, 11, 19), seed=7)
    first, second = qa.sample_items(actor_id=sup.id, sample_id=sample.id)[:2]
    row, _ = qa.start_review(actor_id=sup.id, ticket_id=first.ticket_id)
    submitted, _ = qa.submit(
        actor_id=sup.id, review_id=row.review.id, deductions=[Deduction("wording", 4, "用语生硬")]
    )
    qa.start_review(actor_id=sup.id, ticket_id=second.ticket_id)  # a draft: does not count
    service = _service(ws, clock)
    report = service.report(actor_id=sup.id, period=service.period(PeriodKind.TODAY))
    line = next(a for a in report.agents if a.agent_id == first.agent_id)
    assert line.qa_reviews == 1 and line.qa_average == submitted.review.score < 100
    assert report.total is not None and report.total.qa_reviews == 1


def test_export_xlsx_and_csv(tickets_only_workspace: Any, clock: FakeClock, tmp_path: Path) -> None:
    ws = tickets_only_workspace
    _a, _b, sup = _people(ws)
    service = _service(ws, clock)
    report = service.report(actor_id=sup.id, period=service.period(PeriodKind.LAST_7_DAYS))
    out = tmp_path / "out"
    out.mkdir()
    book = load_workbook(write_work_report(report, out / "周报.xlsx"))
    agents = list(book["客服"].iter_rows(min_row=2, values_only=True))
    assert agents[0][:3] == ("客服", "已处理", "当前未结")
    assert agents[-1][0] == "全部" and agents[-1][1] == report.total.handled  # type: ignore[union-attr]
    assert [r[0] for r in book["品牌方"].iter_rows(min_row=3, values_only=True)] == [
        c.client_name for c in report.clients
    ]
    path = write_work_report(report, out / "周报.csv", client_name="全部")
    with path.open(encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][0].startswith("工作报表") and rows[1][0] == "客服"
    first = report.agents[0]
    median = first.first_response.median
    assert rows[2][:2] == [first.agent_name, str(first.handled)]
    assert rows[2][3] == (str(round(median / 60, 1)) if median is not None else "")
    assert ["品牌方", "新建工单", "已解决", "差评", "质量投诉", "平台介入", "分类构成"] in rows
    with pytest.raises(ServiceError, match="不支持的导出格式"):
        write_work_report(report, out / "周报.pdf")
    assert sorted(p.name for p in out.iterdir()) == ["周报.csv", "周报.xlsx"]  # no temporary file left

"""Every sensitive change lands in the audit log with the change itself: QA scores, escalations, the
library, new users, SOP templates, working hours and clocks. Each area is driven through its service;
a refused or invalid action leaves no entry, the chain verifies, and no buyer's phone or address is
ever copied into an entry."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from dyy_desk.core.clock import FakeClock
from dyy_desk.core.escalation_lifecycle import EscalationTransitionError
from dyy_desk.core.escalation_model import EscalationLevel, PostMortem
from dyy_desk.core.library_rows import LibraryKind
from dyy_desk.core.qa_review import AppealDecision, ReviewError
from dyy_desk.core.qa_sampling import SamplingPeriod
from dyy_desk.core.qa_scoring import Deduction
from dyy_desk.core.sop_checklist import DeadlineSource
from dyy_desk.core.sop_toml import DataFileError
from dyy_desk.core.ticket_input import NewTicket
from dyy_desk.core.types import Platform, Role, TicketCategory
from dyy_desk.db.repos.tables import customers
from dyy_desk.infra.paths import DataPaths, read_resource_text
from dyy_desk.services.audit import AuditEntry, last_entries, verify_audit
from dyy_desk.services.errors import NotFound, ServiceError
from dyy_desk.services.escalation_audit import redact_phones
from dyy_desk.services.library_service import LibraryService
from dyy_desk.services.library_views import FaqDraft, ScriptDraft
from dyy_desk.services.qa_service import QAService
from dyy_desk.services.sop_catalog import DataFileRejected
from dyy_desk.services.sop_service import SopService
from tests.services.test_escalation_service import RULES_FILE, Desk, make_desk

PHONE = "13812345678"  # typed into free text by an agent; the log keeps only 138****5678
WEEK_DAY = date(2026, 11, 19)  # ISO week 2026-W47: the demo has closed tickets in it


def _entries(ws: Any, since: int = 0) -> list[AuditEntry]:
    with ws.engine.connect() as conn:
        return [e for e in last_entries(conn) if e.seq > since]


def _seq(ws: Any) -> int:
    entries = _entries(ws)
    return entries[-1].seq if entries else 0


def _details(entry: AuditEntry) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(entry.details)
    return parsed


def _check_log(ws: Any) -> None:
    """The chain verifies and no entry carries a buyer's phone or address (nor the typed number)."""
    with ws.engine.connect() as conn:
        assert verify_audit(conn).ok
        personal = [
            v for row in conn.execute(select(customers.c.phone, customers.c.address)) for v in row if v
        ]
    for entry in _entries(ws):
        assert PHONE not in entry.details and not any(value in entry.details for value in personal)


# --- QA ----------------------------------------------------------------------------------------------


def test_every_qa_score_change_is_audited(demo_workspace: Any) -> None:
    ws = demo_workspace
    qa = QAService(engine=ws.engine, clock=ws.clock, origin=ws.machine_id)
    sup, agent = qa.user_by_name(name="赵敏"), qa.user_by_name(name="李娜")
    sup2, _ = ws.directory.create_user(name="孙主管", role=Role.SUPERVISOR, actor_id=sup.id)
    start = _seq(ws)

    with pytest.raises(PermissionError):
        qa.create_plan(actor_id=agent.id, name="周抽检", period=SamplingPeriod.WEEK, count=2)
    plan, _ = qa.create_plan(actor_id=sup.id, name="周抽检", period=SamplingPeriod.WEEK, count=2)
    with pytest.raises(ServiceError, match="已有名为"):
        qa.create_plan(actor_id=sup.id, name="周抽检", period=SamplingPeriod.WEEK, count=2)
    with pytest.raises(PermissionError):
        qa.draw(actor_id=agent.id, plan_id=plan.plan.id, day=WEEK_DAY, seed=7)
    sample, _ = qa.draw(actor_id=sup.id, plan_id=plan.plan.id, day=WEEK_DAY, seed=7)
    first, second = qa.sample_items(actor_id=sup.id, sample_id=sample.id)[:2]

    row, _ = qa.start_review(actor_id=sup.id, ticket_id=first.ticket_id)  # a clean draft: no score moved
    rid = row.review.id
    qa.save_draft(actor_id=sup.id, review_id=rid, deductions=[])  # saved, same score: not audited
    with pytest.raises(ValueError):
        qa.save_draft(actor_id=sup.id, review_id=rid, deductions=[Deduction("no_such_item", 4, "")])
    marks = [Deduction("wording", 4, "用语生硬")]
    drafted, _ = qa.save_draft(actor_id=sup.id, review_id=rid, deductions=marks)
    qa.submit(actor_id=sup.id, review_id=rid, deductions=marks)
    with pytest.raises(PermissionError):
        qa.appeal(actor_id=sup.id, review_id=rid, reason="不是本人")
    qa.appeal(actor_id=first.agent_id, review_id=rid, reason=f"买家 {PHONE} 可以作证", contested=["wording"])
    with pytest.raises(PermissionError):
        qa.re_review(actor_id=sup.id, review_id=rid, decision=AppealDecision.ACCEPT, comment="自己复核")
    final, _ = qa.re_review(actor_id=sup2.id, review_id=rid, decision=AppealDecision.ACCEPT, comment="成立")
    with pytest.raises(ReviewError):
        qa.finalize(actor_id=sup.id, review_id=rid)  # already locked

    other, _ = qa.start_review(actor_id=sup.id, ticket_id=second.ticket_id)
    qa.submit(actor_id=sup.id, review_id=other.review.id, deductions=[])
    qa.finalize(actor_id=sup.id, review_id=other.review.id)

    session, _ = qa.open_calibration(
        actor_id=sup.id, ticket_id=first.ticket_id, reviewer_ids=[sup.id, sup2.id]
    )
    calibration, _ = qa.start_calibration_review(actor_id=sup2.id, session_id=session.session.id)
    qa.submit(actor_id=sup2.id, review_id=calibration.review.id, deductions=marks)

    card = read_resource_text("scorecards", "default.toml").replace("version = 1", "version = 2", 1)
    with pytest.raises(PermissionError):
        qa.install_scorecard(actor_id=agent.id, text=card, source="v2.toml")
    with pytest.raises(ServiceError):
        qa.install_scorecard(actor_id=sup.id, text=card.replace("pass_mark", "pass_score"), source="bad.toml")
    qa.install_scorecard(actor_id=sup.id, text=card, source="v2.toml")
    qa.install_scorecard(actor_id=sup.id, text=card, source="v2.toml")  # already there: nothing changed

    got = _entries(ws, start)
    assert [(e.action, e.actor_id) for e in got] == [
        ("qa_plan_created", sup.id),
        ("qa_sample_drawn", sup.id),
        ("qa_draft_saved", sup.id),
        ("qa_review_submitted", sup.id),
        ("qa_appeal_filed", first.agent_id),
        ("qa_re_reviewed", sup2.id),
        ("qa_review_submitted", sup.id),
        ("qa_review_finalized", sup.id),
        ("qa_calibration_opened", sup.id),
        ("qa_draft_saved", sup2.id),
        ("qa_review_submitted", sup2.id),
        ("qa_scorecard_imported", sup.id),
    ]
    by = {e.action: e for e in got}  # the last entry of each kind
    assert got[0].target == f"qa_plan:{plan.plan.id}" and _details(got[0])["count"] == 2
    drawn = _details(got[1])
    assert (
        got[1].target == f"qa_sample:{sample.id}" and drawn["seed"] == 7 and drawn["plan_id"] == plan.plan.id
    )
    assert {first.ticket_id, second.ticket_id} <= set(drawn["picked"]) and len(
        drawn["picked"]
    ) == sample.picked
    saved, submitted, appealed, decided = (_details(e) for e in got[2:6])
    assert all(e.target == f"qa_review:{rid}" for e in got[2:6])
    assert (saved["review_id"], saved["old_score"], saved["new_score"]) == (rid, 100, drafted.review.score)
    assert drafted.review.score < 100 and submitted["new_score"] == drafted.review.score
    assert appealed["contested"] == ["wording"] and "reason" not in appealed
    assert (decided["decision"], decided["old_score"], decided["new_score"]) == (
        "accept",
        drafted.review.score,
        100,
    )
    assert final.review.score == 100 and decided["state"] == "final"
    assert by["qa_review_finalized"].target == f"qa_review:{other.review.id}"
    calibrated = _details(got[10])
    assert calibrated["kind"] == "calibration" and calibrated["session_id"] == session.session.id
    assert by["qa_scorecard_imported"].target == "qa_scorecard:default:v2"
    _check_log(ws)


# --- escalations -------------------------------------------------------------------------------------


@pytest.fixture
def desk(paths: DataPaths, clock: FakeClock) -> Iterator[Desk]:
    yield from make_desk(paths, clock)


def test_escalation_steps_and_rule_imports_are_audited(desk: Desk) -> None:
    esc, L2, L3 = desk.esc, EscalationLevel.L2, EscalationLevel.L3
    tid = desk.ticket("s_home", TicketCategory.EXCHANGE)
    with pytest.raises(EscalationTransitionError):
        esc.escalate_ticket(ticket_id=tid, level=L2, reason=" ", actor_id="u_agent")
    row, _ = esc.escalate_ticket(ticket_id=tid, level=L2, reason=f"买家 {PHONE} 威胁投诉", actor_id="u_agent")
    eid = row.id
    with pytest.raises(PermissionError):
        esc.change_level(escalation_id=eid, actor_id="u_agent", level=L3, reason="更严重")
    with pytest.raises(EscalationTransitionError):
        esc.change_level(escalation_id=eid, actor_id="u_sup", level=L3, reason="")
    esc.change_level(escalation_id=eid, actor_id="u_sup", level=L3, reason="买家已发微博")
    with pytest.raises(PermissionError):
        esc.acknowledge(escalation_id=eid, actor_id="u_agent", owner_id="u_agent2")
    esc.acknowledge(escalation_id=eid, actor_id="u_sup", owner_id="u_agent")
    esc.start(escalation_id=eid, actor_id="u_agent")
    esc.resolve(escalation_id=eid, actor_id="u_agent")
    with pytest.raises(EscalationTransitionError):
        esc.reopen(escalation_id=eid, actor_id="u_agent", reason="")
    esc.reopen(escalation_id=eid, actor_id="u_agent", reason="买家再次投诉")
    esc.resolve(escalation_id=eid, actor_id="u_agent")
    with pytest.raises(EscalationTransitionError):
        esc.close(escalation_id=eid, actor_id="u_sup")  # an L3 needs 复盘 and 回访 first
    pm = PostMortem("面单外泄", "1 位买家", "已致歉", "面单隐私号")
    esc.record_post_mortem(escalation_id=eid, actor_id="u_agent", post_mortem=pm)
    esc.record_follow_up(escalation_id=eid, actor_id="u_agent", satisfied=True, note="满意")
    with pytest.raises(PermissionError):
        esc.close(escalation_id=eid, actor_id="u_agent")
    esc.close(escalation_id=eid, actor_id="u_sup")

    text = RULES_FILE.read_text(encoding="utf-8").replace("min_count = 6 ", "min_count = 2 ")
    with pytest.raises(PermissionError):
        esc.import_rules(actor_id="u_agent", text=text, source="团队规则.toml")
    with pytest.raises(DataFileError):
        esc.import_rules(
            actor_id="u_sup", text=text.replace("min_count = 2 ", "min_count = 0 "), source="坏.toml"
        )
    esc.import_rules(actor_id="u_sup", text=text, source="团队规则.toml")

    got = _entries(desk.workspace)
    assert [(e.action, e.actor_id) for e in got] == [
        ("escalation_raised", "u_agent"),
        ("escalation_level_changed", "u_sup"),
        ("escalation_acknowledged", "u_sup"),
        ("escalation_reopened", "u_agent"),
        ("escalation_closed", "u_sup"),
        ("escalation_rules_imported", "u_sup"),
    ]
    assert all(e.target == f"escalation:{eid}" for e in got[:5])
    raised, level, ack, reopened, closed, rules = (_details(e) for e in got)
    assert raised == {"ticket_id": tid, "level": "L2", "reason": "买家 138****5678 威胁投诉"}
    assert (level["from"], level["to"], level["reason"]) == ("L2", "L3", "买家已发微博")
    assert ack["owner_id"] == "u_agent" and reopened["reason"] == "买家再次投诉"
    assert closed == {"level": "L3", "status": "closed", "post_mortem": True, "follow_up": True}
    assert rules["source"] == "团队规则.toml" and "negative_review_crisis" in rules["rules"]
    _check_log(desk.workspace)


def test_redact_phones_masks_mobiles_only() -> None:
    assert redact_phones(" 电话 138-1234-5678 或 13912345678，订单 2026112300012345678 ") == (
        "电话 138****5678 或 139****5678，订单 2026112300012345678"
    )


# --- library -----------------------------------------------------------------------------------------


def test_library_edits_imports_and_exports_are_audited(empty_workspace: Any, tmp_path: Path) -> None:
    ws = empty_workspace
    boss, _ = ws.directory.create_user(name="赵敏", role=Role.SUPERVISOR)
    agent, _ = ws.directory.create_user(name="李娜", role=Role.AGENT)
    library = LibraryService(engine=ws.engine, clock=ws.clock, origin=ws.machine_id)
    start = _seq(ws)

    draft = FaqDraft(question="退款多久到账", answer="一般 1-3 个工作日。", external_id="F1")
    with pytest.raises(PermissionError):
        library.create_faq(user_id=agent.id, draft=draft)
    with pytest.raises(ServiceError):
        library.create_faq(user_id=boss.id, draft=FaqDraft(question="", answer="空问题"))
    faq, _ = library.create_faq(user_id=boss.id, draft=draft)
    library.update_faq(
        user_id=boss.id,
        entry_id=faq.id,
        draft=FaqDraft(question="退款几天到", answer="1-3 天", external_id="F1"),
    )
    script, _ = library.create_script(
        user_id=boss.id, draft=ScriptDraft(title="欢迎语", body="亲，在的", shortcut="/hy")
    )
    with pytest.raises(PermissionError):
        library.delete_entry(user_id=agent.id, entry_id=script.id)
    library.delete_entry(user_id=boss.id, entry_id=script.id)
    with pytest.raises(NotFound):
        library.delete_entry(user_id=boss.id, entry_id=script.id)

    source = tmp_path / "faq.csv"
    rows = [
        "id,question,answer,similar_questions,client,tags",
        "F1,退款几天到,1-3 天,,,",
        "F2,开发票,详情页,,暖居家纺,",
    ]
    source.write_text("\n".join(rows) + "\n", encoding="utf-8")
    preview = library.preview_import(user_id=boss.id, path=source)
    with pytest.raises(PermissionError):
        library.apply_import(user_id=agent.id, preview=preview)
    library.apply_import(user_id=boss.id, preview=preview)

    with pytest.raises(ServiceError, match="只能导出为"):
        library.export(path=tmp_path / "out.txt", kind=LibraryKind.FAQ, user_id=agent.id)
    (tmp_path / "taken.csv").mkdir()
    with pytest.raises(OSError):  # the file could not be written: the entry rolls back with it
        library.export(path=tmp_path / "taken.csv", kind=LibraryKind.FAQ, user_id=agent.id)
    with pytest.raises(NotFound):
        library.export(path=tmp_path / "out.csv", kind=LibraryKind.FAQ, user_id="nobody")
    assert library.export(path=tmp_path / "out.csv", kind=LibraryKind.FAQ, user_id=agent.id) == 2

    got = _entries(ws, start)
    assert [(e.action, e.actor_id) for e in got] == [
        ("library_entry_created", boss.id),
        ("library_entry_updated", boss.id),
        ("library_entry_created", boss.id),
        ("library_entry_deleted", boss.id),
        ("library_import_applied", boss.id),
        ("library_exported", agent.id),
    ]
    assert [e.target for e in got[:4]] == [f"library_faq:{faq.id}"] * 2 + [f"library_scripts:{script.id}"] * 2
    assert _details(got[0]) == {"kind": "faq", "external_id": "F1", "client_id": None}
    assert _details(got[3])["kind"] == "scripts"
    imported = _details(got[4])
    assert (imported["new"], imported["updated"], imported["unchanged"], imported["clients_created"]) == (
        1,
        0,
        1,
        1,
    )
    assert imported["source"] == "faq.csv" and got[4].target == "library_faq"
    assert _details(got[5]) == {"kind": "faq", "client_id": None, "count": 2, "file": "out.csv"}
    _check_log(ws)


# --- directory ---------------------------------------------------------------------------------------


def test_new_users_are_audited_with_who_created_them(empty_workspace: Any) -> None:
    directory = empty_workspace.directory
    admin, _ = directory.create_user(name="陈总", role=Role.ADMIN)  # the first user: nobody to name
    sup, _ = directory.create_user(name=" 赵敏 ", role=Role.SUPERVISOR, actor_id=admin.id)
    with pytest.raises(ServiceError, match="已有名为"):
        directory.create_user(name="赵敏", role=Role.ADMIN, actor_id=admin.id)
    with pytest.raises(ServiceError):
        directory.create_user(name="  ", role=Role.AGENT, actor_id=admin.id)
    with pytest.raises(NotFound):
        directory.create_user(name="王强", role=Role.ADMIN, actor_id="nobody")
    got = _entries(empty_workspace)
    assert [(e.action, e.actor_id, e.target) for e in got] == [
        ("user_created", None, f"user:{admin.id}"),
        ("user_created", admin.id, f"user:{sup.id}"),
    ]
    assert _details(got[1]) == {"name": "赵敏", "role": "supervisor"}
    assert [u.name for u in directory.users()] == ["赵敏", "陈总"]
    _check_log(empty_workspace)


# --- SOP ---------------------------------------------------------------------------------------------


def _exchange_ticket(ws: Any, agent: str) -> str:
    shop = next(s for s in ws.directory.shops() if s.platform is Platform.JD)
    row, _ = ws.tickets.create(
        ticket=NewTicket(
            client_id=shop.client_id,
            shop_id=shop.id,
            category=TicketCategory.EXCHANGE,
            subject="换货",
            customer_nick="买家甲",
            assignee_id=agent,
        ),
        actor_id=agent,
    )
    return str(row.id)


def test_sop_templates_hours_clocks_and_required_skips_are_audited(
    tickets_only_workspace: Any, clock: FakeClock
) -> None:
    ws = tickets_only_workspace
    sop = SopService(engine=ws.engine, clock=clock, origin=ws.machine_id, tickets=ws.tickets)
    agent = next(u for u in ws.directory.users() if u.role is Role.AGENT).id
    boss = next(u for u in ws.directory.users() if u.role is Role.SUPERVISOR).id
    start = _seq(ws)

    v2 = read_resource_text("sop", "exchange.toml").replace("version = 1", "version = 2")
    with pytest.raises(DataFileRejected):
        sop.catalog.import_template(
            text=v2.replace("hours = 48", "hours = 4800", 1),
            source="bad.toml",
            actor_id=boss,
            now=clock.now(),
        )
    sop.catalog.import_template(text=v2, source="exchange_v2.toml", actor_id=boss, now=clock.now())
    before = sop.catalog.business_hours_text()
    with pytest.raises(DataFileRejected):
        sop.catalog.save_business_hours(text="[weekly]\nmon = []\n", actor_id=boss, now=clock.now())
    night = '[weekly]\nmon = ["22:00-06:00"]\n'
    sop.catalog.save_business_hours(text=night, actor_id=boss, now=clock.now())

    ticket = _exchange_ticket(ws, agent)
    sop.start(ticket_id=ticket, actor_id=agent)  # not audited: the template's own clocks
    shown = clock.now() + timedelta(hours=30)
    sop.set_deadline(
        ticket_id=ticket, step_id="review", source=DeadlineSource.PLATFORM, actor_id=agent, at=shown
    )
    with pytest.raises(ServiceError):
        sop.set_deadline(
            ticket_id=ticket, step_id="review", source=DeadlineSource.MANUAL, actor_id=agent, text="明天某时"
        )
    sop.set_deadline(
        ticket_id=ticket, step_id="review", source=DeadlineSource.PLATFORM, actor_id=agent
    )  # clear
    sop.set_deadline(
        ticket_id=ticket, step_id="review", source=DeadlineSource.MANUAL, actor_id=agent
    )  # nothing to clear
    with pytest.raises(ServiceError, match="原因"):
        sop.skip(ticket_id=ticket, step_id="check_stock", reason=" ", actor_id=agent)
    sop.skip(
        ticket_id=ticket, step_id="track_return", reason="买家已自行寄回", actor_id=agent
    )  # optional step
    sop.skip(ticket_id=ticket, step_id="check_stock", reason=f"买家 {PHONE} 改为退货", actor_id=agent)

    got = _entries(ws, start)
    assert [(e.action, e.actor_id) for e in got] == [
        ("sop_template_imported", boss),
        ("sop_business_hours_changed", boss),
        ("sop_deadline_set", agent),
        ("sop_deadline_cleared", agent),
        ("sop_required_step_skipped", agent),
    ]
    template, hours, entered, cleared, skipped = (_details(e) for e in got)
    assert got[0].target == "sop_template:exchange.default:v2" and template["source"] == "exchange_v2.toml"
    assert hours == {"old": None, "new": night} and before != night
    assert all(e.target == f"ticket:{ticket}" for e in got[2:])
    assert (entered["step_id"], entered["source"], entered["old"]) == ("review", "platform", None)
    assert entered["new"].startswith(shown.astimezone(clock.now().tzinfo).strftime("%Y-%m-%d %H:%M"))
    assert cleared["old"] == entered["new"] and cleared["new"] is None
    assert skipped == {"step_id": "check_stock", "reason": "买家 138****5678 改为退货"}
    _check_log(ws)

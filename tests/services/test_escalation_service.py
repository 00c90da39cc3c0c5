"""Escalation service on a temporary workspace: each default rule at the right moment, grouping and
de-duplication, SOP steps through a fake provider, the lifecycle with roles, timeline events, rule
imports. Time is a FakeClock; tickets are created through the real TicketService."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from dyy_desk.core.clock import FakeClock
from dyy_desk.core.deadlines import DeadlineState
from dyy_desk.core.escalation_lifecycle import EscalationTransitionError
from dyy_desk.core.escalation_model import EscalationLevel, EscalationStatus, PostMortem, SopStepFact
from dyy_desk.core.sop_toml import DataFileError
from dyy_desk.core.ticket_input import NewTicket
from dyy_desk.core.types import EventKind, Platform, Role, TicketCategory, TicketStatus
from dyy_desk.db.repos.escalation_queries import escalated_ticket_levels, escalations, history
from dyy_desk.db.repos.tables import clients, shops, ticket_events, users
from dyy_desk.infra.paths import DataPaths
from dyy_desk.services.escalation_service import EscalationService
from dyy_desk.services.escalation_views import EscalationOp
from dyy_desk.services.tickets import TicketService
from dyy_desk.services.workspace import Seed, open_workspace

L1, L2, L3 = EscalationLevel.L1, EscalationLevel.L2, EscalationLevel.L3
NEG, QUALITY = TicketCategory.NEGATIVE_REVIEW, TicketCategory.QUALITY_COMPLAINT
RULES_FILE = Path(__file__).resolve().parents[2] / "resources" / "escalation_rules.toml"


@dataclass
class Desk:
    """A workspace with two clients, three shops, two agents and a supervisor; tickets made by hand."""

    workspace: Any
    clock: FakeClock
    tickets: TicketService
    esc: EscalationService
    steps: list[SopStepFact] = field(default_factory=list)
    n: int = 0

    def ticket(self, shop: str, category: TicketCategory, **kw: Any) -> str:
        self.n += 1
        client = {"s_home": "c_home", "s_home2": "c_home", "s_food": "c_food"}[shop]
        row, _ = self.tickets.create(
            ticket=NewTicket(
                client_id=client,
                shop_id=shop,
                category=category,
                subject=f"工单 {self.n}",
                customer_nick=f"买家{self.n}",
                **kw,
            ),
            actor_id="u_agent",
        )
        return row.id

    def add(self, shop: str, category: TicketCategory, **kw: Any) -> tuple[str, list[Any]]:
        """A new ticket, then the incremental run the main window makes after every ticket change."""
        tid = self.ticket(shop, category, **kw)
        applied, _ = self.esc.run_rules(ticket_ids=[tid])
        return tid, applied

    def advance(self, **kw: float) -> None:
        self.clock.advance(timedelta(**kw))

    def board(self) -> list[Any]:
        return self.esc.board()

    def events(self, ticket_id: str) -> list[str]:
        with self.workspace.engine.connect() as conn:
            return list(
                conn.execute(
                    select(ticket_events.c.text)
                    .where(
                        ticket_events.c.ticket_id == ticket_id, ticket_events.c.kind == EventKind.FLAG.value
                    )
                    .order_by(ticket_events.c.at, ticket_events.c.id)
                ).scalars()
            )


def make_desk(paths: DataPaths, clock: FakeClock) -> Iterator[Desk]:
    workspace = open_workspace(paths, clock=clock, seed_if_new=Seed.EMPTY)
    now = clock.now()
    sync = {"origin": "t", "version": "", "deleted": False}
    with workspace.engine.begin() as conn:
        for uid, name, role in (
            ("u_agent", "李娜", Role.AGENT),
            ("u_agent2", "王强", Role.AGENT),
            ("u_sup", "赵敏", Role.SUPERVISOR),
        ):
            conn.execute(insert(users).values(id=uid, name=name, role=role.value, created_at=now, **sync))
        for cid, name in (("c_home", "暖居家纺"), ("c_food", "青禾食品")):
            conn.execute(insert(clients).values(id=cid, name=name, created_at=now, **sync))
        for sid, cid, name, platform in (
            ("s_home", "c_home", "暖居家纺天猫旗舰店", Platform.TMALL),
            ("s_home2", "c_home", "暖居家纺拼多多专卖店", Platform.PDD),
            ("s_food", "c_food", "青禾食品抖音小店", Platform.DOUYIN),
        ):
            conn.execute(
                insert(shops).values(
                    id=sid, client_id=cid, name=name, platform=platform.value, created_at=now, **sync
                )
            )
    tickets = TicketService(engine=workspace.engine, clock=clock, origin="t")
    desk = Desk(workspace, clock, tickets, None)  # type: ignore[arg-type]
    desk.esc = EscalationService(
        engine=workspace.engine,
        clock=clock,
        origin="t",
        tickets=tickets,
        step_facts=lambda now: list(desk.steps),
    )
    yield desk
    workspace.close()


@pytest.fixture
def desk(paths: DataPaths, clock: FakeClock) -> Iterator[Desk]:
    yield from make_desk(paths, clock)


def _count(desk: Desk, table: Any) -> int:
    with desk.workspace.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


# --- rules fire at the right moment ------------------------------------------------------------------


def test_repeated_complaint_groups_three_into_one_l2_and_the_fourth_joins(desk: Desk) -> None:
    a, applied = desk.add("s_food", QUALITY, product="坚果礼盒")
    desk.advance(days=2)
    b, applied = desk.add("s_food", QUALITY, product="坚果礼盒")
    assert applied == [] and desk.board() == []
    desk.advance(days=2)
    other, _ = desk.add("s_food", QUALITY, product="牛肉干")  # another product: its own group
    c, applied = desk.add("s_food", QUALITY, product="坚果礼盒")
    assert [(x.kind, x.rule_id, x.level) for x in applied] == [("create", "repeated_complaint", L2)]
    (row,) = desk.board()
    assert set(row.escalation.ticket_ids) == {a, b, c}
    assert "3 张" in row.escalation.reason and row.rule_name == "同一问题重复投诉"
    assert row.escalation.first_response_due == desk.clock.now() + timedelta(hours=4)
    times = [t.evidence_at for t in row.tickets]
    assert times[0] == desk.clock.now() - timedelta(days=4) and times[-1] == desk.clock.now()

    desk.advance(hours=3)
    d, applied = desk.add("s_food", QUALITY, tags=("坚果礼盒",), product="坚果礼盒")
    assert [(x.kind, x.escalation_id, x.ticket_ids) for x in applied] == [("join", row.id, (d,))]
    (row,) = desk.board()
    assert set(row.escalation.ticket_ids) == {a, b, c, d} and other not in row.escalation.ticket_ids
    assert "合计 4 张" in desk.events(d)[0]


def test_negative_review_crisis_fires_at_the_sixth_within_24h_not_the_fifth(desk: Desk) -> None:
    old, _ = desk.add("s_home", NEG)
    desk.advance(hours=25)  # the first one falls out of the 24 h window
    ids = []
    for _ in range(5):
        tid, applied = desk.add("s_home", NEG)
        ids.append(tid)
        desk.advance(hours=1)
        assert not [a for a in applied if a.rule_id == "negative_review_crisis"]
    sixth, applied = desk.add("s_home", NEG)
    crisis = [a for a in applied if a.rule_id == "negative_review_crisis"]
    assert [(a.kind, a.level) for a in crisis] == [("create", L3)]
    assert set(crisis[0].ticket_ids) == {*ids, sixth} and old not in crisis[0].ticket_ids
    _other_shop, applied = desk.add("s_home2", NEG)  # another shop of the same client: not this crisis
    assert not [a for a in applied if a.rule_id == "negative_review_crisis"]


def test_platform_intervention_and_data_leak_are_l3_at_once(desk: Desk) -> None:
    pi, applied = desk.add("s_home", TicketCategory.RETURN_REFUND, platform_intervention=True)
    assert [(a.rule_id, a.level, a.ticket_ids) for a in applied] == [("platform_intervention", L3, (pi,))]
    leak, applied = desk.add("s_food", TicketCategory.DATA_LEAK)
    assert [(a.rule_id, a.level, a.ticket_ids) for a in applied] == [("data_leak", L3, (leak,))]
    _plain, applied = desk.add("s_food", TicketCategory.RETURN_REFUND)
    assert applied == []
    due = {r.escalation.rule_id: r.escalation.first_response_due for r in desk.board()}
    assert due["data_leak"] == desk.clock.now() + timedelta(hours=2)
    with desk.workspace.engine.connect() as conn:
        assert escalated_ticket_levels(conn) == {pi: 3, leak: 3}
    (event,) = desk.events(pi)
    assert event.startswith("升级 L3：自动升级为 L3 紧急干预：平台介入")


def test_running_twice_and_the_same_evidence_twice_change_nothing(desk: Desk) -> None:
    tid, applied = desk.add("s_home", TicketCategory.RETURN_REFUND, platform_intervention=True)
    assert len(applied) == 1
    before = (_count(desk, escalations), _count(desk, history), _count(desk, ticket_events))
    assert desk.esc.run_rules(ticket_ids=[tid]) == ([], desk.esc.run_rules()[1])
    assert desk.esc.run_rules(ticket_ids=[tid, tid])[0] == []
    # a fresh service (restart): rebuilds its index from the database and still finds nothing to do
    fresh = EscalationService(engine=desk.workspace.engine, clock=desk.clock, origin="t")
    assert fresh.run_rules()[0] == []
    assert fresh.run_rules(ticket_ids=[tid])[0] == []
    assert (_count(desk, escalations), _count(desk, history), _count(desk, ticket_events)) == before


def test_sop_step_due_soon_is_l1_then_raised_to_l2_when_overdue(desk: Desk) -> None:
    tid = desk.ticket("s_food", TicketCategory.REFUND_ONLY)
    deadline = desk.clock.now() + timedelta(hours=1)
    step = SopStepFact(tid, "review", DeadlineState.DUE_SOON, deadline, "审核退款")
    assert desk.esc.run_rules()[0] == []
    desk.steps.append(step)
    applied, changes = desk.esc.run_rules()  # the 60 s timer
    assert [(a.kind, a.rule_id, a.level) for a in applied] == [("create", "sop_deadline", L1)]
    assert changes.escalations and changes.ticket_ids == (tid,)
    assert desk.esc.run_rules()[0] == []
    desk.advance(hours=2)
    desk.steps[0] = SopStepFact(tid, "review", DeadlineState.OVERDUE, deadline, "审核退款")
    applied, _ = desk.esc.run_rules(ticket_ids=[tid])  # the changed step is picked up by either run
    assert [(a.kind, a.level) for a in applied] == [("raise", L2)]
    (row,) = desk.board()
    assert row.level is L2 and row.tickets[0].step_id == "review" and row.tickets[0].evidence_at == deadline
    assert desk.esc.run_rules()[0] == []
    assert any("升至 L2" in text for text in desk.events(tid))


# --- lifecycle, roles, timeline --------------------------------------------------------------------


def test_l3_lifecycle_with_roles_post_mortem_and_follow_up(desk: Desk) -> None:
    tid, _ = desk.add("s_food", TicketCategory.DATA_LEAK)
    (row,) = desk.board()
    eid = row.id
    with pytest.raises(PermissionError, match="指派给他人"):
        desk.esc.acknowledge(escalation_id=eid, actor_id="u_agent", owner_id="u_agent2")
    detail = desk.esc.detail(escalation_id=eid, actor_id="u_agent")
    assert detail.allowed(EscalationOp.ACKNOWLEDGE) and not detail.allowed(EscalationOp.CLOSE)
    assert "仅主管或管理员" in (detail.refusals[EscalationOp.CLOSE] or "")
    desk.advance(minutes=20)
    row, changes = desk.esc.acknowledge(escalation_id=eid, actor_id="u_sup", owner_id="u_agent")
    assert row.owner_name == "李娜" and row.escalation.acknowledged_at == desk.clock.now()
    assert changes.escalations and changes.ticket_ids == (tid,)
    with pytest.raises(PermissionError):
        desk.esc.start(escalation_id=eid, actor_id="u_agent2")  # not the owner
    desk.esc.start(escalation_id=eid, actor_id="u_agent")
    desk.esc.resolve(escalation_id=eid, actor_id="u_agent", note="已更换快递面单系统")
    with pytest.raises(PermissionError):
        desk.esc.close(escalation_id=eid, actor_id="u_agent")
    with pytest.raises(EscalationTransitionError, match=r"复盘.*回访"):
        desk.esc.close(escalation_id=eid, actor_id="u_sup")
    detail = desk.esc.detail(escalation_id=eid, actor_id="u_sup")
    assert "复盘" in (detail.refusals[EscalationOp.CLOSE] or "")
    with pytest.raises(EscalationTransitionError, match="预防措施"):
        desk.esc.record_post_mortem(
            escalation_id=eid,
            actor_id="u_agent",
            post_mortem=PostMortem("面单外泄", "1 位买家", "已致歉", " "),
        )
    desk.esc.record_post_mortem(
        escalation_id=eid,
        actor_id="u_agent",
        post_mortem=PostMortem("面单外泄", "1 位买家", "已致歉并补偿", "面单隐私号"),
    )
    with pytest.raises(EscalationTransitionError, match="回访"):
        desk.esc.close(escalation_id=eid, actor_id="u_sup")
    desk.esc.record_follow_up(escalation_id=eid, actor_id="u_agent", satisfied=True, note="买家表示满意")
    assert desk.esc.detail(escalation_id=eid, actor_id="u_sup").allowed(EscalationOp.CLOSE)
    row, _ = desk.esc.close(escalation_id=eid, actor_id="u_sup")
    assert row.escalation.status is EscalationStatus.CLOSED and desk.board() == []
    assert desk.esc.run_rules(ticket_ids=[tid])[0] == []  # closed evidence does not fire again
    with desk.workspace.engine.connect() as conn:
        assert escalated_ticket_levels(conn) == {}
    kinds = [h.kind.value for h in desk.esc.detail(escalation_id=eid, actor_id="u_sup").history]
    assert kinds == ["created", "status", "status", "status", "post_mortem", "follow_up", "status"]
    events = desk.events(tid)
    assert len(events) == 7 and "已关闭" in events[-1]
    with desk.workspace.engine.connect() as conn:
        actors = list(
            conn.execute(
                select(ticket_events.c.actor_id)
                .where(ticket_events.c.ticket_id == tid, ticket_events.c.kind == "flag")
                .order_by(ticket_events.c.at, ticket_events.c.id)
            ).scalars()
        )
    assert actors == [None, "u_sup", "u_agent", "u_agent", "u_agent", "u_agent", "u_sup"]


def test_manual_escalation_needs_a_reason_and_the_agent_sees_what_happened(desk: Desk) -> None:
    tid = desk.ticket("s_home", TicketCategory.EXCHANGE)
    with pytest.raises(EscalationTransitionError, match="原因"):
        desk.esc.escalate_ticket(ticket_id=tid, level=L2, reason="  ", actor_id="u_agent")
    row, changes = desk.esc.escalate_ticket(
        ticket_id=tid, level=L2, reason="买家威胁投诉到消协", actor_id="u_agent"
    )
    assert row.rule_name == "手动升级" and row.raised_by_name == "李娜" and changes.ticket_ids == (tid,)
    with pytest.raises(Exception, match="已有未关闭的手动升级"):
        desk.esc.escalate_ticket(ticket_id=tid, level=L3, reason="再次", actor_id="u_agent2")
    with pytest.raises(PermissionError):
        desk.esc.change_level(escalation_id=row.id, actor_id="u_agent", level=L3, reason="更严重")
    with pytest.raises(EscalationTransitionError, match="原因"):
        desk.esc.change_level(escalation_id=row.id, actor_id="u_sup", level=L1, reason="")
    desk.esc.change_level(escalation_id=row.id, actor_id="u_sup", level=L1, reason="买家已冷静")
    desk.esc.acknowledge(escalation_id=row.id, actor_id="u_sup")
    (mine,) = desk.esc.raised_by_me(actor_id="u_agent")
    assert (
        mine.level is L1
        and mine.escalation.status is EscalationStatus.ACKNOWLEDGED
        and mine.owner_name == "赵敏"
    )
    assert desk.esc.raised_by_me(actor_id="u_agent2") == []
    assert desk.esc.pending_count() == 0
    assert [e.split("：")[0] for e in desk.events(tid)] == ["升级 L2", "升级 L1", "升级 L1"]


def test_resolved_can_be_reopened_with_a_reason(desk: Desk) -> None:
    _tid, _ = desk.add("s_home", TicketCategory.OTHER, platform_intervention=True)
    eid = desk.board()[0].id
    desk.esc.acknowledge(escalation_id=eid, actor_id="u_agent")
    desk.esc.start(escalation_id=eid, actor_id="u_agent")
    desk.esc.resolve(escalation_id=eid, actor_id="u_agent")
    with pytest.raises(EscalationTransitionError):
        desk.esc.reopen(escalation_id=eid, actor_id="u_agent", reason="")
    row, _ = desk.esc.reopen(escalation_id=eid, actor_id="u_agent", reason="买家再次投诉")
    assert row.escalation.status is EscalationStatus.IN_PROGRESS and row.escalation.resolved_at is None


# --- the rules file ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("min_count = 3 ", "min_count = 3\ncolour = 1 "), '未知字段 "colour"'),
        (("min_count = 6 ", "min_count = 0 "), "min_count"),
        (('categories = ["negative_review"]', 'categories = ["bad_review"]'), '未知取值 "bad_review"'),
        (("window_hours = 168", "window_hours = 99999"), "时间窗不能超过"),
        (("[levels.L3]\nfirst_response_hours = 2", "[levels.L3]\nfirst_response_hours = 48"), "L3 更紧急"),
    ],
)
def test_a_bad_rules_file_is_refused_and_the_previous_rules_stay(
    desk: Desk, edit: tuple[str, str], message: str
) -> None:
    text = RULES_FILE.read_text(encoding="utf-8")
    assert edit[0] in text
    with pytest.raises(DataFileError, match=message) as caught:
        desk.esc.import_rules(actor_id="u_sup", text=text.replace(edit[0], edit[1], 1), source="新规则.toml")
    assert "新规则.toml 第" in str(caught.value)
    assert desk.esc.rules_info().source == "escalation_rules.toml"
    _tid, applied = desk.add("s_home", TicketCategory.DATA_LEAK)
    assert [a.rule_id for a in applied] == ["data_leak"]


def test_an_imported_rules_file_is_in_force_and_only_supervisors_import(desk: Desk) -> None:
    text = RULES_FILE.read_text(encoding="utf-8").replace("min_count = 6 ", "min_count = 2 ")
    text = text.replace("[levels.L3]\nfirst_response_hours = 2", "[levels.L3]\nfirst_response_hours = 1")
    with pytest.raises(PermissionError):
        desk.esc.import_rules(actor_id="u_agent", text=text, source="团队规则.toml")
    info, _ = desk.esc.import_rules(actor_id="u_sup", text=text, source="团队规则.toml")
    assert info.source == "团队规则.toml" and info.imported_by == "赵敏" and info.response_hours[L3] == 1
    desk.add("s_home", NEG)
    _, applied = desk.add("s_home", NEG)
    crisis = [a for a in applied if a.rule_id == "negative_review_crisis"]
    assert len(crisis) == 1
    row = next(r for r in desk.board() if r.id == crisis[0].escalation_id)
    assert row.escalation.first_response_due == desk.clock.now() + timedelta(hours=1)
    # a new service instance reads the stored set
    fresh = EscalationService(engine=desk.workspace.engine, clock=desk.clock, origin="t")
    assert fresh.rules_info().source == "团队规则.toml"


def test_ticket_resolved_before_the_rule_run_does_not_fire_a_single_ticket_rule(desk: Desk) -> None:
    tid = desk.ticket("s_home", TicketCategory.DATA_LEAK)
    desk.tickets.change_status(ticket_id=tid, status=TicketStatus.IN_PROGRESS, actor_id="u_agent")
    desk.tickets.change_status(ticket_id=tid, status=TicketStatus.RESOLVED, actor_id="u_agent")
    assert desk.esc.run_rules(ticket_ids=[tid])[0] == []

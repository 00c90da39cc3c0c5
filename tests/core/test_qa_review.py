from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from dyy_desk.core.clock import FakeClock
from dyy_desk.core.qa_access import require_own_results, require_qa_manager, visible_results
from dyy_desk.core.qa_calibration import (
    CalibrationError,
    calibration_spread,
    open_session,
    start_calibration_review,
)
from dyy_desk.core.qa_review import (
    AppealDecision,
    QAReview,
    ReviewAction,
    ReviewError,
    ReviewKind,
    ReviewLockedError,
    ReviewState,
    decide_appeal,
    edit_draft,
    file_appeal,
    finalize,
    start_review,
    submit,
)
from dyy_desk.core.qa_scorecard import Scorecard, parse_scorecard
from dyy_desk.core.qa_scoring import Deduction, FatalHit, ScoringError
from dyy_desk.core.types import Role, UserRow

CARD = parse_scorecard(
    (Path(__file__).resolve().parents[2] / "resources/scorecards/default.toml").read_text(encoding="utf-8"),
    "default.toml",
)
SUP = UserRow("sup-1", "王主管", Role.SUPERVISOR)
SUP2 = UserRow("sup-2", "陈主管", Role.SUPERVISOR)
ADMIN = UserRow("adm-1", "赵经理", Role.ADMIN)
AGENT = UserRow("agt-1", "小李", Role.AGENT)
OTHER_AGENT = UserRow("agt-2", "小张", Role.AGENT)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def submitted(clock: FakeClock, marks: list[Deduction], hits: list[FatalHit] | None = None) -> QAReview:
    review = start_review(
        CARD, actor=SUP, review_id="r1", ticket_id="t1", agent_id=AGENT.id, client_id="c1", now=clock.now()
    )
    clock.advance(minutes=5)
    review = edit_draft(review, CARD, actor=SUP, deductions=marks, fatal_hits=hits or [], now=clock.now())
    clock.advance(minutes=1)
    return submit(review, actor=SUP, now=clock.now())


MARKS = [Deduction("wording", 4, "回复“自己看”"), Deduction("closure", 8, "未告知退款进度")]


def test_draft_to_submitted_keeps_template_and_history(clock: FakeClock) -> None:
    review = submitted(clock, MARKS)
    assert (review.state, review.score, review.passed) == (ReviewState.SUBMITTED, 88, True)
    assert (review.scorecard_id, review.scorecard_version) == ("default", 1)
    assert [(e.action, e.old_score, e.new_score, e.by) for e in review.history] == [
        (ReviewAction.CREATE, None, 100, "sup-1"),
        (ReviewAction.EDIT, 100, 88, "sup-1"),
        (ReviewAction.SUBMIT, 88, 88, "sup-1"),
    ]
    assert review.submitted_at == clock.now()


def test_appeal_accepted_restores_contested_points_and_locks(clock: FakeClock) -> None:
    review = submitted(clock, MARKS)
    clock.advance(hours=2)
    review = file_appeal(
        review,
        actor=AGENT,
        reason="已在 3 分钟内告知进度，见聊天记录",
        contested=["closure"],
        now=clock.now(),
    )
    assert review.state is ReviewState.APPEALED and review.appeal is not None
    clock.advance(hours=1)
    review = decide_appeal(
        review, CARD, actor=SUP2, decision=AppealDecision.ACCEPT, comment="记录属实", now=clock.now()
    )
    assert (review.state, review.score, [d.item_id for d in review.deductions]) == (
        ReviewState.FINAL,
        96,
        ["wording"],
    )
    assert review.re_review is not None and review.re_review.by == "sup-2"
    last = review.history[-1]
    assert (last.action, last.by, last.at, last.old_score, last.new_score) == (
        ReviewAction.RE_REVIEW, "sup-2", clock.now(), 88, 96,
    )  # fmt: skip
    with pytest.raises(ReviewLockedError, match="已定稿锁定"):
        edit_draft(review, CARD, actor=SUP, deductions=[], now=clock.now())
    with pytest.raises(ReviewError, match="只能申诉一次"):
        file_appeal(review, actor=AGENT, reason="再申诉", now=clock.now())
    with pytest.raises(ReviewLockedError):
        decide_appeal(review, CARD, actor=ADMIN, decision=AppealDecision.REJECT, comment="x", now=clock.now())


def test_accepting_an_appeal_of_a_fatal_hit_lifts_the_zero(clock: FakeClock) -> None:
    review = submitted(clock, MARKS[:1], [FatalHit("false_promise", "承诺三天到货")])
    assert (review.score, review.passed) == (0, False)
    review = file_appeal(
        review, actor=AGENT, reason="仓库确认可以三天到", contested=["false_promise"], now=clock.now()
    )
    review = decide_appeal(
        review, CARD, actor=ADMIN, decision=AppealDecision.ACCEPT, comment="核实", now=clock.now()
    )
    assert (review.score, review.passed, review.fatal_hits) == (96, True, ())


def test_accept_without_named_items_clears_all_marks(clock: FakeClock) -> None:
    review = file_appeal(submitted(clock, MARKS), actor=AGENT, reason="整体评分有误", now=clock.now())
    review = decide_appeal(
        review, CARD, actor=SUP2, decision=AppealDecision.ACCEPT, comment="重听录音", now=clock.now()
    )
    assert (review.score, review.deductions) == (100, ())


def test_partly_accepted_uses_new_marks_and_rejected_keeps_score(clock: FakeClock) -> None:
    appealed = file_appeal(submitted(clock, MARKS), actor=AGENT, reason="扣分过重", now=clock.now())
    with pytest.raises(ReviewError, match="部分成立"):
        decide_appeal(
            appealed, CARD, actor=SUP2, decision=AppealDecision.PARTIAL, comment="x", now=clock.now()
        )
    partial = decide_appeal(
        appealed, CARD, actor=SUP2, decision=AppealDecision.PARTIAL, comment="未闭环改为轻微",
        deductions=[MARKS[0], Deduction("closure", 2, "进度告知不完整")], now=clock.now(),
    )  # fmt: skip
    assert (partial.score, partial.state, partial.history[-1].note) == (
        94,
        ReviewState.FINAL,
        "部分成立：未闭环改为轻微",
    )
    rejected = decide_appeal(
        appealed, CARD, actor=SUP2, decision=AppealDecision.REJECT, comment="证据不足", now=clock.now()
    )
    assert (rejected.score, rejected.deductions, rejected.state) == (88, tuple(MARKS), ReviewState.FINAL)
    with pytest.raises(ScoringError):
        decide_appeal(
            appealed, CARD, actor=SUP2, decision=AppealDecision.PARTIAL, comment="x",
            deductions=[Deduction("closure", 11, "超上限")], now=clock.now(),
        )  # fmt: skip


def test_same_reviewer_or_an_agent_cannot_re_review(clock: FakeClock) -> None:
    appealed = file_appeal(submitted(clock, MARKS), actor=AGENT, reason="不同意", now=clock.now())
    with pytest.raises(PermissionError, match="另一位主管"):
        decide_appeal(appealed, CARD, actor=SUP, decision=AppealDecision.ACCEPT, comment="x", now=clock.now())
    with pytest.raises(PermissionError, match="仅主管或管理员"):
        decide_appeal(
            appealed, CARD, actor=OTHER_AGENT, decision=AppealDecision.ACCEPT, comment="x", now=clock.now()
        )
    with pytest.raises(ReviewError, match="结论说明"):
        decide_appeal(
            appealed, CARD, actor=SUP2, decision=AppealDecision.REJECT, comment=" ", now=clock.now()
        )


def test_second_appeal_while_pending_is_refused(clock: FakeClock) -> None:
    appealed = file_appeal(submitted(clock, MARKS), actor=AGENT, reason="不同意", now=clock.now())
    with pytest.raises(ReviewError, match="只能申诉一次"):
        file_appeal(appealed, actor=AGENT, reason="补充理由", now=clock.now())


def test_appeal_rules(clock: FakeClock) -> None:
    review = submitted(clock, MARKS)
    with pytest.raises(PermissionError, match="本人"):
        file_appeal(review, actor=OTHER_AGENT, reason="帮同事申诉", now=clock.now())
    with pytest.raises(PermissionError, match="本人"):
        file_appeal(review, actor=SUP2, reason="代为申诉", now=clock.now())
    with pytest.raises(ReviewError, match="理由"):
        file_appeal(review, actor=AGENT, reason="   ", now=clock.now())
    with pytest.raises(ReviewError, match="不在本次扣分中：empathy"):
        file_appeal(review, actor=AGENT, reason="x", contested=["empathy"], now=clock.now())
    late = clock.now() + timedelta(days=4)
    with pytest.raises(ReviewError, match="申诉期限"):
        file_appeal(review, actor=AGENT, reason="x", now=late, appeal_window=timedelta(days=3))
    draft = start_review(
        CARD, actor=SUP, review_id="r2", ticket_id="t2", agent_id=AGENT.id, client_id="c1", now=clock.now()
    )
    with pytest.raises(ReviewError, match="草稿"):
        file_appeal(draft, actor=AGENT, reason="x", now=clock.now())


def test_only_the_reviewer_edits_and_only_managers_score(clock: FakeClock) -> None:
    with pytest.raises(PermissionError, match="无权质检评分"):
        start_review(
            CARD,
            actor=AGENT,
            review_id="r",
            ticket_id="t",
            agent_id=OTHER_AGENT.id,
            client_id="c",
            now=clock.now(),
        )
    with pytest.raises(PermissionError, match="自己处理的工单"):
        start_review(
            CARD, actor=SUP, review_id="r", ticket_id="t", agent_id=SUP.id, client_id="c", now=clock.now()
        )
    draft = start_review(
        CARD, actor=SUP, review_id="r", ticket_id="t", agent_id=AGENT.id, client_id="c", now=clock.now()
    )
    with pytest.raises(PermissionError, match="本条质检的质检员"):
        edit_draft(draft, CARD, actor=SUP2, deductions=MARKS, now=clock.now())
    with pytest.raises(PermissionError):
        submit(draft, actor=AGENT, now=clock.now())
    newer = Scorecard(CARD.id, 2, CARD.name, CARD.pass_mark, CARD.categories, CARD.fatal_items)
    with pytest.raises(ReviewError, match="v1，不能用 default v2"):
        edit_draft(draft, newer, actor=SUP, deductions=MARKS, now=clock.now())
    with pytest.raises(ReviewError, match="已提交"):
        submit(submit(draft, actor=SUP, now=clock.now()), actor=SUP, now=clock.now())


def test_finalize_locks_an_unappealed_review(clock: FakeClock) -> None:
    review = finalize(submitted(clock, MARKS), actor=SUP2, now=clock.now())
    assert review.state is ReviewState.FINAL and review.history[-1].action is ReviewAction.FINALIZE
    with pytest.raises(ReviewLockedError):
        file_appeal(review, actor=AGENT, reason="迟到的申诉", now=clock.now())


def test_agents_see_only_their_own_counted_results(clock: FakeClock) -> None:
    mine = submitted(clock, MARKS)
    draft = start_review(
        CARD, actor=SUP, review_id="r9", ticket_id="t9", agent_id=AGENT.id, client_id="c", now=clock.now()
    )
    theirs = start_review(
        CARD,
        actor=SUP,
        review_id="r3",
        ticket_id="t3",
        agent_id=OTHER_AGENT.id,
        client_id="c",
        now=clock.now(),
    )
    theirs = submit(theirs, actor=SUP, now=clock.now())
    calib = submit(_calibration_reviews(clock)[0], actor=SUP, now=clock.now())
    everything = [mine, draft, theirs, calib]
    assert visible_results(AGENT, everything) == [mine]
    assert visible_results(SUP, everything) == everything
    require_own_results(AGENT, AGENT.id)
    require_own_results(SUP, AGENT.id)
    with pytest.raises(PermissionError, match="只能查看自己的质检结果"):
        require_own_results(AGENT, OTHER_AGENT.id)
    with pytest.raises(PermissionError, match="客服「小李」无权创建抽检计划"):
        require_qa_manager(AGENT, "创建抽检计划")


def _calibration_reviews(clock: FakeClock) -> list[QAReview]:
    session = open_session(
        CARD, actor=ADMIN, session_id="s1", ticket_id="t7", agent_id=AGENT.id, client_id="c1",
        reviewer_ids=[SUP.id, SUP2.id, ADMIN.id], now=clock.now(),
    )  # fmt: skip
    return [
        start_calibration_review(session, CARD, actor=actor, review_id=f"cal-{actor.id}", now=clock.now())
        for actor in (SUP, SUP2, ADMIN)
    ]


def test_calibration_spread_per_item_and_total(clock: FakeClock) -> None:
    session = open_session(
        CARD, actor=ADMIN, session_id="s1", ticket_id="t7", agent_id=AGENT.id, client_id="c1",
        reviewer_ids=[SUP.id, SUP2.id, ADMIN.id], now=clock.now(),
    )  # fmt: skip
    marks = {
        SUP: ([Deduction("wording", 6, "a")], []),
        SUP2: ([Deduction("wording", 2, "b"), Deduction("closure", 4, "c")], []),
        ADMIN: ([], [FatalHit("false_promise", "d")]),
    }
    reviews = []
    for actor, (deductions, hits) in marks.items():
        review = start_calibration_review(
            session, CARD, actor=actor, review_id=f"cal-{actor.id}", now=clock.now()
        )
        review = edit_draft(
            review, CARD, actor=actor, deductions=deductions, fatal_hits=hits, now=clock.now()
        )
        reviews.append(submit(review, actor=actor, now=clock.now()))
    assert all(r.kind is ReviewKind.CALIBRATION and not r.counts for r in reviews)
    result = calibration_spread(session, CARD, reviews)
    wording = next(i.spread for i in result.items if i.item_id == "wording")
    assert (wording.min, wording.max, wording.mean) == pytest.approx((0, 6, 8 / 3))
    assert wording.stdev == pytest.approx(2.494438, abs=1e-6)
    total = result.total
    assert (total.min, total.max, total.mean) == pytest.approx((0, 94, (94 + 94 + 0) / 3))
    fatal = next(i.spread for i in result.fatal if i.item_id == "false_promise")
    assert fatal.mean == pytest.approx(1 / 3)
    with pytest.raises(ReviewError, match="校准评分不计入"):
        file_appeal(reviews[0], actor=AGENT, reason="x", now=clock.now())
    drafts_only = [
        reviews[0],
        start_calibration_review(session, CARD, actor=SUP2, review_id="x", now=clock.now()),
    ]
    with pytest.raises(CalibrationError, match="不足 2 份"):
        calibration_spread(session, CARD, drafts_only)


def test_calibration_session_rules(clock: FakeClock) -> None:
    with pytest.raises(CalibrationError, match="至少需要 2 位"):
        open_session(CARD, actor=SUP, session_id="s", ticket_id="t", agent_id=AGENT.id, client_id="c",
                     reviewer_ids=[SUP.id, SUP.id], now=clock.now())  # fmt: skip
    with pytest.raises(PermissionError):
        open_session(CARD, actor=AGENT, session_id="s", ticket_id="t", agent_id=OTHER_AGENT.id, client_id="c",
                     reviewer_ids=[SUP.id, SUP2.id], now=clock.now())  # fmt: skip
    session = open_session(CARD, actor=SUP, session_id="s", ticket_id="t", agent_id=AGENT.id, client_id="c",
                           reviewer_ids=[SUP.id, SUP2.id], now=clock.now())  # fmt: skip
    with pytest.raises(PermissionError, match="名单"):
        start_calibration_review(session, CARD, actor=ADMIN, review_id="x", now=clock.now())
    regular = submitted(clock, MARKS)
    with pytest.raises(CalibrationError, match="不属于校准会话"):
        calibration_spread(session, CARD, [regular])

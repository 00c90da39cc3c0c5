"""The 质检 panel offscreen: a supervisor draws and scores; an agent sees only their own and appeals."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from dyy_desk.core.qa_review import ReviewState
from dyy_desk.core.qa_sampling import SamplingPeriod
from dyy_desk.core.qa_scoring import Deduction
from dyy_desk.services.qa_service import QAService

TIMEOUT = 10_000


@pytest.fixture
def setup(qtbot: Any, demo_workspace: Any) -> Iterator[tuple[Any, QAService]]:
    from dyy_desk.ui.panels.qa_panel import QAPanel
    from dyy_desk.ui.signals import AppSignals
    from dyy_desk.ui.tasks import TaskRunner

    qa = QAService(engine=demo_workspace.engine, clock=demo_workspace.clock, origin=demo_workspace.machine_id)
    runner = TaskRunner()
    panel = QAPanel(qa=qa, tickets=demo_workspace.tickets, runner=runner, signals=AppSignals())
    qtbot.addWidget(panel)
    panel.resize(1100, 700)
    panel.show()
    yield panel, qa
    runner.wait_idle()


def _loaded(qtbot: Any, panel: Any, kind: str) -> Any:
    return qtbot.waitSignal(panel.loaded, timeout=TIMEOUT, check_params_cb=lambda k: k == kind)


def test_supervisor_creates_plan_draws_and_scores_a_fatal_item(qtbot: Any, setup: Any) -> None:
    panel, qa = setup
    sup = qa.user_by_name(name="赵敏")
    with _loaded(qtbot, panel, "supervisor"):
        panel.set_user(sup)
    assert panel.pages.currentIndex() == 1 and panel.samples.rowCount() == 0
    assert not panel.draw_button.isEnabled()

    panel.open_plan_dialog()
    qtbot.waitUntil(lambda: panel.dialog is not None and panel.dialog.isVisible(), timeout=TIMEOUT)
    dialog = panel.dialog
    dialog.submit()  # no name yet
    qtbot.waitUntil(lambda: "必须填写名称" in dialog.error_label.text(), timeout=TIMEOUT)
    assert dialog.isVisible()
    dialog.name_edit.setText("每周抽检")
    dialog.period_combo.setCurrentIndex(dialog.period_combo.findData(SamplingPeriod.WEEK))
    dialog.count_spin.setValue(2)
    with _loaded(qtbot, panel, "supervisor"):
        dialog.submit()
    assert not dialog.isVisible() and panel.plan_combo.currentText() == "每周抽检"

    with _loaded(qtbot, panel, "supervisor"):
        panel.draw_button.click()
    assert panel.samples.rowCount() > 0 and "已抽取 2026-W48" in panel.status_label.text()

    panel.samples_view.selectRow(0)
    with _loaded(qtbot, panel, "review"):
        panel.start_button.click()
    assert panel.tabs.currentIndex() == 1 and panel.submit_button.isEnabled()
    assert panel.timeline.toPlainText().strip()
    assert "得分 100" in panel.form.score_label.text()

    panel.form.spins["wording"].setValue(4)
    assert "得分 96" in panel.form.score_label.text()
    panel.form.fatal_checks["abuse_or_quarrel"].setChecked(True)
    assert "得分 0" in panel.form.score_label.text() and "不合格" in panel.form.score_label.text()
    panel.submit_button.click()  # comments missing: refused, nothing saved
    qtbot.waitUntil(lambda: "必须填写说明" in panel.review_error.text(), timeout=TIMEOUT)
    assert panel.review.review.state is ReviewState.DRAFT

    panel.form.comments["wording"].setText("语气生硬")
    panel.form.comments["abuse_or_quarrel"].setText("与买家争吵")
    with qtbot.waitSignal(panel.message, timeout=TIMEOUT, check_params_cb=lambda m: m == "已提交质检结果"):
        panel.submit_button.click()
    stored = qa.review(actor_id=sup.id, review_id=panel.review.review.id).review
    assert stored.state is ReviewState.SUBMITTED and stored.score == 0 and not stored.passed
    assert not panel.submit_button.isEnabled()


def test_agent_sees_only_own_results_and_appeals(qtbot: Any, setup: Any) -> None:
    panel, qa = setup
    sup = qa.user_by_name(name="赵敏")
    plan = qa.create_plan(actor_id=sup.id, name="周", period=SamplingPeriod.WEEK, count=2)[0].plan
    sample, _ = qa.draw(actor_id=sup.id, plan_id=plan.id, day=date(2026, 11, 19), seed=4)
    items = qa.sample_items(actor_id=sup.id, sample_id=sample.id)
    first = items[0]
    other = next(i for i in items if i.agent_id != first.agent_id)
    for item in (first, other):
        row, _ = qa.start_review(actor_id=sup.id, ticket_id=item.ticket_id)
        qa.submit(
            actor_id=sup.id, review_id=row.review.id, deductions=[Deduction("closure", 5, "未告知进度")]
        )
    agent = qa.actor(user_id=first.agent_id)

    with _loaded(qtbot, panel, "agent"):
        panel.set_user(agent)
    assert panel.pages.currentIndex() == 2
    page = panel.agent_page
    rows = page.results.rows()
    assert rows and {r.review.agent_id for r in rows} == {agent.id}
    page.results_view.selectRow(0)
    assert "未闭环" in page.result_detail.toPlainText() and page.appeal_button.isEnabled()

    page.open_appeal_dialog()
    dialog = page.dialog
    qtbot.waitUntil(lambda: dialog.isVisible(), timeout=TIMEOUT)
    dialog.submit()
    assert "请填写申诉理由" in dialog.error_label.text() and dialog.isVisible()
    dialog.reason_edit.setPlainText("已告知买家预计三天内退款")
    with _loaded(qtbot, panel, "agent"):
        dialog.submit()
    assert not dialog.isVisible()
    review_id = rows[0].review.id
    assert qa.review(actor_id=agent.id, review_id=review_id).review.state is ReviewState.APPEALED
    page.results_view.selectRow(0)
    assert not page.appeal_button.isEnabled()  # one appeal per review

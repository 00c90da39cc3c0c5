"""显示: the buyer's phone is revealed only through the audited service, for 30 s of the injected clock."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from dyy_desk.core.clock import FakeClock
from dyy_desk.core.masking import mask_address, mask_phone
from dyy_desk.db.repos.tables import customers, tickets
from dyy_desk.services.audit import last_entries
from dyy_desk.services.personal_data import PersonalDataService
from dyy_desk.ui.tasks import TaskRunner
from dyy_desk.ui.widgets.reveal_button import RevealButton


@pytest.fixture
def setup(qtbot: Any, demo_workspace: Any, clock: FakeClock) -> Any:
    with demo_workspace.engine.connect() as conn:
        rows = conn.execute(
            select(tickets.c.id, customers.c.phone, customers.c.address)
            .join(customers, customers.c.id == tickets.c.customer_id)
            .where(customers.c.phone.is_not(None), customers.c.address.is_not(None))
            .limit(2)
        ).all()
    service = PersonalDataService(engine=demo_workspace.engine, clock=clock)
    agent_id = next(u.id for u in demo_workspace.directory.users() if u.name == "李娜")
    runner = TaskRunner()
    widget = RevealButton(
        reveal=lambda tid: service.reveal_contact(ticket_id=tid, actor_id=agent_id, reason="联系买家"),
        runner=runner,
        clock_now=clock.now,
    )
    qtbot.addWidget(widget)
    yield widget, rows, demo_workspace, agent_id
    runner.wait_idle()


def test_reveal_for_thirty_seconds_then_mask(qtbot: Any, setup: Any, clock: FakeClock) -> None:
    widget, rows, workspace, agent_id = setup
    ticket_id, phone, address = rows[0]
    widget.set_contact(ticket_id, mask_phone(phone), mask_address(address))
    assert widget.phone_label.text() == mask_phone(phone) and "****" in widget.phone_label.text()
    assert widget.button.text() == "显示" and widget.button.isEnabled()

    with qtbot.waitSignal(widget.revealed_changed, timeout=5000):
        widget.button.click()
    assert widget.revealed and widget.phone_label.text() == phone and widget.address_label.text() == address
    assert widget.button.text() == "隐藏（30 秒）"
    with workspace.engine.connect() as conn:
        entry = last_entries(conn)[-1]
    assert (entry.action, entry.actor_id, entry.target) == ("reveal_contact", agent_id, f"ticket:{ticket_id}")
    assert phone not in entry.details and "联系买家" in entry.details

    clock.advance(seconds=10)
    widget.set_contact(ticket_id, mask_phone(phone), mask_address(address))  # same ticket reloaded
    assert widget.revealed and widget.phone_label.text() == phone
    clock.advance(seconds=19)
    widget.on_tick()
    assert widget.revealed and widget.button.text() == "隐藏（1 秒）"
    clock.advance(seconds=1)
    widget.on_tick()
    assert not widget.revealed and widget.phone_label.text() == mask_phone(phone)
    assert widget.address_label.text() == mask_address(address)


def test_hide_early_and_switching_tickets_forgets(qtbot: Any, setup: Any) -> None:
    widget, rows, _workspace, _ = setup
    (first, phone, _), (second, phone2, address2) = rows[0], rows[1]
    widget.set_contact(first, mask_phone(phone), None)
    with qtbot.waitSignal(widget.revealed_changed, timeout=5000):
        widget.button.click()
    widget.button.click()  # 隐藏
    assert not widget.revealed and widget.phone_label.text() == mask_phone(phone)
    with qtbot.waitSignal(widget.revealed_changed, timeout=5000):
        widget.button.click()
    widget.hide_now()  # e.g. the current user changed
    assert not widget.revealed and widget.phone_label.text() == mask_phone(phone)

    widget.button.click()  # reveal again, but the ticket changes before the answer arrives
    widget.set_contact(second, mask_phone(phone2), mask_address(address2))
    qtbot.wait(200)
    widget._runner.wait_idle()
    qtbot.wait(50)
    assert not widget.revealed and widget.phone_label.text() == mask_phone(phone2)


def test_no_contact_means_no_button(qtbot: Any, setup: Any) -> None:
    widget, rows, _workspace, _ = setup
    widget.set_contact(rows[0][0], None, None)
    assert not widget.button.isEnabled() and widget.phone_label.text() == "（无手机号）"
    widget.set_contact(None, None, None)
    assert not widget.button.isEnabled()


def test_failure_is_reported(qtbot: Any, demo_workspace: Any, clock: FakeClock) -> None:
    service = PersonalDataService(engine=demo_workspace.engine, clock=clock)
    runner = TaskRunner()
    widget = RevealButton(
        reveal=lambda tid: service.reveal_contact(ticket_id=tid, actor_id=None),
        runner=runner,
        clock_now=clock.now,
    )
    qtbot.addWidget(widget)
    widget.set_contact("no-such-ticket", "138****5678", None)
    with qtbot.waitSignal(widget.reveal_failed, timeout=5000) as failed:
        widget.button.click()
    assert "选择当前用户" in failed.args[0] and not widget.revealed and widget.button.isEnabled()
    runner.wait_idle()

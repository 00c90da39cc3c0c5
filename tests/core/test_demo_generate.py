from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from dyy_desk.core.demo_generate import generate_demo
from dyy_desk.core.types import Platform, Role, TicketCategory, TicketStatus

SPEC = (Path(__file__).resolve().parents[2] / "resources" / "demo" / "workspace.toml").read_text("utf-8")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_demo_is_realistic_and_covers_every_status_and_category() -> None:
    demo = generate_demo(SPEC, now=NOW)
    assert len(demo.clients) == 3
    assert 6 <= len(demo.shops) <= 8
    assert len({s["platform"] for s in demo.shops}) >= 4
    assert sum(u["role"] == Role.AGENT for u in demo.users) == 3
    assert sum(u["role"] == Role.SUPERVISOR for u in demo.users) == 1
    assert 180 <= len(demo.tickets) <= 220
    assert {t["status"] for t in demo.tickets} == {s.value for s in TicketStatus}
    assert {t["category"] for t in demo.tickets} == {c.value for c in TicketCategory}
    assert all(Platform(t["platform"]) for t in demo.tickets)
    numbers = [t["number"] for t in demo.tickets]
    assert len(set(numbers)) == len(numbers)
    events_per_ticket = {t["id"]: 0 for t in demo.tickets}
    for e in demo.events:
        events_per_ticket[e["ticket_id"]] += 1
        assert e["at"] <= NOW
    assert min(events_per_ticket.values()) >= 1


def test_demo_is_reproducible() -> None:
    a = generate_demo(SPEC, now=NOW)
    b = generate_demo(SPEC, now=NOW)
    assert [t["subject"] for t in a.tickets] == [t["subject"] for t in b.tickets]
    assert [t["id"] for t in a.tickets] == [t["id"] for t in b.tickets]


def test_open_deadlines_are_a_believable_mix() -> None:
    demo = generate_demo(SPEC, now=NOW)
    due = [t["due_at"] for t in demo.tickets if t["due_at"] is not None]
    overdue = sum(d < NOW for d in due)
    assert due and 0 < overdue < len(due) / 2

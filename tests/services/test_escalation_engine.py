"""ticket_fact: what the rule index is fed from a database row, sharing what repeats across rows."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from dyy_desk.core.types import Platform, TicketCategory, TicketStatus
from dyy_desk.services.escalation_engine import ticket_fact


def _row(ticket_id: str, tags: str | None) -> SimpleNamespace:
    return SimpleNamespace(
        id=ticket_id,
        client_id="".join(["client", "-1"]),  # equal strings, distinct objects, as each row brings
        shop_id="".join(["shop", "-1"]),
        platform=Platform.TMALL.value,
        category=TicketCategory.NEGATIVE_REVIEW.value,
        status=TicketStatus.NEW.value,
        created_at=datetime(2026, 11, 23, 9, tzinfo=UTC),
        platform_intervention=0,
        product="",
        tags=tags,
    )


def test_shared_ids_give_equal_facts_holding_one_string_per_client_and_shop() -> None:
    shared: dict[str, str] = {}
    first, second = ticket_fact(_row("t1", "起球|色差"), shared), ticket_fact(_row("t2", None), shared)
    assert first == ticket_fact(_row("t1", "起球|色差"))
    assert second == ticket_fact(_row("t2", None))
    assert first.client_id is second.client_id and first.shop_id is second.shop_id
    assert first.tags == {"起球", "色差"} and second.tags == frozenset() and second.product is None

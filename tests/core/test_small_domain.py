from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from dyy_desk.core.due_chip import ChipState, due_chip, format_span
from dyy_desk.core.masking import is_masked, mask_address, mask_phone
from dyy_desk.core.ticket_input import NewTicket, validate_new_ticket
from dyy_desk.core.ticket_numbers import format_ticket_number, parse_ticket_number, short_number
from dyy_desk.core.types import TicketCategory, TicketStatus

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_ticket_number_format_and_parse() -> None:
    number = format_ticket_number(date(2026, 11, 23), 42)
    assert number == "T20261123-0042"
    assert parse_ticket_number(number) == ("20261123", 42)
    assert short_number(number) == "T…0042"
    assert parse_ticket_number("X123") is None
    with pytest.raises(ValueError):
        format_ticket_number(date(2026, 11, 23), 0)


def test_phone_and_address_masking() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("138-1234-5678") == "138****5678"
    assert mask_phone(None) is None
    masked = mask_address("浙江省杭州市西湖区文三路 100 号")
    assert masked is not None and masked.startswith("浙江省杭州市") and "100" not in masked
    assert is_masked("138****5678") and not is_masked("13812345678")


def _ticket(**overrides: object) -> NewTicket:
    values: dict[str, object] = dict(
        client_id="c",
        shop_id="s",
        category=TicketCategory.EXCHANGE,
        subject="颜色发错了",
        customer_nick="小雨",
    )
    values.update(overrides)
    return NewTicket(**values)  # type: ignore[arg-type]


def test_valid_ticket_has_no_errors() -> None:
    assert validate_new_ticket(_ticket(), now=NOW) == {}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"subject": "  "}, "subject"),
        ({"subject": "长" * 201}, "subject"),
        ({"customer_nick": ""}, "customer_nick"),
        ({"client_id": ""}, "client"),
        ({"shop_id": ""}, "shop"),
        ({"order_no": "订单号!"}, "order_no"),
        ({"customer_phone": "abc"}, "customer_phone"),
        ({"tags": ("a|b",)}, "tags"),
        ({"due_at": datetime(2026, 11, 23, 9, 0)}, "due_at"),
    ],
)
def test_each_bad_field_is_named(overrides: dict[str, object], field: str) -> None:
    errors = validate_new_ticket(_ticket(**overrides), now=NOW)
    assert errors.get(field)


def test_due_chip_states_and_text() -> None:
    due = NOW + timedelta(hours=1, minutes=52)
    chip = due_chip(due, NOW, due_soon_hours=2, status=TicketStatus.IN_PROGRESS)
    assert chip.state is ChipState.DUE_SOON and chip.text == "1:52"
    chip = due_chip(NOW + timedelta(hours=5), NOW, due_soon_hours=2, status=TicketStatus.NEW)
    assert chip.state is ChipState.ON_TRACK
    chip = due_chip(NOW - timedelta(minutes=35), NOW, due_soon_hours=2, status=TicketStatus.NEW)
    assert chip.state is ChipState.OVERDUE and chip.text == "超时 0:35"
    assert due_chip(due, NOW, due_soon_hours=2, status=TicketStatus.RESOLVED).state is ChipState.NONE
    assert format_span(timedelta(days=2, hours=3, minutes=5)) == "2天3小时"

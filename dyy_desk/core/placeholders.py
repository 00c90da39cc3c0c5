"""Placeholders in reply scripts (`{买家昵称}`, `{订单号}` …): find them, fill them, say what is left.

An unfilled placeholder stays in the text as written, so the agent sees exactly what to type before
sending; nothing is ever replaced by an empty string. `{{` and `}}` are literal braces.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

_PLACEHOLDER_RE = re.compile(r"\{\{|\}\}|\{([^{}\s]{1,20})\}")

CUSTOMER_NICK = "买家昵称"
ORDER_NO = "订单号"
PRODUCT = "商品名"
TRACKING_NO = "物流单号"
REFUND_AMOUNT = "退款金额"
ETA = "预计时间"
SHOP_NAME = "店铺名"
AGENT_NAME = "客服昵称"
CLIENT_NAME = "品牌名"

KNOWN_PLACEHOLDERS: tuple[str, ...] = (
    CUSTOMER_NICK,
    ORDER_NO,
    PRODUCT,
    TRACKING_NO,
    REFUND_AMOUNT,
    ETA,
    SHOP_NAME,
    AGENT_NAME,
    CLIENT_NAME,
)


@dataclass(frozen=True)
class FilledText:
    text: str
    filled: tuple[str, ...]  # placeholder names replaced, in order of first appearance
    unfilled: tuple[str, ...]  # names still in `text`, for the UI to highlight


def find_placeholders(body: str) -> tuple[str, ...]:
    """Names in order of first appearance, each once."""
    found: dict[str, None] = {}
    for match in _PLACEHOLDER_RE.finditer(body):
        if match.group(1):
            found.setdefault(match.group(1), None)
    return tuple(found)


def fill_placeholders(body: str, values: Mapping[str, str | None]) -> FilledText:
    """Replace each `{name}` whose value is non-blank; blank or missing values leave it in place."""
    filled: dict[str, None] = {}
    unfilled: dict[str, None] = {}

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return match.group(0)[0]  # "{{" → "{", "}}" → "}"
        value = values.get(name)
        if value is None or not value.strip():
            unfilled.setdefault(name, None)
            return "{" + name + "}"
        filled.setdefault(name, None)
        return value.strip()

    text = _PLACEHOLDER_RE.sub(replace, body)
    return FilledText(text=text, filled=tuple(filled), unfilled=tuple(unfilled))


def unknown_placeholders(body: str) -> tuple[str, ...]:
    """Names no ticket field fills (likely typos such as `{订单}`): shown as a warning when editing."""
    return tuple(name for name in find_placeholders(body) if name not in KNOWN_PLACEHOLDERS)


def ticket_values(
    *,
    customer_nick: str | None = None,
    order_no: str | None = None,
    product: str | None = None,
    tracking_no: str | None = None,
    refund_amount: str | None = None,
    eta: str | None = None,
    shop_name: str | None = None,
    agent_name: str | None = None,
    client_name: str | None = None,
) -> dict[str, str]:
    """The placeholder mapping for a ticket's fields; fields that are unknown are left out."""
    pairs = {
        CUSTOMER_NICK: customer_nick,
        ORDER_NO: order_no,
        PRODUCT: product,
        TRACKING_NO: tracking_no,
        REFUND_AMOUNT: refund_amount,
        ETA: eta,
        SHOP_NAME: shop_name,
        AGENT_NAME: agent_name,
        CLIENT_NAME: client_name,
    }
    return {name: value.strip() for name, value in pairs.items() if value and value.strip()}

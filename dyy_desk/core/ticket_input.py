"""A new ticket as the agent typed it, and the checks it must pass before anything is written."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from dyy_desk.core.types import Priority, TicketCategory

MAX_SUBJECT = 200
_PHONE = re.compile(r"^\+?[\d\- ]{5,20}$")


@dataclass(frozen=True)
class NewTicket:
    client_id: str
    shop_id: str
    category: TicketCategory
    subject: str
    customer_nick: str
    priority: Priority = Priority.NORMAL
    order_no: str = ""
    product: str = ""
    tags: tuple[str, ...] = ()
    customer_phone: str = ""
    customer_address: str = ""
    assignee_id: str | None = None
    due_at: datetime | None = None  # a deadline shown by the platform, if the agent has one
    note: str = ""
    platform_intervention: bool = False


class TicketInputError(ValueError):
    """Field → message, so a dialog can mark each bad field."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("；".join(errors.values()))


def validate_new_ticket(ticket: NewTicket, *, now: datetime) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not ticket.client_id:
        errors["client"] = "请选择品牌方"
    if not ticket.shop_id:
        errors["shop"] = "请选择店铺"
    subject = ticket.subject.strip()
    if not subject:
        errors["subject"] = "请填写工单标题（买家的问题概要）"
    elif len(subject) > MAX_SUBJECT:
        errors["subject"] = f"标题最多 {MAX_SUBJECT} 个字，当前 {len(subject)} 个"
    if not ticket.customer_nick.strip():
        errors["customer_nick"] = "请填写买家昵称"
    elif len(ticket.customer_nick.strip()) > 64:
        errors["customer_nick"] = "买家昵称最多 64 个字"
    if ticket.order_no and not re.fullmatch(r"[0-9A-Za-z\-_]{4,64}", ticket.order_no.strip()):
        errors["order_no"] = "订单号只能包含字母、数字和连字符，4–64 位"
    if ticket.customer_phone and not _PHONE.match(ticket.customer_phone.strip()):
        errors["customer_phone"] = "手机号格式不正确"
    if any(not t.strip() or "|" in t for t in ticket.tags):
        errors["tags"] = "标签不能为空，也不能包含 | 字符"
    if ticket.due_at is not None:
        if ticket.due_at.tzinfo is None:
            errors["due_at"] = "截止时间缺少时区"
        elif ticket.due_at < now.replace(year=now.year - 1):
            errors["due_at"] = "截止时间早于一年前，请检查"
    return errors

"""What the queue asks for: a built-in view, filters, free text and a sort order."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from dyy_desk.core.i18n import N_
from dyy_desk.core.types import Platform, TicketCategory, TicketStatus


class QueueView(StrEnum):
    MINE = "mine"
    UNASSIGNED = "unassigned"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    ESCALATED = "escalated"
    ALL = "all"


VIEW_LABELS: dict[QueueView, str] = {
    QueueView.MINE: N_("我的工单"),
    QueueView.UNASSIGNED: N_("未分配"),
    QueueView.DUE_SOON: N_("即将超时"),
    QueueView.OVERDUE: N_("已超时"),
    QueueView.ESCALATED: N_("已升级"),
    QueueView.ALL: N_("全部"),
}


class SortKey(StrEnum):
    DUE = "due"
    NUMBER = "number"
    CREATED = "created"
    UPDATED = "updated"
    PRIORITY = "priority"
    STATUS = "status"
    CLIENT = "client"
    CATEGORY = "category"


@dataclass(frozen=True)
class TicketQuery:
    view: QueueView = QueueView.ALL
    user_id: str | None = None  # whose "我的工单"
    client_id: str | None = None
    shop_id: str | None = None
    platform: Platform | None = None
    status: TicketStatus | None = None
    category: TicketCategory | None = None
    text: str = ""
    sort: SortKey = SortKey.DUE
    descending: bool = False
    due_soon_hours: float = 2.0

    def with_(self, **changes: object) -> TicketQuery:
        return replace(self, **changes)  # type: ignore[arg-type]

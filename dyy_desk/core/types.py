"""Enums and frozen dataclasses passed between layers; one name per concept (see the glossary)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from dyy_desk.core.i18n import N_


class Platform(StrEnum):
    TAOBAO = "taobao"
    TMALL = "tmall"
    JD = "jd"
    PDD = "pdd"
    DOUYIN = "douyin"
    XIAOHONGSHU = "xiaohongshu"
    WECHAT = "wechat"
    OTHER = "other"


class TicketCategory(StrEnum):
    PRESALE = "presale"
    RETURN_REFUND = "return_refund"
    EXCHANGE = "exchange"
    REFUND_ONLY = "refund_only"
    LOGISTICS = "logistics"
    QUALITY_COMPLAINT = "quality_complaint"
    NEGATIVE_REVIEW = "negative_review"
    INVOICE = "invoice"
    DATA_LEAK = "data_leak"
    OTHER = "other"


class TicketStatus(StrEnum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    WAITING_BUYER = "waiting_buyer"
    WAITING_PLATFORM = "waiting_platform"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class Role(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class EventKind(StrEnum):
    CREATED = "created"
    NOTE = "note"
    REPLY = "reply"
    STATUS = "status"
    ASSIGN = "assign"
    EDIT = "edit"
    FLAG = "flag"


PLATFORM_LABELS: dict[Platform, str] = {
    Platform.TAOBAO: N_("淘宝"),
    Platform.TMALL: N_("天猫"),
    Platform.JD: N_("京东"),
    Platform.PDD: N_("拼多多"),
    Platform.DOUYIN: N_("抖店"),
    Platform.XIAOHONGSHU: N_("小红书"),
    Platform.WECHAT: N_("微信小店"),
    Platform.OTHER: N_("其他"),
}

CATEGORY_LABELS: dict[TicketCategory, str] = {
    TicketCategory.PRESALE: N_("售前咨询"),
    TicketCategory.RETURN_REFUND: N_("退货退款"),
    TicketCategory.EXCHANGE: N_("换货"),
    TicketCategory.REFUND_ONLY: N_("仅退款"),
    TicketCategory.LOGISTICS: N_("物流"),
    TicketCategory.QUALITY_COMPLAINT: N_("质量投诉"),
    TicketCategory.NEGATIVE_REVIEW: N_("差评"),
    TicketCategory.INVOICE: N_("发票"),
    TicketCategory.DATA_LEAK: N_("信息泄露"),
    TicketCategory.OTHER: N_("其他"),
}

STATUS_LABELS: dict[TicketStatus, str] = {
    TicketStatus.NEW: N_("新建"),
    TicketStatus.IN_PROGRESS: N_("处理中"),
    TicketStatus.WAITING_BUYER: N_("待买家回复"),
    TicketStatus.WAITING_PLATFORM: N_("待平台处理"),
    TicketStatus.RESOLVED: N_("已解决"),
    TicketStatus.CLOSED: N_("已关闭"),
}

PRIORITY_LABELS: dict[Priority, str] = {
    Priority.LOW: N_("低"),
    Priority.NORMAL: N_("普通"),
    Priority.HIGH: N_("高"),
    Priority.URGENT: N_("紧急"),
}

ROLE_LABELS: dict[Role, str] = {Role.AGENT: N_("客服"), Role.SUPERVISOR: N_("主管"), Role.ADMIN: N_("管理员")}


@dataclass(frozen=True)
class UserRow:
    id: str
    name: str
    role: Role


@dataclass(frozen=True)
class ClientRow:
    id: str
    name: str


@dataclass(frozen=True)
class ShopRow:
    id: str
    client_id: str
    name: str
    platform: Platform


@dataclass(frozen=True)
class TicketRow:
    """One line of the queue: everything the list shows, nothing it does not."""

    id: str
    number: str
    client_name: str
    shop_name: str
    platform: Platform
    category: TicketCategory
    status: TicketStatus
    priority: Priority
    subject: str
    customer_nick: str
    assignee_name: str | None
    created_at: datetime
    updated_at: datetime
    due_at: datetime | None
    platform_intervention: bool
    tags: tuple[str, ...] = ()
    escalation_level: int = 0  # highest open escalation (1..3), 0 = none
    due_soon_at: datetime | None = None  # the SOP policy's 即将超时 instant; None = due_at − the setting


@dataclass(frozen=True)
class TicketEventRow:
    id: str
    kind: EventKind
    at: datetime
    actor_name: str | None
    text: str


@dataclass(frozen=True)
class TicketDetail:
    row: TicketRow
    client_id: str
    shop_id: str
    assignee_id: str | None
    order_no: str | None
    customer_phone_masked: str | None
    customer_address_masked: str | None
    first_response_at: datetime | None
    resolved_at: datetime | None
    events: tuple[TicketEventRow, ...] = field(default_factory=tuple)

"""Enums and frozen dataclasses passed between layers; one name per concept (see the glossary)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


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
    Platform.TAOBAO: "淘宝",
    Platform.TMALL: "天猫",
    Platform.JD: "京东",
    Platform.PDD: "拼多多",
    Platform.DOUYIN: "抖店",
    Platform.XIAOHONGSHU: "小红书",
    Platform.WECHAT: "微信小店",
    Platform.OTHER: "其他",
}

CATEGORY_LABELS: dict[TicketCategory, str] = {
    TicketCategory.PRESALE: "售前咨询",
    TicketCategory.RETURN_REFUND: "退货退款",
    TicketCategory.EXCHANGE: "换货",
    TicketCategory.REFUND_ONLY: "仅退款",
    TicketCategory.LOGISTICS: "物流",
    TicketCategory.QUALITY_COMPLAINT: "质量投诉",
    TicketCategory.NEGATIVE_REVIEW: "差评",
    TicketCategory.INVOICE: "发票",
    TicketCategory.DATA_LEAK: "信息泄露",
    TicketCategory.OTHER: "其他",
}

STATUS_LABELS: dict[TicketStatus, str] = {
    TicketStatus.NEW: "新建",
    TicketStatus.IN_PROGRESS: "处理中",
    TicketStatus.WAITING_BUYER: "待买家回复",
    TicketStatus.WAITING_PLATFORM: "待平台处理",
    TicketStatus.RESOLVED: "已解决",
    TicketStatus.CLOSED: "已关闭",
}

PRIORITY_LABELS: dict[Priority, str] = {
    Priority.LOW: "低",
    Priority.NORMAL: "普通",
    Priority.HIGH: "高",
    Priority.URGENT: "紧急",
}

ROLE_LABELS: dict[Role, str] = {Role.AGENT: "客服", Role.SUPERVISOR: "主管", Role.ADMIN: "管理员"}


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

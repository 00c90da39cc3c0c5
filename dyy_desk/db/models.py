"""Table classes. Every syncing row carries origin + version + a tombstone (see ARCHITECTURE.md)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from dyy_desk.db.types import UTCDateTime


class SyncColumns(SQLModel):
    """Columns every record that travels in a bundle carries."""

    origin: str = Field(default="", max_length=64)
    version: str = Field(default="", max_length=64)
    deleted: bool = Field(default=False)


class AppMeta(SQLModel, table=True):
    __tablename__ = "app_meta"

    key: str = Field(primary_key=True, max_length=64)
    value: str


class User(SyncColumns, table=True):
    __tablename__ = "user"

    id: str = Field(primary_key=True, max_length=36)
    name: str = Field(max_length=64)
    role: str = Field(max_length=16)
    created_at: datetime = Field(sa_type=UTCDateTime)


class Client(SyncColumns, table=True):
    __tablename__ = "client"

    id: str = Field(primary_key=True, max_length=36)
    name: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(sa_type=UTCDateTime)


class Shop(SyncColumns, table=True):
    __tablename__ = "shop"

    id: str = Field(primary_key=True, max_length=36)
    client_id: str = Field(foreign_key="client.id", index=True, max_length=36)
    name: str = Field(max_length=64)
    platform: str = Field(max_length=16)
    created_at: datetime = Field(sa_type=UTCDateTime)


class Customer(SyncColumns, table=True):
    __tablename__ = "customer"

    id: str = Field(primary_key=True, max_length=36)
    client_id: str = Field(foreign_key="client.id", index=True, max_length=36)
    platform: str = Field(max_length=16)
    nick: str = Field(max_length=64, index=True)
    phone: str | None = Field(default=None, max_length=32)
    address: str | None = Field(default=None, max_length=256)
    created_at: datetime = Field(sa_type=UTCDateTime)


class TicketCounter(SQLModel, table=True):
    """Last sequence used per local day, for human ticket numbers."""

    __tablename__ = "ticket_counter"

    day: str = Field(primary_key=True, max_length=8)
    last: int = 0


class Ticket(SyncColumns, table=True):
    """Numbers are a display counter per machine and day: two agents offline on the same day both make
    T20261123-0001 and both tickets must sync, so the number carries no uniqueness constraint (the
    id does); each machine's counter keeps its own numbers distinct, and imports move it past theirs."""

    __tablename__ = "ticket"

    id: str = Field(primary_key=True, max_length=36)
    number: str = Field(max_length=24, index=True)
    client_id: str = Field(foreign_key="client.id", index=True, max_length=36)
    shop_id: str = Field(foreign_key="shop.id", index=True, max_length=36)
    customer_id: str | None = Field(default=None, foreign_key="customer.id", index=True, max_length=36)
    platform: str = Field(max_length=16, index=True)
    order_no: str | None = Field(default=None, max_length=64, index=True)
    category: str = Field(max_length=32, index=True)
    priority: str = Field(max_length=16)
    status: str = Field(max_length=24, index=True)
    subject: str = Field(max_length=200)
    product: str | None = Field(default=None, max_length=100)
    tags: str = Field(default="", max_length=500)  # "|"-joined, for display and tag filters
    assignee_id: str | None = Field(default=None, foreign_key="user.id", index=True, max_length=36)
    created_by: str | None = Field(default=None, foreign_key="user.id", max_length=36)
    platform_intervention: bool = Field(default=False)
    created_at: datetime = Field(index=True, sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    first_response_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # nearest open deadline, so the queue can sort "soonest loss first"
    due_at: datetime | None = Field(default=None, index=True, sa_type=UTCDateTime)
    # when the queue counts it 即将超时: the SOP policy's instant; None = due_at minus the due-soon setting
    due_soon_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class TicketEvent(SQLModel, table=True):
    """Append-only timeline; merged as a union when bundles meet."""

    __tablename__ = "ticket_event"

    id: str = Field(primary_key=True, max_length=36)
    ticket_id: str = Field(foreign_key="ticket.id", index=True, max_length=36)
    kind: str = Field(max_length=16)
    at: datetime = Field(sa_type=UTCDateTime)
    actor_id: str | None = Field(default=None, foreign_key="user.id", max_length=36)
    text: str = ""
    data: str = ""  # JSON for structured events (old/new status, assignee …)
    origin: str = Field(default="", max_length=64)

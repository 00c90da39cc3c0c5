"""SOP tables: imported template versions, checklist runs on tickets, their steps, anchors, notes, proofs.

A checklist keeps the template id + version it started with; the template text of every imported
version is stored whole, so a bundle carries it to other machines and old runs stay computable.
`sop_notified` is per machine (which deadline notices this desk has already shown), so it does not sync.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field, SQLModel

from dyy_desk.db.models import SyncColumns
from dyy_desk.db.types import UTCDateTime


class SopTemplateRecord(SyncColumns, table=True):
    """A template version a supervisor imported (the built-in ones live in resources/sop)."""

    __tablename__ = "sop_template"

    template_id: str = Field(primary_key=True, max_length=64)
    template_version: int = Field(primary_key=True)
    name: str = Field(max_length=100)
    after_sales_type: str = Field(max_length=32)
    effective_date: date
    source: str = Field(max_length=200)
    text: str
    imported_by: str | None = Field(default=None, foreign_key="user.id", max_length=36)
    imported_at: datetime = Field(sa_type=UTCDateTime)


class SopChecklistRecord(SyncColumns, table=True):
    __tablename__ = "sop_checklist"

    id: str = Field(primary_key=True, max_length=36)
    ticket_id: str = Field(foreign_key="ticket.id", index=True, max_length=36)
    template_id: str = Field(max_length=64)
    template_version: int
    started_at: datetime = Field(sa_type=UTCDateTime)
    started_by: str = Field(max_length=36)
    amount: str | None = Field(default=None, max_length=24)  # Decimal as text, e.g. "129.00"
    # the ticket's due_at before the checklist took it over; used while no step has a deadline
    ticket_due_before: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SopStepRecord(SyncColumns, table=True):
    __tablename__ = "sop_step"

    id: str = Field(primary_key=True, max_length=36)
    checklist_id: str = Field(foreign_key="sop_checklist.id", index=True, max_length=36)
    step_id: str = Field(max_length=64)
    position: int
    status: str = Field(max_length=16)
    closed_by: str | None = Field(default=None, max_length=36)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    skip_reason: str = Field(default="")
    platform_deadline: datetime | None = Field(default=None, sa_type=UTCDateTime)
    platform_deadline_by: str | None = Field(default=None, max_length=36)
    platform_deadline_entered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    manual_deadline: datetime | None = Field(default=None, sa_type=UTCDateTime)
    manual_deadline_by: str | None = Field(default=None, max_length=36)
    manual_deadline_entered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SopAnchorRecord(SyncColumns, table=True):
    __tablename__ = "sop_anchor"

    id: str = Field(primary_key=True, max_length=36)
    checklist_id: str = Field(foreign_key="sop_checklist.id", index=True, max_length=36)
    event: str = Field(max_length=32)
    at: datetime = Field(sa_type=UTCDateTime)
    recorded_by: str = Field(max_length=36)
    recorded_at: datetime = Field(sa_type=UTCDateTime)


class SopNoteRecord(SyncColumns, table=True):
    __tablename__ = "sop_note"

    id: str = Field(primary_key=True, max_length=36)
    checklist_id: str = Field(foreign_key="sop_checklist.id", index=True, max_length=36)
    step_id: str = Field(max_length=64)
    text: str
    by: str = Field(max_length=36)
    at: datetime = Field(sa_type=UTCDateTime)


class SopProofRecord(SyncColumns, table=True):
    __tablename__ = "sop_proof"

    id: str = Field(primary_key=True, max_length=36)
    checklist_id: str = Field(foreign_key="sop_checklist.id", index=True, max_length=36)
    step_id: str = Field(max_length=64)
    ref: str = Field(max_length=500)
    label: str = Field(default="", max_length=100)
    by: str = Field(max_length=36)
    at: datetime = Field(sa_type=UTCDateTime)


class SopNotifiedRecord(SQLModel, table=True):
    """(checklist, step, state) notices already shown on this machine: each is shown once."""

    __tablename__ = "sop_notified"

    checklist_id: str = Field(primary_key=True, foreign_key="sop_checklist.id", max_length=36)
    step_id: str = Field(primary_key=True, max_length=64)
    state: str = Field(primary_key=True, max_length=16)
    notified_at: datetime = Field(sa_type=UTCDateTime)


class SopSettingRecord(SyncColumns, table=True):
    """Team-wide SOP settings as text (key "business_hours": the schedule TOML)."""

    __tablename__ = "sop_setting"

    key: str = Field(primary_key=True, max_length=64)
    value: str
    updated_by: str | None = Field(default=None, foreign_key="user.id", max_length=36)
    updated_at: datetime = Field(sa_type=UTCDateTime)

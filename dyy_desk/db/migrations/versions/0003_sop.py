"""SOP checklists: imported templates, runs on tickets, steps, anchors, notes, proofs, notices, settings.

Revision ID: 0003_sop
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_sop"
down_revision = "0001"
branch_labels = None
depends_on = None


def _sync() -> list[sa.Column[object]]:
    return [
        sa.Column("origin", sa.String(64), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
    ]


def _checklist_fk() -> sa.Column[object]:
    return sa.Column(
        "checklist_id", sa.String(36), sa.ForeignKey("sop_checklist.id"), nullable=False, index=True
    )


def upgrade() -> None:
    op.create_table(
        "sop_template",
        sa.Column("template_id", sa.String(64), primary_key=True),
        sa.Column("template_version", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("after_sales_type", sa.String(32), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("imported_by", sa.String(36), sa.ForeignKey("user.id"), nullable=True),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        *_sync(),
    )
    op.create_table(
        "sop_checklist",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("ticket_id", sa.String(36), sa.ForeignKey("ticket.id"), nullable=False, index=True),
        sa.Column("template_id", sa.String(64), nullable=False),
        sa.Column("template_version", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("started_by", sa.String(36), nullable=False),
        sa.Column("amount", sa.String(24), nullable=True),
        sa.Column("ticket_due_before", sa.DateTime(), nullable=True),
        *_sync(),
    )
    op.create_table(
        "sop_step",
        sa.Column("id", sa.String(36), primary_key=True),
        _checklist_fk(),
        sa.Column("step_id", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("closed_by", sa.String(36), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("skip_reason", sa.String(), nullable=False),
        sa.Column("platform_deadline", sa.DateTime(), nullable=True),
        sa.Column("platform_deadline_by", sa.String(36), nullable=True),
        sa.Column("platform_deadline_entered_at", sa.DateTime(), nullable=True),
        sa.Column("manual_deadline", sa.DateTime(), nullable=True),
        sa.Column("manual_deadline_by", sa.String(36), nullable=True),
        sa.Column("manual_deadline_entered_at", sa.DateTime(), nullable=True),
        *_sync(),
    )
    op.create_table(
        "sop_anchor",
        sa.Column("id", sa.String(36), primary_key=True),
        _checklist_fk(),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("recorded_by", sa.String(36), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        *_sync(),
    )
    op.create_table(
        "sop_note",
        sa.Column("id", sa.String(36), primary_key=True),
        _checklist_fk(),
        sa.Column("step_id", sa.String(64), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("by", sa.String(36), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        *_sync(),
    )
    op.create_table(
        "sop_proof",
        sa.Column("id", sa.String(36), primary_key=True),
        _checklist_fk(),
        sa.Column("step_id", sa.String(64), nullable=False),
        sa.Column("ref", sa.String(500), nullable=False),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("by", sa.String(36), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        *_sync(),
    )
    op.create_table(
        "sop_notified",
        sa.Column("checklist_id", sa.String(36), sa.ForeignKey("sop_checklist.id"), primary_key=True),
        sa.Column("step_id", sa.String(64), primary_key=True),
        sa.Column("state", sa.String(16), primary_key=True),
        sa.Column("notified_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "sop_setting",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(), nullable=False),
        sa.Column("updated_by", sa.String(36), sa.ForeignKey("user.id"), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        *_sync(),
    )


def downgrade() -> None:
    for table in (
        "sop_setting",
        "sop_notified",
        "sop_proof",
        "sop_note",
        "sop_anchor",
        "sop_step",
        "sop_checklist",
        "sop_template",
    ):
        op.drop_table(table)

"""Escalations (升级): records, evidence, append-only history, consumed evidence, imported rule sets.

Revision ID: 0004_escalation
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_escalation"
down_revision = "0001"
branch_labels = None
depends_on = None


def _sync() -> list[sa.Column[object]]:
    return [
        sa.Column("origin", sa.String(64), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
    ]


def _user(name: str, *, index: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.String(36), sa.ForeignKey("user.id"), nullable=True, index=index)


def _escalation_fk() -> sa.Column[object]:
    return sa.Column(
        "escalation_id", sa.String(36), sa.ForeignKey("escalation.id"), nullable=False, index=True
    )


def upgrade() -> None:
    op.create_table(
        "escalation",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("rule_id", sa.String(64), nullable=True, index=True),
        sa.Column("group_key", sa.String(500), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("first_response_from", sa.DateTime(), nullable=False),
        sa.Column("first_response_due", sa.DateTime(), nullable=False),
        _user("owner_id"),
        sa.Column("acknowledged_at", sa.DateTime(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("level_set_by_hand", sa.Boolean(), nullable=False),
        sa.Column("pm_cause", sa.String(), nullable=True),
        sa.Column("pm_impact", sa.String(), nullable=True),
        sa.Column("pm_actions", sa.String(), nullable=True),
        sa.Column("pm_prevention", sa.String(), nullable=True),
        sa.Column("follow_up_at", sa.DateTime(), nullable=True),
        sa.Column("follow_up_satisfied", sa.Boolean(), nullable=True),
        sa.Column("follow_up_note", sa.String(), nullable=True),
        _user("raised_by", index=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        *_sync(),
    )
    op.create_table(
        "escalation_evidence",
        sa.Column("id", sa.String(36), primary_key=True),
        _escalation_fk(),
        sa.Column("ticket_id", sa.String(36), sa.ForeignKey("ticket.id"), nullable=False, index=True),
        sa.Column("step_id", sa.String(64), nullable=False),
        sa.Column("evidence_at", sa.DateTime(), nullable=True),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        *_sync(),
    )
    op.create_table(
        "escalation_history",
        sa.Column("id", sa.String(36), primary_key=True),
        _escalation_fk(),
        sa.Column("at", sa.DateTime(), nullable=False),
        _user("actor_id"),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("from_status", sa.String(16), nullable=True),
        sa.Column("to_status", sa.String(16), nullable=True),
        sa.Column("from_level", sa.Integer(), nullable=True),
        sa.Column("to_level", sa.Integer(), nullable=True),
        sa.Column("evidence", sa.String(), nullable=False),
        *_sync(),
    )
    op.create_table(
        "escalation_closed",
        sa.Column("id", sa.String(36), primary_key=True),
        _escalation_fk(),
        sa.Column("rule_id", sa.String(64), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.String(36), nullable=False),
        sa.Column("step_id", sa.String(64), nullable=False),
        *_sync(),
    )
    op.create_table(
        "escalation_rule_set",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        _user("imported_by"),
        sa.Column("imported_at", sa.DateTime(), nullable=False, index=True),
        *_sync(),
    )


def downgrade() -> None:
    for table in (
        "escalation_rule_set",
        "escalation_closed",
        "escalation_history",
        "escalation_evidence",
        "escalation",
    ):
        op.drop_table(table)

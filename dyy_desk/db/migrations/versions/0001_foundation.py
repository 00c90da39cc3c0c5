"""Foundation: users, clients, shops, customers, tickets and their timeline.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _sync() -> list[sa.Column[object]]:
    return [
        sa.Column("origin", sa.String(64), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "app_meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(), nullable=False),
    )
    op.create_table(
        "user",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        *_sync(),
    )
    op.create_table(
        "client",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        *_sync(),
    )
    op.create_table(
        "shop",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("client_id", sa.String(36), sa.ForeignKey("client.id"), nullable=False, index=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        *_sync(),
    )
    op.create_table(
        "customer",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("client_id", sa.String(36), sa.ForeignKey("client.id"), nullable=False, index=True),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("nick", sa.String(64), nullable=False, index=True),
        sa.Column("phone", sa.String(32), nullable=True),
        sa.Column("address", sa.String(256), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        *_sync(),
    )
    op.create_table(
        "ticket_counter",
        sa.Column("day", sa.String(8), primary_key=True),
        sa.Column("last", sa.Integer(), nullable=False),
    )
    op.create_table(
        "ticket",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("number", sa.String(24), nullable=False, unique=True),
        sa.Column("client_id", sa.String(36), sa.ForeignKey("client.id"), nullable=False, index=True),
        sa.Column("shop_id", sa.String(36), sa.ForeignKey("shop.id"), nullable=False, index=True),
        sa.Column("customer_id", sa.String(36), sa.ForeignKey("customer.id"), nullable=True, index=True),
        sa.Column("platform", sa.String(16), nullable=False, index=True),
        sa.Column("order_no", sa.String(64), nullable=True, index=True),
        sa.Column("category", sa.String(32), nullable=False, index=True),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("status", sa.String(24), nullable=False, index=True),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("product", sa.String(100), nullable=True),
        sa.Column("tags", sa.String(500), nullable=False),
        sa.Column("assignee_id", sa.String(36), sa.ForeignKey("user.id"), nullable=True, index=True),
        sa.Column("created_by", sa.String(36), sa.ForeignKey("user.id"), nullable=True),
        sa.Column("platform_intervention", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False, index=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("first_response_at", sa.DateTime(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("due_at", sa.DateTime(), nullable=True, index=True),
        *_sync(),
    )
    op.create_table(
        "ticket_event",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("ticket_id", sa.String(36), sa.ForeignKey("ticket.id"), nullable=False, index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor_id", sa.String(36), sa.ForeignKey("user.id"), nullable=True),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("data", sa.String(), nullable=False),
        sa.Column("origin", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "ticket_event",
        "ticket",
        "ticket_counter",
        "customer",
        "shop",
        "client",
        "user",
        "app_meta",
    ):
        op.drop_table(table)

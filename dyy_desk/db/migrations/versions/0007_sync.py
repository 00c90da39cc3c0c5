"""Sync bookkeeping: per-row field versions (sync_row), machine state (sync_state), peers (sync_peer).

Revision ID: 0007_sync
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_sync"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_row",
        sa.Column("table_name", sa.String(64), primary_key=True),
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("row_hash", sa.Integer(), nullable=False),
        sa.Column("meta", sa.String(), nullable=False),
        sa.Column("local_seq", sa.Integer(), nullable=False, index=True),
    )
    op.create_table(
        "sync_state",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(), nullable=False),
    )
    op.create_table(
        "sync_peer",
        sa.Column("origin", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("sequences", sa.String(), nullable=False),
        sa.Column("last_import_at", sa.DateTime(), nullable=True),
    )


def downgrade() -> None:
    for table in ("sync_peer", "sync_state", "sync_row"):
        op.drop_table(table)

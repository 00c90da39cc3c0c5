"""Tickets carry when they become 即将超时, so the queue's view follows the SOP policy.

The checklist stores the policy's instant (the last 25 % of the step's window or 2 h, whichever is
longer) beside `due_at`; NULL keeps the old rule, `due_at` minus the due-soon setting.

Revision ID: 0009_ticket_due_soon
Revises: 0008_ticket_number_per_origin
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_ticket_due_soon"
down_revision = "0008_ticket_number_per_origin"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ticket") as batch:
        batch.add_column(sa.Column("due_soon_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ticket") as batch:
        batch.drop_column("due_soon_at")

"""Ticket numbers are a per-machine display counter, not a unique key.

Each machine counts its own T{day}-{seq}; with a UNIQUE number two agents' tickets of the same day
could never meet in one database. The id stays the key.

Revision ID: 0008_ticket_number_per_origin
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0008_ticket_number_per_origin"
down_revision = "0001"
branch_labels = None
depends_on = None

# 0001 created the constraint without a name; batch mode finds it through this convention.
_NAMES = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def upgrade() -> None:
    with op.batch_alter_table("ticket", naming_convention=_NAMES, recreate="always") as batch:
        batch.drop_constraint("uq_ticket_number", type_="unique")
        batch.create_index("ix_ticket_number", ["number"])


def downgrade() -> None:
    with op.batch_alter_table("ticket", naming_convention=_NAMES, recreate="always") as batch:
        batch.drop_index("ix_ticket_number")
        batch.create_unique_constraint("uq_ticket_number", ["number"])

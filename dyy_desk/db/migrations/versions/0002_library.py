"""Library: FAQ entries, reply scripts, search-analysis cache, per-user usage counts.

Revision ID: 0002_library
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_library"
down_revision = "0001"
branch_labels = None
depends_on = None


def _sync() -> list[sa.Column[object]]:
    return [
        sa.Column("origin", sa.String(64), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
    ]


def _common() -> list[sa.Column[object]]:
    return [
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("external_id", sa.String(64), nullable=False, unique=True),
        sa.Column("client_id", sa.String(36), sa.ForeignKey("client.id"), nullable=True, index=True),
    ]


def _stamps() -> list[sa.Column[object]]:
    return [
        sa.Column("platforms", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.String(36), sa.ForeignKey("user.id"), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "library_faq",
        *_common(),
        sa.Column("question", sa.String(500), nullable=False),
        sa.Column("similar_questions", sa.String(), nullable=False),
        sa.Column("answer", sa.String(), nullable=False),
        sa.Column("tags", sa.String(), nullable=False),
        *_stamps(),
        *_sync(),
    )
    op.create_table(
        "library_script",
        *_common(),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.String(), nullable=False),
        sa.Column("group_name", sa.String(32), nullable=False),
        sa.Column("shortcut", sa.String(32), nullable=True, index=True),
        *_stamps(),
        *_sync(),
    )
    op.create_table(
        "library_search_cache",
        sa.Column("doc_id", sa.String(36), primary_key=True),
        sa.Column("analysis_version", sa.String(64), nullable=False),
        sa.Column("data", sa.String(), nullable=False),
    )
    op.create_table(
        "library_usage",
        sa.Column("user_id", sa.String(36), sa.ForeignKey("user.id"), primary_key=True),
        sa.Column("doc_id", sa.String(36), primary_key=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    for table in ("library_usage", "library_search_cache", "library_script", "library_faq"):
        op.drop_table(table)

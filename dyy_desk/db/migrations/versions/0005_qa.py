"""QA sampling and review: scorecard versions, plans, samples, reviews, history, calibration.

Revision ID: 0005_qa
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_qa"
down_revision = "0001"
branch_labels = None
depends_on = None


def _sync() -> list[sa.Column[object]]:
    return [
        sa.Column("origin", sa.String(64), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
    ]


def _user(name: str, *, nullable: bool = False, index: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.String(36), sa.ForeignKey("user.id"), nullable=nullable, index=index)


def upgrade() -> None:
    op.create_table(
        "qa_scorecard",
        sa.Column("scorecard_id", sa.String(64), primary_key=True),
        sa.Column("scorecard_version", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        _user("installed_by", nullable=True),
        sa.Column("installed_at", sa.DateTime(), nullable=False),
        *_sync(),
    )
    op.create_table(
        "qa_sampling_plan",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("period", sa.String(8), nullable=False),
        sa.Column("count", sa.Integer(), nullable=True),
        sa.Column("percent", sa.String(16), nullable=True),
        sa.Column("minimum", sa.Integer(), nullable=False),
        sa.Column("client_ids", sa.String(), nullable=False),
        sa.Column("platforms", sa.String(), nullable=False),
        sa.Column("categories", sa.String(), nullable=False),
        sa.Column("agent_ids", sa.String(), nullable=False),
        sa.Column("stratify", sa.Boolean(), nullable=False),
        _user("created_by"),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        *_sync(),
    )
    op.create_table(
        "qa_sample",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("plan_id", sa.String(36), sa.ForeignKey("qa_sampling_plan.id"), nullable=False, index=True),
        sa.Column("plan_snapshot", sa.String(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("window_label", sa.String(16), nullable=False),
        sa.Column("window_start", sa.DateTime(), nullable=False),
        sa.Column("window_end", sa.DateTime(), nullable=False),
        sa.Column("candidates", sa.String(), nullable=False),
        sa.Column("excluded_ids", sa.String(), nullable=False),
        sa.Column("picks", sa.String(), nullable=False),
        sa.Column("tallies", sa.String(), nullable=False),
        _user("drawn_by"),
        sa.Column("drawn_at", sa.DateTime(), nullable=False, index=True),
        *_sync(),
    )
    op.create_table(
        "qa_sample_item",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("sample_id", sa.String(36), sa.ForeignKey("qa_sample.id"), nullable=False, index=True),
        sa.Column("ticket_id", sa.String(36), sa.ForeignKey("ticket.id"), nullable=False, unique=True),
        _user("agent_id", index=True),
        sa.Column("reasons", sa.String(100), nullable=False),
        *_sync(),
    )
    op.create_table(
        "qa_calibration_session",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("ticket_id", sa.String(36), sa.ForeignKey("ticket.id"), nullable=False, index=True),
        _user("agent_id"),
        sa.Column("client_id", sa.String(36), sa.ForeignKey("client.id"), nullable=False),
        sa.Column("scorecard_id", sa.String(64), nullable=False),
        sa.Column("scorecard_version", sa.Integer(), nullable=False),
        sa.Column("reviewer_ids", sa.String(), nullable=False),
        _user("created_by"),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        *_sync(),
    )
    op.create_table(
        "qa_review",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("ticket_id", sa.String(36), sa.ForeignKey("ticket.id"), nullable=False, index=True),
        _user("agent_id", index=True),
        sa.Column("client_id", sa.String(36), sa.ForeignKey("client.id"), nullable=False, index=True),
        _user("reviewer_id", index=True),
        sa.Column("scorecard_id", sa.String(64), nullable=False),
        sa.Column("scorecard_version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column(
            "session_id",
            sa.String(36),
            sa.ForeignKey("qa_calibration_session.id"),
            nullable=True,
            index=True,
        ),
        sa.Column("state", sa.String(16), nullable=False, index=True),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("deductions", sa.String(), nullable=False),
        sa.Column("fatal_hits", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=True),
        _user("appeal_by", nullable=True),
        sa.Column("appeal_at", sa.DateTime(), nullable=True),
        sa.Column("appeal_reason", sa.String(), nullable=True),
        sa.Column("appeal_contested", sa.String(), nullable=False),
        _user("re_review_by", nullable=True),
        sa.Column("re_review_at", sa.DateTime(), nullable=True),
        sa.Column("re_review_decision", sa.String(16), nullable=True),
        sa.Column("re_review_comment", sa.String(), nullable=True),
        *_sync(),
    )
    op.create_table(
        "qa_review_history",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("review_id", sa.String(36), sa.ForeignKey("qa_review.id"), nullable=False, index=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        _user("actor_id"),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("old_score", sa.Integer(), nullable=True),
        sa.Column("new_score", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(), nullable=False),
        sa.Column("origin", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "qa_review_history",
        "qa_review",
        "qa_calibration_session",
        "qa_sample_item",
        "qa_sample",
        "qa_sampling_plan",
        "qa_scorecard",
    ):
        op.drop_table(table)

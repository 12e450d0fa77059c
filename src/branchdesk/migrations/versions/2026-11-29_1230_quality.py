"""quality: mystery-shopper visits and their items, report deliveries

Revision ID: 0015
Revises: 0004
Create Date: 2026-11-29 12:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import branchdesk.core.db

revision: str = "0015"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "quality_visits",
        sa.Column("branch_id", sa.Uuid(), nullable=False),
        sa.Column("service_type_id", sa.Uuid(), nullable=False),
        sa.Column("standard_version", sa.Integer(), nullable=False),
        sa.Column("visited_on", sa.Date(), nullable=False),
        sa.Column("teller_id", sa.Uuid(), nullable=True),
        sa.Column("officer_id", sa.Uuid(), nullable=False),
        sa.Column("officer_label", sa.String(length=120), nullable=False),
        sa.Column("passed", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("not_applicable", sa.Integer(), nullable=False),
        sa.Column("score_basis_points", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_at", branchdesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branches.id"], name=op.f("fk_quality_visits_branch_id_branches")
        ),
        sa.ForeignKeyConstraint(
            ["officer_id"], ["users.id"], name=op.f("fk_quality_visits_officer_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["service_type_id"],
            ["service_types.id"],
            name=op.f("fk_quality_visits_service_type_id_service_types"),
        ),
        sa.ForeignKeyConstraint(
            ["teller_id"], ["users.id"], name=op.f("fk_quality_visits_teller_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_visits")),
    )
    with op.batch_alter_table("quality_visits", schema=None) as batch_op:
        batch_op.create_index(
            "ix_quality_visits_branch_day", ["branch_id", "visited_on"], unique=False
        )
    op.create_table(
        "quality_visit_items",
        sa.Column("visit_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("verdict", sa.String(length=8), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["visit_id"],
            ["quality_visits.id"],
            name=op.f("fk_quality_visit_items_visit_id_quality_visits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_visit_items")),
        sa.UniqueConstraint("visit_id", "code", name=op.f("uq_quality_visit_items_visit_id_code")),
    )
    op.create_table(
        "quality_report_deliveries",
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("branch_id", sa.Uuid(), nullable=False),
        sa.Column("recipient_id", sa.Uuid(), nullable=False),
        sa.Column("sent_at", branchdesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            ["branches.id"],
            name=op.f("fk_quality_report_deliveries_branch_id_branches"),
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["users.id"],
            name=op.f("fk_quality_report_deliveries_recipient_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_report_deliveries")),
        sa.UniqueConstraint(
            "period",
            "period_start",
            "branch_id",
            "recipient_id",
            name="uq_quality_report_once",
        ),
    )


def downgrade() -> None:
    op.drop_table("quality_report_deliveries")
    op.drop_table("quality_visit_items")
    with op.batch_alter_table("quality_visits", schema=None) as batch_op:
        batch_op.drop_index("ix_quality_visits_branch_day")
    op.drop_table("quality_visits")

"""quality: per-day roll-up of the dashboard figures and the days it holds

Revision ID: 0018
Revises: 0004
Create Date: 2026-11-29 14:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import branchdesk.core.db

revision: str = "0018"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COUNTS = (
    "tickets", "called", "completed", "abandoned", "no_show", "within_target", "served",
    "service_seconds_sum", "responses", "csat_sum", "csat_1", "csat_2", "csat_3", "csat_4",
    "csat_5", "promoters", "detractors",
)  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "quality_daily",
        sa.Column("dimension", sa.String(length=8), nullable=False),
        sa.Column("branch_id", sa.Uuid(), nullable=False),
        sa.Column("business_on", sa.Date(), nullable=False),
        sa.Column("member", sa.String(length=36), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in _COUNTS),
        sa.Column("wait_histogram", sa.LargeBinary(), nullable=False),
        sa.Column("service_histogram", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branches.id"], name=op.f("fk_quality_daily_branch_id_branches")
        ),
        sa.PrimaryKeyConstraint(
            "dimension", "branch_id", "business_on", "member", name=op.f("pk_quality_daily")
        ),
    )
    op.create_table(
        "quality_rollup_days",
        sa.Column("branch_id", sa.Uuid(), nullable=False),
        sa.Column("business_on", sa.Date(), nullable=False),
        sa.Column("fingerprint", sa.String(length=200), nullable=False),
        sa.Column("computed_at", branchdesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branches.id"], name=op.f("fk_quality_rollup_days_branch_id_branches")
        ),
        sa.PrimaryKeyConstraint("branch_id", "business_on", name=op.f("pk_quality_rollup_days")),
    )


def downgrade() -> None:
    op.drop_table("quality_rollup_days")
    op.drop_table("quality_daily")

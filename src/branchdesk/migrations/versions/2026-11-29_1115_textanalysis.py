"""text analysis: label corrections

Revision ID: 0009
Revises: 0004
Create Date: 2026-11-29 11:15:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import branchdesk.core.db

revision: str = "0009"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "text_corrections",
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("text_hash", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("field", sa.String(length=16), nullable=False),
        sa.Column("predicted", sa.String(length=40), nullable=False),
        sa.Column("corrected", sa.String(length=40), nullable=False),
        sa.Column("source_type", sa.String(length=40), nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", branchdesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "field IN ('category', 'sentiment')", name=op.f("ck_text_corrections_field_known")
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_text_corrections_actor_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_text_corrections")),
    )
    op.create_index(
        "ix_text_corrections_source",
        "text_corrections",
        ["source_type", "source_id"],
        unique=False,
    )
    op.create_index(
        "ix_text_corrections_text_hash", "text_corrections", ["text_hash"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_text_corrections_text_hash", table_name="text_corrections")
    op.drop_index("ix_text_corrections_source", table_name="text_corrections")
    op.drop_table("text_corrections")

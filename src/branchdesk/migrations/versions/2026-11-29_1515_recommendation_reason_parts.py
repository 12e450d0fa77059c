"""analytics: recommendation reasons as codes with parameters (worded in the viewer's language)

Revision ID: 0023
Revises: 0014
Create Date: 2026-11-29 15:15:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customer_recommendations") as batch_op:
        batch_op.add_column(sa.Column("reason_parts", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("customer_recommendations") as batch_op:
        batch_op.drop_column("reason_parts")

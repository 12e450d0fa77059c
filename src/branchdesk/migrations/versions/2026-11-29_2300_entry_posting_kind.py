"""ledger: each entry carries its posting's kind (the AML summary reads entries alone)

Revision ID: 0025
Revises: 0004
Create Date: 2026-11-29 23:00:00

Existing entries take the kind of their posting.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ledger_entries") as batch_op:
        batch_op.add_column(sa.Column("posting_kind", sa.String(length=24), nullable=True))
    op.execute(
        "UPDATE ledger_entries SET posting_kind ="
        " (SELECT postings.kind FROM postings WHERE postings.id = ledger_entries.posting_id)"
    )
    with op.batch_alter_table("ledger_entries") as batch_op:
        batch_op.alter_column("posting_kind", existing_type=sa.String(length=24), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("ledger_entries") as batch_op:
        batch_op.drop_column("posting_kind")

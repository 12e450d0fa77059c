"""loans: penalty accrued to the ledger (loans.penalty_receivable_minor, accrual postings)

Revision ID: 0024
Revises: 0021
Create Date: 2026-11-29 15:10:00

Penalty accrued before this revision stays unrecognised (receivable 0, no posting): it goes to
penalty income when paid. Postings of interest accruals written before keep their kind ``fee``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "penalty_receivable_minor",
                sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                server_default="0",
                nullable=False,
            )
        )
    with op.batch_alter_table("loan_penalty_accruals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("posting_id", sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_loan_penalty_accruals_posting_id_postings"),
            "postings",
            ["posting_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("loan_penalty_accruals", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_loan_penalty_accruals_posting_id_postings"), type_="foreignkey"
        )
        batch_op.drop_column("posting_id")
    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.drop_column("penalty_receivable_minor")

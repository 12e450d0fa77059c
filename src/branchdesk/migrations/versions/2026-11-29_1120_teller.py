"""teller: counter postings and counter identifications

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-29 11:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import branchdesk.core.db

revision: str = "0006"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "counter_postings",
        sa.Column("posting_id", sa.Uuid(), nullable=False),
        sa.Column("reference", sa.String(length=32), nullable=False),
        sa.Column("ticket_id", sa.Uuid(), nullable=True),
        sa.Column("counter_id", sa.Uuid(), nullable=False),
        sa.Column("teller_id", sa.Uuid(), nullable=False),
        sa.Column("branch_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("created_at", branchdesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branches.id"], name=op.f("fk_counter_postings_branch_id_branches")
        ),
        sa.ForeignKeyConstraint(
            ["counter_id"], ["counters.id"], name=op.f("fk_counter_postings_counter_id_counters")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_counter_postings_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["posting_id"], ["postings.id"], name=op.f("fk_counter_postings_posting_id_postings")
        ),
        sa.ForeignKeyConstraint(
            ["teller_id"], ["users.id"], name=op.f("fk_counter_postings_teller_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_counter_postings_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_counter_postings")),
        sa.UniqueConstraint("posting_id", name=op.f("uq_counter_postings_posting_id")),
        sa.UniqueConstraint("reference", name=op.f("uq_counter_postings_reference")),
    )
    with op.batch_alter_table("counter_postings", schema=None) as batch_op:
        batch_op.create_index("ix_counter_postings_ticket_id", ["ticket_id"], unique=False)

    op.create_table(
        "counter_identifications",
        sa.Column("ticket_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("identified_by_id", sa.Uuid(), nullable=False),
        sa.Column("identified_at", branchdesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_counter_identifications_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["identified_by_id"],
            ["users.id"],
            name=op.f("fk_counter_identifications_identified_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_counter_identifications_ticket_id_tickets"),
        ),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_counter_identifications")),
    )


def downgrade() -> None:
    op.drop_table("counter_identifications")
    with op.batch_alter_table("counter_postings", schema=None) as batch_op:
        batch_op.drop_index("ix_counter_postings_ticket_id")
    op.drop_table("counter_postings")

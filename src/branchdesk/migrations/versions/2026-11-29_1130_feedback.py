"""feedback: survey responses and survey invitations

Revision ID: 0007
Revises: 0004
Create Date: 2026-11-29 11:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import branchdesk.core.db

revision: str = "0007"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "survey_responses",
        sa.Column("ticket_id", sa.Uuid(), nullable=False),
        sa.Column("branch_id", sa.Uuid(), nullable=False),
        sa.Column("region", sa.String(length=60), nullable=False),
        sa.Column("service_type_id", sa.Uuid(), nullable=False),
        sa.Column("counter_id", sa.Uuid(), nullable=True),
        sa.Column("teller_id", sa.Uuid(), nullable=True),
        sa.Column("business_on", sa.Date(), nullable=False),
        sa.Column("csat", sa.SmallInteger(), nullable=False),
        sa.Column("nps", sa.SmallInteger(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("is_detractor", sa.Boolean(), nullable=False),
        sa.Column("follow_up_case_id", sa.Uuid(), nullable=True),
        sa.Column("answered_at", branchdesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("csat BETWEEN 1 AND 5", name=op.f("ck_survey_responses_csat_range")),
        sa.CheckConstraint("nps BETWEEN 0 AND 10", name=op.f("ck_survey_responses_nps_range")),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branches.id"], name=op.f("fk_survey_responses_branch_id_branches")
        ),
        sa.ForeignKeyConstraint(
            ["counter_id"], ["counters.id"], name=op.f("fk_survey_responses_counter_id_counters")
        ),
        sa.ForeignKeyConstraint(
            ["service_type_id"],
            ["service_types.id"],
            name=op.f("fk_survey_responses_service_type_id_service_types"),
        ),
        sa.ForeignKeyConstraint(
            ["teller_id"], ["users.id"], name=op.f("fk_survey_responses_teller_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_survey_responses_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_responses")),
        sa.UniqueConstraint("ticket_id", name=op.f("uq_survey_responses_ticket_id")),
    )
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.create_index(
            "ix_survey_responses_rollup",
            ["business_on", "branch_id", "teller_id", "counter_id", "service_type_id", "region",
             "csat", "nps"],
            unique=False,
        )  # fmt: skip
    op.create_table(
        "survey_invitations",
        sa.Column("ticket_id", sa.Uuid(), nullable=False),
        sa.Column("branch_id", sa.Uuid(), nullable=False),
        sa.Column("sent_to", sa.String(length=16), nullable=False),
        sa.Column("sent_at", branchdesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branches.id"], name=op.f("fk_survey_invitations_branch_id_branches")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_survey_invitations_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_survey_invitations")),
    )


def downgrade() -> None:
    op.drop_table("survey_invitations")
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.drop_index("ix_survey_responses_rollup")
    op.drop_table("survey_responses")

"""aml alert postings (one alert per posting and typology), kyc facts, remittance country,
control self-assessment review

Revision ID: 0022
Revises: 0013, 0016
Create Date: 2026-11-29 14:15:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import branchdesk.core.db

revision: str = "0022"
down_revision: str | Sequence[str] | None = ("0013", "0016")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "aml_alert_postings",
        sa.Column("alert_id", sa.Uuid(), nullable=False),
        sa.Column("posting_id", sa.Uuid(), nullable=False),
        sa.Column("typology", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["aml_alerts.id"],
            name=op.f("fk_aml_alert_postings_alert_id_aml_alerts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["posting_id"], ["postings.id"], name=op.f("fk_aml_alert_postings_posting_id_postings")
        ),
        sa.PrimaryKeyConstraint("alert_id", "posting_id", name=op.f("pk_aml_alert_postings")),
        sa.UniqueConstraint(
            "posting_id", "typology", name=op.f("uq_aml_alert_postings_posting_id_typology")
        ),
    )
    with op.batch_alter_table("kyc_profiles", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("occupation", sa.String(length=64), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("nationality", sa.String(length=2), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("residence_country", sa.String(length=2), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("is_pep", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("products", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
        batch_op.add_column(
            sa.Column("channels", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
    with op.batch_alter_table("postings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "counterparty_country", sa.String(length=2), nullable=False, server_default=""
            )
        )
    with op.batch_alter_table("csa_responses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reviewed_by_id", sa.Uuid(), nullable=True))
        batch_op.add_column(
            sa.Column("reviewed_at", branchdesk.core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("review_note", sa.Text(), nullable=False, server_default=""))
        batch_op.create_foreign_key(
            batch_op.f("fk_csa_responses_reviewed_by_id_users"), "users", ["reviewed_by_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("csa_responses", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_csa_responses_reviewed_by_id_users"), type_="foreignkey"
        )
        batch_op.drop_column("review_note")
        batch_op.drop_column("reviewed_at")
        batch_op.drop_column("reviewed_by_id")
    with op.batch_alter_table("postings", schema=None) as batch_op:
        batch_op.drop_column("counterparty_country")
    with op.batch_alter_table("kyc_profiles", schema=None) as batch_op:
        for name in ("channels", "products", "is_pep", "residence_country", "nationality"):
            batch_op.drop_column(name)
        batch_op.drop_column("occupation")
    op.drop_table("aml_alert_postings")

"""care: greetings, campaigns, education library, risk assessments, relationship manager,
event-driven follow-up tasks, greeting and offer preferences

Revision ID: 0020
Revises: 0014, 0005
Create Date: 2026-11-29 14:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import branchdesk.core.db

revision: str = "0020"
# care_tasks come from the analytics head, notification preferences from the portal's
down_revision: str | Sequence[str] | None = ("0014", "0005")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = branchdesk.core.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "care_greetings",
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("occasion", sa.String(length=32), nullable=False),
        sa.Column("occasion_key", sa.String(length=48), nullable=False),
        sa.Column("occasion_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("message_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_care_greetings_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_greetings")),
        sa.UniqueConstraint(
            "customer_id", "occasion_key", name=op.f("uq_care_greetings_customer_id_occasion_key")
        ),
    )
    with op.batch_alter_table("care_greetings") as batch_op:
        batch_op.create_index(batch_op.f("ix_care_greetings_customer_id"), ["customer_id"])

    op.create_table(
        "care_campaigns",
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("branch_id", sa.Uuid(), nullable=False),
        sa.Column("segment_kind", sa.String(length=16), nullable=False),
        sa.Column("segment", sa.String(length=40), nullable=False),
        sa.Column("text_zh_hant", sa.String(length=500), nullable=False),
        sa.Column("text_zh_hans", sa.String(length=500), nullable=False),
        sa.Column("text_en", sa.String(length=500), nullable=False),
        sa.Column("scheduled_at", UTC, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=False),
        sa.Column("decided_by_id", sa.Uuid(), nullable=True),
        sa.Column("decided_at", UTC, nullable=True),
        sa.Column("decision_note", sa.String(length=300), nullable=False),
        sa.Column("sent_at", UTC, nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branches.id"], name=op.f("fk_care_campaigns_branch_id_branches")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_care_campaigns_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["users.id"], name=op.f("fk_care_campaigns_decided_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_campaigns")),
    )
    with op.batch_alter_table("care_campaigns") as batch_op:
        batch_op.create_index(batch_op.f("ix_care_campaigns_branch_id"), ["branch_id"])

    op.create_table(
        "care_campaign_recipients",
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("message_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["care_campaigns.id"],
            name=op.f("fk_care_campaign_recipients_campaign_id_care_campaigns"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_care_campaign_recipients_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_campaign_recipients")),
        sa.UniqueConstraint(
            "campaign_id",
            "customer_id",
            name=op.f("uq_care_campaign_recipients_campaign_id_customer_id"),
        ),
    )
    with op.batch_alter_table("care_campaign_recipients") as batch_op:
        batch_op.create_index(
            batch_op.f("ix_care_campaign_recipients_customer_id"), ["customer_id"]
        )

    op.create_table(
        "education_items",
        sa.Column("slug", sa.String(length=60), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("title_zh_hant", sa.String(length=160), nullable=False),
        sa.Column("title_zh_hans", sa.String(length=160), nullable=False),
        sa.Column("title_en", sa.String(length=160), nullable=False),
        sa.Column("body_zh_hant", sa.Text(), nullable=False),
        sa.Column("body_zh_hans", sa.Text(), nullable=False),
        sa.Column("body_en", sa.Text(), nullable=False),
        sa.Column("segment_kind", sa.String(length=16), nullable=True),
        sa.Column("segment", sa.String(length=40), nullable=True),
        sa.Column("is_published", sa.Boolean(), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_education_items_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_education_items")),
        sa.UniqueConstraint("slug", name=op.f("uq_education_items_slug")),
    )

    op.create_table(
        "education_reads",
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column("branch_id", sa.Uuid(), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("read_at", UTC, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branches.id"], name=op.f("fk_education_reads_branch_id_branches")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_education_reads_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["education_items.id"],
            name=op.f("fk_education_reads_item_id_education_items"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_education_reads")),
    )
    with op.batch_alter_table("education_reads") as batch_op:
        batch_op.create_index(batch_op.f("ix_education_reads_customer_id"), ["customer_id"])
        batch_op.create_index("ix_education_reads_item_channel", ["item_id", "channel"])

    op.create_table(
        "risk_assessments",
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("risk_tolerance", sa.String(length=2), nullable=False),
        sa.Column("assessed_at", UTC, nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("assessed_by_id", sa.Uuid(), nullable=True),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessed_by_id"], ["users.id"], name=op.f("fk_risk_assessments_assessed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_risk_assessments_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_assessments")),
    )
    with op.batch_alter_table("risk_assessments") as batch_op:
        batch_op.create_index(
            "ix_risk_assessments_customer_assessed", ["customer_id", "assessed_at"]
        )

    with op.batch_alter_table("customers") as batch_op:
        batch_op.add_column(sa.Column("relationship_manager_id", sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_customers_relationship_manager_id_users"),
            "users",
            ["relationship_manager_id"],
            ["id"],
        )
        batch_op.create_index(
            batch_op.f("ix_customers_relationship_manager_id"), ["relationship_manager_id"]
        )

    with op.batch_alter_table("care_tasks") as batch_op:
        batch_op.alter_column("run_id", existing_type=sa.Uuid(), nullable=True)
        batch_op.add_column(
            sa.Column("outcome", sa.String(length=24), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("outcome_note", sa.String(length=300), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("completed_at", UTC, nullable=True))
        batch_op.add_column(sa.Column("completed_by_id", sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_care_tasks_completed_by_id_users"), "users", ["completed_by_id"], ["id"]
        )

    with op.batch_alter_table("portal_notification_preferences") as batch_op:
        for name, default in (
            ("greetings_sms", sa.true()),
            ("greetings_email", sa.false()),
            ("offers_sms", sa.true()),
            ("offers_email", sa.true()),
        ):
            batch_op.add_column(
                sa.Column(name, sa.Boolean(), server_default=default, nullable=False)
            )


def downgrade() -> None:
    with op.batch_alter_table("portal_notification_preferences") as batch_op:
        for name in ("offers_email", "offers_sms", "greetings_email", "greetings_sms"):
            batch_op.drop_column(name)
    with op.batch_alter_table("care_tasks") as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_care_tasks_completed_by_id_users"), type_="foreignkey"
        )
        for name in ("completed_by_id", "completed_at", "outcome_note", "outcome"):
            batch_op.drop_column(name)
        batch_op.alter_column("run_id", existing_type=sa.Uuid(), nullable=False)
    with op.batch_alter_table("customers") as batch_op:
        batch_op.drop_index(batch_op.f("ix_customers_relationship_manager_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_customers_relationship_manager_id_users"), type_="foreignkey"
        )
        batch_op.drop_column("relationship_manager_id")
    op.drop_table("risk_assessments")
    op.drop_table("education_reads")
    op.drop_table("education_items")
    op.drop_table("care_campaign_recipients")
    op.drop_table("care_campaigns")
    op.drop_table("care_greetings")

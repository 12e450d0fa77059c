"""complaints: cases, timeline, SLA pauses/alerts/extensions, webhook deliveries, jurisdictions,
improvement actions

Revision ID: 0008
Revises: 0004
Create Date: 2026-11-29 11:15:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import branchdesk.core.db

revision: str = "0008"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "complaint_branch_jurisdictions",
        sa.Column("branch_id", sa.Uuid(), nullable=False),
        sa.Column("jurisdiction", sa.String(length=8), nullable=False),
        sa.Column("updated_at", branchdesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            ["branches.id"],
            name=op.f("fk_complaint_branch_jurisdictions_branch_id_branches"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("branch_id", name=op.f("pk_complaint_branch_jurisdictions")),
    )
    op.create_table(
        "complaint_cases",
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=24), nullable=False),
        sa.Column("source_ref", sa.String(length=200), nullable=True),
        sa.Column("thread_key", sa.String(length=200), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=True),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("is_complex", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("branch_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column("contact_name", sa.String(length=120), nullable=False),
        sa.Column("contact_email", sa.String(length=254), nullable=False),
        sa.Column("contact_phone", sa.String(length=32), nullable=False),
        sa.Column("contact_handle", sa.String(length=200), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("related_ticket_id", sa.Uuid(), nullable=True),
        sa.Column("related_posting_id", sa.Uuid(), nullable=True),
        sa.Column("assignee_id", sa.Uuid(), nullable=True),
        sa.Column("jurisdiction", sa.String(length=8), nullable=False),
        sa.Column("policy_code", sa.String(length=40), nullable=False),
        sa.Column("policy_version", sa.Integer(), nullable=False),
        sa.Column("received_at", branchdesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", branchdesk.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("first_reply_at", branchdesk.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", branchdesk.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", branchdesk.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "acknowledge_due_at", branchdesk.core.db.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("interim_due_at", branchdesk.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("final_due_at", branchdesk.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("extended_final_days", sa.Integer(), nullable=True),
        sa.Column("root_cause", sa.Text(), nullable=False),
        sa.Column("resolution", sa.Text(), nullable=False),
        sa.Column("predicted_category", sa.String(length=40), nullable=True),
        sa.Column("predicted_category_confidence", sa.Float(), nullable=True),
        sa.Column("predicted_sentiment", sa.String(length=16), nullable=True),
        sa.Column("predicted_sentiment_confidence", sa.Float(), nullable=True),
        sa.Column("detected_language", sa.String(length=8), nullable=True),
        sa.Column("created_at", branchdesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", branchdesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["users.id"], name=op.f("fk_complaint_cases_assignee_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branches.id"], name=op.f("fk_complaint_cases_branch_id_branches")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_complaint_cases_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["related_posting_id"],
            ["postings.id"],
            name=op.f("fk_complaint_cases_related_posting_id_postings"),
        ),
        sa.ForeignKeyConstraint(
            ["related_ticket_id"],
            ["tickets.id"],
            name=op.f("fk_complaint_cases_related_ticket_id_tickets"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_cases")),
        sa.UniqueConstraint(
            "channel", "source_ref", name=op.f("uq_complaint_cases_channel_source_ref")
        ),
        sa.UniqueConstraint("reference", name=op.f("uq_complaint_cases_reference")),
    )
    with op.batch_alter_table("complaint_cases", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_complaint_cases_assignee_id"), ["assignee_id"], unique=False
        )
        batch_op.create_index(
            "ix_complaint_cases_branch_state", ["branch_id", "state"], unique=False
        )
        batch_op.create_index("ix_complaint_cases_thread", ["channel", "thread_key"], unique=False)

    op.create_table(
        "complaint_extensions",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("total_days", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_by_id", sa.Uuid(), nullable=True),
        sa.Column("requested_at", branchdesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_by_id", sa.Uuid(), nullable=True),
        sa.Column("decided_at", branchdesk.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "customer_notified_at", branchdesk.core.db.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["complaint_cases.id"],
            name=op.f("fk_complaint_extensions_case_id_complaint_cases"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["users.id"],
            name=op.f("fk_complaint_extensions_decided_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["users.id"],
            name=op.f("fk_complaint_extensions_requested_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_extensions")),
    )
    with op.batch_alter_table("complaint_extensions", schema=None) as batch_op:
        batch_op.create_index("ix_complaint_extensions_case", ["case_id"], unique=False)

    op.create_table(
        "complaint_hook_deliveries",
        sa.Column("channel", sa.String(length=24), nullable=False),
        sa.Column("delivery_id", sa.String(length=200), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=True),
        sa.Column("received_at", branchdesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["complaint_cases.id"],
            name=op.f("fk_complaint_hook_deliveries_case_id_complaint_cases"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_hook_deliveries")),
        sa.UniqueConstraint(
            "channel", "delivery_id", name=op.f("uq_complaint_hook_deliveries_channel_delivery_id")
        ),
    )
    op.create_table(
        "complaint_improvement_actions",
        sa.Column("case_id", sa.Uuid(), nullable=True),
        sa.Column("topic", sa.String(length=120), nullable=False),
        sa.Column("branch_id", sa.Uuid(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("kpi", sa.String(length=120), nullable=False),
        sa.Column("baseline_value", sa.Float(), nullable=True),
        sa.Column("measured_value", sa.Float(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", branchdesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", branchdesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            ["branches.id"],
            name=op.f("fk_complaint_improvement_actions_branch_id_branches"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["complaint_cases.id"],
            name=op.f("fk_complaint_improvement_actions_case_id_complaint_cases"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_complaint_improvement_actions_owner_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_improvement_actions")),
    )
    op.create_table(
        "complaint_pauses",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("started_at", branchdesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", branchdesk.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["complaint_cases.id"],
            name=op.f("fk_complaint_pauses_case_id_complaint_cases"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_pauses")),
    )
    with op.batch_alter_table("complaint_pauses", schema=None) as batch_op:
        batch_op.create_index("ix_complaint_pauses_case", ["case_id"], unique=False)

    op.create_table(
        "complaint_sla_alerts",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("target", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("due_at", branchdesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("raised_at", branchdesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["complaint_cases.id"],
            name=op.f("fk_complaint_sla_alerts_case_id_complaint_cases"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_sla_alerts")),
        sa.UniqueConstraint(
            "case_id", "target", "kind", name=op.f("uq_complaint_sla_alerts_case_id_target_kind")
        ),
    )
    op.create_table(
        "complaint_timeline",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("occurred_at", branchdesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("actor_label", sa.String(length=120), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_complaint_timeline_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["complaint_cases.id"],
            name=op.f("fk_complaint_timeline_case_id_complaint_cases"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_timeline")),
    )
    with op.batch_alter_table("complaint_timeline", schema=None) as batch_op:
        batch_op.create_index(
            "ix_complaint_timeline_case", ["case_id", "occurred_at"], unique=False
        )

    # ### end Alembic commands ###


def downgrade() -> None:
    with op.batch_alter_table("complaint_timeline", schema=None) as batch_op:
        batch_op.drop_index("ix_complaint_timeline_case")

    op.drop_table("complaint_timeline")
    op.drop_table("complaint_sla_alerts")
    with op.batch_alter_table("complaint_pauses", schema=None) as batch_op:
        batch_op.drop_index("ix_complaint_pauses_case")

    op.drop_table("complaint_pauses")
    op.drop_table("complaint_improvement_actions")
    op.drop_table("complaint_hook_deliveries")
    with op.batch_alter_table("complaint_extensions", schema=None) as batch_op:
        batch_op.drop_index("ix_complaint_extensions_case")

    op.drop_table("complaint_extensions")
    with op.batch_alter_table("complaint_cases", schema=None) as batch_op:
        batch_op.drop_index("ix_complaint_cases_thread")
        batch_op.drop_index("ix_complaint_cases_branch_state")
        batch_op.drop_index(batch_op.f("ix_complaint_cases_assignee_id"))

    op.drop_table("complaint_cases")
    op.drop_table("complaint_branch_jurisdictions")
    # ### end Alembic commands ###

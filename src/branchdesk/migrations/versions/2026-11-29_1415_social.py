"""social: posts per channel (maker-checker, scheduled publishing) and the interaction log

Revision ID: 0017
Revises: 0008
Create Date: 2026-11-29 14:15:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import branchdesk.core.db

revision: str = "0017"
down_revision: str | None = "0008"  # interactions link to complaint cases
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = branchdesk.core.db.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "social_posts",
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("branch_id", sa.Uuid(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link_url", sa.String(length=500), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("scheduled_at", UTC(timezone=True), nullable=True),
        sa.Column("drafted_by_id", sa.Uuid(), nullable=False),
        sa.Column("submitted_at", UTC(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.Uuid(), nullable=True),
        sa.Column("decided_at", UTC(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=False),
        sa.Column("published_at", UTC(timezone=True), nullable=True),
        sa.Column("published_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("updated_at", UTC(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branches.id"], name=op.f("fk_social_posts_branch_id_branches")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["users.id"], name=op.f("fk_social_posts_decided_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["drafted_by_id"], ["users.id"], name=op.f("fk_social_posts_drafted_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_social_posts")),
        sa.UniqueConstraint("reference", name=op.f("uq_social_posts_reference")),
    )
    with op.batch_alter_table("social_posts", schema=None) as batch_op:
        batch_op.create_index("ix_social_posts_branch_state", ["branch_id", "state"], unique=False)

    op.create_table(
        "social_interactions",
        sa.Column("hook", sa.String(length=16), nullable=False),
        sa.Column("delivery_id", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("branch_id", sa.Uuid(), nullable=False),
        sa.Column("post_id", sa.Uuid(), nullable=True),
        sa.Column("case_id", sa.Uuid(), nullable=True),
        sa.Column("sender_handle", sa.String(length=200), nullable=False),
        sa.Column("sender_name", sa.String(length=120), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("received_at", UTC(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branches.id"], name=op.f("fk_social_interactions_branch_id_branches")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["complaint_cases.id"],
            name=op.f("fk_social_interactions_case_id_complaint_cases"),
        ),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["social_posts.id"],
            name=op.f("fk_social_interactions_post_id_social_posts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_social_interactions")),
        sa.UniqueConstraint(
            "hook", "delivery_id", name=op.f("uq_social_interactions_hook_delivery_id")
        ),
    )
    with op.batch_alter_table("social_interactions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_social_interactions_branch_received", ["branch_id", "received_at"], unique=False
        )
        batch_op.create_index("ix_social_interactions_post", ["post_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("social_interactions", schema=None) as batch_op:
        batch_op.drop_index("ix_social_interactions_post")
        batch_op.drop_index("ix_social_interactions_branch_received")
    op.drop_table("social_interactions")
    with op.batch_alter_table("social_posts", schema=None) as batch_op:
        batch_op.drop_index("ix_social_posts_branch_state")
    op.drop_table("social_posts")

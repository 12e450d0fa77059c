"""Social posts (drafted, approved, published per channel) and the interaction log."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from branchdesk.complaints import models as complaint_models
from branchdesk.core.db import Base, IdMixin

# Interactions link complaint cases: their table must be in the metadata wherever this is used.
_LINKED = complaint_models.Case


class PostState(StrEnum):
    draft = "draft"
    pending_approval = "pending_approval"
    approved = "approved"
    rejected = "rejected"
    published = "published"


class InteractionKind(StrEnum):
    reply = "reply"  # names one of our posts
    message = "message"  # a direct message or mention without a post


class Post(IdMixin, Base):
    __tablename__ = "social_posts"
    __table_args__ = (Index("ix_social_posts_branch_state", "branch_id", "state"),)

    reference: Mapped[str] = mapped_column(String(20), unique=True)
    branch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("branches.id"))
    channel: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    link_url: Mapped[str] = mapped_column(String(500), default="")
    state: Mapped[str] = mapped_column(String(24))
    scheduled_at: Mapped[datetime | None]
    # The maker: whoever last wrote the text (an approver must be someone else).
    drafted_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime | None]
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime | None]
    published_by: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Interaction(IdMixin, Base):
    """One reply or message that arrived through a signed social webhook."""

    __tablename__ = "social_interactions"
    __table_args__ = (
        UniqueConstraint("hook", "delivery_id"),
        Index("ix_social_interactions_branch_received", "branch_id", "received_at"),
        Index("ix_social_interactions_post", "post_id"),
    )

    hook: Mapped[str] = mapped_column(String(16))
    delivery_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    branch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("branches.id"))
    post_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("social_posts.id"))
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("complaint_cases.id"))
    sender_handle: Mapped[str] = mapped_column(String(200))
    sender_name: Mapped[str] = mapped_column(String(120), default="")
    text: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime]

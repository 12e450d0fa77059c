"""Care tables: greetings sent (one per customer and occasion), campaigns to segments and their
recipients, the education library and its reads, and stored risk-tolerance assessments.

Follow-up visits are ``analytics.models.CareTask`` rows (``run_id`` NULL when an event, not the
nightly run, made them); the relationship manager is ``customers.relationship_manager_id``.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from branchdesk.core.db import Base, IdMixin


class GreetingStatus(StrEnum):
    sent = "sent"
    opted_out = "opted_out"  # the customer turned greetings off in the portal
    no_contact = "no_contact"  # no phone number or e-mail address on file


class CampaignStatus(StrEnum):
    draft = "draft"
    pending_approval = "pending_approval"
    approved = "approved"  # waits for its scheduled time
    rejected = "rejected"
    sent = "sent"


class RecipientOutcome(StrEnum):
    sent = "sent"
    no_consent = "no_consent"  # no marketing consent on the customer file
    opted_out = "opted_out"  # offers turned off in the portal's notification settings
    no_contact = "no_contact"


class EducationKind(StrEnum):
    article = "article"
    fraud_warning = "fraud_warning"
    product_explainer = "product_explainer"


class ReadChannel(StrEnum):
    portal = "portal"
    kiosk = "kiosk"


class Greeting(IdMixin, Base):
    """One greeting occasion of one customer: sent or why not (the job acts once per key)."""

    __tablename__ = "care_greetings"
    __table_args__ = (UniqueConstraint("customer_id", "occasion_key"),)

    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"), index=True)
    occasion: Mapped[str] = mapped_column(String(32))  # birthday, spring_festival, ...
    occasion_key: Mapped[str] = mapped_column(String(48))  # birthday:2026, mid_autumn:2026
    occasion_on: Mapped[date]
    status: Mapped[str] = mapped_column(String(16))
    message_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime]


class Campaign(IdMixin, Base):
    """A message to one analytics segment of one branch, sent once approved and due."""

    __tablename__ = "care_campaigns"

    name: Mapped[str] = mapped_column(String(120))
    branch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("branches.id"), index=True)
    segment_kind: Mapped[str] = mapped_column(String(16))
    segment: Mapped[str] = mapped_column(String(40))
    text_zh_hant: Mapped[str] = mapped_column(String(500))
    text_zh_hans: Mapped[str] = mapped_column(String(500))
    text_en: Mapped[str] = mapped_column(String(500))
    scheduled_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), default=CampaignStatus.draft)
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str] = mapped_column(String(300), default="")
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class CampaignRecipient(IdMixin, Base):
    """One customer of the segment when the campaign went out, and what happened."""

    __tablename__ = "care_campaign_recipients"
    __table_args__ = (UniqueConstraint("campaign_id", "customer_id"),)

    campaign_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("care_campaigns.id"))
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    message_id: Mapped[uuid.UUID | None]


class EducationItem(IdMixin, Base):
    """An article, fraud warning or product explainer in three languages, maybe for a segment."""

    __tablename__ = "education_items"

    slug: Mapped[str] = mapped_column(String(60), unique=True)
    kind: Mapped[str] = mapped_column(String(24))
    title_zh_hant: Mapped[str] = mapped_column(String(160))
    title_zh_hans: Mapped[str] = mapped_column(String(160))
    title_en: Mapped[str] = mapped_column(String(160))
    body_zh_hant: Mapped[str] = mapped_column(Text)
    body_zh_hans: Mapped[str] = mapped_column(Text)
    body_en: Mapped[str] = mapped_column(Text)
    # NULL: everyone; otherwise only customers currently in this segment
    segment_kind: Mapped[str | None] = mapped_column(String(16))
    segment: Mapped[str | None] = mapped_column(String(40))
    is_published: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class EducationRead(IdMixin, Base):
    """One opening of an item: by a logged-in customer (portal) or at a branch kiosk."""

    __tablename__ = "education_reads"
    __table_args__ = (Index("ix_education_reads_item_channel", "item_id", "channel"),)

    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("education_items.id"))
    customer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("customers.id"), index=True)
    branch_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("branches.id"))
    channel: Mapped[str] = mapped_column(String(16))
    read_at: Mapped[datetime]


class RiskAssessment(IdMixin, Base):
    """A suitability assessment (C1-C5); the latest one not expired on a day is in force."""

    __tablename__ = "risk_assessments"
    __table_args__ = (Index("ix_risk_assessments_customer_assessed", "customer_id", "assessed_at"),)

    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"))
    risk_tolerance: Mapped[str] = mapped_column(String(2))
    assessed_at: Mapped[datetime]
    expires_on: Mapped[date]
    assessed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(String(300), default="")

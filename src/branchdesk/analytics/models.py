"""Tables the nightly analytics pipeline writes back to the operational database.

Per-run results (features, recommendations) are replaced per as-of date; segment and tier
history (``customer_segments``) is kept with valid_from/valid_to (the loyalty tier's history too;
points and tiers themselves live in ``branchdesk.loyalty``); care tasks are deduplicated by a key.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from branchdesk.core.db import Base, IdMixin

MinorType = BigInteger().with_variant(Integer(), "sqlite")


class AnalyticsRun(IdMixin, Base):
    """One pipeline run: as-of date, engine, rule version, timings and cluster profiles."""

    __tablename__ = "analytics_runs"

    run_on: Mapped[date] = mapped_column(index=True)
    engine: Mapped[str] = mapped_column(String(16))
    rule_version: Mapped[str] = mapped_column(String(60))
    customer_count: Mapped[int]
    milliseconds: Mapped[int]
    profile: Mapped[dict[str, Any]] = mapped_column(JSON())
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime]


class CustomerFeature(IdMixin, Base):
    """Per customer and as-of date: the features the segments and recommendations used."""

    __tablename__ = "customer_features"
    __table_args__ = (UniqueConstraint("as_of", "customer_id"),)

    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("analytics_runs.id"), index=True)
    as_of: Mapped[date]
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"), index=True)
    base_currency: Mapped[str] = mapped_column(String(3))
    assets_minor: Mapped[int] = mapped_column(MinorType)
    assets_30d_ago_minor: Mapped[int] = mapped_column(MinorType)
    recency_days: Mapped[int | None]
    frequency: Mapped[int]
    monetary_minor: Mapped[int] = mapped_column(MinorType)
    product_count: Mapped[int]
    products: Mapped[str] = mapped_column(String(200))
    counter_visits: Mapped[int]
    portal_visits: Mapped[int]
    remote_visits: Mapped[int]
    appointments: Mapped[int]
    tenure_months: Mapped[int]
    risk_tolerance: Mapped[str] = mapped_column(String(2))
    is_risk_tolerance_default: Mapped[bool]
    r_score: Mapped[int]
    f_score: Mapped[int]
    m_score: Mapped[int]


class CustomerSegment(IdMixin, Base):
    """Segment history: one open row (valid_to NULL) per customer and kind."""

    __tablename__ = "customer_segments"
    __table_args__ = (Index("ix_customer_segments_customer_kind", "customer_id", "kind"),)

    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"))
    kind: Mapped[str] = mapped_column(String(16))  # asset_tier, rfm, cluster, loyalty_tier
    segment: Mapped[str] = mapped_column(String(40))
    valid_from: Mapped[date]
    valid_to: Mapped[date | None]
    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("analytics_runs.id"), index=True)


class CustomerRecommendation(IdMixin, Base):
    __tablename__ = "customer_recommendations"
    __table_args__ = (UniqueConstraint("as_of", "customer_id", "rank"),)

    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("analytics_runs.id"), index=True)
    as_of: Mapped[date]
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"), index=True)
    rank: Mapped[int]
    product_code: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(String(500))  # English wording of reason_parts
    rule_version: Mapped[str] = mapped_column(String(60))
    # reason codes with parameters (analytics.recommend.reasons), worded in the viewer's
    # language when shown; NULL for rows written before migration 0023 (then ``reason``)
    reason_parts: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON())


class CareTask(IdMixin, Base):
    """A follow-up for the customer's branch (or relationship manager), deduplicated by key."""

    __tablename__ = "care_tasks"

    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"), index=True)
    rule_code: Mapped[str] = mapped_column(String(32))
    dedupe_key: Mapped[str] = mapped_column(String(160), unique=True)
    due_on: Mapped[date]
    branch_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("branches.id"), index=True)
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(16), default="open")
    detail: Mapped[str] = mapped_column(String(300), default="")
    # NULL: made by an event (care.followups), not by a nightly run
    run_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("analytics_runs.id"), index=True)
    created_at: Mapped[datetime]
    # set when done: how the contact went (care.rules.OUTCOMES) and a short note
    outcome: Mapped[str] = mapped_column(String(24), default="", server_default="")
    outcome_note: Mapped[str] = mapped_column(String(300), default="", server_default="")
    completed_at: Mapped[datetime | None]
    completed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))

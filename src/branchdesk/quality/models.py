"""Mystery-shopper visits scored against a service standard, the report e-mails sent, and the
per-day roll-up of the dashboard figures (see ``quality.rollup``)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from branchdesk.core.db import Base, IdMixin


class ChecklistVisit(IdMixin, Base):
    """One scored visit; the items are copied from the standard version in force that day."""

    __tablename__ = "quality_visits"
    __table_args__ = (Index("ix_quality_visits_branch_day", "branch_id", "visited_on"),)

    branch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("branches.id"))
    service_type_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("service_types.id"))
    standard_version: Mapped[int]
    visited_on: Mapped[date]
    teller_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    officer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    officer_label: Mapped[str] = mapped_column(String(120))
    passed: Mapped[int]
    failed: Mapped[int]
    not_applicable: Mapped[int]
    # passed / (passed + failed) in basis points (10000 = 100 %); None when every item is n/a.
    score_basis_points: Mapped[int | None]
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime]


class ChecklistVisitItem(IdMixin, Base):
    __tablename__ = "quality_visit_items"
    __table_args__ = (UniqueConstraint("visit_id", "code"),)

    visit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("quality_visits.id", ondelete="CASCADE"))
    position: Mapped[int]
    code: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    verdict: Mapped[str] = mapped_column(String(8))
    note: Mapped[str] = mapped_column(String(500), default="")


class ReportDelivery(IdMixin, Base):
    """A quality report e-mailed to one manager for one branch and period (sent at most once)."""

    __tablename__ = "quality_report_deliveries"
    __table_args__ = (
        UniqueConstraint(
            "period", "period_start", "branch_id", "recipient_id", name="uq_quality_report_once"
        ),
    )

    period: Mapped[str] = mapped_column(String(8))
    period_start: Mapped[date]
    branch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("branches.id"))
    recipient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    sent_at: Mapped[datetime]


class DailyFigures(Base):
    """The dashboard's counts of one branch, business day and member of one dimension.

    ``dimension`` is ``service``, ``teller`` or ``counter``; each dimension partitions the same
    tickets of the day again (``member`` is the id as text, ``""`` when a ticket has none, e.g.
    no teller for a ticket cancelled before the call). Histograms are sparse little-endian
    ``uint16`` pairs (bucket, count) with ``rollup.BUCKET_SECONDS``-wide buckets.
    """

    __tablename__ = "quality_daily"

    # dimension first: a page reads one dimension of many branch days
    dimension: Mapped[str] = mapped_column(String(8), primary_key=True)
    branch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("branches.id"), primary_key=True)
    business_on: Mapped[date] = mapped_column(primary_key=True)
    member: Mapped[str] = mapped_column(String(36), primary_key=True)
    tickets: Mapped[int]
    called: Mapped[int]
    completed: Mapped[int]
    abandoned: Mapped[int]
    no_show: Mapped[int]
    within_target: Mapped[int]
    served: Mapped[int]
    service_seconds_sum: Mapped[int]
    responses: Mapped[int]
    csat_sum: Mapped[int]
    csat_1: Mapped[int]
    csat_2: Mapped[int]
    csat_3: Mapped[int]
    csat_4: Mapped[int]
    csat_5: Mapped[int]
    promoters: Mapped[int]
    detractors: Mapped[int]
    wait_histogram: Mapped[bytes] = mapped_column(LargeBinary)
    service_histogram: Mapped[bytes] = mapped_column(LargeBinary)


class RollupDay(Base):
    """A closed branch day that the roll-up holds, with the fingerprint of its source rows."""

    __tablename__ = "quality_rollup_days"

    branch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("branches.id"), primary_key=True)
    business_on: Mapped[date] = mapped_column(primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(200))
    computed_at: Mapped[datetime]

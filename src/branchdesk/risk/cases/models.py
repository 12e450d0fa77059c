"""Tables of AML alerts, cases, case timelines, sweep watermarks and KYC profiles."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from branchdesk.core.db import Base, IdMixin


class AlertSource(StrEnum):
    hook = "hook"  # a posting the pre-posting check held for review or reported
    sweep = "sweep"  # the batch rules over the ledger's history
    watchlist = "watchlist"  # a watch-list hit at onboarding or on a list update


class CaseStatus(StrEnum):
    new = "new"
    under_review = "under_review"
    escalated = "escalated"
    reported = "reported"  # suspicious transaction report filed
    closed_no_action = "closed_no_action"


OPEN_STATUSES = (CaseStatus.new, CaseStatus.under_review, CaseStatus.escalated)


class KycStatus(StrEnum):
    valid = "valid"
    expiring = "expiring"
    expired = "expired"
    unknown = "unknown"  # no expiry date on file


class AmlCase(IdMixin, Base):
    __tablename__ = "aml_cases"
    __table_args__ = (Index("ix_aml_cases_customer_status", "customer_id", "status"),)

    reference: Mapped[str] = mapped_column(String(24), unique=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"))
    branch_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("branches.id"))
    status: Mapped[str] = mapped_column(String(20))
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    closing_reason: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class AmlAlert(IdMixin, Base):
    __tablename__ = "aml_alerts"
    __table_args__ = (
        Index("ix_aml_alerts_created_at", "created_at"),
        Index("ix_aml_alerts_customer_id", "customer_id"),
    )

    # typology + account + transaction set (or "hold:<posting>"), hashed: the same finding twice
    # is one alert
    fingerprint: Mapped[str] = mapped_column(String(80), unique=True)
    typology: Mapped[str] = mapped_column(String(32))
    account_number: Mapped[str] = mapped_column(String(20))
    customer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("customers.id"))
    branch_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("branches.id"))
    posting_ids: Mapped[list[str]]
    score_pct: Mapped[int] = mapped_column(Integer)  # 0..100
    reason: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(16))
    is_report: Mapped[bool] = mapped_column(default=False)  # large-value report, not suspicion
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("aml_cases.id"), index=True)
    first_booked_at: Mapped[datetime]
    created_at: Mapped[datetime]


class AmlAlertPosting(Base):
    """Which alert covers a posting for a typology: at most one per (posting, typology), so the
    pre-posting hook and the sweep never store the same finding twice (``risk.cases.alerts``)."""

    __tablename__ = "aml_alert_postings"
    __table_args__ = (UniqueConstraint("posting_id", "typology"),)

    alert_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("aml_alerts.id", ondelete="CASCADE"), primary_key=True
    )
    posting_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("postings.id"), primary_key=True)
    typology: Mapped[str] = mapped_column(String(32))


class AmlCaseEvent(IdMixin, Base):
    """One step on a case's timeline (the audit trail holds the same step, hash-chained)."""

    __tablename__ = "aml_case_events"

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("aml_cases.id"), index=True)
    occurred_at: Mapped[datetime]
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    actor_label: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str] = mapped_column(String(20), default="")
    to_status: Mapped[str] = mapped_column(String(20), default="")
    note: Mapped[str] = mapped_column(String(1000), default="")


class RiskWatermark(Base):
    """How far a sweep got (e.g. ``held_postings``: the last held posting's created_at)."""

    __tablename__ = "risk_watermarks"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[datetime]


class KycProfile(Base):
    """A customer's KYC state: ID expiry status, the last expiry reminder sent, risk rating
    (with reasons) and missing information."""

    __tablename__ = "kyc_profiles"

    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    id_expires_on: Mapped[date | None]
    # the smallest reminder threshold (days before expiry) already sent for ``id_expires_on``;
    # -1: the "expired" notice was sent
    reminded_days: Mapped[int | None]
    rating: Mapped[str] = mapped_column(String(8), default="")  # low, medium, high
    rating_reasons: Mapped[list[str]]
    missing: Mapped[list[str]]  # required fields not on file
    updated_at: Mapped[datetime]
    # the rating's facts the customers table does not keep (set on the KYC page)
    occupation: Mapped[str] = mapped_column(String(64), default="")
    nationality: Mapped[str] = mapped_column(String(2), default="")
    residence_country: Mapped[str] = mapped_column(String(2), default="")
    is_pep: Mapped[bool] = mapped_column(default=False)
    products: Mapped[list[str]] = mapped_column(default=list)  # beyond what the ledger shows
    channels: Mapped[list[str]] = mapped_column(default=list)


class WatchlistEntryRow(Base):
    """The watch list in force (replaced as a whole by ``branchdesk kyc load-watchlist``)."""

    __tablename__ = "watchlist_entries"

    entry_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    names: Mapped[list[str]]
    list_source: Mapped[str] = mapped_column(String(60))
    listed_on: Mapped[date]
    birth_date: Mapped[date | None]
    birth_year: Mapped[int | None] = mapped_column(Integer)
    country: Mapped[str] = mapped_column(String(2), default="")
    loaded_at: Mapped[datetime]

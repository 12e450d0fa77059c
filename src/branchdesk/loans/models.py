"""Loan tables: products, applications (with the assessment and decision), loans, instalments,
repayments and daily penalty accruals. Money in integer minor units, rates as Decimal text."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from branchdesk.core.db import Base, IdMixin

MinorType = BigInteger().with_variant(Integer(), "sqlite")


class ProductKind(StrEnum):
    personal = "personal"
    mortgage = "mortgage"
    car = "car"
    business = "business"


class RateType(StrEnum):
    fixed = "fixed"
    floating = "floating"  # reference rate + margin


class ApplicationStatus(StrEnum):
    approved = "approved"  # by the rules, or by an approver after a referral
    referred = "referred"  # waits for an approver (supervisor, not the maker)
    declined = "declined"  # by the rules, or by an approver
    disbursed = "disbursed"


class LoanStatus(StrEnum):
    active = "active"
    disbursement_pending = "disbursement_pending"  # the ledger held the posting
    closed = "closed"


class LoanProduct(IdMixin, Base):
    __tablename__ = "loan_products"
    __table_args__ = (
        CheckConstraint(
            "min_amount_minor > 0 AND max_amount_minor >= min_amount_minor",
            name="amount_range_valid",
        ),
        CheckConstraint(
            "min_term_months > 0 AND max_term_months >= min_term_months",
            name="term_range_valid",
        ),
    )

    code: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    name_zh_hant: Mapped[str] = mapped_column(String(120))
    name_zh_hans: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    currency: Mapped[str] = mapped_column(String(3))
    min_amount_minor: Mapped[int] = mapped_column(MinorType)
    max_amount_minor: Mapped[int] = mapped_column(MinorType)
    min_term_months: Mapped[int]
    max_term_months: Mapped[int]
    rate_type: Mapped[str] = mapped_column(String(16))
    fixed_rate: Mapped[str] = mapped_column(String(24), default="0")  # Decimal text, 0.045
    reference_rate_name: Mapped[str] = mapped_column(String(40), default="")
    reference_rate: Mapped[str] = mapped_column(String(24), default="0")
    margin: Mapped[str] = mapped_column(String(24), default="0")
    repayment_method: Mapped[str] = mapped_column(String(24))
    fee_flat_minor: Mapped[int] = mapped_column(MinorType, default=0)
    fee_bps: Mapped[int] = mapped_column(Integer, default=0)  # of the principal, at disbursement
    grace_months: Mapped[int] = mapped_column(Integer, default=0)
    penalty_rate: Mapped[str] = mapped_column(String(24), default="0")  # annual, on overdue
    required_documents: Mapped[list[str]] = mapped_column(JSON())
    decision_rules: Mapped[dict[str, Any]] = mapped_column(JSON())
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class LoanApplication(IdMixin, Base):
    __tablename__ = "loan_applications"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        Index("ix_loan_applications_branch_status", "branch_id", "status"),
    )

    reference: Mapped[str] = mapped_column(String(24), unique=True)  # LA-2026-000001
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    branch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("branches.id"))
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"), index=True)
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("loan_products.id"))
    amount_minor: Mapped[int] = mapped_column(MinorType)
    currency: Mapped[str] = mapped_column(String(3))
    term_months: Mapped[int]
    annual_rate: Mapped[str] = mapped_column(String(24))  # the product's rate when assessed
    monthly_income_minor: Mapped[int] = mapped_column(MinorType)
    monthly_obligations_minor: Mapped[int] = mapped_column(MinorType)
    applicant_data: Mapped[dict[str, Any]] = mapped_column(JSON())  # scorecard characteristics
    documents: Mapped[list[str]] = mapped_column(JSON())
    has_consent: Mapped[bool]
    status: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(16))  # the rules' outcome
    score: Mapped[str] = mapped_column(String(16))
    probability_bad: Mapped[str] = mapped_column(String(16))
    model_version: Mapped[str] = mapped_column(String(80))
    score_reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON())
    decision_reasons: Mapped[list[str]] = mapped_column(JSON())
    dsr: Mapped[str] = mapped_column(String(16))
    monthly_payment_minor: Mapped[int] = mapped_column(MinorType)
    credit_limit_minor: Mapped[int] = mapped_column(MinorType)
    maker_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))  # None: portal
    channel: Mapped[str] = mapped_column(String(16), server_default="branch")  # branch, portal
    approver_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    decision_note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class Loan(IdMixin, Base):
    __tablename__ = "loans"
    __table_args__ = (
        CheckConstraint("principal_minor > 0", name="principal_positive"),
        CheckConstraint("outstanding_principal_minor >= 0", name="outstanding_not_negative"),
        Index("ix_loans_branch_status", "branch_id", "status"),
    )

    number: Mapped[str] = mapped_column(String(24), unique=True)  # LN-2026-000001
    application_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("loan_applications.id"), unique=True
    )
    branch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("branches.id"))
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"), index=True)
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("loan_products.id"))
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"))
    currency: Mapped[str] = mapped_column(String(3))
    principal_minor: Mapped[int] = mapped_column(MinorType)
    fee_minor: Mapped[int] = mapped_column(MinorType)
    annual_rate: Mapped[str] = mapped_column(String(24))
    penalty_rate: Mapped[str] = mapped_column(String(24))
    repayment_method: Mapped[str] = mapped_column(String(24))
    term_months: Mapped[int]
    grace_months: Mapped[int] = mapped_column(Integer, default=0)
    disbursed_on: Mapped[date]
    status: Mapped[str] = mapped_column(String(24))
    outstanding_principal_minor: Mapped[int] = mapped_column(MinorType)
    penalty_due_minor: Mapped[int] = mapped_column(MinorType, default=0)
    days_past_due: Mapped[int] = mapped_column(Integer, default=0)
    max_days_past_due: Mapped[int] = mapped_column(Integer, default=0)
    bucket: Mapped[str] = mapped_column(String(16), default="current")
    last_accrued_on: Mapped[date | None]
    # floating rate: re-priced to the reference rate + margin when the reference changes
    reference_rate_name: Mapped[str] = mapped_column(String(40), server_default="")
    margin: Mapped[str] = mapped_column(String(24), server_default="0")
    # interest accrual: recognised so far (accrued or paid before accrual) and accrued unpaid
    interest_recognized_minor: Mapped[int] = mapped_column(MinorType, server_default="0")
    interest_receivable_minor: Mapped[int] = mapped_column(MinorType, server_default="0")
    # penalty accrued to the ledger and not paid yet (penalty accrued before 0024: not included)
    penalty_receivable_minor: Mapped[int] = mapped_column(MinorType, server_default="0")
    disbursement_posting_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("postings.id"))
    disbursed_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]


class LoanInstalment(IdMixin, Base):
    __tablename__ = "loan_instalments"
    __table_args__ = (
        UniqueConstraint("loan_id", "number"),
        CheckConstraint("paid_principal_minor <= principal_minor", name="principal_not_overpaid"),
        CheckConstraint("paid_interest_minor <= interest_minor", name="interest_not_overpaid"),
    )

    loan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("loans.id", ondelete="CASCADE"))
    number: Mapped[int]
    due_on: Mapped[date]
    principal_minor: Mapped[int] = mapped_column(MinorType)
    interest_minor: Mapped[int] = mapped_column(MinorType)
    paid_principal_minor: Mapped[int] = mapped_column(MinorType, default=0)
    paid_interest_minor: Mapped[int] = mapped_column(MinorType, default=0)


class LoanRepayment(IdMixin, Base):
    __tablename__ = "loan_repayments"

    loan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("loans.id"), index=True)
    posting_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("postings.id"), unique=True)
    amount_minor: Mapped[int] = mapped_column(MinorType)
    penalty_minor: Mapped[int] = mapped_column(MinorType)
    interest_minor: Mapped[int] = mapped_column(MinorType)
    principal_minor: Mapped[int] = mapped_column(MinorType)
    prepayment_minor: Mapped[int] = mapped_column(MinorType)
    paid_on: Mapped[date]
    actor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class LoanPenaltyAccrual(Base):
    """One row per loan and day: the daily job accrues a day at most once; the ledger posting
    (per branch, currency and run) that recognised it (None: accrued before revision 0024)."""

    __tablename__ = "loan_penalty_accruals"

    loan_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("loans.id", ondelete="CASCADE"), primary_key=True
    )
    accrued_on: Mapped[date] = mapped_column(primary_key=True)
    overdue_minor: Mapped[int] = mapped_column(MinorType)
    amount_minor: Mapped[int] = mapped_column(MinorType)
    days_past_due: Mapped[int]
    posting_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("postings.id"))


class RestructuringStatus(StrEnum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"


class LoanRestructuring(IdMixin, Base):
    """A request to spread the principal left over a new number of months; a supervisor other
    than the requester approves (then the schedule is rebuilt) or rejects it."""

    __tablename__ = "loan_restructurings"
    __table_args__ = (CheckConstraint("new_term_months > 0", name="term_positive"),)

    loan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("loans.id"), index=True)
    new_term_months: Mapped[int]
    reason: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16))
    requested_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    decision_note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]


class AlertStatus(StrEnum):
    open = "open"
    closed = "closed"


class LoanAlert(IdMixin, Base):
    """A loan on the watch list: its score and reasons, the actions taken and their outcomes.

    At most one open alert per loan (the daily job updates it instead of opening another)."""

    __tablename__ = "loan_alerts"
    __table_args__ = (Index("ix_loan_alerts_status_branch", "status", "branch_id"),)

    loan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("loans.id"), index=True)
    branch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("branches.id"))
    status: Mapped[str] = mapped_column(String(16))
    score: Mapped[int]
    reasons: Mapped[list[str]] = mapped_column(JSON())
    actions: Mapped[list[dict[str, Any]]] = mapped_column(JSON())  # action, outcome, by, at
    opened_on: Mapped[date]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]


class ApplicationChannel(StrEnum):
    branch = "branch"
    portal = "portal"  # the customer applied online (no staff maker)


class LoanDpdSnapshot(Base):
    """Days past due, bucket and principal of a loan at the end of a business day (one row per
    loan and day, written by the daily job): the history behind roll rates and vintage curves."""

    __tablename__ = "loan_dpd_snapshots"
    __table_args__ = (Index("ix_loan_dpd_snapshots_taken_on", "taken_on"),)

    loan_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("loans.id", ondelete="CASCADE"), primary_key=True
    )
    taken_on: Mapped[date] = mapped_column(primary_key=True)
    days_past_due: Mapped[int]
    bucket: Mapped[str] = mapped_column(String(16))
    outstanding_principal_minor: Mapped[int] = mapped_column(MinorType)


class ReferenceRate(IdMixin, Base):
    """A reference rate (``LPR 1Y``) from its effective date; floating loans re-price to it."""

    __tablename__ = "reference_rates"
    __table_args__ = (UniqueConstraint("name", "effective_on"),)

    name: Mapped[str] = mapped_column(String(40))
    effective_on: Mapped[date]
    rate: Mapped[str] = mapped_column(String(24))  # Decimal text, 0.0345
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class LoanInterestAccrual(Base):
    """Interest recognised for a loan on a business day (negative: reversed after the schedule
    was lowered), and the ledger posting (per branch and currency) that carried it."""

    __tablename__ = "loan_interest_accruals"

    loan_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("loans.id", ondelete="CASCADE"), primary_key=True
    )
    accrued_on: Mapped[date] = mapped_column(primary_key=True)
    amount_minor: Mapped[int] = mapped_column(MinorType)
    accrued_to_date_minor: Mapped[int] = mapped_column(MinorType)
    posting_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("postings.id"))


class CollateralValuation(IdMixin, Base):
    """A (re)valuation of a loan's collateral; a fall against the first one is a warning."""

    __tablename__ = "loan_collateral_valuations"
    __table_args__ = (CheckConstraint("value_minor > 0", name="value_positive"),)

    loan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("loans.id"), index=True)
    valued_on: Mapped[date]
    value_minor: Mapped[int] = mapped_column(MinorType)
    currency: Mapped[str] = mapped_column(String(3))
    note: Mapped[str] = mapped_column(String(300), default="")
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class DeclaredDebt(IdMixin, Base):
    """A debt the customer declared having elsewhere (another lender), with its monthly payment."""

    __tablename__ = "loan_declared_debts"
    __table_args__ = (CheckConstraint("monthly_payment_minor >= 0", name="payment_not_negative"),)

    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"), index=True)
    lender: Mapped[str] = mapped_column(String(120))
    monthly_payment_minor: Mapped[int] = mapped_column(MinorType)
    balance_minor: Mapped[int] = mapped_column(MinorType, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    declared_on: Mapped[date]
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]

"""Ledger tables: accounts (customers' and the bank's own), postings, entries, approval limits.

Sign convention: an entry's ``amount_minor`` is signed and every posting's entries sum to zero
per currency. A positive amount credits the account (a customer's balance grows). The bank's
asset accounts (cash tills, clearing suspense) therefore carry negative balances when they hold
money; liability and income accounts carry positive ones. Summed over every account the ledger
is always zero.
"""

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
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from branchdesk.core.db import Base, IdMixin

MinorType = BigInteger().with_variant(Integer(), "sqlite")


class AccountType(StrEnum):
    current = "current"
    savings = "savings"
    time_deposit = "time_deposit"
    # the bank's own ledger accounts
    till = "till"
    clearing_suspense = "clearing_suspense"
    fee_income = "fee_income"
    interest_expense = "interest_expense"
    settlement = "settlement"  # the bank's account at the clearing house (money leaving)


CUSTOMER_TYPES = frozenset({AccountType.current, AccountType.savings, AccountType.time_deposit})


class AccountStatus(StrEnum):
    active = "active"
    frozen = "frozen"
    dormant = "dormant"
    closed = "closed"


class PostingKind(StrEnum):
    deposit = "deposit"
    withdrawal = "withdrawal"
    transfer = "transfer"
    remittance = "remittance"
    remittance_settlement = "remittance_settlement"
    remittance_return = "remittance_return"
    fee = "fee"
    reversal = "reversal"
    time_deposit_withdrawal = "time_deposit_withdrawal"  # principal + interest, then closed
    # income earned but not received yet (loan interest, penalty): only the bank's own
    # receivable and income accounts, never held for approval, no customer compliance check
    accrual = "accrual"


class PostingStatus(StrEnum):
    posted = "posted"
    pending_approval = "pending_approval"  # maker-checker: waits for a supervisor
    pending_review = "pending_review"  # compliance hold: waits for a compliance officer
    rejected = "rejected"


class RemittanceStatus(StrEnum):
    sent = "sent"
    settled = "settled"
    returned = "returned"


class HolderRole(StrEnum):
    primary = "primary"
    joint = "joint"


class Account(IdMixin, Base):
    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint("overdraft_limit_minor >= 0", name="overdraft_limit_not_negative"),
        Index("ix_accounts_customer_id", "customer_id"),
    )

    number: Mapped[str] = mapped_column(String(20), unique=True)
    type: Mapped[str] = mapped_column(String(24))
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default=AccountStatus.active)
    branch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("branches.id"))
    customer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("customers.id"))
    counter_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("counters.id"))
    # the bank's own accounts are found by key: "till:<branch>:<counter|vault>:<CUR>"
    system_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    balance_minor: Mapped[int] = mapped_column(MinorType, default=0)
    last_entry_seq: Mapped[int] = mapped_column(MinorType, default=0)
    overdraft_limit_minor: Mapped[int] = mapped_column(MinorType, default=0)
    is_limited: Mapped[bool] = mapped_column(default=True)  # False: bank accounts, any sign
    term_months: Mapped[int | None]
    rate_bps: Mapped[int | None]  # annual interest rate in basis points
    matures_on: Mapped[date | None]
    opened_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    opened_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class AccountHolder(Base):
    __tablename__ = "account_holders"

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    customer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("customers.id"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(16))


class Posting(IdMixin, Base):
    __tablename__ = "postings"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        Index("ix_postings_branch_status", "branch_id", "status"),
    )

    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(20))
    branch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("branches.id"))
    amount_minor: Mapped[int] = mapped_column(MinorType)
    currency: Mapped[str] = mapped_column(String(3))
    # the legs to apply: [{"account_id": str, "amount_minor": int}]; entries exist once posted
    legs: Mapped[list[dict[str, Any]]] = mapped_column(JSON())
    memo: Mapped[str] = mapped_column(String(200), default="")
    reverses_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("postings.id"), index=True)
    remittance_status: Mapped[str | None] = mapped_column(String(16))
    remittance_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("postings.id"))
    beneficiary: Mapped[str] = mapped_column(String(200), default="")
    # ISO 3166 alpha-2 of the beneficiary's bank for remittances ("" in-bank / not given)
    counterparty_country: Mapped[str] = mapped_column(String(2), default="")
    hold_reason: Mapped[str] = mapped_column(Text, default="")
    maker_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    checker_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    decision_note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime]
    posted_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]


class Entry(IdMixin, Base):
    """One line of a posting. Append-only: never updated, never deleted."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        UniqueConstraint("account_id", "seq"),
        # the compliance check reads each account's recent window, not its whole history
        Index("ix_ledger_entries_account_booked", "account_id", "booked_at"),
    )

    seq: Mapped[int] = mapped_column(MinorType)  # per-account running number, 1, 2, 3, ...
    posting_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("postings.id"), index=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"))
    amount_minor: Mapped[int] = mapped_column(MinorType)
    currency: Mapped[str] = mapped_column(String(3))
    balance_after_minor: Mapped[int] = mapped_column(MinorType)
    booked_at: Mapped[datetime]
    # the posting's kind, kept on each entry so that the compliance screen's summary reads an
    # account's movements without joining every entry to its posting
    posting_kind: Mapped[str] = mapped_column(String(24))


class ApprovalLimit(Base):
    """Postings of this kind above ``amount_minor`` at this branch wait for a supervisor."""

    __tablename__ = "approval_limits"
    __table_args__ = (UniqueConstraint("branch_id", "kind", "currency"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    branch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("branches.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(24))
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(MinorType)
    updated_at: Mapped[datetime]

"""Loyalty tables: earning rules and rewards (data), the append-only points ledger, FIFO
allocations, per-customer accounts (balance and tier), redemptions and manual adjustments.

``loyalty_entries`` and ``loyalty_allocations`` are never updated or deleted: a lot's remaining
points are its points minus what allocations took from it. ``loyalty_accounts.balance`` equals
the sum of the customer's entries and is changed only by an SQL expression guarded by
``balance >= points`` (and a CHECK constraint), which is how a balance never goes negative.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from branchdesk.core.db import Base, IdMixin


class EarningRule(IdMixin, Base):
    """Points for a source event: ``points`` per ``unit_minor`` of the amount in the base
    currency (``unit_minor`` 0: ``points`` per event), times ``multiplier_bp`` / 10,000."""

    __tablename__ = "loyalty_earning_rules"

    code: Mapped[str] = mapped_column(String(40), unique=True)
    source: Mapped[str] = mapped_column(String(16))  # posting | survey
    posting_kind: Mapped[str | None] = mapped_column(String(24))  # None: any kind
    product: Mapped[str | None] = mapped_column(String(24))  # account type; None: any
    campaign: Mapped[str | None] = mapped_column(String(40))
    unit_minor: Mapped[int]
    points: Mapped[int]
    multiplier_bp: Mapped[int] = mapped_column(default=10_000)
    valid_from: Mapped[date]
    valid_to: Mapped[date | None]
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]


class PointsAccount(IdMixin, Base):
    """One per customer: the balance (sum of entries) and the tier of the last evaluation."""

    __tablename__ = "loyalty_accounts"
    __table_args__ = (CheckConstraint("balance >= 0", name="balance_not_negative"),)

    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"), unique=True)
    balance: Mapped[int] = mapped_column(default=0)
    tier: Mapped[str | None] = mapped_column(String(24))
    tier_since: Mapped[date | None]
    window_points: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime]


class PointsEntry(IdMixin, Base):
    """Append-only: earn and positive adjust entries are lots (with ``expires_on``); redeem,
    expire and negative adjust entries consume lots oldest first (``loyalty_allocations``)."""

    __tablename__ = "loyalty_entries"
    __table_args__ = (
        UniqueConstraint("source_kind", "source_id", "rule_code"),
        Index("ix_loyalty_entries_customer_expires", "customer_id", "expires_on"),
    )

    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"))
    kind: Mapped[str] = mapped_column(String(8))  # earn | redeem | expire | adjust
    points: Mapped[int]  # signed
    source_kind: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[uuid.UUID]
    rule_code: Mapped[str] = mapped_column(String(40), default="")
    earned_on: Mapped[date]
    expires_on: Mapped[date | None]
    created_at: Mapped[datetime]


class PointsAllocation(IdMixin, Base):
    """``points`` of lot ``lot_id`` consumed by entry ``entry_id`` (append-only)."""

    __tablename__ = "loyalty_allocations"

    entry_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("loyalty_entries.id"), index=True)
    lot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("loyalty_entries.id"), index=True)
    points: Mapped[int]


class Reward(IdMixin, Base):
    __tablename__ = "loyalty_rewards"
    __table_args__ = (CheckConstraint("stock >= 0", name="stock_not_negative"),)

    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh_hant: Mapped[str] = mapped_column(String(120))
    name_zh_hans: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    points_cost: Mapped[int]
    stock: Mapped[int]
    valid_from: Mapped[date]
    valid_to: Mapped[date | None]
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]


class Redemption(IdMixin, Base):
    __tablename__ = "loyalty_redemptions"

    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"), index=True)
    reward_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("loyalty_rewards.id"))
    points: Mapped[int]
    channel: Mapped[str] = mapped_column(String(16))  # counter | portal
    branch_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("branches.id"))
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    entry_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("loyalty_entries.id"))
    created_at: Mapped[datetime]


class Adjustment(IdMixin, Base):
    """A manual correction: requested by one user, applied only when a second user approves."""

    __tablename__ = "loyalty_adjustments"

    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"), index=True)
    points: Mapped[int]  # signed, never 0
    reason: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16), index=True)  # pending|approved|rejected
    requested_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime]
    decided_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    entry_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("loyalty_entries.id"))

"""Portal tables: customers' logins, one-time-code challenges, portal transfers (for the daily
limit) and notification preferences."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, false, true
from sqlalchemy.orm import Mapped, mapped_column

from branchdesk.core.db import Base, IdMixin

MinorType = BigInteger().with_variant(Integer(), "sqlite")


class LoginStatus(StrEnum):
    pending_activation = "pending_activation"  # enrolled by staff, activation code sent
    active = "active"
    disabled = "disabled"


class ChallengePurpose(StrEnum):
    login = "login"
    activation = "activation"


class PortalTransferKind(StrEnum):
    transfer = "transfer"
    qr_payment = "qr_payment"


class PortalLogin(IdMixin, Base):
    """A customer's online-banking login (one per customer)."""

    __tablename__ = "portal_logins"

    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(24))
    failed_count: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    auth_epoch: Mapped[int] = mapped_column(default=0)
    # per-currency overrides of the daily transfer limit: {"TWD": 10000000}
    daily_limits: Mapped[dict[str, Any]] = mapped_column(default=dict)
    enrolled_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    activated_at: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]


class PortalChallenge(IdMixin, Base):
    """One one-time code: only its keyed hash is kept; it expires and allows few attempts."""

    __tablename__ = "portal_challenges"

    login_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("portal_logins.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(16))
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime]
    consumed_at: Mapped[datetime | None]


class PortalTransfer(IdMixin, Base):
    """A posting a customer made through the portal, counted against the daily limit."""

    __tablename__ = "portal_transfers"
    __table_args__ = (Index("ix_portal_transfers_customer_day", "customer_id", "business_on"),)

    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"))
    posting_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("postings.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    amount_minor: Mapped[int] = mapped_column(MinorType)
    currency: Mapped[str] = mapped_column(String(3))
    business_on: Mapped[date]
    created_at: Mapped[datetime]


class NotificationPreference(Base):
    """Which events reach the customer by SMS and by e-mail."""

    __tablename__ = "portal_notification_preferences"

    customer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    transaction_alerts_sms: Mapped[bool] = mapped_column(default=True)
    transaction_alerts_email: Mapped[bool] = mapped_column(default=False)
    appointment_reminders_sms: Mapped[bool] = mapped_column(default=True)
    appointment_reminders_email: Mapped[bool] = mapped_column(default=True)
    queue_come_back_sms: Mapped[bool] = mapped_column(default=True)
    queue_come_back_email: Mapped[bool] = mapped_column(default=False)
    # care: birthday and festival greetings; offers = marketing campaigns (with consent only)
    greetings_sms: Mapped[bool] = mapped_column(default=True, server_default=true())
    greetings_email: Mapped[bool] = mapped_column(default=False, server_default=false())
    offers_sms: Mapped[bool] = mapped_column(default=True, server_default=true())
    offers_email: Mapped[bool] = mapped_column(default=True, server_default=true())
    updated_at: Mapped[datetime]

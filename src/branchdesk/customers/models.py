"""The customer table (accounts, KYC and the portal login arrive with the ledger issue)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from branchdesk.core.db import Base, IdMixin


class IdDocumentType(StrEnum):
    national_id = "national_id"  # 居民身份證 / 國民身分證
    hk_id = "hk_id"
    passport = "passport"
    home_return_permit = "home_return_permit"
    resident_permit = "resident_permit"


class Customer(IdMixin, Base):
    __tablename__ = "customers"
    __table_args__ = (UniqueConstraint("id_document_type", "id_number_hash"),)

    customer_number: Mapped[str] = mapped_column(String(20), unique=True)
    full_name: Mapped[str] = mapped_column(String(120))
    latin_name: Mapped[str] = mapped_column(String(120), default="")
    id_document_type: Mapped[str] = mapped_column(String(32))
    id_number_encrypted: Mapped[str] = mapped_column(String(255))
    id_number_hash: Mapped[str] = mapped_column(String(64))
    id_number_masked: Mapped[str] = mapped_column(String(40))
    id_expires_on: Mapped[date | None]
    phone: Mapped[str] = mapped_column(String(32), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    birth_on: Mapped[date | None]
    preferred_locale: Mapped[str] = mapped_column(String(8), default="zh-Hant")
    has_marketing_consent: Mapped[bool] = mapped_column(default=False)
    # Set by loyalty tiers (a VIP tier gives the queue's vip priority class).
    service_tier: Mapped[str] = mapped_column(
        String(16), default="standard", server_default="standard"
    )
    home_branch_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("branches.id"))
    # the customer's relationship manager (care.service.assign_relationship_manager)
    relationship_manager_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id"), index=True
    )
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
